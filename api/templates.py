"""Closure message templates per reason (French first, English second), so an agent types little.

An agent who declares a closure without a message gets :func:`render_message` of the reason, the
scope and the expected reopening::

    Bassin 50 m — fermeture exceptionnelle en raison d'une panne technique. Réouverture prévue
    à 14:00. Nous vous prions de nous excuser pour la gêne occasionnée.

:func:`declared_label` is the public card's « déclaré par l'équipe à HH:MM » (Paris time). Pure
functions: no I/O, the clock is a parameter.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

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


def _reason(reason: ClosureReason, label: tuple[str, str], why: tuple[str, str]) -> ReasonTemplate:
    return ReasonTemplate(
        reason,
        LocalizedText(fr=label[0], en=label[1]),
        LocalizedText(
            fr=f"{{what}} — fermeture exceptionnelle {why[0]}.{{reopening}} "
            "Nous vous prions de nous excuser pour la gêne occasionnée.",
            en=f"{{what}} — exceptionally closed {why[1]}.{{reopening}} "
            "We apologise for the inconvenience.",
        ),
    )


R = ClosureReason
REASONS: dict[ClosureReason, ReasonTemplate] = {
    t.reason: t
    for t in (
        _reason(
            R.STAFF_SHORTAGE,
            ("Manque de personnel", "Staff shortage"),
            ("en raison d'un manque de personnel", "due to a staff shortage"),
        ),
        _reason(
            R.TECHNICAL_FAILURE,
            ("Panne technique", "Technical failure"),
            ("en raison d'une panne technique", "due to a technical failure"),
        ),
        _reason(
            R.WATER_QUALITY,
            ("Qualité de l'eau", "Water quality"),
            (
                "en raison de la qualité de l'eau (analyses en cours)",
                "due to water quality (tests in progress)",
            ),
        ),
        _reason(
            R.WEATHER,
            ("Météo", "Weather"),
            ("en raison des conditions météorologiques", "due to weather conditions"),
        ),
        _reason(
            R.SECURITY,
            ("Sécurité", "Safety"),
            ("pour raison de sécurité", "for safety reasons"),
        ),
        _reason(R.WORKS, ("Travaux", "Works"), ("en raison de travaux", "due to works")),
        _reason(
            R.STRIKE,
            ("Mouvement social", "Industrial action"),
            ("en raison d'un mouvement social", "due to industrial action"),
        ),
        _reason(
            R.EVENT,
            ("Événement", "Event"),
            ("en raison d'un événement", "due to an event"),
        ),
        _reason(
            R.OTHER,
            ("Autre motif", "Other reason"),
            ("pour un motif exceptionnel", "for exceptional reasons"),
        ),
    )
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
        return LocalizedText(
            fr="Date de réouverture non connue pour l'instant.",
            en="Reopening time not known yet.",
        )
    if _same_day(reopening, now):
        return LocalizedText(
            fr=f"Réouverture prévue à {_hhmm(reopening)}.",
            en=f"Expected to reopen at {_hhmm(reopening)}.",
        )
    return LocalizedText(
        fr=f"Réouverture prévue le {_date(reopening)} à {_hhmm(reopening)}.",
        en=f"Expected to reopen on {_date(reopening)} at {_hhmm(reopening)}.",
    )


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
        return LocalizedText(
            fr=f"déclaré par l'équipe à {_hhmm(declared_at)}",
            en=f"reported by staff at {_hhmm(declared_at)}",
        )
    return LocalizedText(
        fr=f"déclaré par l'équipe le {_date(declared_at)} à {_hhmm(declared_at)}",
        en=f"reported by staff on {_date(declared_at)} at {_hhmm(declared_at)}",
    )
