"""Live accessibility in words, server side (the directory's results, pages without JavaScript):
« Ascenseur hors service depuis 10:42 — retour prévu demain 9 h ». The same words as
``dashboards/embed/equipment.js`` (the card, the screen), through the message catalogues here.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

from api.i18n import Lang, in_language, translator
from schemas.clock import PARIS

__all__ = ["outage_lines", "step_free_now"]


def _hour(at: datetime, lang: Lang) -> str:
    """« 9 h », « 9 h 30 » (French), « 9:00 » (English)."""
    if lang == "en":
        return f"{at.hour}:{at.minute:02d}"
    return f"{at.hour} h" if at.minute == 0 else f"{at.hour} h {at.minute:02d}"


def _back(value: str | None, lang: Lang, now: datetime) -> str:
    tr = translator(lang)
    if not value:
        return tr.gettext("retour non connu")
    at = datetime.fromisoformat(value).astimezone(PARIS)
    today = now.astimezone(PARIS).date()
    if at.date() == today:
        return tr.gettext("retour prévu à %(hour)s", hour=_hour(at, lang))
    if at.date() == today + timedelta(days=1):
        return tr.gettext("retour prévu demain %(hour)s", hour=_hour(at, lang))
    return tr.gettext(
        "retour prévu le %(date)s à %(hour)s", date=at.strftime("%d/%m"), hour=_hour(at, lang)
    )


def _line(item: Mapping[str, Any], lang: Lang, now: datetime) -> str:
    tr = translator(lang)
    name = in_language(item.get("name") or {"fr": item["equipment_id"]}, lang)
    if item.get("area"):
        name = f"{name} ({item['area']})"
    since = item.get("since")
    degraded = item.get("status") == "degraded"
    if since:
        at = datetime.fromisoformat(since).astimezone(PARIS)
        time, date = at.strftime("%H:%M"), at.strftime("%d/%m")
        when = (
            time
            if at.date() == now.astimezone(PARIS).date()
            else tr.gettext("le %(date)s à %(time)s", date=date, time=time)
        )
        head = (
            tr.gettext("%(name)s en service réduit depuis %(since)s", name=name, since=when)
            if degraded
            else tr.gettext("%(name)s hors service depuis %(since)s", name=name, since=when)
        )
    else:
        head = (
            tr.gettext("%(what)s en service réduit.", what=name).rstrip(".")
            if degraded
            else tr.gettext("%(what)s hors service.", what=name).rstrip(".")
        )
    back = _back(item.get("expected_back_at"), lang, now)
    if item.get("overdue"):
        back = tr.gettext("%(back)s (dépassé)", back=back)
    return f"{head} — {back}"


def outage_lines(item: Mapping[str, Any], lang: Lang, now: datetime) -> tuple[str, ...]:
    """Each equipment not in service, oldest outage first, in words."""
    equipment = (item.get("accessibility") or {}).get("equipment") or []
    down = [e for e in equipment if e.get("status", "in_service") != "in_service"]
    down.sort(key=lambda e: e.get("since") or "")
    return tuple(_line(e, lang, now) for e in down)


def step_free_now(item: Mapping[str, Any]) -> str:
    """``yes``, ``no`` or ``unknown``: step-free access as the live status says it now (a
    facility the streams have not reported on is ``unknown``). A ``yes`` resting on a typical
    profile (``accessibility.estimated``) is ``unknown``: no source confirms it, and the
    facility's card says « Accès en fauteuil non confirmé » — « Accessible en fauteuil
    maintenant » listed 129 such facilities beside it."""
    if item.get("live") is False:
        return "unknown"
    access = item.get("accessibility") or {}
    step = str(access.get("step_free_access") or "unknown")
    return "unknown" if step == "yes" and access.get("estimated") else step
