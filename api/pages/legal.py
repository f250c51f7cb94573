"""The pages of the site's identity, linked from every footer: mentions légales, the RGAA
accessibility statement, personal data, « donner mon avis » (pick a facility, then its survey)
and ``/robots.txt``. French first, ``?lang=en`` for English.

Nothing here is invented: the accessibility status follows RGAA's rule from the measured record
(:mod:`api.pages.accessibility`), the retention periods are the settings the purge job applies
(``PARIS_LIVE_FEEDBACK_*_RETENTION_DAYS``), the Kafka retention comes from :mod:`schemas.topics`,
and what only the operator knows (the host) is a setting, shown « à compléter » when unset.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from fastapi.responses import HTMLResponse, PlainTextResponse, RedirectResponse, Response

from api.context import Ctx
from api.i18n import LANGUAGES, Lang, environment, language, render
from api.pages.accessibility import RGAA_CRITERIA, conformity, load_audit
from api.pages.views import html_page
from schemas.catalogue import TYPE_LABELS, Catalogue, LocalizedText
from schemas.topics import COMPLAINTS, SURVEYS, TOPICS

__all__ = ["ROBOTS", "install_site_globals", "router"]

router = APIRouter()
LangParam = Annotated[str | None, Query(pattern="^(fr|en)$", description="fr (default) or en")]
DAY_MS = 24 * 3600 * 1000
DEVICE_COOKIE_DAYS = 365
"""The anonymous survey cookie's lifetime (``api.feedback.routes_survey``)."""
ROBOTS = "User-agent: *\nAllow: /\nDisallow: /agent\nDisallow: /ops\nDisallow: /inbox\n"
"""Staff pages are not for search engines; every public page is."""


def _page(lang: Lang, name: str, path: str, **context: object) -> HTMLResponse:
    return html_page(render(lang, f"templates/{name}", path=path, **context))


@router.get("/mentions-legales", include_in_schema=False)
@router.get("/legal-notice", include_in_schema=False)
async def legal_notice(ctx: Ctx, lang: LangParam = None) -> HTMLResponse:
    """Publisher, director of publication (a role), host, licences, sources of the data."""
    return _page(
        language(lang),
        "legal.html",
        "/mentions-legales",
        host=ctx.settings.legal_host,
    )


@router.get("/accessibilite", include_in_schema=False)
@router.get("/accessibility", include_in_schema=False)
async def accessibility_statement(lang: LangParam = None) -> HTMLResponse:
    """The RGAA accessibility statement, from the measured record."""
    audit = load_audit()
    return _page(
        language(lang),
        "accessibility.html",
        "/accessibilite",
        audit=audit,
        status=conformity(audit),
        criteria=RGAA_CRITERIA,
    )


@router.get("/donnees-personnelles", include_in_schema=False)
@router.get("/personal-data", include_in_schema=False)
async def personal_data(ctx: Ctx, lang: LangParam = None) -> HTMLResponse:
    """What complaints and survey answers keep, for how long, who reads them; GDPR rights."""
    settings = ctx.settings
    return _page(
        language(lang),
        "privacy.html",
        "/donnees-personnelles",
        complaint_days=settings.feedback_complaint_retention_days,
        survey_days=settings.feedback_survey_retention_days,
        complaint_topic_days=(TOPICS[COMPLAINTS].retention_ms or 0) // DAY_MS,
        survey_topic_days=(TOPICS[SURVEYS].retention_ms or 0) // DAY_MS,
        cookie_days=DEVICE_COOKIE_DAYS,
    )


def _groups(catalogue: Catalogue) -> list[tuple[LocalizedText, list[tuple[str, str]]]]:
    """The facilities by type (the type's label, then ``(id, name)`` sorted by name)."""
    groups = []
    for facility_type in catalogue.types():
        facilities = sorted(catalogue.by_type(facility_type), key=lambda f: f.name)
        groups.append((TYPE_LABELS[facility_type], [(f.id, f.name) for f in facilities]))
    return groups


@router.get("/donner-mon-avis", include_in_schema=False)
@router.get("/give-feedback", include_in_schema=False)
async def give_feedback(
    ctx: Ctx,
    lang: LangParam = None,
    facility: Annotated[str | None, Query(max_length=100)] = None,
) -> Response:
    """The survey is per facility: pick one (works without JavaScript), then its survey."""
    chosen = language(lang)
    if facility and facility in ctx.catalogue:
        target = f"/feedback/{facility}?channel=web" + ("&lang=en" if chosen == "en" else "")
        return RedirectResponse(target, status_code=303)
    return _page(
        chosen,
        "give_feedback.html",
        "/donner-mon-avis",
        groups=_groups(ctx.catalogue),
        unknown=bool(facility),
    )


@router.get("/robots.txt", include_in_schema=False)
async def robots() -> PlainTextResponse:
    return PlainTextResponse(ROBOTS, headers={"Cache-Control": "public, max-age=86400"})


def install_site_globals() -> None:
    """What every page's footer shows of the site (the accessibility status), as template
    globals of each language's environment; the footer says « non conforme » without it."""
    status = conformity(load_audit())
    for lang in LANGUAGES:
        environment(lang).globals["site_accessibility"] = status
