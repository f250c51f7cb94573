"""/donnees as a person sees it: the datasets listed with their figures and downloads, readable
on a 320 px phone, axe-core clean, French first and in English, keyboard reachable."""

from __future__ import annotations

import json
import re
import uuid
from pathlib import Path
from typing import Any

import pytest

from api.opendata.datasets import DATASETS
from api.opendata.job import build
from paris_live.settings import Settings
from tests.api.api_testkit import InProcessServer
from tests.dashboards.dashboards_testkit import AXE_DIR, run_axe, screenshot
from tests.journeys.journeykit import DESKTOP, NARROW, horizontal_overflow, visible_count
from tests.opendata.opendata_testkit import NOW, write_history_rows

pytestmark = [pytest.mark.integration, pytest.mark.browser]


@pytest.fixture
def settings(base_settings: Settings, tmp_path: Path) -> Settings:
    """This test's isolation, and its own open-data folder (the API reads it)."""
    tag = uuid.uuid4().hex[:10]
    return base_settings.model_copy(
        update={
            "topic_prefix": f"t{tag}.",
            "redis_prefix": f"t{tag}:",
            "db_schema": f"t_{tag}",
            "open_data_dir": tmp_path / "open-data",
        }
    )


async def test_open_data_page_lists_every_dataset_on_a_small_phone(
    city_api: InProcessServer, settings: Settings, page: Any, tmp_path: Path
) -> None:
    """Before the first build the page says so; after it, every dataset is shown with its rows,
    licence and two downloads; no horizontal scroll at 320 px; axe-core finds nothing; the
    English page reads in English; the first download link is reached with the keyboard."""
    await page.set_viewport_size(NARROW)
    await page.goto(city_api.http + "/donnees")
    assert await page.get_by_text("ne sont pas encore publiés").is_visible()

    await write_history_rows(settings, tmp_path)
    await build(settings, now=NOW)
    await page.goto(city_api.http + "/donnees")
    assert await page.get_by_role("heading", level=1, name="Données ouvertes").is_visible()
    datasets = page.locator("li.dataset")
    assert await visible_count(datasets) == len(DATASETS)
    for title in ("Affluence horaire par équipement", "Fermetures déclarées",
                  "Délais de traitement des démarches par mois", "Catalogue des équipements"):  # fmt: skip
        assert await page.get_by_role("heading", level=3, name=title).is_visible(), title
    assert await visible_count(page.get_by_role("link", name="CSV")) == len(DATASETS) + 3
    assert await visible_count(page.get_by_role("link", name="Parquet")) == len(DATASETS)
    catalogue_csv = (settings.open_data_dir / "current" / "facilities.csv").stat().st_size
    shown = await page.get_by_role("link", name="Catalogue des équipements — CSV").inner_text()
    assert re.fullmatch(
        rf"Catalogue des équipements — CSV, {-(-catalogue_csv // 1000)}\s?ko", shown
    )
    assert await page.get_by_role("link", name="Catalogue DCAT-AP (catalog.jsonld)").is_visible()
    assert await visible_count(page.get_by_text("Licence Ouverte / Open Licence 2.0")) == 4
    assert await horizontal_overflow(page) == 0
    assert await run_axe(page, "open-data-fr-320") == []
    assert _all_violations("open-data-fr-320") == []  # of any impact, colour contrast included
    await screenshot(page, "open-data-fr-320", full_page=True)

    await page.keyboard.press("Tab")  # « Aller au contenu »
    for _ in range(12):
        await page.keyboard.press("Tab")
        focused = await page.evaluate("document.activeElement.textContent")
        if "— CSV" in focused:
            break
    assert "Affluence horaire par équipement — CSV" in focused

    await page.set_viewport_size(DESKTOP)
    await page.goto(city_api.http + "/donnees?lang=en")
    assert await page.get_by_role("heading", level=1, name="Open data").is_visible()
    assert await page.get_by_role(
        "heading", level=3, name="Hourly crowding per facility"
    ).is_visible()
    assert await visible_count(page.locator("li.dataset")) == len(DATASETS)
    assert await run_axe(page, "open-data-en-desktop") == []
    assert _all_violations("open-data-en-desktop") == []
    await screenshot(page, "open-data-en-desktop", full_page=True)


def _all_violations(name: str) -> list[str]:
    """Every axe-core violation kept for ``name`` (run_axe returns the serious ones only)."""
    found = json.loads((AXE_DIR / f"{name}.json").read_text(encoding="utf-8"))
    return [v["id"] for v in found]
