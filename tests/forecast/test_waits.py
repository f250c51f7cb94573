"""The wait of each queue service for the next 4 hours (:mod:`streams.forecast.waits`): pure."""

from __future__ import annotations

import datetime as dt

import numpy as np
import orjson
import pytest

from producers.queue_history import QueueHistory, queue_history
from schemas.catalogue import Facility, load_catalogue
from schemas.clock import PARIS
from streams.forecast.build import GRID_DAYS, HISTORY_DAYS, build_forecasts, grid_for
from streams.forecast.waits import build_wait_forecasts, queue_services

NOW = dt.datetime(2026, 6, 2, 10, 0, tzinfo=PARIS)
"""A Tuesday morning: town halls open at 8:30 and close at 17:00."""


@pytest.fixture(scope="module")
def town_hall() -> Facility:
    return next(f for f in load_catalogue().by_type("town_hall") if f.id == "mairie-paris-centre")


@pytest.fixture(scope="module")
def history(town_hall: Facility) -> QueueHistory:
    first = NOW.date() - dt.timedelta(days=HISTORY_DAYS)
    return queue_history([town_hall], first, GRID_DAYS, seed=4)


def _grid_of(history: QueueHistory, now: dt.datetime) -> np.ndarray:
    """What the store holds at ``now``: readings inside the hours so far, nothing after."""
    observed = np.where(history.scheduled, history.observed, np.nan)
    observed[:, grid_for(now).origin + 1 :] = np.nan
    return observed


def test_each_queue_service_gets_four_hours_of_waits_in_minutes(
    town_hall: Facility, history: QueueHistory
) -> None:
    """Three queue services, 16 steps each, ordered bands in minutes, its name in both
    languages; the crowd forecast carries them in ``queues``."""
    rows = queue_services([town_hall])
    assert [s for _, s in rows] == ["reception", "civil-status", "elections"]
    waits = build_wait_forecasts(rows, _grid_of(history, NOW), {}, grid_for(NOW), None)
    services = waits[town_hall.id]
    assert [q.service_id for q in services] == ["reception", "civil-status", "elections"]
    for service in services:
        assert service.reason is None and service.history_days >= 14
        assert len(service.forecast) == 16
        assert service.name is not None and service.name["fr"] and service.name["en"]
        for step in service.forecast:
            assert step.open and step.p10 is not None and step.p50 is not None
            assert step.p90 is not None and 0 <= step.p10 <= step.p50 <= step.p90 <= 200
    grid = grid_for(NOW)
    empty = np.full((1, grid.slots), np.nan)
    [forecast] = build_forecasts([town_hall], empty, {}, grid, None, waits=waits)
    assert forecast.queues == services and forecast.reason == "insufficient_history"
    [queues_only] = build_forecasts(
        [town_hall], empty, {}, grid, None, waits=waits, with_occupancy=set()
    )
    assert queues_only.reason == "no_occupancy" and queues_only.queues == services


def test_no_wait_forecast_after_closing_time(town_hall: Facility, history: QueueHistory) -> None:
    """At 15:00 the last steps fall after 17:00: closed, no figure."""
    at = NOW.replace(hour=15)
    rows = queue_services([town_hall])
    waits = build_wait_forecasts(rows, _grid_of(history, at), {}, grid_for(at), None)
    closing = at.replace(hour=17)
    for service in waits[town_hall.id]:
        for step in service.forecast:
            if step.at >= closing:
                assert not step.open and step.p10 is step.p50 is step.p90 is None
            else:
                assert step.open and step.p50 is not None


def test_a_closure_of_one_service_closes_only_its_steps(
    town_hall: Facility, history: QueueHistory
) -> None:
    """Civil status closed from 10:30 to 11:30: its four steps have no figure, the others do."""
    starts, ends = NOW + dt.timedelta(minutes=30), NOW + dt.timedelta(minutes=90)
    status = orjson.dumps(
        {
            "closures": [
                {
                    "scope": {"kind": "service", "service_id": "civil-status"},
                    "starts_at": starts.isoformat(),
                    "expected_reopening_at": ends.isoformat(),
                }
            ]
        }
    )
    rows = queue_services([town_hall])
    waits = build_wait_forecasts(
        rows, _grid_of(history, NOW), {town_hall.id: status}, grid_for(NOW), None
    )
    by_id = {q.service_id: q for q in waits[town_hall.id]}
    closed = [s for s in by_id["civil-status"].forecast if starts <= s.at < ends]
    assert len(closed) == 4 and all(not s.open and s.p50 is None for s in closed)
    assert all(s.p50 is not None for s in by_id["reception"].forecast)


def test_a_service_with_ten_days_of_waits_gets_a_reason(
    town_hall: Facility, history: QueueHistory
) -> None:
    """Reception seen for the last 10 days only (Sundays closed: fewer days with a wait): no
    steps and ``insufficient_history``; the other services keep their forecast."""
    observed = _grid_of(history, NOW)
    observed[0, : (HISTORY_DAYS - 10) * 96] = np.nan
    waits = build_wait_forecasts(queue_services([town_hall]), observed, {}, grid_for(NOW), None)
    reception, civil, _ = waits[town_hall.id]
    assert reception.forecast == [] and reception.reason == "insufficient_history"
    assert 0 < reception.history_days <= 10
    assert civil.reason is None and len(civil.forecast) == 16


def test_a_machine_outage_is_a_gap_not_a_zero_wait(
    town_hall: Facility, history: QueueHistory
) -> None:
    """Days without readings from 10:00 to 15:00 (one in three) leave the forecast near the
    full history's; read as zero waits they would have pulled it down."""
    grid = grid_for(NOW)
    observed = _grid_of(history, NOW)
    gaps, zeros = observed.copy(), observed.copy()
    for day in (d for d in range(HISTORY_DAYS) if d % 3 == 1):
        cut = slice(day * 96 + 40, day * 96 + 60)
        gaps[:, cut] = np.nan
        zeros[:, cut] = np.where(history.scheduled[:, cut], 0.0, np.nan)
    rows = queue_services([town_hall])

    def p50s(values: np.ndarray) -> np.ndarray:
        waits = build_wait_forecasts(rows, values, {}, grid, None)[town_hall.id]
        return np.array([s.p50 for q in waits for s in q.forecast], dtype=float)

    full, with_gaps, read_as_empty = p50s(observed), p50s(gaps), p50s(zeros)
    assert abs(np.mean(with_gaps) - np.mean(full)) < 0.15 * np.mean(full)
    assert np.mean(read_as_empty) < 0.8 * np.mean(full)
