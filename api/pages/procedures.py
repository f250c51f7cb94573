"""The démarches pages: ``/demarches`` (search and list) and ``/demarches/{id}`` (one démarche:
its délais as a timeline, whom to ask, where to go with the live figures).

Each route reads its request, asks :mod:`api.routes.procedures` for the same views the API
answers, and renders ``dashboards/templates/procedures*.html``. Dates are put in words here, in
Paris time (« jeudi 4 décembre, 10:30 »).
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from babel.dates import format_datetime
from babel.numbers import format_decimal
from fastapi import APIRouter, Query
from fastapi.responses import HTMLResponse

from api.context import Ctx
from api.i18n import Lang, language, render
from api.pages import views
from api.procedures import served_by, summary_view, topic_view
from api.routes.procedures import MAX_Q, UnknownProcedure, find, index, procedure_view
from schemas.catalogue import TYPE_LABELS
from schemas.clock import PARIS

__all__ = ["router", "when"]

LangParam = Annotated[str | None, Query(pattern="^(fr|en)$", description="fr (default) or en")]
MAX_FACILITY_HITS = 5
"""Facilities a search on the démarches page also shows (the directory has the rest)."""

router = APIRouter()


def when(value: str | None, lang: Lang) -> str:
    """An RFC 3339 instant in words, Paris time: « jeudi 4 décembre, 10:30 »."""
    if not value:
        return ""
    at = datetime.fromisoformat(value)
    return format_datetime(at, "EEEE d MMMM, HH:mm", tzinfo=PARIS, locale=lang)


def _suffix(lang: Lang) -> str:
    return "?lang=en" if lang == "en" else ""


@router.get("/demarches", include_in_schema=False)
async def procedures_page(
    ctx: Ctx,
    lang: LangParam = None,
    q: Annotated[str | None, Query(max_length=MAX_Q)] = None,
) -> HTMLResponse:
    """Every démarche, or those a search names, with facilities the words name too."""
    chosen = language(lang)
    found = index()
    query = (q or "").strip()
    if query:
        answer = found.search(query)
        parcours = [hit.parcours for hit in answer.hits]
        topics = [topic_view(t) for t in answer.not_covered]
        facilities = ctx.catalogue.search(query[:200])[:MAX_FACILITY_HITS]
    else:
        parcours, topics, facilities = list(found.parcours), [], []
    page = render(
        chosen,
        "templates/procedures.html",
        path="/demarches",
        q=query,
        items=[summary_view(p) for p in parcours],
        topics=topics,
        facilities=facilities,
        type_labels=TYPE_LABELS,
        suffix=_suffix(chosen),
    )
    return views.html_page(page)


@router.get("/demarches/{procedure_id}", include_in_schema=False)
async def procedure_page(ctx: Ctx, procedure_id: str, lang: LangParam = None) -> HTMLResponse:
    """One démarche, live: délais, competent services, where to go."""
    chosen = language(lang)
    try:
        parcours = find(procedure_id)
    except UnknownProcedure:
        return views.html_page(
            views.not_found_page(chosen, f"/demarches/{procedure_id}"), status_code=404
        )
    view: dict[str, Any] = await procedure_view(ctx, parcours)
    for facility in view["facilities"]:
        slot = facility["next_appointment"]
        facility["slot_words"] = when(slot["next_available_at"], chosen) if slot else ""
        services, booked = served_by(parcours, facility["type"])
        facility["services"], facility["booked"] = (
            " ".join(sorted(services)),
            " ".join(sorted(booked)),
        )
    measured = view["total_delay"]["measured"]
    for key in ("median_days", "p90_days"):
        if measured[key] is not None:  # « 14,5 jours » in French, "14.5 days" in English
            measured[key] = format_decimal(measured[key], locale=chosen)
    soonest = view["soonest_appointment"]
    complaint = f"/complaints?procedure={parcours.parcours_id}"
    page = render(
        chosen,
        "templates/procedure.html",
        path=f"/demarches/{parcours.parcours_id}",
        p=view,
        soonest_words=when(soonest["next_available_at"], chosen) if soonest else "",
        type_labels=TYPE_LABELS,
        suffix=_suffix(chosen),
        complaint_href=complaint + ("&lang=en" if chosen == "en" else ""),
    )
    return views.html_page(page)
