"""``/transparence``: the public results of the feedback loop, and their monthly open-data exports.

::

    GET /transparence                          the page (French; ?lang=en), a month at a time
    GET /v1/transparency?month=YYYY-MM         the same figures as JSON
    GET /v1/open-data/{dataset}.{csv|json}?month=YYYY-MM

The index ``GET /v1/open-data`` lists these datasets beside the daily ones
(:mod:`api.routes.open_data`, which hands their downloads to :func:`open_data`).

The figures are computed in :mod:`api.feedback.transparency`.
"""

from __future__ import annotations

from typing import Annotated, Literal

import orjson
from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from api.caching import cached
from api.context import Ctx
from api.errors import InvalidParameter
from api.feedback import transparency as figures
from api.feedback import views
from api.feedback.datasets import DatasetName, columns_doc
from api.feedback.responses import LangQuery, errors_doc
from api.i18n import language

__all__ = ["router"]

router = APIRouter()

MonthParam = Annotated[str | None, Query(max_length=7, description="AAAA-MM / YYYY-MM")]


@router.get(
    "/v1/open-data/{dataset}.{fmt}",
    tags=["transparency"],
    summary="Export mensuel / Monthly export (CSV or JSON)",
    response_class=Response,
    responses={
        200: {
            "description": "CSV (en-tête = noms de colonnes) ou JSON (colonnes documentées)",
            "content": {
                "text/csv": {"schema": {"type": "string"}},
                "application/json": {"schema": {"type": "object"}},
            },
        },
        **errors_doc(404, 422, 503),
    },
)
async def open_data(
    request: Request,
    ctx: Ctx,
    dataset: DatasetName,
    fmt: Literal["csv", "json"],
    month: MonthParam = None,
) -> Response:
    """One month of one dataset; JSON carries the column documentation with the rows."""
    chosen, _ = await figures.pick_month(ctx, month)
    rows = await figures.dataset_rows(ctx, dataset, chosen)
    filename = f"paris-live-{dataset}-{chosen:%Y-%m}.{fmt}"
    headers = {"Content-Disposition": f'attachment; filename="{filename}"'}
    if fmt == "csv":
        body = figures.to_csv(dataset, rows)
        return cached(request, body, "text/csv; charset=utf-8", max_age=300, headers=headers)
    doc = {**columns_doc(dataset), "month": f"{chosen:%Y-%m}", "rows": rows}
    return cached(request, orjson.dumps(doc), "application/json", max_age=300, headers=headers)


@router.get(
    "/v1/transparency",
    tags=["transparency"],
    summary="Résultats publics du mois / The month's public results",
    responses=errors_doc(422, 503),
)
async def transparency(request: Request, ctx: Ctx, month: MonthParam = None) -> Response:
    """Satisfaction, complaints and response délais of one month (default: the latest)."""
    chosen, months = await figures.pick_month(ctx, month)
    body = await figures.report(ctx, chosen, months)
    return cached(request, orjson.dumps(body), "application/json", max_age=60)


@router.get("/transparence", include_in_schema=False)
@router.get("/transparency", include_in_schema=False)
async def transparency_page(ctx: Ctx, lang: LangQuery = None, month: MonthParam = None) -> Response:
    """The public results page (an invalid month shows the latest)."""
    chosen_lang = language(lang)
    try:
        chosen, months = await figures.pick_month(ctx, month)
    except InvalidParameter:
        chosen, months = await figures.pick_month(ctx, None)
    return views.transparency_page(await figures.report(ctx, chosen, months), chosen_lang)
