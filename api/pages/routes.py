"""The routes of the pages: each reads its request, gathers the statuses, renders a view."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Annotated, Any

import orjson
from fastapi import APIRouter, Depends, FastAPI, Query, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response

from api.auth import Authenticated, Forbidden, Role
from api.context import AppContext, Ctx
from api.errors import ERROR_RESPONSES, ErrorResponse, error_response
from api.i18n import bilingual, language, render
from api.jsonld import facility_jsonld
from api.pages import views
from api.pages.agent import opening_days
from api.pages.assets import asset, serve
from api.pages.directory import MAX_PAGE, Filters, procedure_hints
from api.pages.near import origin_from
from api.pages.ops import OpsSampler, summarize
from api.routes.procedures import index as procedure_index
from api.views import render_item
from schemas.clock import PARIS

__all__ = ["router"]

Lang = Annotated[str | None, Query(pattern="^(fr|en)$", description="fr (default) or en")]


@contextlib.asynccontextmanager
async def _lifespan(app: FastAPI) -> AsyncIterator[None]:
    app.state.ops_sampler = OpsSampler()
    yield


router = APIRouter(lifespan=_lifespan)


async def _items(ctx: AppContext, ids: list[str]) -> dict[str, dict[str, Any]]:
    """The list items (status + catalogue summary) of these facilities, as REST answers them."""
    now = datetime.now(UTC)
    raws = await ctx.statuses(ids)
    out: dict[str, dict[str, Any]] = {}
    for facility_id in ids:
        facility = ctx.catalogue.get(facility_id) if facility_id in ctx.catalogue else None
        if facility is None and facility_id not in raws:
            continue
        out[facility_id] = orjson.loads(
            render_item(raws.get(facility_id), facility, full=False, now=now)
        )
    return out


def _not_found(lang: str | None, path: str) -> HTMLResponse:
    return views.html_page(views.not_found_page(language(lang), path), status_code=404)


@router.get("/static/{path:path}", include_in_schema=False)
async def static_file(request: Request, path: str) -> Response:
    found = asset(path)
    if found is None:
        return error_response(404, "not_found", bilingual("Ressource introuvable"))
    return serve(request, found)


@router.get("/embed/card.js", include_in_schema=False)
async def card_script(request: Request) -> Response:
    found = asset("embed/card.js")
    assert found is not None, "dashboards/embed/card.js is part of the package"
    return serve(request, found)


@router.get("/embed/equipment.js", include_in_schema=False)
async def equipment_script(request: Request) -> Response:
    """Live accessibility in words, imported by the card (``./equipment.js``)."""
    found = asset("embed/equipment.js")
    assert found is not None, "dashboards/embed/equipment.js is part of the package"
    return serve(request, found)


class DirectoryQuery:
    """The directory's query string, as the form sends it (every filter optional; an unknown
    type or arrondissement filters nothing, a page beyond the last shows them all)."""

    def __init__(
        self,
        lang: Lang = None,
        type: Annotated[str | None, Query(max_length=50)] = None,
        arrondissement: Annotated[str | None, Query(max_length=2)] = None,
        q: Annotated[str | None, Query(max_length=200)] = None,
        open_now: bool = False,
        low_crowd: bool = False,
        accessible: bool = False,
        wheelchair_now: bool = False,
        page: Annotated[int, Query(ge=1, le=1_000_000)] = 1,
        near: Annotated[str | None, Query(max_length=200)] = None,
        at: Annotated[str | None, Query(max_length=40)] = None,
    ) -> None:
        self.lang = language(lang)
        self.q = q
        self.near = near
        self.at = at
        self.page = min(page, MAX_PAGE)
        self.filters = Filters.parse(
            type=type,
            arrondissement=arrondissement,
            q=q,
            open_now=open_now,
            low_crowd=low_crowd,
            accessible=accessible,
            wheelchair_now=wheelchair_now,
        )
        flags = {
            "open_now": open_now,
            "low_crowd": low_crowd,
            "accessible": accessible,
            "wheelchair_now": wheelchair_now,
        }
        self.params = {
            "q": q or "",
            "type": type or "",
            "arrondissement": arrondissement or "",
            "near": near or "",
            "at": at or "",
            **{name: "true" for name, on in flags.items() if on},
            **({"lang": "en"} if self.lang == "en" else {}),
        }

    async def results(self, ctx: AppContext) -> views.Results:
        items = await _items(ctx, [f.id for f in ctx.catalogue])
        return views.directory_results(
            self.lang,
            items.values(),
            self.filters,
            self.q,
            procedure_hints(ctx.catalogue),
            page=self.page,
            query=self.params,
            origin=origin_from(ctx.catalogue, at=self.at, near=self.near),
            origin_asked=bool(self.at or (self.near and self.near.strip())),
            answer=procedure_index().search(self.q) if self.q and self.q.strip() else None,
        )


Directory = Annotated[DirectoryQuery, Depends()]


@router.get("/", include_in_schema=False)
async def directory(ctx: Ctx, query: Directory) -> HTMLResponse:
    """The facilities the filters keep, a page at a time; the filters work without JavaScript."""
    page = views.directory_page(
        query.lang,
        await query.results(ctx),
        query.filters,
        ctx.catalogue.types(),
        query.q,
        query.near,
        query.at,
    )
    return views.html_page(page)


@router.get("/directory/results", include_in_schema=False)
async def directory_results(ctx: Ctx, query: Directory) -> HTMLResponse:
    """The results region alone, for directory.js to swap in as the filters change."""
    return views.html_page(views.directory_fragment(query.lang, await query.results(ctx)))


@router.get("/facilities/{facility_id}", include_in_schema=False)
async def facility_page(ctx: Ctx, facility_id: str, lang: Lang = None) -> HTMLResponse:
    """A facility's page: the live card over a server-rendered fallback, with JSON-LD."""
    if facility_id not in ctx.catalogue:
        return _not_found(lang, f"/facilities/{facility_id}")
    facility = ctx.catalogue.get(facility_id)
    now = datetime.now(UTC)
    raw = await ctx.status(facility_id)
    item = orjson.loads(render_item(raw, facility, full=True, now=now))
    document = facility_jsonld(
        facility, orjson.loads(raw) if raw else None, base_url=ctx.settings.public_base_url, now=now
    )
    return views.html_page(views.facility_page(language(lang), facility, item, document))


@router.get("/screen/{facility_id}", include_in_schema=False)
async def screen(ctx: Ctx, facility_id: str, lang: Lang = None) -> HTMLResponse:
    """The in-facility screen: first render from the embedded status, then live."""
    if facility_id not in ctx.catalogue:
        return _not_found(lang, f"/screen/{facility_id}")
    facility = ctx.catalogue.get(facility_id)
    raw = await ctx.status(facility_id)
    item = orjson.loads(render_item(raw, facility, full=True, now=datetime.now(UTC)))
    feedback = f"{ctx.settings.public_base_url.rstrip('/')}/feedback/{facility_id}"
    return views.html_page(views.screen_page(language(lang), facility, item, feedback))


@router.get("/agent", include_in_schema=False)
async def agent(ctx: Ctx, lang: Lang = None) -> HTMLResponse:
    """The agent console (the API checks every action against the agent's token), with each
    facility's opening and closing times of the coming days for its absolute reopening times."""
    hours = opening_days(ctx.catalogue, datetime.now(PARIS).date())
    body = render(
        language(lang),
        "templates/agent.html",
        path="/agent",
        local=ctx.settings.env != "prod",
        hours=views.json_text(hours),
    )
    return views.html_page(body)


@router.get("/ops", include_in_schema=False)
async def ops(ctx: Ctx, lang: Lang = None) -> HTMLResponse:
    """The operations dashboard (it signs in with an ops or supervisor token, then polls the
    summary with it; the page itself holds only the public catalogue)."""
    names = {f.id: {"name": f.name, "arrondissement": f.arrondissement} for f in ctx.catalogue}
    page = views.ops_page(language(lang), local=ctx.settings.env != "prod", names=names)
    return views.html_page(page)


OPS_ROLES = (Role.OPS, Role.SUPERVISOR)
OPS_AUTH_ERRORS: dict[int | str, dict[str, Any]] = {
    401: {
        "model": ErrorResponse,
        "description": "Jeton absent ou invalide / Missing or invalid token",
        "headers": {"WWW-Authenticate": {"schema": {"type": "string"}}},
    },
    403: {
        "model": ErrorResponse,
        "description": "Réservé à l'exploitation et aux superviseurs / Operations staff only",
    },
}


@router.get(
    "/v1/ops/summary",
    tags=["operations"],
    summary="Synthèse d'exploitation / Operations summary",
    responses={**OPS_AUTH_ERRORS, **ERROR_RESPONSES},
)
async def ops_summary(request: Request, ctx: Ctx, principal: Authenticated) -> JSONResponse:
    """Counts by state, stale sources, overdue closures, events/s, consumer lag (in events, and
    in seconds per lagging partition), dead letters, status changes/s and the last samples (for sparklines), with the alerts they raise.

    Operations staff and supervisors only (bearer token of role ``ops`` or ``supervisor``)."""
    if principal.role not in OPS_ROLES:
        raise Forbidden(bilingual("Synthèse réservée à l'exploitation et aux superviseurs"))
    sampler: OpsSampler = request.app.state.ops_sampler
    sample = await sampler.sample(ctx.kafka, ctx.hub.updates_in)
    statuses = {fid: orjson.loads(update.status) for fid, update in ctx.hub.latest.items()}
    names = {f.id: f.name for f in ctx.catalogue}
    body = summarize(
        statuses,
        names,
        sample,
        list(sampler.samples),
        kafka_error=sampler.error,
        clients=len(ctx.hub.subscribers),
        lag_alert_seconds=sampler.lag_alert_seconds,
    )
    return JSONResponse(body, headers={"Cache-Control": "no-store"})
