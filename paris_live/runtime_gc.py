"""Python's cyclic garbage collector in the long-lived processes (issue 18).

A stream worker holds a large heap for its whole life — the catalogue, one state machine per
facility with its dedup window and queues, faust's and aiokafka's objects — and allocates many
short-lived containers per event (decoded events, status models, JSON). With the default
thresholds (700, 10, 10) a gen-0 collection runs every few hundred events, and every so often a
full collection walks the whole long-lived heap in one pause (0.18 s measured on the worker's
heap): every event in flight waits for it. Reference counting frees almost all of the per-event
garbage anyway; the collector is only there for cycles.

:func:`settle_heap`, called once what start-up built is in place (the worker: its partitions
restored), moves every object alive at that point out of the collector's reach (``gc.freeze()``:
they are never scanned again, but still freed by reference counting) and raises the gen-0
threshold so that collections are rare and only ever walk what was allocated since.

:func:`record_pauses` (the worker turns it on when ``PARIS_LIVE_GC_PAUSES`` names a file; used by
``bench.worker_knee``) writes one line per collection: wall time at its end, generation, pause in
seconds, objects collected.
"""

from __future__ import annotations

import gc
import os
import time
from typing import Any, Final

GEN0_THRESHOLD: Final = 50_000
"""Net container allocations between two gen-0 collections (CPython's default: 700)."""
GEN1_EVERY: Final = 50
"""Gen-0 collections per gen-1 collection (default 10)."""
GEN2_EVERY: Final = 100
"""Gen-1 collections per full collection (default 10; a full one also waits until the objects
that survived since the last one are a quarter of the long-lived heap)."""

_settled = False
"""Whether :func:`settle_heap` ran in this process."""

PAUSES_ENV: Final = "PARIS_LIVE_GC_PAUSES"
"""Diagnostics: the file :func:`record_pauses` appends to (unset: nothing recorded)."""


def settle_heap(
    gen0: int = GEN0_THRESHOLD, gen1_every: int = GEN1_EVERY, gen2_every: int = GEN2_EVERY
) -> int:
    """Freeze what the process allocated so far and make collections rare; returns how many
    objects were frozen.

    Call it when the long-lived state is built (a worker: its partitions restored; an API
    process: once serving). A first full collection frees the start-up garbage, so that only live
    objects are frozen; it is the one long pause, and it happens before any event waits on it.
    Only the first call in a process does anything: what a later app of the same process builds
    (the test suite starts hundreds) stays collectable, and no full collection runs again at
    each start.
    """
    global _settled
    if _settled:  # once per process: a process running several apps (tests) freezes only once
        return gc.get_freeze_count()
    _settled = True
    gc.collect()
    gc.freeze()
    gc.set_threshold(gen0, gen1_every, gen2_every)
    return gc.get_freeze_count()


class _PauseLog:
    """A ``gc.callbacks`` entry writing one line per collection to a file (line-buffered)."""

    def __init__(self, path: str) -> None:
        self._file = open(path, "a", buffering=1)  # noqa: SIM115 — open for the process's life
        self._started = 0.0

    def __call__(self, phase: str, info: dict[str, Any]) -> None:
        if phase == "start":
            self._started = time.perf_counter()
            return
        pause = time.perf_counter() - self._started
        self._file.write(
            f"{time.time():.4f} {info['generation']} {pause:.6f} {info['collected']}\n"
        )


def record_pauses(path: str | None = None) -> bool:
    """Log every collection's pause to ``path`` (default: ``$PARIS_LIVE_GC_PAUSES``); False when
    there is nowhere to log to."""
    target = path or os.environ.get(PAUSES_ENV)
    if not target:
        return False
    gc.callbacks.append(_PauseLog(target))
    return True
