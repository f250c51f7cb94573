"""The map of the directory (``/carte``): the facilities the directory's filters keep, as points on
a Leaflet map (vendored by ``scripts/vendor.sh``, no CDN), each arrondissement labelled at its town
hall, and the same facilities as a list under the map — the map's text alternative.

The background tiles come from ``settings.map_tile_url`` (the page's CSP allows that origin and no
other); the points and the labels are drawn by the page itself, so they stay when no tile loads
and the page then says the background is unavailable.

The views here are pure: items (FacilityStatus + ``catalogue`` summary, as REST answers them) and
the catalogue in, JSON-ready points and labels out.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from statistics import median
from typing import Any
from urllib.parse import urlencode

from babel.numbers import format_decimal
from fastapi import APIRouter
from fastapi.responses import HTMLResponse

from api.context import Ctx
from api.headers import page_csp
from api.i18n import Lang, in_language, render, translator
from api.pages import views
from api.pages.directory import ARRONDISSEMENTS, in_order
from api.pages.routes import Directory, _items
from schemas.catalogue import TYPE_LABELS, Catalogue

__all__ = ["LIST_SIZE", "arrondissement_marks", "list_href", "points", "router"]

router = APIRouter()

LIST_SIZE = 50
"""Facilities listed under the map (the directory lists them all, a page at a time)."""

Item = Mapping[str, Any]


def points(items: Iterable[Item], lang: Lang) -> list[dict[str, Any]]:
    """One point per item with coordinates: where it is, what it is and its state now (the
    page puts the state in words; colour is never the only cue)."""
    suffix = "?lang=en" if lang == "en" else ""
    found = []
    for item in items:
        summary = item.get("catalogue") or {}
        location = summary.get("location")
        if not location:
            continue
        found.append(
            {
                "id": item["facility_id"],
                "name": item["name"],
                "type": item["type"],
                "arrondissement": item["arrondissement"],
                "lat": location["lat"],
                "lon": location["lon"],
                "state": item["open_state"],
                "hours_confidence": item.get("hours_confidence") or summary.get("hours_confidence"),
                "located": (summary.get("sources") or {}).get("location") != "estimated",
                "href": f"/facilities/{item['facility_id']}{suffix}",
            }
        )
    return found


def arrondissement_marks(catalogue: Catalogue, lang: Lang) -> list[dict[str, Any]]:
    """Where each arrondissement's label goes: its town hall, or — for the 1er, 2e and 4e, whose
    town hall is Paris Centre's, in the 3e — the median position of its facilities."""
    tr = translator(lang)
    halls = {f.arrondissement: f.location for f in catalogue if f.type == "town_hall"}
    marks = []
    for n in ARRONDISSEMENTS:
        hall = halls.get(n)
        if hall is not None:
            lat, lon, at = hall.lat, hall.lon, "town_hall"
        else:
            places = [f.location for f in catalogue if f.arrondissement == n]
            if not places:
                continue
            lat, lon, at = median(p.lat for p in places), median(p.lon for p in places), "median"
        # Translators: an arrondissement's short label on the map (English: the number alone).
        label = tr.gettext("1er") if n == 1 else tr.gettext("%(n)de", n=n)
        if n == 1:
            title = tr.gettext("1er arrondissement")
        else:
            title = tr.gettext("%(n)de arrondissement", n=n)
        marks.append({"n": n, "lat": lat, "lon": lon, "at": at, "label": label, "title": title})
    return marks


def list_href(params: Mapping[str, str]) -> str:
    """The directory with the same filters ("Voir la liste")."""
    kept = {k: v for k, v in params.items() if v and k != "page"}
    return "/?" + urlencode(kept) if kept else "/"


@router.get("/carte", include_in_schema=False)
async def map_page(ctx: Ctx, query: Directory) -> HTMLResponse:
    """The facilities the directory's filters keep, on a map and listed under it; the page's
    CSP allows images from the tile server of the settings."""
    items = await _items(ctx, [f.id for f in ctx.catalogue])
    found = [i for i in in_order(items.values()) if query.filters.matches(i)]
    lang = query.lang
    shown = points(found, lang)
    data = {
        "points": shown,
        "arrondissements": arrondissement_marks(ctx.catalogue, lang),
        "tiles": {
            "url": ctx.settings.map_tile_url,
            "attribution": ctx.settings.map_tile_attribution,
        },
    }
    body = render(
        lang,
        "templates/map.html",
        path="/carte",
        listed=shown[:LIST_SIZE],
        total=len(found),
        total_text=format_decimal(len(found), locale=lang),
        shown_text=format_decimal(min(len(shown), LIST_SIZE), locale=lang),
        list_href=list_href(query.params),
        type_words={slug: in_language(label, lang) for slug, label in TYPE_LABELS.items()},
        data=views.json_text(data),
    )
    response = views.html_page(body)
    response.headers["Content-Security-Policy"] = page_csp(ctx.settings.map_tile_origin)
    return response
