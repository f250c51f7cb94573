"""Ticket machines at queue services (town halls first): tickets issued, called, served, abandoned.

Tickets are numbered per service letter and day; free desks call the oldest waiting ticket; a
ticket waiting more than 20 minutes may be abandoned, and whoever still waits at closing (or when
the service is closed) goes home. With ``record_ticket_waits`` the simulator also keeps each
ticket's true wait (issued → called, or abandoned) in :attr:`FacilityState.ticket_waits` — what
``bench/wait_accuracy`` scores the time-to-be-served estimate on; recording draws nothing from the
generator, so the events are the same with or without it.
"""

from __future__ import annotations

import datetime as dt

from producers.patterns import SERVICE_MINUTES, queue_arrivals_per_hour
from producers.simulation.context import LAST_SECOND, MINUTE, Context, poisson
from producers.simulation.state import FacilityState, TicketQueue, TicketWait
from schemas.catalogue import Facility
from schemas.events import CloudEvent, EventType

DESKS: dict[str, int] = {"town_hall": 3, "social_services": 2, "pool": 2}


def new_queues(facility: Facility) -> list[TicketQueue]:
    """One queue per service with a ticket queue, lettered A, B, … in catalogue order."""
    return [
        TicketQueue(s.service_id, chr(ord("A") + i), DESKS.get(facility.type, 1))
        for i, s in enumerate(sv for sv in facility.services if sv.queue)
    ]


def queues(
    ctx: Context,
    state: FacilityState,
    now: dt.datetime,
    local: dt.datetime,
    minutes_left: int,
    out: list[CloudEvent],
) -> None:
    """One minute of every ticket queue of the facility."""
    rng = ctx.rng
    closure = state.closure
    facility_type = state.facility.type
    for queue in state.queues:
        if queue.day != local.date():
            queue.day, queue.counter = local.date(), 0
        closed = (
            closure is not None
            and closure.starts_at <= now
            and closure.scope.get("service_id") == queue.service_id
        )
        for ticket, done_at in list(queue.serving):
            if done_at < now + MINUTE or minutes_left <= 1:
                queue.serving.remove((ticket, done_at))
                served = max(now, min(done_at, now + LAST_SECOND))
                _ticket(ctx, EventType.TICKET_SERVED, state, queue, ticket, served, out)
        if minutes_left <= 1 or closed:  # closing: whoever still waits goes home
            while queue.waiting:
                ticket, issued = queue.waiting.popleft()
                _record(ctx, state, queue, ticket, issued, None)
                gone = max(issued, ctx.within(now))
                _ticket(ctx, EventType.TICKET_ABANDONED, state, queue, ticket, gone, out)
            continue
        if minutes_left > 15:
            rate = queue_arrivals_per_hour(facility_type, local, ctx.config.scenario) / 60
            for _ in range(poisson(rng, rate)):
                queue.counter += 1
                ticket = f"{local:%m%d}-{queue.letter}{queue.counter:03d}"
                issued = ctx.within(now)
                queue.waiting.append((ticket, issued))
                _ticket(ctx, EventType.TICKET_ISSUED, state, queue, ticket, issued, out)
        for ticket, issued in list(queue.waiting):
            if now - issued > 20 * MINUTE and rng.random() < 0.03:
                queue.waiting.remove((ticket, issued))
                _record(ctx, state, queue, ticket, issued, None)
                gone = ctx.within(now)
                _ticket(ctx, EventType.TICKET_ABANDONED, state, queue, ticket, gone, out)
        while queue.waiting and len(queue.serving) < queue.desks:
            ticket, issued = queue.waiting.popleft()
            called = min(max(issued, now) + dt.timedelta(seconds=30), now + LAST_SECOND)
            _record(ctx, state, queue, ticket, issued, called)
            _ticket(ctx, EventType.TICKET_CALLED, state, queue, ticket, called, out)
            service = rng.expovariate(1 / SERVICE_MINUTES.get(facility_type, 5.0))
            queue.serving.append((ticket, called + dt.timedelta(minutes=service)))


def _record(
    ctx: Context,
    state: FacilityState,
    queue: TicketQueue,
    ticket: str,
    issued: dt.datetime,
    called: dt.datetime | None,
) -> None:
    if ctx.config.record_ticket_waits:
        wait = TicketWait(state.facility.id, queue.service_id, ticket, issued, called)
        state.ticket_waits.append(wait)


def _ticket(
    ctx: Context,
    event_type: EventType,
    state: FacilityState,
    queue: TicketQueue,
    ticket: str,
    at: dt.datetime,
    out: list[CloudEvent],
) -> None:
    data = {"service_id": queue.service_id, "ticket_id": ticket}
    source = f"/tickets/{state.facility.id}/{queue.service_id}"
    out.append(ctx.event(event_type, state, data, source, at))
