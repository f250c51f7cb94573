"""The garbage collector of a long-running process whose heap, once started, barely changes.

CPython's cyclic collector walks every tracked object of the generations it collects; a
full (gen-2) collection walks the whole heap in one pause that stops the event loop. What a
process builds at start-up (modules, the catalogue, pydantic schemas, ...) lives until it exits:
:func:`settle_heap` moves it to the permanent generation (``gc.freeze``), which no collection
walks again, and raises the gen-0 threshold so that short-lived objects die by reference count
before a collection ever sees them.
"""

from __future__ import annotations

import gc

__all__ = ["GEN0_THRESHOLD", "settle_heap"]

GEN0_THRESHOLD = 50_000
"""Allocations of tracked objects between two young collections (CPython's default: 700)."""


def settle_heap() -> None:
    """Once start-up is done: collect, freeze the survivors, raise the gen-0 threshold."""
    gc.collect()
    gc.freeze()
    _gen0, gen1, gen2 = gc.get_threshold()
    gc.set_threshold(GEN0_THRESHOLD, gen1, gen2)
