"""Case-management systems: cases of procedures opened and closed after a processing time.

A backlog of open cases is emitted at the start with their past opening ``time``, so processing
délais exist from the first minutes.
"""

from __future__ import annotations

import datetime as dt
import math

from producers.simulation.context import Context, poisson
from producers.simulation.state import Case, FacilityState
from schemas import topics as contract
from schemas.events import CloudEvent, EventType

CASE_BACKLOG_MAX_AGE = dt.timedelta(
    milliseconds=(contract.TOPICS[contract.CASES].retention_ms or 0)
) - dt.timedelta(days=10)
"""The oldest opening of a backlog case: within the cases topic's retention (with a margin for a
simulated start before now), since the worker refuses older events (``time_out_of_range``)."""


def processing(ctx: Context, mean_days: float) -> dt.timedelta:
    """How long one case takes (log-normal around the procedure's mean)."""
    days = max(0.02, mean_days) * math.exp(ctx.rng.gauss(0, 0.4))
    return dt.timedelta(days=days)


def open_backlog(
    ctx: Context, state: FacilityState, now: dt.datetime, out: list[CloudEvent]
) -> None:
    """``case_backlog`` cases per procedure, opened in the past and still open now."""
    for procedure_id, mean_days in state.procedures:
        for _ in range(ctx.config.case_backlog):
            duration = processing(ctx, mean_days)
            opened = max(now - duration * ctx.rng.random(), now - CASE_BACKLOG_MAX_AGE)
            open_case(ctx, state, procedure_id, opened, opened + duration, out)


def open_case(
    ctx: Context,
    state: FacilityState,
    procedure_id: str,
    at: dt.datetime,
    due: dt.datetime,
    out: list[CloudEvent],
) -> None:
    """A ``case.opened`` event; the case closes at ``due``."""
    state.cases_opened += 1
    case_id = f"{state.facility.id}-{procedure_id}-{ctx.config.seed}-{state.cases_opened}"
    state.cases.append(Case(procedure_id, case_id, due))
    data = {"procedure_id": procedure_id, "case_id": case_id}
    source = f"/cases/{state.facility.id}/{procedure_id}"
    out.append(ctx.event(EventType.CASE_OPENED, state, data, source, at))


def cases(ctx: Context, state: FacilityState, now: dt.datetime, out: list[CloudEvent]) -> None:
    """New cases of this minute, and the cases due closed."""
    for procedure_id, mean_days in state.procedures:
        for _ in range(poisson(ctx.rng, 1.5 / 60)):
            opened = ctx.within(now)
            open_case(ctx, state, procedure_id, opened, opened + processing(ctx, mean_days), out)
    for case in [c for c in state.cases if c.due <= now]:
        state.cases.remove(case)
        data = {"procedure_id": case.procedure_id, "case_id": case.case_id}
        source = f"/cases/{state.facility.id}/{case.procedure_id}"
        out.append(ctx.event(EventType.CASE_CLOSED, state, data, source, ctx.within(now)))
