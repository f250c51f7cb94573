"""The open datasets of the history: built daily from PostgreSQL, served by ``/v1/open-data`` and
the ``/donnees`` page.

::

    datasets.py   what is published: each dataset's columns (Table Schema), licence, sources, SQL
    export.py     PostgreSQL → CSV (``COPY … TO STDOUT``, streamed) → Parquet (pyarrow, streamed)
    package.py    the Frictionless ``datapackage.json`` and the DCAT-AP ``catalog.jsonld``
    store.py      the published directory: what was built, when, how big; date-range reads
    job.py        the daily refresh (``paris-live open-data run``; ``refresh`` builds once)

The monthly feedback datasets (satisfaction, complaints, response délais) stay where they are
computed (:mod:`api.feedback.datasets`); the index and the DCAT catalogue list them beside these.

Errors::

    OpenDataError            base
    └── NotPublished         the directory holds no package yet (the job has not run)
"""

from __future__ import annotations

__all__ = ["NotPublished", "OpenDataError"]


class OpenDataError(Exception):
    """Base of the open-data errors."""


class NotPublished(OpenDataError):
    """The open-data directory holds no package yet: the refresh job has not run."""
