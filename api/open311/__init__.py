"""Open311 GeoReport v2 for complaints: what FixMyStreet-like clients speak.

::

    GET  /open311/v2/services.json            one service per (golden rule, topic) of the routing
    GET  /open311/v2/services.xml             the same, in Open311's XML
    GET  /open311/v2/services/{code}.json     its definition: the attributes a request may carry
    POST /open311/v2/requests.json            file a complaint (form-encoded, as clients send)
    GET  /open311/v2/requests.json            complaints, without anything personal
    GET  /open311/v2/requests/{id}.json       one complaint and its status (open → closed)

A request goes through the SAME complaint service as ``POST /v1/complaints``
(:func:`api.feedback.complaints.file_complaint`): the same validation (:class:`ComplaintIn`), rate
limit, routing to the competent service and personal-data rules. Errors answer Open311's shape,
``[{"code": 400, "description": "..."}]``.

* :mod:`api.open311.mapping` — services from the routing table, a request's fields to a complaint,
  a complaint's public record to an Open311 request (pure);
* :mod:`api.open311.store` — the public listing's SQL (no text, no contact is ever read);
* :mod:`api.open311.routes` — the HTTP routes.
"""
