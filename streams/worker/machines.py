"""The state machines a worker partition holds, seen through what the worker needs of them.

:class:`Machine` is the surface of :class:`streams.core.machine.FacilityMachine` the processing
shell uses; :class:`MachineFactory` makes or restores one per facility (tests pass fakes), and
:class:`CoreMachines` is the real factory.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, Protocol

from schemas.catalogue import Facility
from schemas.events import CloudEvent
from schemas.status import FacilityStatus


class Machine(Protocol):
    """What the worker needs of :class:`streams.core.machine.FacilityMachine`."""

    def apply(self, event: CloudEvent, now: dt.datetime) -> bool: ...
    def tick(self, now: dt.datetime) -> bool: ...
    def next_wakeup(self) -> dt.datetime | None: ...
    def status(self) -> FacilityStatus: ...
    def drain_rollups(self) -> list[Any]: ...
    def to_snapshot(self) -> dict[str, Any]: ...


class MachineFactory(Protocol):
    def new(self, facility: Facility) -> Machine: ...
    def restore(self, facility: Facility, state: dict[str, Any]) -> Machine: ...


class CoreMachines:
    """The real factory: :mod:`streams.core.machine` with its default configuration."""

    def __init__(self) -> None:
        from streams.core.machine import FacilityMachine, MachineConfig

        self._cls = FacilityMachine
        self._cfg = MachineConfig()

    def new(self, facility: Facility) -> Machine:
        machine: Machine = self._cls(facility, self._cfg)
        return machine

    def restore(self, facility: Facility, state: dict[str, Any]) -> Machine:
        machine: Machine = self._cls.from_snapshot(facility, state, self._cfg)
        return machine
