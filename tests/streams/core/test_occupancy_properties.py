"""Property: any interleaving and duplication of passages gives the clamped-sum model's count."""

from __future__ import annotations

from datetime import timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from streams.core.machine import FacilityMachine
from tests.streams.core.kit import Clock, Events, make_facility

CAPACITY = 100
CEILING = 150  # 1.5 × capacity

passage = st.tuples(st.sampled_from(["in", "out"]), st.integers(min_value=1, max_value=40))


def deliveries(n: int) -> st.SearchStrategy[list[int]]:
    """Arrival orders of ``n`` events: every event at least once, some twice, any order."""
    return (
        st.lists(st.integers(min_value=0, max_value=max(n - 1, 0)), max_size=2 * n)
        .map(lambda extra: list(range(n)) + extra)
        .flatmap(st.permutations)
    )


def clamped_sum(deltas: list[int], start: int = 0) -> int:
    """The reference model: add each distinct passage in arrival order, clamped to [0, 150]."""
    count = start
    for delta in deltas:
        count = min(CEILING, max(0, count + delta))
    return count


@settings(max_examples=150, deadline=None)
@given(data=st.data(), passages=st.lists(passage, min_size=1, max_size=25))
def test_any_interleaving_gives_the_clamped_sum(
    data: st.DataObject, passages: list[tuple[str, int]]
) -> None:
    """Duplicates never count twice; the count equals the clamped sum of distinct passages."""
    clock = Clock()
    ev = Events(clock)
    machine = FacilityMachine(make_facility(capacity=CAPACITY))
    events = [
        ev.passage(direction, n, at=clock.now + timedelta(seconds=i))
        for i, (direction, n) in enumerate(passages)
    ]
    order = data.draw(deliveries(len(events)))
    now = clock.now + timedelta(minutes=1)
    seen: list[int] = []
    for index in order:
        machine.apply(events[index], now)
        if index not in seen:
            seen.append(index)
    deltas = [n if d == "in" else -n for d, n in passages]
    occupancy = machine.status().occupancy
    assert occupancy is not None
    assert occupancy.count == clamped_sum([deltas[i] for i in seen])
    assert 0 <= occupancy.count <= CEILING
    # nothing is lost: the drift explains every difference with the plain sum
    assert occupancy.count - machine.occupancy_drift == sum(deltas)


@settings(max_examples=150, deadline=None)
@given(
    data=st.data(),
    passages=st.lists(
        st.tuples(st.sampled_from(["in", "out"]), st.integers(min_value=1, max_value=5)),
        min_size=1,
        max_size=14,
    ),
)
def test_order_does_not_matter_away_from_the_bounds(
    data: st.DataObject, passages: list[tuple[str, int]]
) -> None:
    """From a headcount of 75, any arrival order of up to 70 people's passages gives 75 + Σ."""
    clock = Clock()
    ev = Events(clock)
    machine = FacilityMachine(make_facility(capacity=CAPACITY))
    machine.apply(ev.headcount(75), clock.now)
    events = [
        ev.passage(direction, n, at=clock.now + timedelta(seconds=1 + i))
        for i, (direction, n) in enumerate(passages)
    ]
    now = clock.now + timedelta(minutes=1)
    for index in data.draw(deliveries(len(events))):
        machine.apply(events[index], now)
    occupancy = machine.status().occupancy
    assert occupancy is not None
    assert occupancy.count == 75 + sum(n if d == "in" else -n for d, n in passages)
    assert occupancy.source == "sensor"
