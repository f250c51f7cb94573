"""What the journey tests share: the viewports people use, a :class:`Journey` that counts the
person's interactions and leaves a screenshot per step, and checks of what a person *sees*
(visible elements, horizontal scroll, clipped panels).

Screenshots go to ``test-artifacts/journeys/<journey>/NN-<step>.png`` and each journey's steps and
interaction count to ``test-artifacts/journeys/<journey>.json``.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from playwright.async_api import Error as PlaywrightError

from tests.dashboards.dashboards_testkit import ARTIFACTS

__all__ = [
    "DESKTOP",
    "JOURNEYS",
    "LANDSCAPE",
    "NARROW",
    "PHONE",
    "PORTRAIT",
    "Journey",
    "clipped",
    "horizontal_overflow",
    "visible_count",
    "visible_texts",
]

JOURNEYS = ARTIFACTS / "journeys"
PHONE = {"width": 360, "height": 800}
NARROW = {"width": 320, "height": 640}
DESKTOP = {"width": 1280, "height": 800}
LANDSCAPE = {"width": 1920, "height": 1080}
"""A lobby screen on its side."""
PORTRAIT = {"width": 1080, "height": 1920}
"""A lobby screen standing up (the most common mounting)."""


@dataclass
class Journey:
    """One person's way through the pages: each :meth:`step` is a screenshot, each
    :meth:`act` one interaction (a tap, a key, a choice) counted toward the journey's total."""

    name: str
    page: Any
    interactions: int = 0
    steps: list[str] = field(default_factory=list)

    def act(self, n: int = 1) -> None:
        self.interactions += n

    async def step(self, label: str, *, full_page: bool = False) -> Path:
        folder = JOURNEYS / self.name
        folder.mkdir(parents=True, exist_ok=True)
        slug = re.sub(r"[^a-z0-9]+", "-", label.lower()).strip("-")
        path = folder / f"{len(self.steps) + 1:02d}-{slug}.png"
        await self.page.screenshot(path=str(path), full_page=full_page)
        self.steps.append(label)
        self._write()
        return path

    def _write(self) -> None:
        record = {"journey": self.name, "steps": self.steps, "interactions": self.interactions}
        (JOURNEYS / f"{self.name}.json").write_text(
            json.dumps(record, ensure_ascii=False, indent=2) + "\n", encoding="utf-8"
        )


async def scroll_to(locator: Any, *, attempts: int = 5) -> None:
    """Scrolls the element into view as a reader would. A live page may repaint the element while
    Playwright waits for it to be stable (« Element is not attached to the DOM »): the locator then
    finds the new node, so try again — any other error, or the same one five times, is raised."""
    for attempt in range(attempts):
        try:
            await locator.scroll_into_view_if_needed()
            return
        except PlaywrightError as error:
            if "not attached" not in str(error) or attempt == attempts - 1:
                raise


async def visible_count(locator: Any) -> int:
    """How many of these elements a person can see (rendered, not hidden, not zero-sized)."""
    return sum([await locator.nth(i).is_visible() for i in range(await locator.count())])


async def visible_texts(locator: Any) -> list[str]:
    """The text of those of these elements a person can see."""
    return [
        (await locator.nth(i).inner_text()).strip()
        for i in range(await locator.count())
        if await locator.nth(i).is_visible()
    ]


async def horizontal_overflow(page: Any) -> int:
    """By how many CSS pixels the page is wider than the window (0: no horizontal scroll)."""
    width: int = await page.evaluate(
        "() => document.documentElement.scrollWidth - document.documentElement.clientWidth"
    )
    return width


CLIPPED_JS = """(selector) => [...document.querySelectorAll(selector)]
  .filter((el) => el.offsetParent !== null || getComputedStyle(el).position === "fixed")
  .flatMap((el) => {
    const out = [];
    const box = el.getBoundingClientRect();
    if (el.scrollHeight > el.clientHeight + 1 || el.scrollWidth > el.clientWidth + 1)
      out.push(`${el.id || el.className}: content ${el.scrollWidth}x${el.scrollHeight} > box ${el.clientWidth}x${el.clientHeight}`);
    if (box.right > innerWidth + 1 || box.bottom > innerHeight + 1 || box.left < -1 || box.top < -1)
      out.push(`${el.id || el.className}: outside the window (${Math.round(box.left)},${Math.round(box.top)},${Math.round(box.right)},${Math.round(box.bottom)})`);
    return out;
  })"""


async def clipped(page: Any, selector: str) -> list[str]:
    """The elements matching ``selector`` whose content is cut (scroll size larger than client
    size) or that reach outside the window — on a screen nobody can scroll."""
    found: list[str] = await page.evaluate(CLIPPED_JS, selector)
    return found
