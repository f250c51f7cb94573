"""The "meilleur moment pour venir" rule (``advise()`` of ``dashboards/pages/chart.js``), run in
Chromium as the pages run it: only hours still ahead and within the day's opening hours count,
no advice below the minimum history, gaps stay gaps."""

from __future__ import annotations

from typing import Any

import pytest

from tests.api.api_testkit import InProcessServer

pytestmark = [pytest.mark.browser, pytest.mark.integration]

ADVISE = """async ([cells, spans, from]) => {
  const chart = await import("/static/pages/chart.js");
  return chart.advise(cells, spans, from);
}"""


def cell(hour: int, ratio: float | None, samples: int = 3) -> dict[str, Any]:
    """A /typical cell (``ratio`` None: no data that hour)."""
    return {
        "hour": hour,
        "count_avg": None if ratio is None else ratio * 100,
        "ratio_avg": ratio,
        "level": None if ratio is None else "low" if ratio < 0.4 else "high",
        "samples": samples if ratio is not None else 0,
    }


@pytest.fixture
async def advise(page: Any, city_api: InProcessServer) -> Any:
    await page.goto(city_api.http + "/")

    async def run(cells: list[dict[str, Any]], spans: list[list[str]], at: str) -> Any:
        hours, minutes = map(int, at.split(":"))
        return await page.evaluate(ADVISE, [cells, spans, hours * 60 + minutes])

    return run


DAY = [["09:00", "19:00"]]
CURVE = {9: 0.2, 10: 0.3, 11: 0.5, 12: 0.7, 13: 0.6, 14: 0.5, 15: 0.45, 16: 0.4, 17: 0.6, 18: 0.5}


async def test_the_quietest_hour_still_ahead_is_advised_not_a_past_one(advise: Any) -> None:
    """At 14:10, 9 h (the quietest of the day) is past: the advice is 16 h, the quietest after;
    14 h, the hour under way, still counts (one can come now), 13 h no longer."""
    result = await advise([cell(h, r) for h, r in CURVE.items()], DAY, "14:10")
    assert result["reason"] == "best" and result["best"] == 16
    kinds = {h["hour"]: h["ahead"] for h in result["hours"]}
    assert not kinds[13] and kinds[14] and kinds[15]


async def test_the_hour_under_way_counts_while_there_is_time_to_come(advise: Any) -> None:
    """Open until 22:00, at 21:10 the pool is open for 50 more minutes: 21 h is advised, not
    « plus d'heure d'ouverture à venir » (what the page said, the pool showing « Ouvert »). At
    21:35, 25 minutes before closing (less than the 30 of a visit), nothing is left."""
    evening = [["11:30", "22:00"]]
    cells = [cell(h, 0.3) for h in range(12, 22)]
    now = await advise(cells, evening, "21:10")
    assert now["reason"] == "best" and now["best"] == 21
    assert [h["hour"] for h in now["hours"] if h["ahead"]] == [21]
    over = await advise(cells, evening, "21:35")
    assert over["reason"] == "over" and over["best"] is None


async def test_a_session_that_does_not_start_on_the_hour_has_its_hour(advise: Any) -> None:
    """A session 20:15–21:15 (after 07:00–08:30): its 20 h counts — the day was « Fermé » when
    it was the only session, and at 20:20, 55 minutes before closing, « plus d'heure
    d'ouverture à venir ». At 20:50 (25 minutes left) nothing is left."""
    day = [["07:00", "08:30"], ["20:15", "21:15"]]
    cells = [cell(7, 0.5), cell(8, 0.4), cell(20, 0.2)]
    assert [h["hour"] for h in (await advise(cells, day, "06:00"))["hours"]] == [7, 8, 20]
    evening = await advise(cells, day, "20:20")
    assert evening["reason"] == "best" and evening["best"] == 20
    only = await advise([cell(20, 0.2), cell(21, 0.1)], [["20:15", "21:15"]], "09:00")
    assert only["reason"] != "closed" and [h["hour"] for h in only["hours"]] == [20]
    late = await advise(cells, day, "20:50")
    assert late["reason"] == "over"


async def test_no_hour_after_closing_is_ever_advised(advise: Any) -> None:
    """A quiet figure at 20 h (after closing at 19:00) or 18 h (30 min short of closing at 18:20)
    is not advised; after the last hour, there is nothing left today."""
    cells = [cell(h, r) for h, r in CURVE.items()] + [cell(20, 0.01), cell(21, 0.01)]
    result = await advise(cells, DAY, "09:00")
    assert result["best"] == 9
    assert max(h["hour"] for h in result["hours"]) == 18
    short = await advise(cells, [["09:00", "18:20"]], "16:30")
    # 16 h is under way at 16:30 (quieter than 17 h: come now); 18 h is never a choice
    assert short["best"] == 16 and 18 not in [h["hour"] for h in short["hours"]]
    late = await advise(cells, DAY, "18:30")
    assert late["reason"] == "over" and late["best"] is None
    closed = await advise(cells, [], "09:00")
    assert closed["reason"] == "closed" and closed["best"] is None


async def test_too_little_history_gives_no_advice(advise: Any) -> None:
    """One hour of history, or every hour seen in fewer than 3 weeks, or gaps over half of the
    hours ahead: "pas encore assez de données", no hour."""
    one = await advise([cell(16, 0.1)], DAY, "09:00")
    assert one["reason"] == "few" and one["best"] is None
    young = await advise([cell(h, r, samples=2) for h, r in CURVE.items()], DAY, "09:00")
    assert young["reason"] == "few"
    sparse = [cell(h, r) for h, r in CURVE.items() if h in {9, 10, 11}]
    assert (await advise(sparse, DAY, "09:00"))["reason"] == "few"
    enough = [cell(h, r) for h, r in CURVE.items() if h != 12]
    result = await advise(enough, DAY, "09:00")
    assert result["reason"] == "best" and result["best"] == 9


async def test_gaps_stay_gaps(advise: Any) -> None:
    """An hour without data, or with too few weeks, is a gap ("none" / "few"), never a bar of 0."""
    cells = [cell(h, r) for h, r in CURVE.items() if h != 13] + [cell(13, None)]
    cells = [c for c in cells if c["hour"] != 15] + [cell(15, 0.01, samples=1)]
    result = await advise(cells, DAY, "09:00")
    kinds = {h["hour"]: h["kind"] for h in result["hours"]}
    assert kinds[13] == "none" and kinds[15] == "few" and kinds[14] == "known"
    assert result["best"] == 9, "the 15 h figure seen once is not trusted"
