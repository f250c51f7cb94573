"""The pages: directory ``/``, facility ``/facilities/{id}``, ``/embed/card.js``, the in-facility
screen ``/screen/{id}``, the agent console ``/agent``, the operations dashboard ``/ops``, the static
assets under ``/static/``, and ``GET /v1/ops/summary`` (what the operations dashboard polls;
a bearer token of role ``ops`` or ``supervisor``, which the ``/ops`` page asks for and keeps in the
browser tab like the agent console).

Pages are HTML rendered on the server from the catalogue and the live statuses (so they read
without JavaScript and carry schema.org JSON-LD), then enhanced by the ES modules of
``dashboards/``::

    routes.py     the routes, thin: read the request, gather statuses, render a view
    views.py      views of the statuses → the Jinja2 templates of dashboards/templates/
    directory.py  the directory's rules: filters, order, search text
    assets.py     static assets: allow-list, ETag, gzip
    qr.py         QR codes as inline SVG
    ops.py        the operations summary and its Kafka sampler

Every word the pages show is in the templates and the message catalogues (``locale/``).
"""

from api.pages.ops import OpsSampler
from api.pages.routes import router

__all__ = ["OpsSampler", "router"]
