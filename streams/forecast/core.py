"""The forecasting core: a facility's typical week rescaled by today, with calibrated bands.

Everything works on a **grid of Paris wall-clock slots**: 96 slots of 15 minutes per day, day ``d``
slot ``s`` at index ``d × 96 + s`` (the two DST nights are closed hours, so a local grid is simpler
and truer than a UTC one for "same time last week"). Arrays are ``(F, T)`` for F facilities:

* ``observed`` — people inside at the start of the slot as the platform saw it; **0 outside the
  regular hours, NaN without a reading** (sensor down, exceptional closure): a gap is never read
  as an empty facility;
* ``open_`` — open at the slot as known when forecasting (hours engine minus the closures declared
  so far); no crowd forecast for a closed slot (NaN in every band).

Two baselines and the model, chosen by the rolling-origin backtest of :mod:`bench.forecast`:

* :func:`seasonal_naive` — the same weekday and time last week (``t − 672``), reproduced exactly;
* the weekday profile rescaled by today (:func:`forecast` with ``rescale_only=True``): the mean of
  the last ``weeks`` days of the same kind (public holidays count as Sundays, as the hours engine
  and the city see them; school-holiday weekdays as Wednesdays), times today's observed ÷ expected so far;
* :func:`forecast` — the same profile times a *shrunk* day ratio (today's evidence weighed against
  yesterday's ratio, since busy days come in spells), plus the last observation's deviation
  decaying over the horizon (``φ^h``). Bands: p10/p90 from the quantiles, per horizon, of the
  standardised errors the same model made on the last training week with profiles fitted before it
  (:func:`fit`), so the band is honest out of sample.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from schemas.holidays import is_public_holiday, is_school_holiday

SLOTS_PER_DAY = 96
WEEK = 7 * SLOTS_PER_DAY
HORIZON = 16
"""Steps forecast: 4 hours of 15 minutes."""
WEDNESDAY = 2
SUNDAY = 6

FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]
IntArray = npt.NDArray[np.int64]


@dataclass(frozen=True, slots=True)
class Settings:
    """The model's knobs (defaults chosen on the backtest, see ``bench/results/forecast.json``)."""

    weeks: int = 4
    """Days of the same kind averaged into the profile."""
    evidence: float = 1.0
    """Weight of the prior day ratio, in slots at full capacity (today's evidence wins as it grows)."""
    carry: float = 0.5
    """Share of yesterday's deviation from the profile expected today (weather comes in spells)."""
    decay: float = 0.85
    """Per-step persistence of the last observation's deviation from the rescaled profile."""
    calibration_days: int = 7
    """Last training days replayed to measure the errors the bands are built from."""


@dataclass(frozen=True, slots=True)
class Fitted:
    """What :func:`fit` learnt: per facility the typical week, per horizon the error quantiles."""

    profile: FloatArray
    """Mean people inside per day kind (weekday, holidays as Sunday) and slot, ``(F, 7, 96)``;
    NaN where no day of that kind was seen open with a reading."""
    low: FloatArray
    """Standardised-error 10th percentile per horizon step, ``(HORIZON,)``."""
    high: FloatArray
    """Standardised-error 90th percentile per horizon step, ``(HORIZON,)``."""
    first_day: dt.date
    capacity: FloatArray
    settings: Settings


@dataclass(frozen=True, slots=True)
class Forecast:
    """The next ``HORIZON`` slots after an origin, ``(F, HORIZON)`` each; NaN: closed, no forecast."""

    origin: int
    p10: FloatArray
    p50: FloatArray
    p90: FloatArray


def day_keys(first_day: dt.date, days: int) -> IntArray:
    """The profile each day reads: its weekday (Monday 0); Sunday for a public holiday; Wednesday
    for a weekday of the Paris (zone C) school holidays — children are free all day, as on a
    Wednesday afternoon (:func:`schemas.holidays.is_school_holiday`)."""
    keys = []
    for d in range(days):
        day = first_day + dt.timedelta(days=d)
        if is_public_holiday(day):
            keys.append(SUNDAY)
        elif day.weekday() < 5 and is_school_holiday(day):
            keys.append(WEDNESDAY)
        else:
            keys.append(day.weekday())
    return np.array(keys, dtype=np.int64)


def seasonal_naive(observed: FloatArray, origin: int, open_: BoolArray | None = None) -> FloatArray:
    """Same weekday and time last week for the ``HORIZON`` slots after ``origin``, ``(F, H)``."""
    lagged = np.full((observed.shape[0], HORIZON), np.nan)
    start = origin + 1 - WEEK
    steps = np.arange(HORIZON)
    usable = (start + steps >= 0) & (start + steps < observed.shape[1])
    lagged[:, usable] = observed[:, start + steps[usable]]
    if open_ is not None:
        lagged = np.where(_target_open(open_, origin), lagged, np.nan)
    return lagged


def _target_open(open_: BoolArray, origin: int) -> BoolArray:
    """Open flags of the ``HORIZON`` slots after ``origin`` (closed beyond the grid's end)."""
    out = np.zeros((open_.shape[0], HORIZON), dtype=np.bool_)
    end = min(open_.shape[1], origin + 1 + HORIZON)
    out[:, : end - origin - 1] = open_[:, origin + 1 : end]
    return out


def profiles(observed: FloatArray, first_day: dt.date, until_day: int, weeks: int) -> FloatArray:
    """Mean of the last ``weeks`` days of each kind before day ``until_day``, ``(F, 7, 96)``."""
    keys = day_keys(first_day, until_day)
    days = observed[:, : until_day * SLOTS_PER_DAY].reshape(observed.shape[0], until_day, -1)
    out = np.full((observed.shape[0], 7, SLOTS_PER_DAY), np.nan)
    for key in range(7):
        chosen = np.flatnonzero(keys == key)[-weeks:]
        if not len(chosen):
            continue
        picked = days[:, chosen, :]
        seen = ~np.isnan(picked)
        count = seen.sum(axis=1)
        total = np.where(seen, picked, 0.0).sum(axis=1)
        out[:, key, :] = np.where(count > 0, total / np.maximum(count, 1), np.nan)
    return out


def _expected(profile: FloatArray, keys: IntArray, start: int, stop: int) -> FloatArray:
    """Profile values for grid slots ``[start, stop)``, ``(F, stop − start)``."""
    slots = np.arange(start, stop)
    day = np.minimum(slots // SLOTS_PER_DAY, len(keys) - 1)
    return profile[:, keys[day], slots % SLOTS_PER_DAY]


def _day_ratio(observed: FloatArray, expected: FloatArray) -> tuple[FloatArray, FloatArray]:
    """Sum of observed and of expected people over the slots both know, ``(F,)`` each."""
    both = ~np.isnan(observed) & ~np.isnan(expected)
    return (
        np.where(both, observed, 0.0).sum(axis=1),
        np.where(both, expected, 0.0).sum(axis=1),
    )


def point(
    profile: FloatArray,
    keys: IntArray,
    capacity: FloatArray,
    observed: FloatArray,
    origin: int,
    settings: Settings,
    rescale_only: bool = False,
) -> FloatArray:
    """The p50 of the ``HORIZON`` slots after ``origin`` (ignoring opening; see :func:`forecast`)."""
    today = origin // SLOTS_PER_DAY * SLOTS_PER_DAY
    seen, expected = _day_ratio(
        observed[:, today : origin + 1], _expected(profile, keys, today, origin + 1)
    )
    target = _expected(profile, keys, origin + 1, origin + 1 + HORIZON)
    if rescale_only:
        ratio = np.where(expected > 0, seen / np.maximum(expected, 1e-9), 1.0)
        return np.clip(ratio[:, None] * target, 0.0, capacity[:, None])
    prior = np.ones(len(capacity))
    if today >= SLOTS_PER_DAY:
        y_seen, y_expected = _day_ratio(
            observed[:, today - SLOTS_PER_DAY : today],
            _expected(profile, keys, today - SLOTS_PER_DAY, today),
        )
        yesterday = np.where(y_expected > 0, y_seen / np.maximum(y_expected, 1e-9), 1.0)
        prior = 1 + settings.carry * (np.clip(yesterday, 0.3, 3.0) - 1)
    weight = settings.evidence * capacity
    ratio = (seen + weight * prior) / (expected + weight)
    now_expected = _expected(profile, keys, origin, origin + 1)[:, 0]
    deviation = observed[:, origin] - ratio * now_expected
    deviation = np.where(np.isnan(deviation), 0.0, deviation)
    persistence = settings.decay ** np.arange(1, HORIZON + 1)
    p50 = ratio[:, None] * target + deviation[:, None] * persistence[None, :]
    return np.clip(p50, 0.0, capacity[:, None])


def scale(p50: FloatArray, capacity: FloatArray) -> FloatArray:
    """The spread an error is measured in: counting noise (√n) plus a share of the level."""
    return np.sqrt(np.maximum(p50, 0.0) + 1.0) + 0.05 * p50 + 0.01 * capacity[:, None]


def fit(
    observed: FloatArray,
    capacity: FloatArray,
    first_day: dt.date,
    until_day: int,
    open_: BoolArray,
    settings: Settings = Settings(),
) -> Fitted:
    """Learn from days ``[0, until_day)``: profiles, and error bands measured on the last
    ``calibration_days`` with profiles fitted before them (out of sample)."""
    keys = day_keys(first_day, max(until_day + 1, observed.shape[1] // SLOTS_PER_DAY))
    calib_start = max(1, until_day - settings.calibration_days)
    early = profiles(observed, first_day, calib_start, settings.weeks)
    errors: list[FloatArray] = []
    for origin in range(calib_start * SLOTS_PER_DAY, until_day * SLOTS_PER_DAY - HORIZON, 2):
        p50 = point(early, keys, capacity, observed, origin, settings)
        truth = observed[:, origin + 1 : origin + 1 + HORIZON]
        usable = _target_open(open_, origin) & ~np.isnan(truth) & ~np.isnan(p50)
        errors.append(np.where(usable, (truth - p50) / scale(p50, capacity), np.nan))
    stacked = np.concatenate(errors, axis=0) if errors else np.zeros((0, HORIZON))
    low, high = np.full(HORIZON, -1.5), np.full(HORIZON, 1.5)
    for step in range(HORIZON):
        column = stacked[:, step]
        column = column[~np.isnan(column)]
        if len(column) >= 20:
            low[step], high[step] = np.quantile(column, [0.1, 0.9])
    return Fitted(
        profile=profiles(observed, first_day, until_day, settings.weeks),
        low=low,
        high=high,
        first_day=first_day,
        capacity=capacity,
        settings=settings,
    )


def forecast(
    fitted: Fitted,
    observed: FloatArray,
    origin: int,
    open_: BoolArray,
    rescale_only: bool = False,
) -> Forecast:
    """p10/p50/p90 of the ``HORIZON`` slots after ``origin``; NaN where the facility is closed
    (hours or a declared closure) or has no profile for that time (no history: no forecast)."""
    keys = day_keys(fitted.first_day, observed.shape[1] // SLOTS_PER_DAY + 1)
    p50 = point(
        fitted.profile, keys, fitted.capacity, observed, origin, fitted.settings, rescale_only
    )
    spread = scale(p50, fitted.capacity)
    cap = fitted.capacity[:, None]
    p10 = np.clip(p50 + fitted.low[None, :] * spread, 0.0, p50)
    p90 = np.clip(p50 + fitted.high[None, :] * spread, p50, cap)
    closed = ~_target_open(open_, origin) | np.isnan(p50)
    return Forecast(
        origin=origin,
        p10=np.where(closed, np.nan, p10),
        p50=np.where(closed, np.nan, p50),
        p90=np.where(closed, np.nan, p90),
    )
