"""When a facility's live status goes out: on the leading edge of a per-facility window.

Pure core, no I/O, a clock passed in. A facility not published within the last ``window`` seconds
goes out at once (at the end of the fetched batch that changed it); changes within the window are
coalesced and go out when it ends, so a facility changing without pause is written once per window
and the final state is never lost. The publishing loop (:meth:`streams.worker.processor.Processor.
publish_forever`) takes whatever is due each time it runs: if it falls behind (Redis slow), the
facilities changed meanwhile collapse to their latest state — fewer writes, never stale ones.
"""

from __future__ import annotations

from collections.abc import Iterable, Set

__all__ = ["PublishWindow"]


class PublishWindow:
    """The last publish time of each facility, and what is due now."""

    __slots__ = ("last", "window")

    def __init__(self, window: float) -> None:
        self.window = window
        self.last: dict[str, float] = {}
        """Facility id → when its status last went out (facilities never published: absent)."""

    def split(self, changed: Set[str], now: float) -> tuple[list[str], set[str]]:
        """The changed facilities to publish now (their window is over: marked published at
        ``now``), and those held until their window ends."""
        last = self.last
        window = self.window
        due: list[str] = []
        held: set[str] = set()
        for facility_id in changed:
            at = last.get(facility_id)
            if at is None or at + window <= now:  # the same sum as due_at: no rounding gap
                due.append(facility_id)
                last[facility_id] = now
            else:
                held.add(facility_id)
        return due, held

    def published(self, facility_ids: Iterable[str], now: float) -> None:
        """Facilities published outside :meth:`split` (a forced flush): their window starts now."""
        for facility_id in facility_ids:
            self.last[facility_id] = now

    def due_at(self, held: Iterable[str]) -> float | None:
        """When the first of the held facilities is due (None if none is held)."""
        last = self.last
        ends = [last[f] + self.window for f in held if f in last]
        return min(ends) if ends else None

    def forget(self, facility_ids: Iterable[str]) -> None:
        """Facilities this worker no longer owns (a revoked partition)."""
        for facility_id in facility_ids:
            self.last.pop(facility_id, None)
