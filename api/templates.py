"""Closure message templates per reason (French first, English second), so an agent types little.

An agent who declares a closure without a message gets :func:`render_message` of the reason, the
scope and the expected reopening::

    Bassin 50 m — fermeture exceptionnelle en raison d'une panne technique. Réouverture prévue
    à 14:00. Nous vous prions de nous excuser pour la gêne occasionnée.

:func:`declared_label` is the public card's « déclaré par l'équipe à HH:MM » (Paris time). Pure
functions: no I/O, the clock is a parameter. The texts are messages of the catalogues
(``locale/``), looked up in both languages at once since events publish both.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from api.i18n import LANGUAGES, N_, localized, translator
from schemas.catalogue import Facility
from schemas.clock import PARIS
from schemas.events import AreaScope, ClosureReason, LocalizedText, ServiceScope

__all__ = [
    "PARIS",
    "REASONS",
    "ReasonTemplate",
    "declared_label",
    "render_message",
    "reopening_text",
    "scope_label",
]


@dataclass(frozen=True, slots=True)
class ReasonTemplate:
    """A reason's label and message template (``{what}`` and ``{reopening}`` placeholders)."""

    reason: ClosureReason
    label: LocalizedText
    template: LocalizedText


R = ClosureReason
_REASON_WORDS: dict[ClosureReason, tuple[str, str]] = {
    # reason: (label, why it is closed — completes « fermeture exceptionnelle … »)
    R.STAFF_SHORTAGE: (N_("Manque de personnel"), N_("en raison d'un manque de personnel")),
    R.TECHNICAL_FAILURE: (N_("Panne technique"), N_("en raison d'une panne technique")),
    R.WATER_QUALITY: (
        N_("Qualité de l'eau"),
        N_("en raison de la qualité de l'eau (analyses en cours)"),
    ),
    R.WEATHER: (N_("Météo"), N_("en raison des conditions météorologiques")),
    R.SECURITY: (N_("Sécurité"), N_("pour raison de sécurité")),
    R.WORKS: (N_("Travaux"), N_("en raison de travaux")),
    R.STRIKE: (N_("Mouvement social"), N_("en raison d'un mouvement social")),
    R.EVENT: (N_("Événement"), N_("en raison d'un événement")),
    R.OTHER: (N_("Autre motif"), N_("pour un motif exceptionnel")),
}


def _template(why: str) -> LocalizedText:
    """The message template of a reason, in both languages (both are published together)."""
    texts = {
        # Translators: {what} and {reopening} stay as they are (filled when declaring).
        lang: translator(lang).gettext(
            "%(what)s — fermeture exceptionnelle %(why)s.%(reopening)s "
            "Nous vous prions de nous excuser pour la gêne occasionnée.",
            what="{what}",
            why=translator(lang).gettext(why),
            reopening="{reopening}",
        )
        for lang in LANGUAGES
    }
    return LocalizedText.model_validate(texts)


REASONS: dict[ClosureReason, ReasonTemplate] = {
    reason: ReasonTemplate(reason, LocalizedText.model_validate(localized(label)), _template(why))
    for reason, (label, why) in _REASON_WORDS.items()
}


def _hhmm(at: dt.datetime) -> str:
    return at.astimezone(PARIS).strftime("%H:%M")


def _same_day(a: dt.datetime, b: dt.datetime) -> bool:
    return a.astimezone(PARIS).date() == b.astimezone(PARIS).date()


def _date(at: dt.datetime) -> str:
    return at.astimezone(PARIS).strftime("%d/%m")


def scope_label(facility: Facility, scope: object) -> LocalizedText:
    """What is closed, as the public reads it: the facility, an area, or a service."""
    if isinstance(scope, AreaScope):
        return LocalizedText(fr=scope.name, en=scope.name)
    if isinstance(scope, ServiceScope):
        name = facility.service(scope.service_id).name
        return LocalizedText(fr=name.fr, en=name.en or name.fr)
    return LocalizedText(fr=facility.name, en=facility.name)


def reopening_text(reopening: dt.datetime | None, now: dt.datetime) -> LocalizedText:
    """« Réouverture prévue à 14:00. » (with the date when it is not today, Paris time)."""
    if reopening is None:
        texts = localized("Date de réouverture non connue pour l'instant.")
    elif _same_day(reopening, now):
        texts = localized("Réouverture prévue à %(time)s.", time=_hhmm(reopening))
    else:
        texts = localized(
            "Réouverture prévue le %(date)s à %(time)s.",
            date=_date(reopening),
            time=_hhmm(reopening),
        )
    return LocalizedText.model_validate(texts)


def render_message(
    reason: ClosureReason,
    facility: Facility,
    scope: object,
    reopening: dt.datetime | None,
    now: dt.datetime,
) -> LocalizedText:
    """The message of a reason's template for this scope and expected reopening."""
    template = REASONS[reason].template
    what = scope_label(facility, scope)
    when = reopening_text(reopening, now)
    assert template.en is not None and what.en is not None and when.en is not None
    return LocalizedText(
        fr=template.fr.format(what=what.fr, reopening=f" {when.fr}"),
        en=template.en.format(what=what.en, reopening=f" {when.en}"),
    )


def declared_label(declared_at: dt.datetime, now: dt.datetime) -> LocalizedText:
    """« déclaré par l'équipe à HH:MM » (Paris time; with the date when it is not today)."""
    if _same_day(declared_at, now):
        texts = localized("déclaré par l'équipe à %(time)s", time=_hhmm(declared_at))
    else:
        texts = localized(
            "déclaré par l'équipe le %(date)s à %(time)s",
            date=_date(declared_at),
            time=_hhmm(declared_at),
        )
    return LocalizedText.model_validate(texts)
