"""The crowding forecast core and the history it learns from: pure, seeded, no services."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest

from producers.history import SLOTS_PER_DAY, has_occupancy, occupancy_history
from schemas.catalogue import Facility, load_catalogue
from streams.forecast import core

MONDAY = dt.date(2026, 5, 4)
DAYS = 21


def _sample(per_type: int = 2) -> list[Facility]:
    seen: dict[str, int] = {}
    chosen = []
    for facility in load_catalogue():
        if has_occupancy(facility) and seen.get(facility.type, 0) < per_type:
            seen[facility.type] = seen.get(facility.type, 0) + 1
            chosen.append(facility)
    return chosen


@pytest.fixture(scope="module")
def history():  # type: ignore[no-untyped-def]
    return occupancy_history(_sample(), MONDAY, DAYS, seed=4)


@pytest.fixture(scope="module")
def fitted(history):  # type: ignore[no-untyped-def]
    return core.fit(history.observed, history.capacity, MONDAY, 14, history.scheduled)


def _noon(day: int) -> int:
    return day * SLOTS_PER_DAY + 48


def test_history_is_seeded_and_nobody_is_inside_while_closed(history) -> None:  # type: ignore[no-untyped-def]
    """Same seed, same weeks; another seed, another; closed slots hold no one."""
    again = occupancy_history(history.facilities, MONDAY, DAYS, seed=4)
    other = occupancy_history(history.facilities, MONDAY, DAYS, seed=5)
    assert np.array_equal(history.observed, again.observed, equal_nan=True)
    assert not np.array_equal(history.observed, other.observed, equal_nan=True)
    assert (history.inside[~history.scheduled] == 0).all()
    assert (history.observed[~history.scheduled] == 0).all()
    assert history.inside.max() > 0


def test_two_weeks_are_not_alike(history) -> None:  # type: ignore[no-untyped-def]
    """Day factors: the same weekday a week apart differs by more than counting noise."""
    week = 7 * SLOTS_PER_DAY
    first = np.nansum(history.inside[:, :week], axis=1)
    second = np.nansum(history.inside[:, week : 2 * week], axis=1)
    busy = first > 1000
    change = np.abs(second[busy] / first[busy] - 1)
    assert np.median(change) > 0.03


def test_seasonal_naive_reproduces_last_week_exactly(history) -> None:  # type: ignore[no-untyped-def]
    origin = _noon(15)
    naive = core.seasonal_naive(history.observed, origin)
    expected = history.observed[:, origin + 1 - core.WEEK : origin + 1 - core.WEEK + core.HORIZON]
    assert np.array_equal(naive, expected, equal_nan=True)


def test_bands_are_ordered_and_within_capacity(history, fitted) -> None:  # type: ignore[no-untyped-def]
    for origin in range(_noon(14) - 40, _noon(20), 7):
        forecast = core.forecast(fitted, history.observed, origin, history.scheduled)
        known = ~np.isnan(forecast.p50)
        assert (forecast.p10[known] <= forecast.p50[known]).all()
        assert (forecast.p50[known] <= forecast.p90[known]).all()
        assert (forecast.p10[known] >= 0).all()
        assert (
            forecast.p90[known] <= history.capacity[:, None].repeat(core.HORIZON, 1)[known]
        ).all()


def test_no_crowd_forecast_while_closed(history, fitted) -> None:  # type: ignore[no-untyped-def]
    """A slot closed by the hours, or by a declared closure, gets no figure; open slots do."""
    origin = _noon(16)
    open_ = history.scheduled.copy()
    open_[0, origin + 1 : origin + 9] = False  # a closure declared for the next two hours
    forecast = core.forecast(fitted, history.observed, origin, open_)
    targets = open_[:, origin + 1 : origin + 1 + core.HORIZON]
    for band in (forecast.p10, forecast.p50, forecast.p90):
        assert np.isnan(band[~targets]).all()
    assert not np.isnan(forecast.p50[targets]).any()
    assert np.isnan(forecast.p50[0, :8]).all()


def test_a_facility_without_history_gets_no_forecast(history) -> None:  # type: ignore[no-untyped-def]
    observed = history.observed.copy()
    observed[1, : 14 * SLOTS_PER_DAY] = np.nan  # sensor never read before today
    fitted = core.fit(observed, history.capacity, MONDAY, 14, history.scheduled)
    forecast = core.forecast(fitted, observed, _noon(14), history.scheduled)
    assert np.isnan(forecast.p50[1]).all()
    assert not np.isnan(forecast.p50[0]).all()


def test_a_gap_is_not_read_as_empty(history, fitted) -> None:  # type: ignore[no-untyped-def]
    """Today's sensor outage leaves the forecast on the profile, not at zero."""
    origin = _noon(15)
    observed = history.observed.copy()
    today = 15 * SLOTS_PER_DAY
    observed[:, today : origin + 1] = np.nan
    blind = core.forecast(fitted, observed, origin, history.scheduled)
    zeros = history.observed.copy()
    zeros[:, today : origin + 1] = 0.0  # what reading the gap as empty would give
    empty = core.forecast(fitted, zeros, origin, history.scheduled)
    known = ~np.isnan(blind.p50)
    assert np.nansum(blind.p50[known]) > 2 * np.nansum(empty.p50[known])


def test_forecast_is_deterministic(history, fitted) -> None:  # type: ignore[no-untyped-def]
    first = core.forecast(fitted, history.observed, _noon(17), history.scheduled)
    refit = core.fit(history.observed, history.capacity, MONDAY, 14, history.scheduled)
    second = core.forecast(refit, history.observed, _noon(17), history.scheduled)
    for a, b in ((first.p10, second.p10), (first.p50, second.p50), (first.p90, second.p90)):
        assert np.array_equal(a, b, equal_nan=True)


def test_public_holidays_read_the_sunday_profile() -> None:
    """Thursday 7 May 2026 reads Thursdays; Friday 8 May (Victoire 1945) reads Sundays."""
    assert list(core.day_keys(dt.date(2026, 5, 7), 3)) == [3, core.SUNDAY, 5]
