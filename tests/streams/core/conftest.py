"""Fixtures of the pure core tests (no services): see :mod:`tests.streams.core.kit`."""

from __future__ import annotations

import pytest

from schemas.catalogue import Facility
from streams.core.machine import FacilityMachine, MachineConfig
from tests.streams.core.kit import Clock, Events, make_facility


@pytest.fixture
def facility() -> Facility:
    """The test pool (capacity 100, open 09:00–20:00 every day)."""
    return make_facility()


@pytest.fixture
def clock() -> Clock:
    """A fake clock at Tuesday 10 June 2025, 10:00 Paris time."""
    return Clock()


@pytest.fixture
def ev(clock: Clock) -> Events:
    """Event factory stamped with the fake clock."""
    return Events(clock)


@pytest.fixture
def machine(facility: Facility, clock: Clock) -> FacilityMachine:
    """A fresh machine for the test pool, started at the fake clock's time."""
    m = FacilityMachine(facility, MachineConfig())
    m.tick(clock.now)
    return m
