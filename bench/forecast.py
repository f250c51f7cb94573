"""Crowding forecast against seasonal-naive, rolling origin on simulated weeks: ``python -m bench.forecast``.

    .venv/bin/python -m bench.forecast [--seed 21] [--first-day 2026-04-06] [--train-weeks 4]
                                       [--test-weeks 4] [--every 2] [--statsforecast 8]

History: :func:`producers.history.occupancy_history` — every catalogue facility with occupancy (602
of 1,166: parks and cemeteries have none), ``train + test`` weeks of 15-minute slots with the
simulator's occupancy model, day factors included (season, weather spells, each facility's own
day), public holidays (Easter Monday, 1 and 8 May, Ascension, Whit Monday fall in the default
window), the Paris (zone C) school holidays (spring, 18 April – 3 May, and the Ascension bridge:
weekdays busy like Wednesdays), exceptional closures and sensor outages. Seeded: same figures on every run.

Backtest: the first ``train`` weeks are only learnt from; every ``--every`` slots of the ``test``
weeks is a forecast origin. The model is refitted each test day on everything before it (rolling
origin), then forecasts the next 16 slots (4 h) from what was observed up to the origin, knowing the
closures declared by then. Scored on the slots that turn out open with a reading (what the platform
would have shown), for three forecasters in the same run on the same points:

* **seasonal-naive** — same weekday and time last week (the baseline the MASE is relative to);
* **profile × today** — mean of the last 4 days of that kind, rescaled by today's observed ÷ expected;
* **model** — :func:`streams.forecast.core.forecast` (the same profile with a shrunk day ratio, the
  last deviation carried, calibrated p10/p90).

``value`` is the MASE of the model's 1-hour-ahead p50: its mean absolute error divided by the
seasonal-naive's on the same points (target ≤ 0.8). Also: p10–p90 coverage (target 70–90 %), a
table per horizon (15 min … 4 h, ``by_horizon``) and a plot (``bench/results/forecast.png``).

Speed: one production round — fit on 4 weeks and forecast the next 4 h — for 1,204 series (the 602
facilities twice, to reach the 1,200 of the target), wall and CPU time (target ≤ 60 s of wall time).
``--statsforecast N`` also fits statsforecast's MSTL (daily + weekly seasons, ETS trend) on N
facilities at 2 origins and reports its error beside the model's on the same points and its time per
series (0: skip; the library is optional, not a dependency: ``uv pip install statsforecast``). It is
the library candidate measured; at about 2 s of CPU per series and origin it cannot refit 1,200
facilities every 15 minutes on 2 cores, so only a sample is scored.

Queue waits (``waits`` in the result): the same backtest — same model, same two baselines, same
origins — on the wait (minutes) of every catalogue service with a ticket queue
(:func:`producers.queue_history.queue_history`), each series capped as the job caps it.
"""

from __future__ import annotations

import argparse
import datetime as dt
import importlib
import json
import time
from pathlib import Path
from typing import Any

import numpy as np

from bench.common import RESULTS_DIR, current_commit, write_result
from producers.history import SLOTS_PER_DAY, History, has_occupancy, occupancy_history
from producers.queue_history import queue_history
from schemas.catalogue import load_catalogue
from schemas.clock import PARIS
from streams.forecast import core
from streams.forecast.build import GRID_DAYS, build_forecasts, grid_for
from streams.forecast.waits import MIN_CEILING_MINUTES

FIRST_DAY = dt.date(2026, 4, 6)
"""Easter Monday 2026: the test weeks (from 4 May) hold 8 May, Ascension and Whit Monday."""
TARGET_MASE = 0.8
TARGET_COVERAGE = (70.0, 90.0)
TARGET_SECONDS = 60.0
METHODS = ("seasonal_naive", "profile_x_today", "model")
WAITS_NOTES = "Queue waits (waits): "
BUSY_WAIT_MINUTES = 2.0
"""A queue service "queues" when its mean wait while open was at least this in training."""


def known_open(history: History, declared: list[tuple[int, int, int, int]], origin: int) -> Any:
    """Open flags as known at ``origin``: hours minus closures declared by then that reach the next
    4 hours (a view of the regular hours patched only there)."""
    open_ = history.scheduled
    patched = False
    for facility, when, starts, ends in declared:
        if when > origin:
            break
        if ends > origin and starts <= origin + core.HORIZON:
            if not patched:
                open_ = open_.copy()
                patched = True
            open_[facility, starts:ends] = False
    return open_


def backtest(history: History, train_days: int, every: int) -> dict[str, Any]:
    """Rolling-origin errors per method and horizon, and the model's band coverage."""
    declared = sorted((c.facility, c.declared, c.starts, c.ends) for c in history.closures)
    declared.sort(key=lambda c: c[1])
    return backtest_series(
        history.observed,
        history.capacity,
        history.scheduled,
        history.first_day,
        train_days,
        every,
        lambda origin: known_open(history, declared, origin),
    )


def backtest_series(
    observed: Any,
    capacity: Any,
    scheduled: Any,
    first_day: dt.date,
    train_days: int,
    every: int,
    open_at: Any,
) -> dict[str, Any]:
    """The rolling-origin backtest of any ``(S, T)`` series (people inside, or a queue's wait):
    ``open_at(origin)`` gives the open flags as known at the origin."""
    days = observed.shape[1] // SLOTS_PER_DAY
    errors: dict[str, list[Any]] = {m: [] for m in METHODS}
    inside: list[Any] = []
    width: list[Any] = []
    points = 0
    for day in range(train_days, days):
        fitted = core.fit(observed, capacity, first_day, day, scheduled)
        last = min((day + 1) * SLOTS_PER_DAY, observed.shape[1] - core.HORIZON - 1)
        for origin in range(day * SLOTS_PER_DAY, last, every):
            open_ = open_at(origin)
            truth = observed[:, origin + 1 : origin + 1 + core.HORIZON]
            naive = core.seasonal_naive(observed, origin, open_)
            model = core.forecast(fitted, observed, origin, open_)
            plain = core.forecast(fitted, observed, origin, open_, rescale_only=True)
            scored = ~np.isnan(truth) & ~np.isnan(naive) & ~np.isnan(model.p50)
            if not scored.any():
                continue
            points += int(scored.sum())
            for name, p50 in zip(METHODS, (naive, plain.p50, model.p50), strict=True):
                errors[name].append(np.where(scored, np.abs(truth - p50), np.nan))
            hit = (truth >= model.p10) & (truth <= model.p90)
            inside.append(np.where(scored, hit, np.nan))
            width.append(np.where(scored, model.p90 - model.p10, np.nan))
    mae = {m: np.nanmean(np.concatenate(e), axis=0) for m, e in errors.items()}
    coverage = 100 * np.nanmean(np.concatenate(inside), axis=0)
    band = np.nanmean(np.concatenate(width), axis=0)
    return {"mae": mae, "coverage": coverage, "width": band, "points": points}


def wait_backtest(
    facilities: list[Any], first: dt.date, days: int, train_days: int, seed: int, every: int
) -> dict[str, Any]:
    """The same backtest on every queue service's wait (:mod:`producers.queue_history`), with
    the ceiling the job uses (:mod:`streams.forecast.waits`: 1.5 × the longest wait learnt)."""
    wall0, cpu0 = time.perf_counter(), time.process_time()
    waits = queue_history(facilities, first, days, seed=seed)
    history_s = time.perf_counter() - wall0
    train = waits.observed[:, : train_days * SLOTS_PER_DAY]
    ceiling = np.maximum(MIN_CEILING_MINUTES, 1.5 * np.nanmax(train, axis=1, initial=0.0))
    wall0, cpu0b = time.perf_counter(), time.process_time()
    scores = backtest_series(
        waits.observed,
        ceiling,
        waits.scheduled,
        first,
        train_days,
        every,
        lambda origin: waits.scheduled,
    )
    # Most desks rarely queue (a pool's ticket desk, a library's): their zero waits are easy to
    # forecast and to cover. The services that do queue are scored on their own as well.
    open_mean = np.nanmean(
        np.where(waits.scheduled, waits.observed, np.nan)[:, : train.shape[1]], axis=1
    )
    busy = np.flatnonzero(open_mean >= BUSY_WAIT_MINUTES)
    busy_scores = backtest_series(
        waits.observed[busy],
        ceiling[busy],
        waits.scheduled[busy],
        first,
        train_days,
        every,
        lambda origin: waits.scheduled[busy],
    )
    busy_mae = busy_scores["mae"]
    mae = scores["mae"]
    rows = [
        {
            "horizon_min": 15 * (h + 1),
            "seasonal_naive_mae_min": round(float(mae["seasonal_naive"][h]), 2),
            "profile_x_today_mae_min": round(float(mae["profile_x_today"][h]), 2),
            "model_mae_min": round(float(mae["model"][h]), 2),
            "profile_x_today_mase": round(
                float(mae["profile_x_today"][h] / mae["seasonal_naive"][h]), 3
            ),
            "model_mase": round(float(mae["model"][h] / mae["seasonal_naive"][h]), 3),
            "coverage_pct": round(float(scores["coverage"][h]), 1),
            "band_width_min": round(float(scores["width"][h]), 1),
        }
        for h in range(core.HORIZON)
    ]
    one_hour = rows[3]
    return {
        "mase_1h": one_hour["model_mase"],
        "profile_x_today_mase_1h": one_hour["profile_x_today_mase"],
        "coverage_1h_pct": one_hour["coverage_pct"],
        "model_mae_1h_minutes": one_hour["model_mae_min"],
        "seasonal_naive_mae_1h_minutes": one_hour["seasonal_naive_mae_min"],
        "mean_wait_open_minutes": round(
            float(np.nanmean(np.where(waits.scheduled, waits.observed, np.nan))), 1
        ),
        "services": len(waits.series),
        "queueing_services": len(busy),
        "queueing_services_rule": f"mean wait while open ≥ {BUSY_WAIT_MINUTES:.0f} min in training",
        "queueing_mase_1h": round(float(busy_mae["model"][3] / busy_mae["seasonal_naive"][3]), 3),
        "queueing_profile_x_today_mase_1h": round(
            float(busy_mae["profile_x_today"][3] / busy_mae["seasonal_naive"][3]), 3
        ),
        "queueing_coverage_1h_pct": round(float(busy_scores["coverage"][3]), 1),
        "queueing_model_mae_1h_minutes": round(float(busy_mae["model"][3]), 2),
        "queueing_seasonal_naive_mae_1h_minutes": round(float(busy_mae["seasonal_naive"][3]), 2),
        "queueing_band_width_1h_minutes": round(float(busy_scores["width"][3]), 1),
        "scored_points": scores["points"],
        "history_wall_s": round(history_s, 1),
        "backtest_wall_s": round(time.perf_counter() - wall0, 1),
        "backtest_cpu_s": round(time.process_time() - cpu0b + (cpu0b - cpu0), 1),
        "weeks": f"{train_days // 7} learnt + {days // 7 - train_days // 7} held out from "
        f"{first.isoformat()}",
        "at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "by_horizon": rows,
    }


def wait_table(rows: list[dict[str, Any]]) -> str:
    """The queue waits' table per horizon (minutes), markdown."""
    lines = [
        "| horizon | seasonal-naive MAE | profile × today MAE | model MAE | model MASE | "
        "profile × today MASE | p10–p90 coverage | band width |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        lines.append(
            f"| {r['horizon_min']} min | {r['seasonal_naive_mae_min']:.2f} min | "
            f"{r['profile_x_today_mae_min']:.2f} min | {r['model_mae_min']:.2f} min | "
            f"{r['model_mase']:.3f} | {r['profile_x_today_mase']:.3f} | {r['coverage_pct']:.1f} % | "
            f"{r['band_width_min']:.1f} min |"
        )
    return "\n".join(lines)


def waits_notes(waits: dict[str, Any]) -> str:
    """The queue waits' paragraph of the result's notes."""
    return (
        f"{WAITS_NOTES}the same backtest, same model and baselines, on the wait of every "
        f"catalogue queue service ({waits['services']}; producers.queue_history: tickets by the "
        "type's curve × the day factor, desks, abandons, machine outages), minutes. 1 h ahead: "
        f"MASE {waits['mase_1h']}, coverage {waits['coverage_1h_pct']} %; the "
        f"{waits['queueing_services']} services that queue ({waits['queueing_services_rule']}): "
        f"MASE {waits['queueing_mase_1h']}, coverage {waits['queueing_coverage_1h_pct']} %, MAE "
        f"{waits['queueing_model_mae_1h_minutes']} min against "
        f"{waits['queueing_seasonal_naive_mae_1h_minutes']} min.\n\n"
        + wait_table(waits["by_horizon"])
    )


def update_waits(first: dt.date, train_weeks: int, test_weeks: int, seed: int, every: int) -> None:
    """``--waits-only``: the queue waits' backtest written into the last result (the crowd's
    figures, measured before, are kept as they are; ``waits.at`` and ``waits.commit`` say when)."""
    days = 7 * (train_weeks + test_weeks)
    waits = wait_backtest(list(load_catalogue()), first, days, 7 * train_weeks, seed, every)
    waits["commit"] = current_commit()
    path = RESULTS_DIR / "forecast.json"
    result = json.loads(path.read_text(encoding="utf-8"))
    notes = str(result.get("notes", "")).split(WAITS_NOTES)[0].rstrip()
    result["notes"] = f"{notes}\n\n{waits_notes(waits)}"
    result["waits"] = waits
    path.write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    print(waits_notes(waits))


def production_round(history: History, train_days: int, copies: int) -> dict[str, float]:
    """Fit on ``train_days`` and forecast the next 4 h, for the facilities ``copies`` times."""
    observed = np.concatenate([history.observed] * copies)
    capacity = np.concatenate([history.capacity] * copies)
    scheduled = np.concatenate([history.scheduled] * copies)
    origin = train_days * SLOTS_PER_DAY + 11 * 4  # 11:00, the morning observed
    wall, cpu = time.perf_counter(), time.process_time()
    fitted = core.fit(observed, capacity, history.first_day, train_days, scheduled)
    result = core.forecast(fitted, observed, origin, scheduled)
    figures = {
        "wall_s": time.perf_counter() - wall,
        "cpu_s": time.process_time() - cpu,
        "series": float(observed.shape[0]),
        "forecast_points": float(np.count_nonzero(~np.isnan(result.p50))),
    }
    return figures


def job_round(facilities: list[Any], seed: int, copies: int) -> dict[str, float]:
    """The forecasting job's computation for ``copies`` × the facilities, as one round runs it at
    11:00 (:func:`streams.forecast.build.build_forecasts`: the hours engine's open slots, fit,
    forecast, levels, best time and the records) — what a round costs besides its two queries."""
    now = dt.datetime.combine(FIRST_DAY + dt.timedelta(days=42), dt.time(11, 0), tzinfo=PARIS)
    grid = grid_for(now)
    history = occupancy_history(facilities, grid.first, GRID_DAYS, seed=seed)
    observed = np.where(history.scheduled, history.observed, np.nan)
    observed[:, grid.origin + 1 :] = np.nan
    wall, cpu = time.perf_counter(), time.process_time()
    out = build_forecasts(
        list(facilities) * copies, np.concatenate([observed] * copies), {}, grid, None
    )
    return {
        "wall_s": time.perf_counter() - wall,
        "cpu_s": time.process_time() - cpu,
        "facilities": float(len(out)),
        "forecast": float(sum(1 for f in out if f.forecast)),
    }


def statsforecast_comparison(history: History, train_days: int, count: int) -> dict[str, Any]:
    """MSTL (statsforecast) against the model on ``count`` facilities at 2 origins, and its cost."""
    try:  # optional (not a dependency of the platform): imported by name, untyped
        pd: Any = importlib.import_module("pandas")
        library: Any = importlib.import_module("statsforecast")
        models: Any = importlib.import_module("statsforecast.models")
    except ImportError:
        return {"skipped": "statsforecast is not installed"}
    step = max(1, len(history.facilities) // count)
    chosen = list(range(0, len(history.facilities), step))[:count]
    origins = [
        (train_days + offset) * SLOTS_PER_DAY + hour * 4 for offset, hour in ((1, 10), (4, 16))
    ]
    mstl_errors: list[Any] = []
    model_errors: list[Any] = []
    seconds = 0.0
    cpu = 0.0
    for origin in origins:
        day = origin // SLOTS_PER_DAY
        fitted = core.fit(
            history.observed, history.capacity, history.first_day, day, history.scheduled
        )
        ours = core.forecast(fitted, history.observed, origin, history.scheduled).p50[chosen]
        begin = origin + 1 - train_days * SLOTS_PER_DAY
        stamps = pd.date_range(history.first_day, periods=origin + 1, freq="15min")[begin:]
        frames = [
            pd.DataFrame(
                {
                    "unique_id": f"{index:05d}",  # sorted as the rows of `chosen`
                    "ds": stamps,
                    # statsforecast needs no gaps: the gap reads as the profile would not; 0 here
                    "y": np.nan_to_num(history.observed[index, begin : origin + 1], nan=0.0),
                }
            )
            for index in chosen
        ]
        wall0, cpu0 = time.perf_counter(), time.process_time()
        mstl = models.MSTL(
            season_length=[SLOTS_PER_DAY, core.WEEK], trend_forecaster=models.AutoETS(model="ZNN")
        )
        engine = library.StatsForecast(
            models=[mstl],
            freq="15min",
            n_jobs=1,
        )
        out = engine.forecast(df=pd.concat(frames), h=core.HORIZON)
        seconds += time.perf_counter() - wall0
        cpu += time.process_time() - cpu0
        predicted = np.clip(out["MSTL"].to_numpy().reshape(len(chosen), core.HORIZON), 0, None)
        truth = history.observed[chosen, origin + 1 : origin + 1 + core.HORIZON]
        scored = ~np.isnan(truth) & ~np.isnan(ours)
        mstl_errors.append(np.where(scored, np.abs(truth - predicted), np.nan))
        model_errors.append(np.where(scored, np.abs(truth - ours), np.nan))
    mstl_mae = np.nanmean(np.concatenate(mstl_errors), axis=0)
    model_mae = np.nanmean(np.concatenate(model_errors), axis=0)
    per_series = seconds / (len(chosen) * len(origins))
    return {
        "facilities": len(chosen),
        "origins": len(origins),
        "mstl_mae_1h": round(float(mstl_mae[3]), 2),
        "model_mae_1h": round(float(model_mae[3]), 2),
        "mstl_mae_4h": round(float(mstl_mae[15]), 2),
        "model_mae_4h": round(float(model_mae[15]), 2),
        "mstl_s_per_series": round(per_series, 3),
        "mstl_cpu_s": round(cpu, 1),
        "mstl_wall_s_for_1200": round(per_series * 1200, 1),
    }


def markdown_table(rows: list[dict[str, Any]]) -> str:
    """The table per horizon, baselines beside the model (MAE in people inside)."""
    lines = [
        "| horizon | seasonal-naive MAE | profile × today MAE | model MAE | model MASE "
        "| profile × today MASE | p10–p90 coverage | band width |",
        "|---|---|---|---|---|---|---|---|",
    ]
    lines += [
        f"| {r['horizon_min']} min | {r['seasonal_naive_mae']:.2f} | {r['profile_x_today_mae']:.2f}"
        f" | {r['model_mae']:.2f} | {r['model_mase']:.3f} | {r['profile_x_today_mase']:.3f}"
        f" | {r['coverage_pct']:.1f} % | {r['band_width']:.1f} |"
        for r in rows
    ]
    return "\n".join(lines)


def library_line(library: dict[str, Any]) -> str:
    """The statsforecast comparison in one sentence."""
    if "skipped" in library:
        return f"statsforecast MSTL: skipped ({library['skipped']})."
    return (
        f"statsforecast MSTL (daily + weekly seasons, ETS trend) on {library['facilities']} "
        f"facilities × {library['origins']} origins: 1 h MAE {library['mstl_mae_1h']} vs model "
        f"{library['model_mae_1h']} people, 4 h {library['mstl_mae_4h']} vs "
        f"{library['model_mae_4h']}; {library['mstl_s_per_series']} s per series and origin "
        f"(≈ {library['mstl_wall_s_for_1200']:.0f} s for 1,200 facilities, against the 60 s "
        "budget): not retained."
    )


def plot(rows: list[dict[str, Any]], path: Path) -> None:
    """MAE per horizon of the three forecasters, and the model's p10–p90 coverage."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    minutes = [r["horizon_min"] for r in rows]
    fig, (ax_mae, ax_cov) = plt.subplots(1, 2, figsize=(11, 4.2), sharex=True)
    for key, label in (
        ("seasonal_naive_mae", "seasonal-naive (last week)"),
        ("profile_x_today_mae", "weekday profile × today"),
        ("model_mae", "model p50"),
    ):
        ax_mae.plot(minutes, [r[key] for r in rows], marker="o", label=label)
    ax_mae.set_ylabel("mean absolute error (people inside)")
    ax_cov.plot(minutes, [r["coverage_pct"] for r in rows], marker="o", color="tab:green")
    ax_cov.axhspan(*TARGET_COVERAGE, color="grey", alpha=0.15, label="target 70–90 %")
    ax_cov.set_ylim(50, 100)
    ax_cov.set_ylabel("observed inside the p10–p90 band (%)")
    for ax in (ax_mae, ax_cov):
        ax.set_xlabel("horizon (minutes ahead)")
        ax.grid(True, alpha=0.3)
        ax.legend()
    fig.suptitle("Crowding forecast, rolling origin over 4 simulated weeks (602 facilities)")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def main() -> None:
    """Simulate, backtest, time, print the table, plot and write the result."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--seed", type=int, default=21)
    parser.add_argument("--first-day", default=FIRST_DAY.isoformat())
    parser.add_argument("--train-weeks", type=int, default=4)
    parser.add_argument("--test-weeks", type=int, default=4)
    parser.add_argument("--every", type=int, default=2, help="slots between origins (2: 30 min)")
    parser.add_argument("--statsforecast", type=int, default=8, help="facilities for MSTL")
    parser.add_argument(
        "--waits-only",
        action="store_true",
        help="backtest the queue waits only and update their part of the last result",
    )
    args = parser.parse_args()
    first = dt.date.fromisoformat(args.first_day)
    if args.waits_only:
        update_waits(first, args.train_weeks, args.test_weeks, args.seed, args.every)
        return
    facilities = [f for f in load_catalogue() if has_occupancy(f)]
    days = 7 * (args.train_weeks + args.test_weeks)
    train_days = 7 * args.train_weeks

    wall0, cpu0 = time.perf_counter(), time.process_time()
    history = occupancy_history(facilities, first, days, seed=args.seed)
    history_s = time.perf_counter() - wall0
    history_cpu_s = time.process_time() - cpu0

    wall0, cpu0 = time.perf_counter(), time.process_time()
    scores = backtest(history, train_days, args.every)
    backtest_s = time.perf_counter() - wall0
    backtest_cpu_s = time.process_time() - cpu0

    speed = production_round(history, train_days, copies=2)
    job = job_round(facilities, args.seed, copies=2)
    library = (
        statsforecast_comparison(history, train_days, args.statsforecast)
        if args.statsforecast
        else {"skipped": "--statsforecast 0"}
    )
    waits = wait_backtest(list(load_catalogue()), first, days, train_days, args.seed, args.every)

    mae = scores["mae"]
    rows = [
        {
            "horizon_min": 15 * (h + 1),
            "seasonal_naive_mae": round(float(mae["seasonal_naive"][h]), 2),
            "profile_x_today_mae": round(float(mae["profile_x_today"][h]), 2),
            "model_mae": round(float(mae["model"][h]), 2),
            "profile_x_today_mase": round(
                float(mae["profile_x_today"][h] / mae["seasonal_naive"][h]), 3
            ),
            "model_mase": round(float(mae["model"][h] / mae["seasonal_naive"][h]), 3),
            "coverage_pct": round(float(scores["coverage"][h]), 1),
            "band_width": round(float(scores["width"][h]), 1),
        }
        for h in range(core.HORIZON)
    ]
    print(
        f"{'horizon':>8} {'naive MAE':>10} {'prof×today':>10} {'model':>8} "
        f"{'MASE':>6} {'MASE p×t':>8} {'p10–p90':>8} {'width':>6}"
    )
    for r in rows:
        print(
            f"{r['horizon_min']:>6} m {r['seasonal_naive_mae']:>10.2f} "
            f"{r['profile_x_today_mae']:>10.2f} {r['model_mae']:>8.2f} {r['model_mase']:>6.3f} "
            f"{r['profile_x_today_mase']:>8.3f} {r['coverage_pct']:>7.1f}% {r['band_width']:>6.1f}"
        )
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    plot(rows, RESULTS_DIR / "forecast.png")
    one_hour = rows[3]
    mase = float(mae["model"][3] / mae["seasonal_naive"][3])
    coverage = one_hour["coverage_pct"]
    low, high = TARGET_COVERAGE
    met = mase <= TARGET_MASE and low <= coverage <= high and speed["wall_s"] <= TARGET_SECONDS
    print(
        f"1 h ahead: MASE {mase:.3f} (target ≤ {TARGET_MASE}), p10–p90 coverage {coverage:.1f} % "
        f"(target {low:.0f}–{high:.0f} %); fit + forecast of {speed['series']:.0f} series: "
        f"{speed['wall_s']:.2f} s wall, {speed['cpu_s']:.2f} s CPU (target ≤ {TARGET_SECONDS:.0f} s)"
    )
    print(
        f"forecasting job round (build_forecasts, hours engine included) for "
        f"{job['facilities']:.0f} facilities: {job['wall_s']:.2f} s wall, {job['cpu_s']:.2f} s CPU"
    )
    print(f"statsforecast MSTL: {library}")
    print(f"queue waits of {waits['services']} services (minutes):")
    print(wait_table(waits["by_horizon"]))
    print(
        f"queue waits 1 h ahead: MASE {waits['mase_1h']:.3f}, p10–p90 coverage "
        f"{waits['coverage_1h_pct']:.1f} %, MAE {waits['model_mae_1h_minutes']:.2f} min "
        f"(seasonal-naive {waits['seasonal_naive_mae_1h_minutes']:.2f} min); the "
        f"{waits['queueing_services']} services that queue: MASE {waits['queueing_mase_1h']:.3f}, "
        f"coverage {waits['queueing_coverage_1h_pct']:.1f} %, MAE "
        f"{waits['queueing_model_mae_1h_minutes']:.2f} min (seasonal-naive "
        f"{waits['queueing_seasonal_naive_mae_1h_minutes']:.2f} min)"
    )
    print(f"target {'met' if met else 'NOT met'}")
    write_result(
        "forecast",
        mase,
        "MASE",
        "seasonal-naive (same weekday and time last week)",
        1.0,
        "1 h-ahead p50 MASE ≤ 0.8 vs seasonal-naive; p10–p90 coverage 70–90 %; "
        "fit + forecast of 1,200 facilities ≤ 60 s wall",
        mase_1h=round(mase, 3),
        profile_x_today_mase_1h=one_hour["profile_x_today_mase"],
        coverage_1h_pct=coverage,
        coverage_all_horizons_pct=round(float(np.mean(scores["coverage"])), 1),
        model_mae_1h_people=one_hour["model_mae"],
        seasonal_naive_mae_1h_people=one_hour["seasonal_naive_mae"],
        fit_forecast_1200_wall_s=round(speed["wall_s"], 2),
        fit_forecast_1200_cpu_s=round(speed["cpu_s"], 2),
        fit_forecast_series=int(speed["series"]),
        job_round_1200_wall_s=round(job["wall_s"], 2),
        job_round_1200_cpu_s=round(job["cpu_s"], 2),
        backtest_wall_s=round(backtest_s, 1),
        backtest_cpu_s=round(backtest_cpu_s, 1),
        history_wall_s=round(history_s, 1),
        history_cpu_s=round(history_cpu_s, 1),
        scored_points=scores["points"],
        facilities=len(facilities),
        closures=len(history.closures),
        weeks=f"{args.train_weeks} learnt + {args.test_weeks} held out from {first.isoformat()}",
        seed=args.seed,
        target_met=str(met).lower(),
        notes=(
            f"Rolling-origin backtest on {args.test_weeks} simulated weeks held out after "
            f"{args.train_weeks} learnt ({len(facilities)} catalogue facilities with occupancy, "
            "producers.history: day factors, holidays, closures, sensor gaps), an origin every "
            f"{15 * args.every} min, refitted each day. value: MAE of the model's 1 h-ahead p50 ÷ "
            "the seasonal-naive's on the same points (MASE against the same-run seasonal-naive). "
            "by_horizon: the table per horizon with both baselines; statsforecast: MSTL (daily + "
            "weekly seasons) on a sample, same points. Speed: fit on 4 weeks + forecast 4 h for "
            "the 602 facilities twice (1,204 series); job_round: the forecasting job's whole "
            "computation (hours engine, fit, forecast, levels, best time, records) for the same "
            "1,204. Plot: forecast.png.\n\n"
            + markdown_table(rows)
            + "\n\n"
            + library_line(library)
            + "\n\n"
            + waits_notes(waits)
        ),
        by_horizon=rows,
        statsforecast=library,
        waits=waits,
    )


if __name__ == "__main__":
    main()
