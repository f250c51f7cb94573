"""Time to be served: the queue model's properties, the last-to-enter-service correction, and the
figure a queue's status carries (pure core, fake clock)."""

from __future__ import annotations

import pytest

from schemas.status import QueueStatus, ServedMethod
from streams.core.machine import FacilityMachine
from streams.core.served import (
    QueueModel,
    ServedTracker,
    estimate,
    gamma_quantile,
    model_quantiles,
)
from tests.streams.core.kit import Clock, Events


def model(**changes: float) -> QueueModel:
    base: dict[str, float] = {"ahead": 4, "in_service": 2, "counters": 2, "service_minutes": 6}
    base.update(changes)
    return QueueModel(
        ahead=int(base["ahead"]),
        in_service=int(base["in_service"]),
        counters=base["counters"],
        service_minutes=base["service_minutes"],
        cv2=base.get("cv2", 1.0),
        call_minutes=base.get("call_minutes", 0.5),
        call_p90_minutes=base.get("call_p90_minutes", 1.0),
        abandon_per_minute=base.get("abandon_per_minute", 0.0),
    )


def tracker() -> ServedTracker:
    return ServedTracker(default_service_minutes=5.0, ticket_memory=100)


@pytest.mark.parametrize("ahead", range(0, 30))
def test_more_people_ahead_never_shortens_the_wait(ahead: int) -> None:
    """One more person ahead gives a median and a p90 at least as long."""
    fewer, more = estimate(model(ahead=ahead)), estimate(model(ahead=ahead + 1))
    assert more[0] >= fewer[0] and more[1] >= fewer[1]
    assert estimate(model(ahead=ahead + 5))[0] > fewer[0]


@pytest.mark.parametrize("ahead", [1, 3, 8, 20])
def test_more_counters_shorten_the_wait(ahead: int) -> None:
    """With the same people ahead, three counters serve them sooner than two, two than one."""
    one, two, three = (estimate(model(ahead=ahead, counters=c, in_service=c))[0] for c in (1, 2, 3))
    assert one > two > three


@pytest.mark.parametrize(
    "changes",
    [
        {},
        {"ahead": 0, "in_service": 0},
        {"ahead": 0, "in_service": 2},
        {"ahead": 40, "cv2": 0.2},
        {"ahead": 12, "abandon_per_minute": 0.05},
        {"ahead": 1, "service_minutes": 0.5, "cv2": 3.0},
    ],
    ids=str,
)
@pytest.mark.parametrize("correction", [0.3, 1.0, 1.7, 5.0])
def test_median_is_never_above_the_p90(changes: dict[str, float], correction: float) -> None:
    """Whatever the queue and the correction, median ≤ p90, both ≥ 0."""
    p50, p90 = estimate(model(**changes), correction)
    assert 0 <= p50 <= p90


def test_a_free_counter_means_only_the_call_time() -> None:
    """Nobody waiting and a counter free: the newcomer waits the call time, correction or not."""
    free = model(ahead=0, in_service=1, counters=2, call_minutes=0.4, call_p90_minutes=0.8)
    assert estimate(free) == estimate(free, 1.9) == (0.4, 0.8)


def test_people_giving_up_shorten_a_long_queue() -> None:
    """Twelve ahead at one counter: if people abandon, the wait to expect is shorter."""
    patient = estimate(model(ahead=12, counters=1, in_service=1))
    leaving = estimate(model(ahead=12, counters=1, in_service=1, abandon_per_minute=0.03))
    assert leaving[0] < patient[0] and leaving[1] < patient[1]


def test_gamma_quantiles_match_the_exponential_law() -> None:
    """Shape 1: the median is ln 2 and the p90 ln 10 (within the approximation's 2 %)."""
    assert gamma_quantile(1, 1, 0.0) == pytest.approx(0.6931, rel=0.02)
    assert gamma_quantile(1, 1, 1.2816) == pytest.approx(2.3026, rel=0.02)


def _queue_of(t: ServedTracker, tickets: int) -> None:
    """Two counters busy while people wait, 6 minutes per ticket, and every wait exactly what
    the model predicted: teaches the tracker its queue without correcting it."""
    for i in range(tickets):
        t.issued(f"F{i}", 0, 1)  # a free counter
        t.called(f"F{i}", 0.5)
        t.served(6.0)
        predicted = estimate(t.model(2, 2))[0]
        t.issued(f"W{i}", 2, 2)
        t.called(f"W{i}", predicted)


def _teach(t: ServedTracker, waited: float, rounds: int = 30) -> None:
    """Tickets issued with 6 people ahead, then reaching a counter after ``waited`` minutes."""
    for i in range(rounds):
        t.issued(f"L{i}", 6, 2)
        t.called(f"L{i}", waited)


def test_correction_moves_toward_the_last_actual_waits() -> None:
    """Tickets that waited longer than predicted raise the figure, shorter waits lower it."""
    longer, shorter, plain = tracker(), tracker(), tracker()
    for t in (longer, shorter, plain):
        _queue_of(t, 20)
    before = plain.view(6, 2).p50_minutes
    _teach(longer, waited=3 * before)
    _teach(shorter, waited=before / 3)
    assert shorter.view(6, 2).p50_minutes < before < longer.view(6, 2).p50_minutes
    assert longer.last_wait == 3 * before
    # …but never further than a factor of two from the model
    assert longer.view(6, 2).p50_minutes <= round(2 * model_quantiles(longer.model(6, 2))[0], 1)


def test_waits_matching_the_model_leave_it_unchanged() -> None:
    """When the last tickets waited what the model said, the figure stays put."""
    t = tracker()
    _queue_of(t, 20)
    before = t.view(6, 2)
    predicted = t.model(6, 2)
    _teach(t, waited=estimate(predicted)[0])
    assert t.view(6, 2).p50_minutes == pytest.approx(before.p50_minutes, rel=0.03)


def test_counters_open_are_learnt_from_busy_counters_while_people_wait() -> None:
    """Three counters seen busy while people wait: the next figure uses three, not one."""
    t = tracker()
    for i in range(10):
        t.issued(f"T{i}", 3, 3)
        t.served(6.0)
    assert t.counters(in_service=1) == 3
    assert t.method is ServedMethod.QUEUE_MODEL


def test_tracker_round_trips_through_its_snapshot() -> None:
    """A restored tracker gives the same figure and the same next correction."""
    t = tracker()
    _queue_of(t, 12)
    _teach(t, waited=20, rounds=5)
    t.issued("open", 4, 2)
    restored = tracker()
    restored.load(t.to_dict())
    assert restored.to_dict() == t.to_dict()
    assert restored.view(5, 2) == t.view(5, 2)
    t.called("open", 9.0)
    restored.called("open", 9.0)
    assert restored.view(5, 2) == t.view(5, 2)


# -- in the facility machine --------------------------------------------------------------------


def _queue(machine: FacilityMachine) -> QueueStatus:
    (found,) = machine.status().queues
    return found


def test_queue_status_carries_the_time_to_be_served(
    machine: FacilityMachine, ev: Events, clock: Clock
) -> None:
    """The queue shows a median and a p90; before any service, from the default service time."""
    for ticket in ("A1", "A2", "A3"):
        machine.apply(ev.ticket("issued", ticket), clock.now)
    served = _queue(machine).served_within
    assert served is not None
    assert served.method is ServedMethod.DEFAULT
    assert 0 < served.p50_minutes <= served.p90_minutes
    clock.advance(minutes=1)
    machine.apply(ev.ticket("called", "A1"), clock.now)
    clock.advance(minutes=4)
    machine.apply(ev.ticket("served", "A1"), clock.now)
    after = _queue(machine).served_within
    assert after is not None and after.method is ServedMethod.QUEUE_MODEL
    assert _queue(machine).wait_minutes is not None  # the EWMA baseline is still there


def test_more_tickets_waiting_show_a_longer_time_to_be_served(
    machine: FacilityMachine, ev: Events, clock: Clock
) -> None:
    """Each new ticket issued behind the others lengthens the figure shown to the next one."""
    shown = []
    for i in range(6):
        machine.apply(ev.ticket("issued", f"A{i}"), clock.now)
        served = _queue(machine).served_within
        assert served is not None
        shown.append(served.p50_minutes)
    assert shown == sorted(shown) and shown[-1] > shown[0]


def test_time_to_be_served_survives_a_snapshot(
    machine: FacilityMachine, ev: Events, clock: Clock
) -> None:
    """A machine restored from its snapshot shows the same figure and reacts the same way."""
    for ticket in ("A1", "A2", "A3", "A4"):
        machine.apply(ev.ticket("issued", ticket), clock.now)
    clock.advance(minutes=2)
    machine.apply(ev.ticket("called", "A1"), clock.now)
    clock.advance(minutes=5)
    machine.apply(ev.ticket("served", "A1"), clock.now)
    restored = FacilityMachine.from_snapshot(machine.facility, machine.to_snapshot())
    assert restored.status() == machine.status()
    clock.advance(minutes=1)
    event = ev.ticket("called", "A2")
    machine.apply(event, clock.now)
    restored.apply(event, clock.now)
    assert restored.status().queues == machine.status().queues
