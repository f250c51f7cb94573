"""Helpers of the producer tests (imported by name: this folder is on ``sys.path``)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Consumed:
    """One record read back from Kafka."""

    topic: str
    partition: int
    offset: int
    key: str
    event: dict[str, Any]


ReadBack = Callable[..., Awaitable[list[Consumed]]]
"""``read_back(bases, count, wait_s, where=None)``: records of the topics, in arrival order."""
