"""The feedback family of the API: the satisfaction survey, complaints routed to the competent
service, the service inbox and the public results (``/transparence``, open data).

One module per concept; routes are thin (read the request, call the service, render)::

    routes.py               the one router of the family
    routes_survey.py        GET /feedback/{id}, POST /v1/facilities/{id}/feedback, the assets
    routes_complaints.py    the form, POST /v1/complaints, routing preview, status (JSON, page)
    routes_inbox.py         the service inbox: page, list, acknowledge, answer
    routes_transparency.py  /transparence, /v1/transparency, /v1/open-data
    survey.py               survey rules: answers, honeypot, limits, the event
    complaints.py           complaint rules: routing, references, who may act, transitions
    transparency.py         the month's figures and open-data rows
    store.py                the SQL (case record, monthly aggregates)
    models.py               bodies and documents (pydantic)
    contact.py              a complaint's contact: e-mail, phone number or postal address
    body.py                 reading a body: JSON or form, bounded, errors per field
    abuse.py                rate limits with HMAC'd identities
    runtime.py              to Kafka through the outbox: ``record_events``, ``send``, ``publish``
    responses.py            the error shape, OpenAPI error docs, the ``?lang=`` parameter
    views.py                the pages: Jinja2 templates of dashboards/feedback/ (api.i18n)
    labels.py, datasets.py  what citizens read: rule, state and field labels, the directions
                            written out, open-data columns (msgids)

Errors are in :mod:`api.feedback.errors`.
"""
