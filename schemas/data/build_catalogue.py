"""Generate ``schemas/data/facilities/<type>.json`` from the facts in ``sites.py``.

Run ``python -m schemas.data.build_catalogue`` after editing ``sites.py`` or ``profiles.py``;
``--check`` exits 1 when the committed JSON differs from what this script would write (the test
suite runs the same comparison).

Real facts (names, addresses, coordinates, phones, e-mails) come from ``sites.py``. The per-type
profiles in ``profiles.py`` (services, procedures, contacts, opening hours, capacity,
accessibility) are typical of each kind of facility; every figure among them that is not
official is listed in the facility's ``illustrative`` field, so no screen shows it as a
commitment.
"""

from __future__ import annotations

import json
import re
import sys
from collections.abc import Sequence
from pathlib import Path

from pydantic import TypeAdapter

from schemas.catalogue import FACILITY_TYPES, Facility
from schemas.data.profiles import BUILDERS

OUTPUT_DIR = Path(__file__).resolve().parent / "facilities"

_VALIDATE = TypeAdapter(list[Facility])
# One period per line: ["07:00", "08:30"] rather than four lines.
_PERIOD = re.compile(r'\[\s+"(\d\d:\d\d)",\s+"(\d\d:\d\d)"\s+\]')


def render(facility_type: str) -> str:
    """The JSON text of one type's file, validated against :class:`Facility`."""
    rows, build = BUILDERS[facility_type]
    document = [build(site, index) for index, site in enumerate(rows)]
    rendered = _PERIOD.sub(r'["\1", "\2"]', json.dumps(document, ensure_ascii=False, indent=2))
    rendered += "\n"
    _VALIDATE.validate_json(rendered)
    return rendered


def render_all() -> dict[str, str]:
    """File name → JSON text for every facility type."""
    return {f"{facility_type}.json": render(facility_type) for facility_type in FACILITY_TYPES}


def main(argv: Sequence[str]) -> int:
    outputs = render_all()
    if "--check" in argv:
        stale = [
            name
            for name, content in outputs.items()
            if not (OUTPUT_DIR / name).is_file()
            or (OUTPUT_DIR / name).read_text(encoding="utf-8") != content
        ]
        for name in stale:
            print(f"stale: schemas/data/facilities/{name}", file=sys.stderr)
        return 1 if stale else 0
    OUTPUT_DIR.mkdir(exist_ok=True)
    for name, content in outputs.items():
        (OUTPUT_DIR / name).write_text(content, encoding="utf-8")
        print(f"wrote schemas/data/facilities/{name}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
