"""Errors the facility state machine raises; a caller can act on each::

MachineError              base of everything raised by ``streams.core``
├── WrongFacility         an event whose ``subject`` is another facility (route it elsewhere)
└── BadSnapshot           a snapshot that cannot be restored (start from a fresh machine)
"""

from __future__ import annotations


class MachineError(Exception):
    """Base class of every error raised by :mod:`streams.core`."""


class WrongFacility(MachineError):
    """An event whose ``subject`` is not the machine's facility."""

    def __init__(self, facility_id: str, subject: str) -> None:
        super().__init__(f"event for {subject!r} applied to the machine of {facility_id!r}")
        self.facility_id = facility_id
        self.subject = subject


class BadSnapshot(MachineError):
    """A snapshot of another version, another facility, or damaged."""
