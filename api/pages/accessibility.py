"""What the accessibility statement says, and where it comes from: the measured record
``docs/accessibility-audit.json`` and the RGAA rule that turns it into a conformity status.

The record is written from the axe-core summary of a browser test run
(``test-artifacts/axe/summary.json``, see :mod:`tests.dashboards.dashboards_testkit`)::

    .venv/bin/python -m api.pages.accessibility test-artifacts/axe/summary.json

Automated checks cover only part of RGAA's 106 criteria. RGAA's rule for the status is:
*totalement conforme* when every criterion is met, *partiellement conforme* from 50 %, and
*non conforme* below 50 % **or when no audit in force measured the criteria**. The record's
``rgaa_audit`` stays ``null`` until a full RGAA audit exists (then ``{"rate": 0–100, "date":
..., "auditor": ...}``); until then the status is *non conforme*, whatever axe-core says.
"""

from __future__ import annotations

import datetime as dt
import json
import sys
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any, Literal

__all__ = ["AUDIT_FILE", "Audit", "Conformity", "conformity", "load_audit", "record"]

AUDIT_FILE = Path(__file__).resolve().parents[2] / "docs" / "accessibility-audit.json"
RGAA_CRITERIA = 106
Conformity = Literal["total", "partial", "none"]


@dataclass(frozen=True, slots=True)
class Audit:
    """The measured basis of the statement."""

    measured_on: dt.date | None
    tool: str
    views: int
    clean_views: int
    rules: tuple[str, ...]
    """axe-core rules with at least one violation somewhere, sorted."""
    failing_pages: tuple[str, ...]
    """The paths of the views with a violation, sorted."""
    pages: tuple[str, ...]
    """The paths of every view tested, sorted."""
    rgaa_rate: float | None
    rgaa_date: str | None
    rgaa_auditor: str | None


def conformity(audit: Audit) -> Conformity:
    """RGAA's status: no audit of the criteria in force → ``none`` (« non conforme »)."""
    if audit.rgaa_rate is None:
        return "none"
    if audit.rgaa_rate >= 100:
        return "total"
    return "partial" if audit.rgaa_rate >= 50 else "none"


@cache
def load_audit(path: Path = AUDIT_FILE) -> Audit:
    """The committed record (an empty one when nothing was measured yet)."""
    try:
        doc: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        doc = {}
    auto = doc.get("automated") or {}
    rgaa = doc.get("rgaa_audit") or {}
    measured = auto.get("measured_on")
    return Audit(
        measured_on=dt.date.fromisoformat(measured) if measured else None,
        tool=str(auto.get("tool", "axe-core")),
        views=int(auto.get("views", 0)),
        clean_views=int(auto.get("clean_views", 0)),
        rules=tuple(sorted(auto.get("rules", ()))),
        failing_pages=tuple(sorted(auto.get("failing_pages", ()))),
        pages=tuple(sorted(auto.get("pages", ()))),
        rgaa_rate=rgaa.get("rate"),
        rgaa_date=rgaa.get("date"),
        rgaa_auditor=rgaa.get("auditor"),
    )


def record(summary: dict[str, dict[str, Any]], tool: str, today: dt.date) -> dict[str, Any]:
    """The record of an axe-core summary (``name → {url, violations: {impact: n}, rules}``)."""
    failing = {name: entry for name, entry in summary.items() if any(entry["violations"].values())}
    return {
        "rgaa_audit": None,
        "automated": {
            "tool": tool,
            "measured_on": today.isoformat(),
            "views": len(summary),
            "clean_views": len(summary) - len(failing),
            "rules": sorted({rule for entry in failing.values() for rule in entry["rules"]}),
            "failing_pages": sorted({_path(entry) for entry in failing.values()}),
            "pages": sorted({_path(entry) for entry in summary.values()}),
        },
    }


def _path(entry: dict[str, Any]) -> str:
    return "/" + str(entry["url"]).lstrip("/")


def _axe_version() -> str:
    package = Path(__file__).resolve().parents[2] / "node_modules" / "axe-core" / "package.json"
    version = json.loads(package.read_text(encoding="utf-8"))["version"]
    return f"axe-core {version}"


def main(argv: list[str]) -> None:
    """Write :data:`AUDIT_FILE` from a summary, keeping an RGAA audit already recorded."""
    summary = json.loads(Path(argv[0]).read_text(encoding="utf-8"))
    out = record(summary, _axe_version(), dt.datetime.now(dt.UTC).date())
    if AUDIT_FILE.exists():
        out["rgaa_audit"] = json.loads(AUDIT_FILE.read_text(encoding="utf-8")).get("rgaa_audit")
    AUDIT_FILE.write_text(json.dumps(out, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    auto = out["automated"]
    print(f"{AUDIT_FILE}: {auto['clean_views']}/{auto['views']} views without violation")


if __name__ == "__main__":
    main(sys.argv[1:])
