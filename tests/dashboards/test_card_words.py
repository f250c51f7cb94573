"""The card and the screen have words (French and English) for every accessibility feature and
facility type of the catalogue, and an icon per feature: a citizen never reads a code such as
``accessible_showers`` (as the card did when the open-data catalogue brought new features)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from schemas.catalogue import ACCESSIBILITY_FEATURES, FACILITY_TYPES

ROOT = Path(__file__).resolve().parents[2]
CARD = (ROOT / "dashboards" / "embed" / "card.js").read_text(encoding="utf-8")
SCREEN = (ROOT / "dashboards" / "pages" / "screen.js").read_text(encoding="utf-8")


def _table(source: str, name: str) -> list[set[str]]:
    """The keys of every ``name: { ... }`` object literal of a script (one per language)."""
    return [
        set(re.findall(r"\b([a-z_]+):", body))
        for body in re.findall(rf"\b{name}: \{{(.*?)\n\s*\}},", source, re.S)
    ]


@pytest.mark.parametrize("table", ["features"])
def test_every_accessibility_feature_has_words_and_an_icon(table: str) -> None:
    tables = _table(CARD, table)
    assert len(tables) == 2, "one table per language (fr, en)"
    for keys in tables:
        assert set(ACCESSIBILITY_FEATURES) <= keys, set(ACCESSIBILITY_FEATURES) - keys
    icons = set(re.findall(r"^\s+([a-z_]+): \"M", CARD, re.M))
    assert set(ACCESSIBILITY_FEATURES) <= icons, set(ACCESSIBILITY_FEATURES) - icons


def test_every_facility_type_has_words_on_the_card_and_the_screen() -> None:
    for source, names in ((CARD, ("types", "nearby")), (SCREEN, ("nearest",))):
        for name in names:
            tables = _table(source, name)
            assert len(tables) == 2, f"{name}: one table per language"
            for keys in tables:
                assert set(FACILITY_TYPES) <= keys, (name, set(FACILITY_TYPES) - keys)
