"""From a history grid to stored forecasts (:mod:`streams.forecast.build`): pure, no services."""

from __future__ import annotations

import datetime as dt

import numpy as np
import orjson
import pytest

from producers.history import SLOTS_PER_DAY, History, occupancy_history
from schemas.catalogue import Facility, load_catalogue
from schemas.clock import PARIS
from schemas.forecast import FacilityForecast
from schemas.holidays import is_school_holiday
from streams.forecast import core
from streams.forecast.build import GRID_DAYS, HISTORY_DAYS, build_forecasts, grid_for

NOW = dt.datetime(2026, 6, 2, 20, 0, tzinfo=PARIS)
"""A Tuesday evening: the pool below closes at 22:30, inside the 4-hour horizon."""
AFTERNOON = dt.datetime(2026, 6, 2, 14, 0, tzinfo=PARIS)


@pytest.fixture(scope="module")
def pool() -> Facility:
    return load_catalogue().get("piscine-suzanne-berlioux")


@pytest.fixture(scope="module")
def history(pool: Facility) -> History:
    first = NOW.date() - dt.timedelta(days=HISTORY_DAYS)
    return occupancy_history([pool], first, GRID_DAYS, seed=11)


def _grid_of(history: History, now: dt.datetime) -> np.ndarray:
    """What the store holds at ``now``: the history so far, nothing after."""
    observed = history.observed.copy()
    observed[:, grid_for(now).origin + 1 :] = np.nan
    # The store keeps readings only: no row outside the hours (build_forecasts puts the 0 back).
    return np.where(history.scheduled, observed, np.nan)


def test_no_crowd_forecast_while_closed(pool: Facility, history: History) -> None:
    """Steps after closing time are closed with no figure; the best time is an open step."""
    [forecast] = build_forecasts([pool], _grid_of(history, NOW), {}, grid_for(NOW), None)
    assert len(forecast.forecast) == 16 and forecast.reason is None
    closing = dt.datetime(2026, 6, 2, 22, 30, tzinfo=PARIS)
    for step in forecast.forecast:
        if step.at >= closing:
            assert not step.open and step.p10 is step.p50 is step.p90 is step.level is None
        else:
            assert step.open and step.p50 is not None
            assert step.p10 is not None and step.p90 is not None
            assert step.p10 <= step.p50 <= step.p90
    assert forecast.best_time is not None and forecast.best_time.at < closing


def test_a_declared_closure_removes_its_steps_and_the_best_time_avoids_them(
    pool: Facility, history: History
) -> None:
    """A closure declared from 20:30 to 21:30: those steps are closed, the rest is forecast."""
    starts, ends = NOW + dt.timedelta(minutes=30), NOW + dt.timedelta(minutes=90)
    status = orjson.dumps(
        {
            "closures": [
                {
                    "scope": {"kind": "facility"},
                    "starts_at": starts.isoformat(),
                    "expected_reopening_at": ends.isoformat(),
                }
            ]
        }
    )
    [forecast] = build_forecasts(
        [pool], _grid_of(history, NOW), {pool.id: status}, grid_for(NOW), None
    )
    closed = [s for s in forecast.forecast if starts <= s.at < ends]
    assert len(closed) == 4 and all(not s.open and s.p50 is None for s in closed)
    assert forecast.best_time is not None
    assert not starts <= forecast.best_time.at < ends


def test_a_sensor_gap_is_not_read_as_an_empty_facility(pool: Facility, history: History) -> None:
    """Afternoons without readings leave the afternoon forecast where full history puts it;
    had they been read as 0, it would have dropped."""
    observed = _grid_of(history, AFTERNOON)
    grid = grid_for(AFTERNOON)
    [full] = build_forecasts([pool], observed, {}, grid, None)
    gaps, zeros = observed.copy(), observed.copy()
    for day in (d for d in range(HISTORY_DAYS) if d % 4):  # 3 days in 4, down 12:00–19:00
        cut = slice(day * SLOTS_PER_DAY + 48, day * SLOTS_PER_DAY + 76)
        gaps[0, cut] = np.nan
        zeros[0, cut] = np.where(history.scheduled[0, cut], 0.0, np.nan)
    [with_gaps] = build_forecasts([pool], gaps, {}, grid, None)
    [read_as_empty] = build_forecasts([pool], zeros, {}, grid, None)

    def mean_p50(forecast: FacilityForecast) -> float:
        return float(np.mean([s.p50 for s in forecast.forecast if s.p50 is not None]))

    assert abs(mean_p50(with_gaps) - mean_p50(full)) < 0.05 * mean_p50(full)
    assert mean_p50(read_as_empty) < 0.85 * mean_p50(full)
    assert with_gaps.history_days == full.history_days == HISTORY_DAYS


def test_less_than_14_days_of_history_gives_a_reason_not_a_forecast(
    pool: Facility, history: History
) -> None:
    """Ten days seen out of 35: no steps, no best time, the reason."""
    observed = _grid_of(history, NOW)
    observed[:, : (HISTORY_DAYS - 10) * SLOTS_PER_DAY] = np.nan
    [forecast] = build_forecasts([pool], observed, {}, grid_for(NOW), None)
    assert forecast.forecast == [] and forecast.best_time is None
    assert forecast.reason == "insufficient_history" and forecast.history_days == 10


def test_staleness_is_read_with_the_clock(pool: Facility, history: History) -> None:
    """Generated 29 minutes ago: fresh; 31 minutes ago: stale."""
    [forecast] = build_forecasts([pool], _grid_of(history, NOW), {}, grid_for(NOW), None)
    assert forecast.aged(NOW + dt.timedelta(minutes=29)).stale is False
    assert forecast.aged(NOW + dt.timedelta(minutes=31)).stale is True


def test_school_holiday_weekdays_read_the_wednesday_profile() -> None:
    """Zone C spring holidays 2026 (18 April – 3 May): a Tuesday reads Wednesday's profile, the
    Saturday stays a Saturday, 1 May (public holiday) a Sunday; the Tuesday after is a Tuesday."""
    assert is_school_holiday(dt.date(2026, 4, 21)) and not is_school_holiday(dt.date(2026, 5, 4))
    keys = core.day_keys(dt.date(2026, 4, 20), 16)  # Monday 20 April → Tuesday 5 May
    assert keys[1] == core.WEDNESDAY  # Tuesday 21 April, school holidays
    assert keys[5] == 5  # Saturday 25 April
    assert keys[11] == core.SUNDAY  # Friday 1 May, Fête du Travail
    assert keys[15] == 1  # Tuesday 5 May, back at school


def test_a_new_platform_without_history_gets_an_empty_round() -> None:
    """No facility with occupancy history yet (a fresh install): the round forecasts nothing
    instead of crashing the job (found running ``paris-live forecast once`` on an empty store)."""
    grid = grid_for(NOW)
    assert build_forecasts([], np.empty((0, grid.slots)), {}, grid, None) == []
