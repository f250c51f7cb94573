"""Event-id deduplication with bounded memory: the last N ids of one facility.

A set answers "seen?" in O(1); a ring (deque) remembers insertion order so that the oldest id is
forgotten when the N+1-th arrives. Memory is about 135 bytes per remembered id (a 36-character
UUID string, its set slot and its ring slot), so the default N = 4096 costs ≈ 0.55 MB for a
facility whose ring is full. An id older than the last N is no longer recognised: the window must
cover the span Kafka can redeliver (records after the last committed offset), see
:mod:`streams.core.policy`.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable


class RecentIds:
    """The last ``capacity`` distinct event ids, oldest first."""

    __slots__ = ("_capacity", "_order", "_seen")

    def __init__(self, capacity: int, ids: Iterable[str] = ()) -> None:
        if capacity < 1:
            raise ValueError(f"capacity must be at least 1, not {capacity}")
        self._capacity = capacity
        self._seen: set[str] = set()
        self._order: deque[str] = deque()
        for event_id in ids:
            self.add(event_id)

    def add(self, event_id: str) -> bool:
        """Remember ``event_id``; False when it is already among the remembered ids."""
        seen = self._seen
        if event_id in seen:
            return False
        seen.add(event_id)
        order = self._order
        order.append(event_id)
        if len(order) > self._capacity:
            seen.discard(order.popleft())
        return True

    def __contains__(self, event_id: object) -> bool:
        return event_id in self._seen

    def __len__(self) -> int:
        return len(self._order)

    def ids(self) -> list[str]:
        """The remembered ids, oldest first (what a snapshot stores)."""
        return list(self._order)
