"""Errors a caller of ``producers`` can act on::

ProducerError                 base of everything raised by ``producers``
├── SpoolFull                 Kafka is unreachable and the local spool reached its size bound;
│                             the events of the failed call were NOT accepted (nothing dropped
│                             silently: the caller must retry later or answer 503)
├── SpoolLocked               another process already owns this spool file
└── MalformedInput            a line / HTTP body from a device that cannot be understood
                              (.reason, .message); the adapter logs, counts and skips it
"""

from __future__ import annotations


class ProducerError(Exception):
    """Base class of every error raised by the ``producers`` package."""


class SpoolFull(ProducerError):
    """The spool cannot take the events without exceeding its size bound (or the disk is full)."""

    def __init__(self, message: str, *, used_bytes: int, max_bytes: int) -> None:
        super().__init__(message)
        self.used_bytes = used_bytes
        self.max_bytes = max_bytes


class SpoolLocked(ProducerError):
    """The spool file is locked by another running producer (one spool per process)."""


class MalformedInput(ProducerError):
    """Device input that cannot be turned into an event; ``reason`` is a short machine code."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason
        self.message = message
