"""The pure core of the stream processor: one typed state machine per facility, no I/O.

Start at :mod:`streams.core.machine` (:class:`FacilityMachine`, :class:`MachineConfig`); the
rules for duplicate, late and out-of-order events are in :mod:`streams.core.policy`.
"""

from streams.core.errors import BadSnapshot, MachineError, WrongFacility
from streams.core.machine import DEFAULT_CONFIG, FacilityMachine, MachineConfig
from streams.core.occupancy import OccupancyMinute

__all__ = [
    "DEFAULT_CONFIG",
    "BadSnapshot",
    "FacilityMachine",
    "MachineConfig",
    "MachineError",
    "OccupancyMinute",
    "WrongFacility",
]
