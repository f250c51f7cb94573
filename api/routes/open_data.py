"""``/v1/open-data``: the daily open datasets (CSV, Parquet, Data Package, DCAT-AP) beside the
monthly feedback exports, which keep their own route (:mod:`api.feedback.routes_transparency`).

::

    GET /v1/open-data                         index: the monthly feedback datasets, as before,
                                              and ``daily`` (the datasets of the package)
    GET /v1/open-data/datapackage.json        Frictionless Data Package
    GET /v1/open-data/catalog.jsonld          DCAT-AP catalogue (JSON-LD)
    GET /v1/open-data/{dataset}.csv|.parquet  a daily dataset; ``from`` / ``to`` (YYYY-MM-DD,
                                              Paris days, inclusive) on the history datasets
    GET /v1/open-data/{dataset}.csv|.json     a monthly feedback dataset (``month``), answered by
                                              the feedback route

Files are served as written by the job, with ``ETag`` / ``Last-Modified`` and a day of cache.
"""

from __future__ import annotations

import asyncio
from datetime import date, timedelta
from email.utils import formatdate
from typing import Annotated, Any, Literal, cast

import orjson
from fastapi import APIRouter, Query, Request
from fastapi.responses import FileResponse, Response
from starlette.background import BackgroundTask

from api.caching import cached
from api.context import Ctx
from api.errors import ERROR_RESPONSES, ApiError, InvalidParameter, _doc
from api.feedback import routes_transparency as monthly
from api.feedback import transparency as figures
from api.feedback.datasets import DATASETS as MONTHLY
from api.feedback.datasets import DatasetName, columns_doc
from api.i18n import bilingual, localized
from api.inputs import in_years
from api.opendata import NotPublished
from api.opendata.datasets import DATASETS
from api.opendata.package import dcat_catalog
from api.opendata.store import Published, current, range_file

__all__ = ["MAX_RANGE_DAYS", "NotYetPublished", "UnknownDataset", "router"]

router = APIRouter(prefix="/v1/open-data", tags=["open data"])

MAX_RANGE_DAYS = 366
"""Longest ``from``–``to`` range, in days (a year, leap day included)."""
FILE_MAX_AGE = 3600
"""Seconds a client may keep a dataset (rebuilt once a day)."""
_MEDIA = {"csv": "text/csv; charset=utf-8", "parquet": "application/vnd.apache.parquet"}
UNKNOWN_DATASET: dict[int | str, dict[str, Any]] = {
    404: _doc(
        "Jeu de données inconnu, ou pas encore publié / Unknown dataset, or not published yet",
        "unknown_dataset",
        "Jeu de données inconnu : xyz / Unknown dataset: xyz",
    )
}
NOT_PUBLISHED: dict[int | str, dict[str, Any]] = {
    404: _doc(
        "Pas encore publié / Not published yet",
        "not_published",
        "Données ouvertes pas encore publiées … / Open data not published yet …",
    )
}
DayParam = Annotated[
    date | None, Query(description="AAAA-MM-JJ / YYYY-MM-DD (heure de Paris, inclus / inclusive)")
]


class NotYetPublished(ApiError):
    """No build yet (the daily job has not run): nothing to download, come back later."""

    status = 404
    code = "not_published"

    def __init__(self) -> None:
        super().__init__(
            bilingual(
                "Données ouvertes pas encore publiées : la mise à jour quotidienne n'a pas tourné"
            )
        )


class UnknownDataset(ApiError):
    status = 404
    code = "unknown_dataset"

    def __init__(self, name: str) -> None:
        super().__init__(bilingual("Jeu de données inconnu : %(name)s", name=name[:100]))


def _published(ctx: Ctx) -> Published:
    try:
        return current(ctx.settings.open_data_dir)
    except NotPublished as exc:
        raise NotYetPublished() from exc


def daily_index(published: Published) -> list[dict[str, Any]]:
    """The daily datasets as the index and the page show them."""
    out = []
    for resource in published.package["resources"]:
        name = resource["name"]
        out.append(
            {
                "dataset": name,
                "title": {"fr": resource["title"], "en": resource["title_en"]},
                "description": {"fr": resource["description"], "en": resource["description_en"]},
                "licence": resource["licenses"][0],
                "rows": resource["rows"],
                "updated_at": published.package["created"],
                "date_range": resource.get("period_column") is not None,
                "csv": {"url": f"/v1/open-data/{name}.csv", "bytes": resource["bytes"]},
                "parquet": {
                    "url": f"/v1/open-data/{name}.parquet",
                    "bytes": resource["parquet"]["bytes"],
                },
                "columns": [
                    {
                        "name": f["name"],
                        "type": f["type"],
                        "description": {"fr": f["description"], "en": f["description_en"]},
                    }
                    for f in resource["schema"]["fields"]
                ],
            }
        )
    return out


@router.get("", summary="Jeux de données ouverts / Open-data datasets", responses=ERROR_RESPONSES)
@router.get("/", include_in_schema=False)
async def open_data_index(request: Request, ctx: Ctx) -> Response:
    """The monthly feedback datasets (as before: licence, months, documented columns) and the
    daily datasets (``daily``: rows, sizes, updated-at, links; null before the first build)."""
    months = await figures.months_available(ctx)
    try:
        published: Published | None = current(ctx.settings.open_data_dir)
    except NotPublished:
        published = None
    body = {
        "licence": "Licence Ouverte / Open Licence 2.0 (Etalab)",
        "frequency": "monthly",
        "months": [f"{m:%Y-%m}" for m in months],
        "datasets": [
            {
                **columns_doc(name),
                "csv": f"/v1/open-data/{name}.csv?month=YYYY-MM",
                "json": f"/v1/open-data/{name}.json?month=YYYY-MM",
            }
            for name in MONTHLY
        ],
        "daily": None
        if published is None
        else {
            "frequency": "daily",
            "updated_at": published.package["created"],
            "datapackage": "/v1/open-data/datapackage.json",
            "catalog": "/v1/open-data/catalog.jsonld",
            "datasets": daily_index(published),
        },
    }
    return cached(request, orjson.dumps(body), "application/json", max_age=300)


@router.get(
    "/datapackage.json",
    summary="Frictionless Data Package",
    responses={**NOT_PUBLISHED, **ERROR_RESPONSES},
)
async def datapackage(request: Request, ctx: Ctx) -> Response:
    """The package of the daily datasets: a Table Schema per resource, licences, sources."""
    return _file(request, _published(ctx), "datapackage.json", "application/json")


@router.get(
    "/catalog.jsonld",
    summary="Catalogue DCAT-AP / DCAT-AP catalogue (JSON-LD)",
    response_class=Response,
    responses={
        200: {
            "description": "Catalogue DCAT-AP (JSON-LD)",
            "content": {"application/ld+json": {"schema": {"type": "object"}}},
        },
        **NOT_PUBLISHED,
        **ERROR_RESPONSES,
    },
)
async def catalog(request: Request, ctx: Ctx) -> Response:
    """Every dataset, daily and monthly, with its distributions, licence and publisher."""
    published = _published(ctx)
    body = dcat_catalog(
        published.package,
        ctx.settings.public_base_url,
        {name: localized(spec.title) for name, spec in MONTHLY.items()},
    )
    return cached(request, orjson.dumps(body), "application/ld+json", max_age=FILE_MAX_AGE)


@router.get(
    "/{dataset}.{fmt}",
    summary="Un jeu de données / One dataset (CSV, Parquet; JSON for the monthly ones)",
    response_class=Response,
    responses={
        200: {
            "description": "CSV (en-tête = noms de colonnes), Parquet, ou JSON (mensuels)",
            "content": {
                "text/csv": {"schema": {"type": "string"}},
                "application/vnd.apache.parquet": {"schema": {"type": "string"}},
                "application/json": {"schema": {"type": "object"}},
            },
        },
        **UNKNOWN_DATASET,
        **ERROR_RESPONSES,
    },
)
async def dataset_file(
    request: Request,
    ctx: Ctx,
    dataset: str,
    fmt: str,
    from_: Annotated[date | None, Query(alias="from", description="AAAA-MM-JJ, inclus")] = None,
    to: Annotated[date | None, Query(description="AAAA-MM-JJ, inclus / inclusive")] = None,
    month: monthly.MonthParam = None,
) -> Response:
    """A daily dataset as published, or its rows within ``from``–``to`` (history datasets, at
    most a year); the monthly feedback datasets as their route answers them."""
    if dataset in MONTHLY and fmt in ("csv", "json"):
        name = cast(DatasetName, dataset)
        return await monthly.open_data(request, ctx, name, cast(Literal["csv", "json"], fmt), month)
    spec = DATASETS.get(dataset)
    if spec is None or fmt not in _MEDIA:
        raise UnknownDataset(f"{dataset}.{fmt}")
    if from_ is None and to is None:
        return _file(request, _published(ctx), f"{dataset}.{fmt}", _MEDIA[fmt])
    if spec.period_column is None:
        raise InvalidParameter(bilingual("Ce jeu de données n'a pas de période (from, to)"))
    start, end = _range(from_, to)
    published = _published(ctx)
    filename = f"paris-live-{dataset}-{start:%Y%m%d}-{end:%Y%m%d}.{fmt}"
    headers = _cache_headers(published, f"{filename}")
    if headers["ETag"] in request.headers.get("if-none-match", ""):
        return Response(status_code=304, headers=headers)
    path = await asyncio.to_thread(range_file, published, dataset, fmt, start, end)
    headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    return FileResponse(
        path,
        media_type=_MEDIA[fmt],
        headers=headers,
        background=BackgroundTask(path.unlink, missing_ok=True),
    )


def _range(start: date | None, end: date | None) -> tuple[date, date]:
    """``from``–``to`` (one may be missing: a year from / up to the other); 422 when inverted or
    longer than :data:`MAX_RANGE_DAYS`, or outside :data:`~api.inputs.YEARS`."""
    in_years(start, "from")
    in_years(end, "to")
    if start is None:
        assert end is not None
        start = end - timedelta(days=MAX_RANGE_DAYS - 1)
    if end is None:
        end = start + timedelta(days=MAX_RANGE_DAYS - 1)
    if end < start:
        raise InvalidParameter(bilingual("Période inversée : « to » est avant « from »"))
    if (end - start).days + 1 > MAX_RANGE_DAYS:
        raise InvalidParameter(
            bilingual("Période trop longue : %(days)s jours au plus", days=MAX_RANGE_DAYS)
        )
    return start, end


def _cache_headers(published: Published, name: str) -> dict[str, str]:
    """Validators of a file of the current build: its folder names the build."""
    return {
        "ETag": f'"{published.folder.name}-{name}"',
        "Last-Modified": formatdate(published.modified, usegmt=True),
        "Cache-Control": f"public, max-age={FILE_MAX_AGE}",
        "Vary": "Accept, Origin",
    }


def _file(request: Request, published: Published, name: str, media_type: str) -> Response:
    path = published.folder / name
    headers = _cache_headers(published, name)
    if headers["ETag"] in request.headers.get("if-none-match", ""):
        return Response(status_code=304, headers=headers)
    if name != "datapackage.json":
        headers["Content-Disposition"] = f'attachment; filename="paris-live-{name}"'
    return FileResponse(path, media_type=media_type, headers=headers)
