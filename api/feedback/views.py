"""The feedback family's pages, rendered from the Jinja2 templates of ``dashboards/feedback/``
(autoescape on, every text a message of the catalogues, :mod:`api.i18n`): one layout (skip link,
language switch, no external resource, a strict CSP), French first (``?lang=en`` for English).

Each function takes what the page shows and answers the response; no HTML is assembled here.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from babel.numbers import format_decimal, format_percent
from fastapi.responses import HTMLResponse

from api.errors import ApiError
from api.feedback.datasets import DATASETS
from api.feedback.errors import in_language as error_in_language
from api.feedback.labels import FIELD_LABELS, RULE_LABELS, STATUS_WORDS, ServiceNames
from api.feedback.models import ComplaintStatus
from api.i18n import N_, Lang, bilingual, in_language, render, translator
from api.ratelimit import RateLimited
from schemas.catalogue import FACILITY_TYPES, TYPE_LABELS, Catalogue, Facility, normalize_text
from schemas.clock import PARIS
from schemas.events import GoldenRule
from schemas.parcours import load_parcours
from schemas.routing import load_routing

__all__ = [
    "ASSETS",
    "DASHBOARD",
    "complaint_error",
    "complaint_form",
    "complaint_received",
    "complaint_status",
    "inbox_page",
    "page",
    "survey_error",
    "survey_form",
    "survey_thanks",
    "transparency_page",
    "unknown_complaint",
    "unknown_facility",
]

DASHBOARD = Path(__file__).resolve().parents[2] / "dashboards" / "feedback"
ASSETS = {"feedback.css": "text/css", "forms.js": "text/javascript", "inbox.js": "text/javascript"}
"""The files of :data:`DASHBOARD` served under ``/feedback-assets/`` (never the templates)."""
LANGUAGE_NAMES: dict[Lang, str] = {"fr": "Français", "en": "English"}
"""Each language in itself (the switch)."""
DATE_FORMATS: dict[Lang, str] = {"fr": "%d/%m/%Y %H:%M", "en": "%Y-%m-%d %H:%M"}
MONTHS = (
    N_("janvier"), N_("février"), N_("mars"), N_("avril"), N_("mai"), N_("juin"),
    N_("juillet"), N_("août"), N_("septembre"), N_("octobre"), N_("novembre"), N_("décembre"),
)  # fmt: skip
CSP = (
    "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
    "frame-ancestors 'self'"
)


def page(
    lang: Lang,
    name: str,
    *,
    title: str,
    path: str,
    status_code: int = 200,
    scripts: Sequence[str] = (),
    headers: dict[str, str] | None = None,
    **context: Any,
) -> HTMLResponse:
    """Template ``feedback/<name>`` in the layout (skip link, language switch, no external
    resource), never cached, with the pages' CSP."""
    other: Lang = "en" if lang == "fr" else "fr"
    body = render(
        lang,
        f"feedback/{name}",
        title=title,
        path=path,
        other=other,
        other_name=LANGUAGE_NAMES[other],
        scripts=scripts,
        **context,
    )
    return HTMLResponse(
        body,
        status_code=status_code,
        headers={
            "Cache-Control": "no-store",
            "Content-Security-Policy": CSP,
            "X-Content-Type-Options": "nosniff",
            "Referrer-Policy": "same-origin",
            **(headers or {}),
        },
    )


def _rule(rule: str, lang: Lang) -> str:
    """A golden rule as a citizen reads it (its code when it is not one)."""
    label = RULE_LABELS.get(rule)
    return translator(lang).gettext(label) if label else rule


def _date(value: dt.datetime | None, lang: Lang) -> str:
    return "—" if value is None else value.astimezone(PARIS).strftime(DATE_FORMATS[lang])


# ── Errors of the no-JavaScript path ──────────────────────────────────────────────────────────


def _form_error(
    exc: ApiError,
    lang: Lang,
    *,
    heading: str,
    back: str,
    back_href: str,
    path: str,
    retry: bool = False,
) -> HTMLResponse:
    """The error in the page's language, each bad field by its label, with a way back to the
    form (and, with ``retry``, when to retry)."""
    tr = translator(lang)
    message, fields = error_in_language(exc, lang)
    return page(
        lang,
        "error.html",
        title=tr.gettext("Erreur"),
        path=path,
        status_code=exc.status,
        headers=exc.headers or {},
        heading=heading,
        message=message,
        fields=[
            {
                "label": tr.gettext(FIELD_LABELS[name]) if name in FIELD_LABELS else name,
                "text": text,
            }
            for name, text in fields.items()
        ],
        retry_after=exc.retry_after if retry and isinstance(exc, RateLimited) else None,
        back=back,
        back_href=back_href,
    )


def survey_error(exc: ApiError, facility_id: str, lang: Lang) -> HTMLResponse:
    tr = translator(lang)
    return _form_error(
        exc,
        lang,
        heading=tr.gettext("Votre réponse n’a pas été enregistrée"),
        back=tr.gettext("Revenir au questionnaire"),
        back_href=f"/feedback/{facility_id}?lang={lang}",
        path=f"/feedback/{facility_id}",
        retry=True,
    )


def complaint_error(exc: ApiError, lang: Lang, *, procedure: str | None = None) -> HTMLResponse:
    """The no-JavaScript error page; back to the form of the démarche when it named a known one."""
    tr = translator(lang)
    prefill = procedure_prefill(procedure, lang)
    about = f"&procedure={prefill['procedure_id']}" if prefill else ""
    return _form_error(
        exc,
        lang,
        heading=tr.gettext("Votre réclamation n’a pas été enregistrée"),
        back=tr.gettext("Revenir au formulaire"),
        back_href=f"/complaints?lang={lang}{about}",
        path="/complaints",
    )


# ── The survey ────────────────────────────────────────────────────────────────────────────────


def unknown_facility(facility_id: str, lang: Lang) -> HTMLResponse:
    return page(
        lang,
        "unknown_facility.html",
        title=bilingual("Équipement inconnu"),
        path=f"/feedback/{facility_id}",
        status_code=404,
    )


def survey_thanks(facility: Facility, lang: Lang) -> HTMLResponse:
    return page(
        lang,
        "thanks.html",
        title=bilingual("Merci"),
        path=f"/feedback/{facility.id}",
        facility=facility,
    )


def survey_form(
    facility: Facility, lang: Lang, *, service: str | None, channel: str
) -> HTMLResponse:
    """The survey of a facility (the QR code of its screen), answered in a few taps on a phone:
    the overall rating, one per golden rule, one optional comment."""
    opinion = translator(lang).gettext("Votre avis")
    return page(
        lang,
        "survey.html",
        title=f"{opinion} — {facility.name}",
        path=f"/feedback/{facility.id}",
        scripts=["/feedback-assets/forms.js"],
        facility=facility,
        kind=in_language(TYPE_LABELS[facility.type], lang),
        rules=[{"value": rule.value, "label": _rule(rule.value, lang)} for rule in GoldenRule],
        services=[
            {
                "id": s.service_id,
                "name": in_language(s.name, lang),
                "selected": s.service_id == service,
            }
            for s in facility.services
        ],
        channel=channel,
    )


# ── Complaints ────────────────────────────────────────────────────────────────────────────────


def complaint_received(lang: Lang) -> HTMLResponse:
    return page(lang, "received.html", title=bilingual("Réclamation"), path="/complaints")


def _facility_groups(
    catalogue: Catalogue, lang: Lang, selected: str | None
) -> list[dict[str, Any]]:
    groups = []
    for kind in FACILITY_TYPES:
        facilities = sorted(catalogue.by_type(kind), key=lambda f: f.name)
        if facilities:
            groups.append(
                {
                    "label": in_language(TYPE_LABELS[kind], lang),
                    "facilities": [
                        {
                            "id": f.id,
                            "name": f.name,
                            "arrondissement": f.arrondissement,
                            "search": normalize_text(f.name + " " + f.address.one_line()),
                            "selected": f.id == selected,
                        }
                        for f in facilities
                    ],
                }
            )
    return groups


def procedure_prefill(procedure: str | None, lang: Lang) -> dict[str, Any] | None:
    """What the form holds already when a démarche's page sends someone whose délai was not kept
    (« Ce délai n'a pas été tenu ? »): the démarche (named at the top, sent as ``procedure_id``),
    the service competent for it and its committed answer délai, the délais rule, a
    processing-time topic, and the text starting with the démarche's name. None for no (or an
    unknown) démarche."""
    found = next((p for p in load_parcours() if p.parcours_id == procedure), None)
    routing = load_routing()
    if found is None or found.parcours_id not in routing.procedure_ids():
        return None
    title = in_language(found.title, lang)
    route = routing.resolve_procedure(found.parcours_id, GoldenRule.DELAYS, "processing")
    tr = translator(lang)
    return {
        "procedure_id": found.parcours_id,
        "title": title,
        "href": f"/demarches/{found.parcours_id}?lang={lang}",
        "service": ServiceNames(lang)(route.service.service_id),
        "answer_days": tr.ngettext("%(num)d jour", "%(num)d jours", route.answer_days),
        "rule": GoldenRule.DELAYS.value,
        "topic": "processing",
        "text": tr.gettext("Démarche : %(title)s — ", title=title),
    }


def complaint_form(
    catalogue: Catalogue, lang: Lang, facility: str | None, procedure: str | None = None
) -> HTMLResponse:
    """The one complaint form for every service (prefilled for a démarche when one is named)."""
    routing = load_routing()
    rules = [
        {
            "value": rule.value,
            "label": _rule(rule.value, lang),
            "topics": [
                {"value": topic, "label": in_language(label, lang)}
                for topic, label in routing.topics[rule].items()
            ],
        }
        for rule in GoldenRule
    ]
    return page(
        lang,
        "complaint.html",
        title=bilingual("Réclamation"),
        path="/complaints",
        scripts=["/feedback-assets/forms.js"],
        facility_groups=_facility_groups(catalogue, lang, facility),
        rules=rules,
        prefill=procedure_prefill(procedure, lang),
    )


def unknown_complaint(reference: str, lang: Lang) -> HTMLResponse:
    return page(
        lang,
        "unknown_complaint.html",
        title=bilingual("Réclamation inconnue"),
        path=f"/complaints/{reference}",
        status_code=404,
    )


def complaint_status(case: ComplaintStatus, lang: Lang, *, created: bool) -> HTMLResponse:
    """A complaint's progress and délais, without anything personal."""
    tr = translator(lang)
    order = list(STATUS_WORDS)
    reached = order.index(case.status)
    dates = [case.filed_at, case.acknowledged_at, case.answered_at]
    steps = [
        {
            "kind": "current" if i == reached else "done" if i < reached else "todo",
            "label": tr.gettext(STATUS_WORDS[step]),
            "date": _date(dates[i], lang),
        }
        for i, step in enumerate(order)
    ]
    topic = load_routing().topics[case.rule].get(case.topic)
    procedure = in_language(case.procedure.title, lang) if case.procedure else None
    return page(
        lang,
        "status.html",
        title=case.reference,
        path=f"/complaints/{case.reference}",
        case=case,
        created=created,
        steps=steps,
        rule=_rule(case.rule.value, lang),
        topic=in_language(topic, lang) if topic else None,
        procedure=procedure,
        service=ServiceNames(lang)(case.service.service_id),
        answer_days=tr.ngettext("%(num)d jour", "%(num)d jours", case.answer_days),
        acknowledge_by=_date(case.acknowledge_due_at, lang),
        answer_by=_date(case.answer_due_at, lang),
    )


def inbox_page(lang: Lang) -> HTMLResponse:
    """The service inbox shell; its data comes from the inbox API (the token stays in the tab)."""
    return page(
        lang,
        "inbox.html",
        title=bilingual("Boîte de réception"),
        path="/inbox",
        scripts=["/feedback-assets/inbox.js"],
    )


# ── /transparence ─────────────────────────────────────────────────────────────────────────────


def _decimal(value: float | None, lang: Lang, digits: int = 1) -> str:
    """A measured number in the page's locale (« 3,6 » in French, "3.6" in English)."""
    if value is None:
        return "—"
    return format_decimal(value, format=f"#,##0.{'0' * digits}", locale=lang)


def _integer(value: int, lang: Lang) -> str:
    return format_decimal(value, format="#,##0", locale=lang)


def _pct(part: int, whole: int, lang: Lang) -> str:
    return format_percent(part / whole, format="#,##0 %", locale=lang) if whole else "—"


def transparency_page(data: dict[str, Any], lang: Lang) -> HTMLResponse:
    """The month's figures (a figure from fewer than ``min_sample`` answers is not shown), the
    mediator, the documented exports; numbers and plurals in the page's locale."""
    tr = translator(lang)

    def month_name(month: str) -> str:
        year, number = month.split("-")
        return f"{tr.gettext(MONTHS[int(number) - 1])} {year}"

    def answers(n: int) -> str:
        return tr.ngettext("%(count)s réponse", "%(count)s réponses", n, count=_integer(n, lang))

    results = tr.gettext("Résultats publics")
    services = data["services"]
    max_days = max(
        [s["p90_days"] or 0 for s in services] + [s["committed_days"] for s in services] + [1]
    )
    names = ServiceNames(lang)
    datasets = {
        name: {
            "title": tr.gettext(spec.title),
            "columns": [
                {"name": c.name, "type": c.type, "description": tr.gettext(c.description)}
                for c in spec.columns
            ],
        }
        for name, spec in DATASETS.items()
    }
    return page(
        lang,
        "transparency.html",
        title=f"{results} — Paris Live",
        path="/transparence",
        data=data,
        datasets=datasets,
        max_days=max_days,
        service_names=[names(s["service_id"]) for s in services],
        month_name=month_name,
        answers=answers,
        num=lambda value: _decimal(value, lang),
        count=lambda value: _integer(value, lang),
        pct=lambda part, whole: _pct(part, whole, lang),
        rule_label=lambda rule: _rule(rule, lang),
    )
