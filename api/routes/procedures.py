"""``GET /v1/procedures`` (search, list) and ``GET /v1/procedures/{id}`` (a démarche, live).

The démarches are the charter's parcours (:mod:`schemas.parcours`); the search is
:mod:`api.search`; the views are :mod:`api.procedures`. The live figures of the facilities come
from Redis as ``/v1/facilities`` reads them; the measured délais from the ``facility-cases``
events stored in PostgreSQL (``events``), over the last 90 days.
"""

from __future__ import annotations

from datetime import UTC, datetime
from functools import cache
from typing import Annotated

import orjson
import psycopg
from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import Response
from psycopg_pool import PoolTimeout

from api.caching import cached
from api.context import AppContext, Ctx
from api.errors import ERROR_RESPONSES, ApiError, _doc
from api.i18n import bilingual
from api.procedures import (
    MEASURE_WINDOW_DAYS,
    Measured,
    ProcedureDetail,
    ProcedurePage,
    detail_view,
    procedure_ids,
    summary_view,
    topic_view,
)
from api.search import ProcedureIndex
from api.views import render_item
from schemas.catalogue import load_catalogue
from schemas.parcours import Parcours, load_parcours

__all__ = ["UnknownProcedure", "index", "measured_delays", "router"]

router = APIRouter(prefix="/v1", tags=["procedures"])

MAX_Q = 1000
"""Longest ``q`` accepted (the search reads its first 200 characters)."""

UNKNOWN_PROCEDURE: dict[int | str, dict[str, object]] = {
    404: _doc(
        "Démarche inconnue / Unknown procedure",
        "unknown_procedure",
        "Démarche inconnue : xyz / Unknown procedure: xyz",
    )
}


class UnknownProcedure(ApiError):
    status = 404
    code = "unknown_procedure"

    def __init__(self, procedure_id: str) -> None:
        super().__init__(
            bilingual("Démarche inconnue : %(procedure_id)s", procedure_id=procedure_id)
        )
        self.procedure_id = procedure_id


@cache
def index() -> ProcedureIndex:
    """The démarches of the charter and their search texts (built once per process)."""
    return ProcedureIndex(load_parcours(), load_catalogue())


def find(procedure_id: str) -> Parcours:
    for parcours in index().parcours:
        if parcours.parcours_id == procedure_id:
            return parcours
    raise UnknownProcedure(procedure_id)


_MEASURED_SQL = """
WITH closed AS (
    SELECT facility_id, data->>'case_id' AS case_id, min(time) AS at
    FROM events
    WHERE type = 'fr.paris.facilities.case.closed' AND data->>'procedure_id' = ANY(%(ids)s)
      AND time >= now() - make_interval(days => %(days)s)
    GROUP BY 1, 2
), opened AS (
    SELECT facility_id, data->>'case_id' AS case_id, min(time) AS at
    FROM events
    WHERE type = 'fr.paris.facilities.case.opened' AND data->>'procedure_id' = ANY(%(ids)s)
    GROUP BY 1, 2
), durations AS (
    SELECT extract(epoch FROM closed.at - opened.at) / 86400.0 AS days
    FROM closed JOIN opened USING (facility_id, case_id)
    WHERE closed.at >= opened.at
)
SELECT count(*),
       percentile_cont(0.5) WITHIN GROUP (ORDER BY days),
       percentile_disc(0.9) WITHIN GROUP (ORDER BY days)
FROM durations
"""


async def measured_delays(ctx: AppContext, parcours: Parcours) -> Measured:
    """Median and 90th percentile (days, one decimal) of the cases of the parcours' procedures
    closed within 90 days, all facilities together; a reason instead of figures when there are
    none (no procedure whose cases are tracked, no closed case, history unreachable)."""
    ids = procedure_ids(parcours)
    if not ids:
        return Measured(reason="no_procedure_tracked")
    try:
        async with ctx.pool.connection(timeout=5.0) as conn:
            cursor = await conn.execute(_MEASURED_SQL, {"ids": ids, "days": MEASURE_WINDOW_DAYS})
            row = await cursor.fetchone()
    except (psycopg.Error, PoolTimeout):
        return Measured(reason="history_unavailable")
    count, median, p90 = row if row is not None else (0, None, None)
    if not count or median is None or p90 is None:
        return Measured(reason="no_closed_cases")
    return Measured(
        median_days=round(float(median), 1), p90_days=round(float(p90), 1), cases=int(count)
    )


@router.get(
    "/procedures",
    summary="Démarches, avec recherche / Procedures, with search",
    response_model=ProcedurePage,
    responses={**ERROR_RESPONSES},
)
async def list_procedures(
    request: Request,
    q: Annotated[
        str | None,
        Query(
            max_length=MAX_Q,
            description="mots de tous les jours, fautes comprises / everyday words, typos "
            "included (« passeport », « encombrants », « PV »)",
            examples=["passeport"],
        ),
    ] = None,
) -> Response:
    """The charter's démarches: all of them without ``q`` (or with a blank one), else those the
    words name, best first. ``not_covered`` says what the words ask that Paris Live does not
    cover yet (« crèche ») and where it is. Sixteen démarches fit one page: ``next`` is null."""
    found = index()
    if q is None or not q.strip():
        chosen = list(found.parcours)
        topics = []
    else:
        answer = found.search(q)
        chosen = [hit.parcours for hit in answer.hits]
        topics = [topic_view(t) for t in answer.not_covered]
    body = {"items": [summary_view(p) for p in chosen], "next": None, "not_covered": topics}
    return cached(request, orjson.dumps(body), "application/json")


@router.get(
    "/procedures/{procedure_id}",
    summary="Une démarche : étapes, délais, service compétent, où aller en direct / One "
    "procedure: steps, délais, competent service, where to go, live",
    response_model=ProcedureDetail,
    responses={**UNKNOWN_PROCEDURE, **ERROR_RESPONSES},
)
async def get_procedure(
    request: Request,
    ctx: Ctx,
    procedure_id: Annotated[
        str,
        Path(
            max_length=100,
            description="identifiant de la démarche / procedure id",
            examples=["identity-document"],
        ),
    ],
) -> Response:
    """The steps and their délais; the total délai committed and, from the ``facility-cases``
    history, measured (median, p90 over 90 days, or null with the reason); the competent
    service for each need; and each facility serving it with its live open state, queue and
    next appointment, the soonest appointment first."""
    parcours = find(procedure_id)
    view = await procedure_view(ctx, parcours)
    return cached(request, orjson.dumps(view), "application/json")


async def procedure_view(ctx: AppContext, parcours: Parcours) -> dict[str, object]:
    """The detail view of a démarche, with the live statuses and measured délais (the page uses
    it too)."""
    catalogue = ctx.catalogue
    ids = [fid for fid in parcours.facility_ids if fid in catalogue]
    raws = await ctx.statuses(ids)
    now = datetime.now(UTC)
    items = [
        orjson.loads(render_item(raws.get(fid), catalogue.get(fid), full=False, now=now))
        for fid in ids
    ]
    return detail_view(parcours, items, await measured_delays(ctx, parcours))
