"""Shared benchmark plumbing: one result file per benchmark, in the format BENCHMARKS.md is built from.

``bench/results/<name>.json`` holds ``name, value, unit, baseline: {name, value}, ratio, target,
commit, at`` plus any other figure named with its unit as suffix (``p99_ms``, ``card_kb_gz``...).
"""

from __future__ import annotations

import datetime as dt
import json
import os
import platform
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

RESULTS_DIR = Path(__file__).resolve().parent / "results"


def current_commit() -> str:
    """The git commit the benchmark ran on (``unknown`` outside a checkout)."""
    try:
        out = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"],
            capture_output=True,
            text=True,
            check=True,
            cwd=Path(__file__).resolve().parent,
        )
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    return out.stdout.strip() or "unknown"


def write_result(
    name: str,
    value: float,
    unit: str,
    baseline_name: str,
    baseline_value: float,
    target: str,
    **extra: float | str | list[Any] | dict[str, Any],
) -> dict[str, Any]:
    """Write ``bench/results/<name>.json`` and print the figure beside its baseline."""
    ratio = value / baseline_value if baseline_value else float("nan")
    result: dict[str, Any] = {
        "name": name,
        "value": round(value, 3),
        "unit": unit,
        "baseline": {"name": baseline_name, "value": round(baseline_value, 3)},
        "ratio": round(ratio, 3),
        "target": target,
        "commit": current_commit(),
        "at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "machine": f"{platform.machine()} {os.cpu_count()} cores, Python {platform.python_version()}",
        **extra,
    }
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    path = RESULTS_DIR / f"{name}.json"
    path.write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    print(
        f"{name}: {value:,.1f} {unit}  |  baseline {baseline_name}: {baseline_value:,.1f} {unit}"
        f"  |  ratio {ratio:.2f}  |  target {target}  → {path}"
    )
    return result


@contextmanager
def cpu_timer() -> Iterator[dict[str, float]]:
    """Measure wall and process CPU time of a block: ``{'wall_s', 'cpu_s'}`` filled on exit."""
    figures: dict[str, float] = {}
    wall0, cpu0 = time.perf_counter(), time.process_time()
    try:
        yield figures
    finally:
        figures["wall_s"] = time.perf_counter() - wall0
        figures["cpu_s"] = time.process_time() - cpu0
