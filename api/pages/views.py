"""The pages as HTML: Jinja2 templates of ``dashboards/templates/`` (autoescaped, their words in
the message catalogues) filled with views of the catalogue and the live statuses.

A view here is data, never markup: the states, levels, hours and closure messages a template puts
in words. The only markup built in Python is the QR code's SVG and JSON for ``<script>`` elements,
both marked safe explicitly.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any
from urllib.parse import urlencode

import orjson
from babel.numbers import format_decimal
from fastapi.responses import HTMLResponse
from markupsafe import Markup

from api.i18n import Lang, render
from api.pages.directory import (
    ARRONDISSEMENTS,
    MAX_HINTS,
    PAGE_SIZE,
    Filters,
    ProcedureHint,
    crowd_level,
    hints_for,
    in_order,
)
from api.pages.equipment import outage_lines
from api.pages.near import Origin, by_distance, distance_words
from api.pages.qr import qr_svg
from api.search import Answer, Topic
from schemas.catalogue import TYPE_LABELS, WEEKDAYS, Facility, LocalizedText
from schemas.clock import PARIS
from schemas.hours.osm import osm_opening_hours
from schemas.provenance import DATASETS, SourceRef

__all__ = [
    "Credit",
    "Live",
    "Results",
    "agent_page",
    "directory_fragment",
    "directory_page",
    "directory_results",
    "facility_page",
    "fallback_html",
    "html_page",
    "json_text",
    "not_found_page",
    "ops_page",
    "screen_page",
]

PAGE_HEADERS = {
    "Cache-Control": "no-cache",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
}


def html_page(body: str, status_code: int = 200) -> HTMLResponse:
    return HTMLResponse(body, status_code=status_code, headers=PAGE_HEADERS)


def json_text(value: Any) -> Markup:
    """JSON for a ``<script type="application/json">`` (or JSON-LD) that no text can close early."""
    return Markup(orjson.dumps(value).decode().replace("<", "\\u003c"))


@dataclass(frozen=True, slots=True)
class Live:
    """What the pages put in words of a status: state, crowd level, today's opening hours
    (``"09:00–12:00, 14:00–19:00"``, empty when closed today), the closures' messages, and where
    the hours come from (``confidence``: ``official``, ``estimated`` — "horaires non confirmés" —
    or ``unknown``, a status without the field: open or closed is then not claimed). Official
    hours given for a period that has ended (the catalogue's ``valid_until``) are not confirmed
    for ``today`` either."""

    state: str
    level: str | None
    hours: str
    closures: tuple[Mapping[str, str], ...]
    confidence: str = "unknown"
    capacity_estimated: bool = False
    """The crowd level is read against a capacity no source gives (« capacité estimée »)."""

    @classmethod
    def of(cls, item: Mapping[str, Any]) -> Live:
        # The status says it on its day (Facility.hours_confidence_on: a period over is no
        # longer confirmed); the page does not work it out again.
        confidence = item.get("hours_confidence") or "unknown"
        return cls(
            state=item["open_state"],
            level=crowd_level(item),
            hours=", ".join(f"{h['opens']}–{h['closes']}" for h in item.get("today_hours") or []),
            closures=tuple(c["message"] for c in item.get("closures") or []),
            confidence=confidence,
            capacity_estimated=(
                ((item.get("catalogue") or {}).get("sources") or {}).get("capacity") == "estimated"
            ),
        )


def _day(value: date | None) -> str:
    return value.strftime("%d/%m/%Y") if value else ""


@dataclass(frozen=True, slots=True)
class Credit:
    """Where a catalogue value comes from, in words: the dataset's credit line (« Ville de Paris
    — opendata.paris.fr »), title and update date (``15/09/2025``); for hours, the period they
    were given for and whether some days are estimated."""

    publisher: str
    title: str
    updated: str
    old: bool
    since: str = ""
    until: str = ""
    ended: bool = False
    some_days_estimated: bool = False

    @classmethod
    def of(cls, facility: Facility, field: str, today: date | None = None) -> Credit | None:
        """The credit of a field's source; None when the value is estimated (or unsourced)."""
        source = facility.sources.get(field)
        if not isinstance(source, SourceRef) or source.dataset not in DATASETS:
            return None
        dataset = DATASETS[source.dataset]
        hours = field == "hours"
        return cls(
            publisher=dataset.publisher,
            title=dataset.title,
            updated=_day(dataset.updated),
            old=dataset.old,
            since=_day(source.valid_from) if hours and source.valid_until else "",
            until=_day(source.valid_until) if hours else "",
            ended=hours
            and source.valid_until is not None
            and source.valid_until < (today or datetime.now(PARIS).date()),
            some_days_estimated=hours
            and any(facility.sources.get(f"hours.{day}") == "estimated" for day in WEEKDAYS),
        )


@dataclass(frozen=True, slots=True)
class Entry:
    """One facility of the directory; its data attributes let the page update it live."""

    id: str
    name: str
    type: str
    type_label: LocalizedText | None
    arrondissement: int
    href: str
    live: Live
    distance: str | None = None
    """« 550 m » from the origin the directory sorts by, if any."""
    outages: tuple[str, ...] = ()
    """« Ascenseur hors service depuis 10:42 — retour prévu demain 9 h », oldest first."""


def _entry(item: Mapping[str, Any], lang: Lang, metres: float | None = None) -> Entry:
    return Entry(
        id=item["facility_id"],
        name=item["name"],
        type=item["type"],
        type_label=TYPE_LABELS.get(item["type"]),
        arrondissement=item["arrondissement"],
        href=f"/facilities/{item['facility_id']}" + ("?lang=en" if lang == "en" else ""),
        live=Live.of(item),
        distance=None if metres is None else distance_words(metres, lang),
        outages=outage_lines(item, lang, datetime.now(PARIS)),
    )


@dataclass(frozen=True, slots=True)
class Demarche:
    """A démarche a directory search names, and its page."""

    title: LocalizedText
    href: str


@dataclass(frozen=True, slots=True)
class Results:
    """What one directory request found: the first ``len(entries)`` of ``total`` matches, the
    procedures its search names, and where "Afficher plus" leads (None once all are shown)."""

    entries: list[Entry]
    total: int
    hints: list[tuple[ProcedureHint, bool]]
    more_href: str | None
    first_new: int
    """Index of the first entry of the last page asked for (focus goes there after "Afficher plus")."""
    origin: Origin | None = None
    """Where the entries are sorted by distance from (« près de moi »)."""
    origin_unknown: bool = False
    """A place was asked for and could not be placed: the page says so."""
    map_href: str = "/carte"
    """The same facilities on the map."""
    demarches: tuple[Demarche, ...] = ()
    """The démarches the search names (« passeport » → Titre d'identité), best first."""
    not_covered: tuple[Topic, ...] = ()
    """What the search asks for that Paris Live does not cover yet, and where it is covered."""


def directory_results(
    lang: Lang,
    items: Iterable[Mapping[str, Any]],
    filters: Filters,
    q: str | None,
    hints: Iterable[ProcedureHint] = (),
    *,
    page: int = 1,
    query: Mapping[str, str] | None = None,
    origin: Origin | None = None,
    origin_asked: bool = False,
    answer: Answer | None = None,
) -> Results:
    """The facilities the filters keep, in order — nearest first from ``origin`` if there is
    one — the first ``page`` pages of them: the server does the filtering (a city of 1,000+
    facilities is never all in one page)."""
    suffix = "?lang=en" if lang == "en" else ""
    found = [i for i in in_order(items) if filters.matches(i)]
    measured = by_distance(found, origin) if origin else [(i, None) for i in found]
    shown = measured[: page * PAGE_SIZE]
    named = {h.procedure_id for h in hints_for(hints, q)}
    more = None
    params = {k: v for k, v in (query or {}).items() if v and k != "page"}
    if len(found) > len(shown):
        more = "/?" + urlencode(params | {"page": str(page + 1)})
    return Results(
        entries=[_entry(i, lang, metres) for i, metres in shown],
        total=len(found),
        hints=[(h, h.procedure_id in named) for h in hints],
        more_href=more,
        first_new=(page - 1) * PAGE_SIZE,
        origin=origin,
        origin_unknown=origin_asked and origin is None,
        map_href="/carte" + (f"?{urlencode(params)}" if params else ""),
        demarches=tuple(
            Demarche(hit.parcours.title, f"/demarches/{hit.parcours.parcours_id}{suffix}")
            for hit in (answer.hits if answer else ())[:MAX_HINTS]
        ),
        not_covered=answer.not_covered if answer else (),
    )


def directory_page(
    lang: Lang,
    results: Results,
    filters: Filters,
    types: Iterable[str],
    q: str | None,
    near: str | None = None,
    at: str | None = None,
) -> str:
    """The directory: its filters (they work without JavaScript: a form the server answers) and
    the results. When nothing matches, the page says so and where to go instead: the procedures
    the search names, with the facility types that handle them, and the town halls for any
    other procedure."""
    return render(
        lang,
        "templates/directory.html",
        path="/",
        q=q or "",
        near=near or "",
        at=at or "",
        filters=filters,
        types=[(t, TYPE_LABELS[t]) for t in types],
        arrondissements=ARRONDISSEMENTS,
        **_results_context(lang, results),
    )


def directory_fragment(lang: Lang, results: Results) -> str:
    """Only the results region, for the page's script to swap in as the filters change."""
    return render(lang, "templates/directory_results.html", **_results_context(lang, results))


def _results_context(lang: Lang, results: Results) -> dict[str, Any]:
    suffix = "&lang=en" if lang == "en" else ""
    return {
        "results": results,
        "total_text": format_decimal(results.total, locale=lang),
        "shown_text": format_decimal(len(results.entries), locale=lang),
        "type_labels": TYPE_LABELS,
        "page_size": PAGE_SIZE,
        "type_href": lambda t: f"/?type={t}{suffix}",
        "clear_href": "/?lang=en" if lang == "en" else "/",
    }


def _fallback_context(facility: Facility, item: Mapping[str, Any], lang: Lang) -> dict[str, Any]:
    return {
        "outages": outage_lines(item, lang, datetime.now(PARIS)),
        "facility": facility,
        "live": Live.of(item),
        "contacts": facility.contacts_for("information")[:1],
        "credits": {field: Credit.of(facility, field) for field in ("hours", "accessibility")},
        "estimated": set(facility.illustrative),
    }


def fallback_html(facility: Facility, item: Mapping[str, Any], lang: Lang) -> str:
    """What the card shows before (or without) JavaScript: the essentials, in words."""
    return render(lang, "templates/fallback.html", **_fallback_context(facility, item, lang))


def facility_page(
    lang: Lang, facility: Facility, item: Mapping[str, Any], jsonld: Mapping[str, Any]
) -> str:
    """A facility's page: the live card over the server-rendered fallback, with JSON-LD."""
    return render(
        lang,
        "templates/facility.html",
        path=f"/facilities/{facility.id}",
        jsonld=json_text(jsonld),
        osm_hours=osm_opening_hours(facility.hours),
        **_fallback_context(facility, item, lang),
    )


def screen_page(lang: Lang, facility: Facility, item: Mapping[str, Any], feedback_url: str) -> str:
    """The in-facility screen: first render from the embedded status, then live."""
    return render(
        lang,
        "templates/screen.html",
        facility=facility,
        qr=Markup(qr_svg(feedback_url)),
        feedback_url=feedback_url.split("://", 1)[-1],
        data=json_text(item),
    )


def agent_page(lang: Lang, *, local: bool) -> str:
    return render(lang, "templates/agent.html", path="/agent", local=local)


def ops_page(lang: Lang, *, local: bool, names: Mapping[str, Any]) -> str:
    return render(lang, "templates/ops.html", path="/ops", local=local, data=json_text(names))


def not_found_page(lang: Lang, path: str) -> str:
    return render(lang, "templates/not_found.html", path=path)
