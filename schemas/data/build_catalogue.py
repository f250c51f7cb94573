"""Build ``schemas/data/facilities/<type>.json`` and ``build_report.json`` from the sources.

Run ``python -m schemas.data.build_catalogue``; ``--check`` exits 1 when the committed files differ
from what the build would write (the test suite runs the same comparison).

1. The hand-checked sites of ``sites.py`` (ids kept stable) with their per-type profiles
   (``profiles.py``); every profile figure is marked ``"estimated"`` in ``sources``.
2. The open datasets of ``sources/`` (:mod:`schemas.data.opendata`), merged in order — îlots de
   fraîcheur (official hours), Data ES (location, accessibility), Paris Wi-Fi, green spaces, and
   the 2012 list of équipements de proximité (confirms sites only: it has no coordinates). A row
   that describes a known site enriches it (:mod:`schemas.data.merge`); another becomes a new
   facility with typical services and estimated hours and capacity (:mod:`schemas.data.typical`).
3. Every row left out, and every hours text not used, is listed with its reason in
   ``build_report.json``; the build never stops on one row.
"""

from __future__ import annotations

import hashlib
import json
import re
import sys
from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from pydantic import TypeAdapter

from schemas.catalogue import FACILITY_TYPES, Facility
from schemas.data.merge import Merger
from schemas.data.opendata import SOURCES_DIR, Candidate, Report, read_all
from schemas.data.profiles import BUILDERS
from schemas.data.shapes import CITY_PHONE, PARIS_URL
from schemas.data.sites import Site
from schemas.provenance import DATASETS, ESTIMATED

DATA_DIR = Path(__file__).resolve().parent
OUTPUT_DIR = DATA_DIR / "facilities"
REPORT = DATA_DIR / "build_report.json"

Json = dict[str, Any]
_VALIDATE = TypeAdapter(list[Facility])
# One period per line: ["07:00", "08:30"] rather than four lines.
_PERIOD = re.compile(r'\[\s+"(\d\d:\d\d)",\s+"(\d\d:\d\d)"\s+\]')


def _from_profile(doc: Json, site: Site) -> Json:
    """A profile document with ``sources`` in place of its ``illustrative`` list."""
    flagged = set(doc.pop("illustrative"))
    fields = {path.split(".")[0] for path in flagged}
    curated = {"dataset": "paris-live-sites", "record": site.id}
    sources: Json = {
        "name": curated,
        "address": curated,
        "location": ESTIMATED if "location" in fields else curated,
        "hours": ESTIMATED if "hours" in fields else curated,
        "services": ESTIMATED,
        "contacts": curated if site.phone or site.email else ESTIMATED,
    }
    if doc["capacity"] is not None:
        sources["capacity"] = ESTIMATED if "capacity" in fields else curated
    if doc["accessibility"]:
        sources["accessibility"] = ESTIMATED if "accessibility" in fields else curated
    if doc["areas"]:
        sources["areas"] = ESTIMATED
    if doc["url"]:
        sources["url"] = curated
    for procedure in doc["procedures"]:
        if procedure["committed_days"] is not None:
            key = f"procedures.{procedure['procedure_id']}"
            sources[key] = ESTIMATED if procedure["illustrative"] else curated
    doc["sources"] = sources
    doc["records"] = [curated]
    return doc


_VARIANT = {"pool": "25", "library": "standard"}


def _new_site(candidate: Candidate, fid: str) -> Json | None:
    """A new site of a profiled type: the profile's services, every figure estimated."""
    if candidate.type not in BUILDERS or candidate.location is None:
        return None
    assert candidate.street is not None and candidate.postcode is not None
    arrondissement = 16 if candidate.postcode == "75116" else int(candidate.postcode[3:])
    variant = _VARIANT.get(candidate.type, str(arrondissement))
    site = Site(fid, candidate.name, candidate.street, candidate.postcode, *candidate.location)
    doc = BUILDERS[candidate.type][1](site._replace(variant=variant), 0)
    doc = _from_profile(doc, site)
    for contact in doc["contacts"]:
        if not (contact["phone"] or contact["email"] or contact["url"]):
            contact.update(phone=CITY_PHONE, url=PARIS_URL)
    ref = candidate.ref.model_dump(mode="json", exclude_none=True)
    sources = doc["sources"]
    for field, source in list(sources.items()):
        if source != ESTIMATED:
            sources[field] = ESTIMATED
    sources.update(name=ref, address=ref, location=ref)
    sources.pop("url", None)
    doc["url"] = None
    doc["records"] = []
    return doc


def build() -> tuple[dict[str, list[Json]], Json]:
    """Facility documents per type, and the build report."""
    report = Report()
    merger = Merger(report, _new_site)
    for facility_type in FACILITY_TYPES:
        if facility_type in BUILDERS:
            rows, profile = BUILDERS[facility_type]
            for index, site in enumerate(rows):
                merger.add(_from_profile(profile(site, index), site))
    outcomes: Counter[tuple[str, str]] = Counter()
    for dataset, candidates in read_all(report).items():
        for candidate in candidates:
            outcome = merger.merge(candidate)
            outcomes[(dataset, outcome)] += 1
            if outcome in {"no_coordinates", "duplicate_row", "not_confirmed"}:
                report.reject(dataset, candidate.ref.record or "", candidate.name, outcome)
    by_type: dict[str, list[Json]] = {t: [] for t in FACILITY_TYPES}
    for doc in merger.docs.values():
        by_type[doc["type"]].append(doc)
    return by_type, _report(by_type, report, outcomes)


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _report(by_type: dict[str, list[Json]], report: Report, outcomes: Counter[Any]) -> Json:
    docs = [doc for docs in by_type.values() for doc in docs]
    per_source: Counter[str] = Counter()
    for doc in docs:
        for dataset in {record["dataset"] for record in doc["records"]}:
            per_source[dataset] += 1
    official: Counter[str] = Counter()
    for doc in docs:
        if isinstance(doc["sources"].get("hours"), dict):
            official[doc["type"]] += 1
    rejected: dict[str, dict[str, int]] = {}
    for (dataset, reason), count in sorted(report.rows.items()):
        rejected.setdefault(dataset, {})[reason] = count
    hours_reasons = Counter(problem["reason"] for problem in report.hours_problems)
    files = sorted(p for p in SOURCES_DIR.rglob("*") if p.suffix in {".csv", ".json"})
    return {
        "facilities": len(docs),
        "facilities_by_type": {t: len(by_type[t]) for t in FACILITY_TYPES},
        "facilities_by_source": dict(sorted(per_source.items())),
        "official_hours": sum(official.values()),
        "official_hours_by_type": {t: official[t] for t in FACILITY_TYPES if official[t]},
        "rows_read": dict(sorted(report.read.items())),
        "rows_merged": {
            dataset: {o: n for (d, o), n in sorted(outcomes.items()) if d == dataset}
            for dataset in sorted({d for d, _ in outcomes})
        },
        "rows_left_out_by_reason": rejected,
        "hours_not_used_by_reason": dict(sorted(hours_reasons.items())),
        "old_sources": [d.id for d in DATASETS.values() if d.old],
        "source_files": {
            str(p.relative_to(SOURCES_DIR)): {"sha256": _sha256(p), "bytes": p.stat().st_size}
            for p in files
        },
        "hours_not_used": report.hours_problems,
        "rows_left_out": report.rejected,
    }


def _render(document: Any) -> str:
    text = json.dumps(document, ensure_ascii=False, indent=2)
    return _PERIOD.sub(r'["\1", "\2"]', text) + "\n"


def render_all() -> dict[str, str]:
    """Path (relative to ``schemas/data``) → text, for every type's file and the report."""
    by_type, report = build()
    outputs: dict[str, str] = {}
    for facility_type, docs in by_type.items():
        rendered = _render(docs)
        _VALIDATE.validate_json(rendered)
        outputs[f"facilities/{facility_type}.json"] = rendered
    outputs["build_report.json"] = _render(report)
    return outputs


def main(argv: Sequence[str]) -> int:
    outputs = render_all()
    if "--check" in argv:
        stale = [
            name
            for name, content in outputs.items()
            if not (DATA_DIR / name).is_file()
            or (DATA_DIR / name).read_text(encoding="utf-8") != content
        ]
        for name in stale:
            print(f"stale: schemas/data/{name}", file=sys.stderr)
        return 1 if stale else 0
    OUTPUT_DIR.mkdir(exist_ok=True)
    for name, content in outputs.items():
        (DATA_DIR / name).write_text(content, encoding="utf-8")
        print(f"wrote schemas/data/{name}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
