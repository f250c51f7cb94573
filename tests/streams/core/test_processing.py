"""Processing délais: median and p90 over a rolling 90-day window, next to the commitment."""

from __future__ import annotations

from datetime import UTC, timedelta

from schemas.status import ProcessingStatus
from streams.core.machine import FacilityMachine
from streams.core.processing import median_p90
from tests.streams.core.kit import Clock, Events


def passport(machine: FacilityMachine) -> ProcessingStatus:
    (found,) = [p for p in machine.status().processing if p.procedure_id == "passport"]
    return found


def test_commitment_is_shown_before_any_case(machine: FacilityMachine) -> None:
    """The catalogue's committed délai is listed even with no measured case."""
    found = passport(machine)
    assert (found.median_days, found.p90_days, found.committed_days) == (None, None, 30.0)


def test_median_and_p90(machine: FacilityMachine, ev: Events, clock: Clock) -> None:
    """Ten cases taking 1 to 10 days give a median of 5.5 days and a p90 of 9 days."""
    now = clock.now
    for days in range(1, 11):
        closed = now - timedelta(hours=days)
        machine.apply(ev.case("opened", f"c{days}", at=closed - timedelta(days=days)), now)
        machine.apply(ev.case("closed", f"c{days}", at=closed), now)
    found = passport(machine)
    assert (found.median_days, found.p90_days) == (5.5, 9.0)


def test_percentiles_of_known_lists() -> None:
    """Median of an odd count is the middle value; p90 is the nearest rank."""
    assert median_p90([]) == (None, None)
    assert median_p90([4.0]) == (4.0, 4.0)
    assert median_p90([1.0, 2.0, 30.0]) == (2.0, 30.0)
    assert median_p90([float(v) for v in range(1, 21)]) == (10.5, 18.0)


def test_cases_leave_the_window_after_90_days(
    machine: FacilityMachine, ev: Events, clock: Clock
) -> None:
    """A case closed 80 days ago counts today and has left the figures 11 days later."""
    now = clock.now
    old_close = now - timedelta(days=80)
    machine.apply(ev.case("opened", "old", at=old_close - timedelta(days=40)), now)
    machine.apply(ev.case("closed", "old", at=old_close), now)
    machine.apply(ev.case("opened", "new", at=now - timedelta(days=5)), now)
    machine.apply(ev.case("closed", "new", at=now), now)
    assert passport(machine).median_days == 22.5
    target = now + timedelta(days=11)
    while (wake := machine.next_wakeup()) is not None and wake <= target:
        clock.set(wake)
        machine.tick(clock.now)
    assert passport(machine).median_days == 5.0


def test_window_expiry_is_a_timer(machine: FacilityMachine, ev: Events, clock: Clock) -> None:
    """The tick announced for the end of the window is the one that drops the old case."""
    now = clock.now.astimezone(UTC)  # 90 days of elapsed time, whatever the DST changes
    old_close = now - timedelta(days=89, hours=23)
    machine.apply(ev.case("opened", "old", at=old_close - timedelta(days=40)), now)
    machine.apply(ev.case("closed", "old", at=old_close), now)
    assert passport(machine).median_days == 40.0
    expiry = old_close + timedelta(days=90)
    assert machine.next_wakeup() == expiry
    clock.set(expiry)
    assert machine.tick(clock.now) is True
    assert passport(machine).median_days is None


def test_case_closed_before_the_window_is_ignored(
    machine: FacilityMachine, ev: Events, clock: Clock
) -> None:
    """A case closed 100 days ago (replayed late) does not enter the figures."""
    now = clock.now
    machine.apply(ev.case("opened", "c1", at=now - timedelta(days=120)), now)
    machine.apply(ev.case("closed", "c1", at=now - timedelta(days=100)), now)
    assert passport(machine).median_days is None


def test_close_arriving_before_open_waits_for_it(
    machine: FacilityMachine, ev: Events, clock: Clock
) -> None:
    """A ``closed`` that overtakes its ``opened`` is counted once the opening arrives."""
    now = clock.now
    machine.apply(ev.case("closed", "c1", at=now), now)
    assert passport(machine).median_days is None
    machine.apply(ev.case("opened", "c1", at=now - timedelta(days=12)), now)
    assert passport(machine).median_days == 12.0


def test_unknown_procedure_is_listed_without_commitment(
    machine: FacilityMachine, ev: Events, clock: Clock
) -> None:
    """A procedure the catalogue does not list appears with its measures and no commitment."""
    now = clock.now
    machine.apply(ev.case("opened", "x", procedure="permis", at=now - timedelta(days=2)), now)
    machine.apply(ev.case("closed", "x", procedure="permis", at=now), now)
    (permis,) = [p for p in machine.status().processing if p.procedure_id == "permis"]
    assert (permis.median_days, permis.committed_days) == (2.0, None)
