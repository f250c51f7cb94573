"""Agents declaring exceptional closures: announced 10 minutes ahead, sometimes extended, ended.

A closure has a reason drawn by facility type (weighted by the scenario: water quality in a heat
wave, weather in the rain) and a bilingual message; it closes the whole facility (which is
evacuated before it starts), one area (``Bassin 50 m``) or one service. About one in seven is
"until further notice"; a third of the others run late and get a ``.updated`` event.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from producers.simulation.context import MINUTE, Context
from producers.simulation.state import Closure, FacilityState
from schemas.events import CloudEvent, EventType

CLOSURE_REASONS: dict[str, tuple[tuple[str, float], ...]] = {
    "pool": (
        ("water_quality", 0.35),
        ("technical_failure", 0.3),
        ("staff_shortage", 0.25),
        ("security", 0.1),
    ),
    "town_hall": (("staff_shortage", 0.4), ("strike", 0.2), ("technical_failure", 0.2), ("event", 0.2)),
    "sports_centre": (("technical_failure", 0.4), ("staff_shortage", 0.3), ("weather", 0.2), ("works", 0.1)),
    "_default": (("staff_shortage", 0.5), ("technical_failure", 0.3), ("strike", 0.1), ("other", 0.1)),
}  # fmt: skip
"""Which reasons close which type of facility, and how often (weights)."""

CLOSURE_MESSAGES: dict[str, tuple[str, str]] = {
    "water_quality": (
        "Fermeture exceptionnelle : la qualité de l'eau est en cours de rétablissement.",
        "Exceptionally closed: water quality is being restored.",
    ),
    "technical_failure": (
        "Fermeture exceptionnelle à la suite d'une panne technique.",
        "Exceptionally closed because of a technical failure.",
    ),
    "staff_shortage": (
        "Fermeture exceptionnelle faute de personnel en nombre suffisant.",
        "Exceptionally closed: not enough staff on duty.",
    ),
    "security": ("Fermeture exceptionnelle pour raison de sécurité.", "Exceptionally closed for safety reasons."),
    "strike": ("Fermeture en raison d'un mouvement social.", "Closed because of strike action."),
    "weather": ("Fermeture en raison des conditions météorologiques.", "Closed because of the weather."),
    "event": ("Fermeture pour un événement.", "Closed for an event."),
    "works": ("Fermeture pour travaux.", "Closed for works."),
    "other": ("Fermeture exceptionnelle.", "Exceptionally closed."),
}  # fmt: skip


def closures(
    ctx: Context,
    state: FacilityState,
    now: dt.datetime,
    minutes_left: int | None,
    out: list[CloudEvent],
) -> None:
    """End, extend or declare the facility's closure this minute."""
    rng = ctx.rng
    config = ctx.config
    closure = state.closure
    if closure is not None:
        if now >= closure.actual_end:
            data = {"closure_id": closure.closure_id, "ended_by": "agent-simulateur"}
            out.append(_closure_event(ctx, EventType.CLOSURE_ENDED, state, data, now))
            state.closure = None
        elif (
            not closure.updated
            and closure.expected_end is not None
            and now >= closure.expected_end - 10 * MINUTE
            and closure.actual_end > closure.expected_end
        ):
            closure.updated = True
            closure.expected_end = closure.actual_end
            out.append(
                _closure_event(ctx, EventType.CLOSURE_UPDATED, state, _closure_data(closure), now)
            )
        return
    if minutes_left is None or minutes_left < 40:
        return
    rate = config.closures_per_open_hour
    if config.scenario.heat_wave and state.facility.type == "pool":
        rate *= 2.5
    if rng.random() >= rate / 60:
        return
    state.closures_declared += 1
    reason = _reason(ctx, state)
    starts = now + 10 * MINUTE
    if rng.random() < 0.15:  # "jusqu'à nouvel ordre"
        expected: dt.datetime | None = None
        actual = starts + dt.timedelta(minutes=rng.randint(240, 1200))
    else:
        expected = starts + dt.timedelta(minutes=rng.choice((30, 45, 60, 90, 120, 180, 240)))
        late = rng.random() < 0.3
        actual = expected + (dt.timedelta(minutes=rng.choice((30, 60))) if late else MINUTE * 0)
    scope = _scope(ctx, state)
    fr, en = CLOSURE_MESSAGES[reason]
    if scope["kind"] == "area":
        fr, en = f"{scope['name']} fermé. {fr}", f"{scope['name']} closed. {en}"
    elif scope["kind"] == "service":
        service = state.facility.service(scope["service_id"])
        fr, en = f"{service.name.fr} : {fr}", f"{service.name.en}: {en}"
    state.closure = Closure(
        closure_id=f"sim-{state.facility.id}-{state.closures_declared}-{config.seed}",
        scope=scope,
        reason=reason,
        message={"fr": fr, "en": en},
        starts_at=starts,
        expected_end=expected,
        actual_end=actual,
    )
    out.append(
        _closure_event(ctx, EventType.CLOSURE_DECLARED, state, _closure_data(state.closure), now)
    )


def _reason(ctx: Context, state: FacilityState) -> str:
    choices = CLOSURE_REASONS.get(state.facility.type, CLOSURE_REASONS["_default"])
    scenario = ctx.config.scenario
    weighted = [
        (
            reason,
            weight
            * (3 if reason == "water_quality" and scenario.heat_wave else 1)
            * (4 if reason == "weather" and scenario.rain else 1),
        )
        for reason, weight in choices
    ]
    return ctx.rng.choices([r for r, _ in weighted], [w for _, w in weighted])[0]


def _scope(ctx: Context, state: FacilityState) -> dict[str, str]:
    draw = ctx.rng.random()
    if state.facility.areas and draw < 0.25:
        return {"kind": "area", "name": ctx.rng.choice(state.facility.areas)}
    services = [s.service_id for s in state.facility.services if s.queue or s.bookable]
    if services and draw > 0.9:
        return {"kind": "service", "service_id": ctx.rng.choice(services)}
    return {"kind": "facility"}


def _closure_data(closure: Closure) -> dict[str, Any]:
    return {
        "closure_id": closure.closure_id,
        "scope": closure.scope,
        "reason": closure.reason,
        "message": closure.message,
        "starts_at": closure.starts_at,
        "expected_reopening_at": closure.expected_end,
        "declared_by": "agent-simulateur",
    }


def _closure_event(
    ctx: Context,
    event_type: EventType,
    state: FacilityState,
    data: dict[str, Any],
    at: dt.datetime,
) -> CloudEvent:
    return ctx.event(event_type, state, data, f"/agents/{state.facility.id}/simulateur", at)
