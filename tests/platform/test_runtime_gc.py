"""settle_heap() and record_pauses() (issue 18), each in a fresh interpreter: they change the
process-wide collector, which the test process must keep as it is."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _run(code: str, *, env: dict[str, str] | None = None) -> str:
    done = subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    return done.stdout.strip()


def test_settle_heap_freezes_the_start_up_heap_and_makes_collections_rare() -> None:
    """What exists when the heap is settled is out of the collector's reach, and a gen-0
    collection waits for 50,000 net allocations instead of 700; a second call in the same process
    (another app started) freezes nothing more."""
    out = _run(
        "import gc\n"
        "from paris_live.runtime_gc import settle_heap\n"
        "kept = [[i] for i in range(100_000)]\n"
        "frozen = settle_heap()\n"
        "print(frozen >= 100_000, gc.get_freeze_count() == frozen, gc.get_threshold())\n"
        "later = [[i] for i in range(1_000)]\n"
        "print(settle_heap() == frozen == gc.get_freeze_count())\n"
    )
    assert out == "True True (50000, 50, 100)\nTrue", "a second call must freeze nothing more"


def test_record_pauses_logs_one_line_per_collection(tmp_path: Path) -> None:
    """With PARIS_LIVE_GC_PAUSES set, each collection writes its end time, generation, pause
    and objects collected; without it nothing is recorded."""
    log = tmp_path / "gc.log"
    code = (
        "import gc\n"
        "from paris_live.runtime_gc import record_pauses\n"
        "print(record_pauses())\n"
        "gc.collect(0); gc.collect(2)\n"
    )
    env = {**os.environ, "PARIS_LIVE_GC_PAUSES": str(log)}
    assert _run(code, env=env) == "True"
    lines = [line.split() for line in log.read_text().splitlines()]
    gens = [fields[1] for fields in lines]
    assert "0" in gens and "2" in gens[gens.index("0") + 1 :]
    assert all(float(fields[2]) >= 0 and int(fields[3]) >= 0 for fields in lines)
    bare = {k: v for k, v in os.environ.items() if k != "PARIS_LIVE_GC_PAUSES"}
    assert _run(code, env=bare) == "False"
