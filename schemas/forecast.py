"""The crowding forecast's contract: one facility's next 4 hours, as stored, served and pushed.

The forecasting job (:mod:`streams.forecast.job`) writes a :class:`FacilityForecast` per facility
every 15 minutes (PostgreSQL ``facility_forecasts`` and Redis ``{prefix}forecast:{id}``), publishes
it on ``{prefix}forecast-changes`` when it changed, and the API serves the same shape on
``GET /v1/facilities/{id}/forecast`` and pushes it on ``/v1/live`` as a ``forecast`` frame
(:class:`schemas.ws.ForecastMessage`). A forecast is an estimate: ``estimated`` is always true and
``accuracy`` carries the error the backtest measured (``bench/results/forecast.json``).

For queues, ``queues[]`` holds the wait of each queue service for the same 16 steps
(:class:`ServiceWaitForecast`, p10/p50/p90 in minutes), or why a service has none — learnt from the
per-service wait minutes the history writer rolls up (``queue_wait_1m``), with the same rules:
nothing while closed, nothing under 14 days of history.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from schemas.status import OccupancyLevel

__all__ = [
    "STALE_AFTER",
    "BestTime",
    "FacilityForecast",
    "ForecastAccuracy",
    "ForecastReason",
    "ForecastStep",
    "ServiceWaitForecast",
    "WaitForecastStep",
]

STALE_AFTER = timedelta(minutes=30)
"""A forecast generated longer ago than this is flagged ``stale`` like any other figure."""

ForecastReason = Literal["insufficient_history", "no_occupancy"]


class ForecastStep(BaseModel):
    """One 15-minute step of the horizon."""

    model_config = ConfigDict(frozen=True)

    at: datetime = Field(description="start of the 15-minute slot, Paris time")
    open: bool = Field(description="open at that time by the hours and the declared closures")
    p10: float | None = Field(description="people inside, 10th percentile (null while closed)")
    p50: float | None = Field(description="people inside, median forecast (null while closed)")
    p90: float | None = Field(description="people inside, 90th percentile (null while closed)")
    level: OccupancyLevel | None = Field(description="crowd level of the p50 (needs a capacity)")


class BestTime(BaseModel):
    """The least crowded open step left today within the horizon (hours and closures respected)."""

    model_config = ConfigDict(frozen=True)

    at: datetime
    p50: float
    level: OccupancyLevel | None


class ForecastAccuracy(BaseModel):
    """How good the forecast measured itself (``python -m bench.forecast``), to label it."""

    model_config = ConfigDict(frozen=True)

    mase_1h: float = Field(description="1 h-ahead MAE ÷ seasonal-naive's (lower is better)")
    mae_1h_people: float | None = Field(None, description="1 h-ahead mean absolute error, people")
    mae_1h_minutes: float | None = Field(
        None, description="1 h-ahead mean absolute error of a queue wait, minutes"
    )
    coverage_pct: float = Field(description="observed values inside p10–p90, 1 h ahead")
    backtest: str = Field(description="what it was measured on")
    measured_at: str


class WaitForecastStep(BaseModel):
    """One 15-minute step of a queue service's wait forecast."""

    model_config = ConfigDict(frozen=True)

    at: datetime = Field(description="start of the 15-minute slot, Paris time")
    open: bool = Field(description="open at that time by the hours and the declared closures")
    p10: float | None = Field(description="wait in minutes, 10th percentile (null while closed)")
    p50: float | None = Field(description="wait in minutes, median forecast (null while closed)")
    p90: float | None = Field(description="wait in minutes, 90th percentile (null while closed)")


class ServiceWaitForecast(BaseModel):
    """The wait forecast of one queue service (``QueueStatus.service_id``), or why there is none."""

    model_config = ConfigDict(frozen=True)

    service_id: str
    name: dict[str, str] | None = Field(None, description="the service's name, fr/en")
    history_days: int = Field(description="days with a wait recorded in the last 35")
    forecast: list[WaitForecastStep] = Field(
        description="the next 4 hours, 16 steps; empty: reason"
    )
    reason: ForecastReason | None = None
    message: dict[str, str] | None = Field(None, description="why there is no forecast, fr/en")
    accuracy: ForecastAccuracy | None = Field(
        None, description="measured accuracy of the wait forecast (minutes)"
    )


class FacilityForecast(BaseModel):
    """A facility's crowding forecast, or why it has none (``forecast`` empty, ``reason`` set)."""

    facility_id: str
    generated_at: datetime = Field(description="when the job computed it (Paris time)")
    estimated: bool = Field(True, description="always true: a forecast is an estimate")
    stale: bool = Field(False, description="generated more than 30 minutes ago")
    method: str
    history_days: int = Field(description="days with occupancy history in the last 35")
    capacity: int | None
    forecast: list[ForecastStep] = Field(description="the next 4 hours, 16 steps; empty: reason")
    best_time: BestTime | None = Field(
        None, description="least crowded open time left today in the horizon"
    )
    reason: ForecastReason | None = None
    message: dict[str, str] | None = Field(None, description="why there is no forecast, fr/en")
    accuracy: ForecastAccuracy | None = Field(None, description="measured accuracy of the method")
    queues: list[ServiceWaitForecast] = Field(
        default_factory=list,
        description="the wait of each queue service for the same steps (minutes), or its reason",
    )

    def changed_from(self, other: FacilityForecast | None) -> bool:
        """Whether clients should hear about it: the steps or the reason differ."""
        return (
            other is None
            or other.forecast != self.forecast
            or other.reason != self.reason
            or other.best_time != self.best_time
            or other.queues != self.queues
        )

    def aged(self, now: datetime) -> FacilityForecast:
        """This forecast as seen at ``now``: ``stale`` when older than :data:`STALE_AFTER`."""
        stale = now - self.generated_at > STALE_AFTER
        return self if stale == self.stale else self.model_copy(update={"stale": stale})
