"""The per-facility state machine: events and clock ticks in, :class:`FacilityStatus` out. No I/O.

One :class:`FacilityMachine` per facility holds everything the public status is made of and is
driven by two calls, both given the caller's clock (``now``, aware) — the machine never reads
the wall clock:

* :meth:`~FacilityMachine.apply` — one decoded event (any input topic);
* :meth:`~FacilityMachine.tick` — timers: opening/closing (``open → closing_soon → closed``
  without any event), staleness, overdue closures, the daily reset, trend decay, délai windows.
  :meth:`~FacilityMachine.next_wakeup` says when the next one is due; calling ``tick`` earlier
  is harmless (and ``apply`` runs due timers itself before the event).

Both return True when the public status changed; ``seq`` then grew by exactly one. What counts as
a change, and the policy for duplicate, late and out-of-order events, is in
:mod:`streams.core.policy`. The status is built lazily by :meth:`~FacilityMachine.status`, once
per change (``apply`` on a passage is a handful of comparisons and additions).

Concepts live in their own modules: :mod:`~streams.core.occupancy`, :mod:`~streams.core.queues`,
:mod:`~streams.core.appointments`, :mod:`~streams.core.processing`,
:mod:`~streams.core.closures`, :mod:`~streams.core.equipment`, :mod:`~streams.core.schedule`,
:mod:`~streams.core.dedup`.

Snapshots (:meth:`~FacilityMachine.to_snapshot` / :meth:`~FacilityMachine.from_snapshot`) are
JSON-ready dicts that round-trip exactly — the restored machine writes the same snapshot, shows
the same status and reacts to the next events and ticks exactly as the original would.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, fields
from datetime import UTC, datetime, timedelta
from functools import cache
from typing import Any, Final

from schemas.catalogue import LEVEL_THRESHOLDS, Facility
from schemas.clock import PARIS
from schemas.events import (
    CaseEvent,
    ClosureDeclared,
    ClosureEnded,
    CloudEvent,
    EquipmentStatusChanged,
    HeadcountMeasured,
    PassageCounted,
    SlotsPublished,
    TicketEvent,
)
from schemas.status import FacilityStatus
from streams.core.appointments import AppointmentBook
from streams.core.closures import ClosureBook
from streams.core.dedup import RecentIds
from streams.core.equipment import EquipmentBook
from streams.core.errors import BadSnapshot, WrongFacility
from streams.core.occupancy import OccupancyMinute, OccupancyTracker
from streams.core.policy import EPOCH
from streams.core.processing import ProcessingStats
from streams.core.queues import QueueBook
from streams.core.schedule import ScheduleTracker, last_reset_at_or_before, next_reset_after
from streams.core.snapshot import time_in, time_out

__all__ = ["DEFAULT_CONFIG", "FacilityMachine", "MachineConfig", "OccupancyMinute"]

SNAPSHOT_VERSION: Final = 1
_NEVER: Final = datetime.max.replace(tzinfo=UTC)


@dataclass(frozen=True)
class MachineConfig:
    """Thresholds and bounds of the machine; the defaults are what production runs.

    Occupancy level thresholds come from :data:`schemas.catalogue.LEVEL_THRESHOLDS` for the
    facility's type unless ``level_thresholds`` overrides them.
    """

    stale_after: timedelta = timedelta(minutes=15)
    """An open facility without live data for this long is ``stale``."""
    closing_soon_minutes: int = 30
    """``closing_soon`` starts this long before a closing."""
    trend_window: timedelta = timedelta(minutes=15)
    """Occupancy trend compares the count now with the count this long ago."""
    dedup_capacity: int = 512
    """Event ids remembered per facility (≈ 135 bytes each when full: ≈ 83 MB for 1,200 full
    facilities). Records below the recovered offsets are skipped before they reach the machine, so
    this window only has to catch producer retries and redeliveries of recent events."""
    trend_min_delta: int = 3
    """A trend needs at least this many people of difference…"""
    trend_min_ratio: float = 0.05
    """…and at least this share of the capacity."""
    max_occupancy_ratio: float = 1.5
    """The count never goes above capacity × this (drift correction)."""
    max_count_without_capacity: int = 10_000
    """The ceiling of the count when the capacity is unknown."""
    level_thresholds: tuple[float, float, float] | None = None
    """Ratios at which the level becomes moderate, high, full (None: the type's defaults)."""
    headcount_max_lateness: timedelta = timedelta(minutes=10)
    """A headcount older than this on arrival is ignored."""
    ewma_alpha: float = 0.3
    """Weight of the newest observation in queue averages."""
    queue_fresh_window: timedelta = timedelta(minutes=30)
    """An observed wait older than this no longer gives the queue's wait."""
    default_service_minutes: float = 5.0
    """Service time per ticket before any was observed."""
    ticket_memory: int = 2048
    """Tickets remembered per service and per state (waiting, called, ended)."""
    processing_window: timedelta = timedelta(days=90)
    """Closed cases within this window give the processing délais."""
    processing_max_open_cases: int = 20_000
    """Open cases remembered per procedure."""
    processing_max_samples: int = 5_000
    """Durations kept per procedure."""
    closure_memory: int = 256
    """Ended closure ids remembered (a late declaration of one is ignored)."""


DEFAULT_CONFIG: Final = MachineConfig()


class FacilityMachine:
    """The live state of one facility (see the module docstring)."""

    def __init__(self, facility: Facility, config: MachineConfig = DEFAULT_CONFIG) -> None:
        self.facility = facility
        self.config = config
        self._fid = facility.id
        self._hours = facility.hours
        capacity = facility.capacity
        max_count = (
            config.max_count_without_capacity
            if capacity is None
            else math.floor(capacity * config.max_occupancy_ratio)
        )
        self._dedup = RecentIds(config.dedup_capacity)
        self._occ = OccupancyTracker(
            facility.id,
            capacity,
            max_count=max_count,
            thresholds=config.level_thresholds or LEVEL_THRESHOLDS[facility.type],
            trend_window=config.trend_window,
            trend_min_delta=config.trend_min_delta,
            trend_min_ratio=config.trend_min_ratio,
            headcount_max_lateness=config.headcount_max_lateness,
        )
        self._queues = QueueBook(
            ewma_alpha=config.ewma_alpha,
            fresh_window=config.queue_fresh_window,
            default_service_minutes=config.default_service_minutes,
            ticket_memory=config.ticket_memory,
        )
        self._appointments = AppointmentBook()
        self._processing = ProcessingStats(
            {p.procedure_id: p.committed_days for p in facility.procedures},
            window=config.processing_window,
            max_open_cases=config.processing_max_open_cases,
            max_samples=config.processing_max_samples,
        )
        self._closures = ClosureBook(memory=config.closure_memory)
        self._equipment = EquipmentBook(facility)
        self._schedule = ScheduleTracker(self._hours, config.closing_soon_minutes)
        self._seq = 0
        self._updated_at: datetime | None = None
        self._status: FacilityStatus | None = None
        self._started = False
        self._next_due: datetime = EPOCH  # no clock yet: the first call runs the timers
        self._last_reset_at: datetime | None = None
        self._last_data_at: datetime | None = None
        self._has_live_data = False
        self._stale = False
        self._clock_in: datetime | None = None
        self._clock = EPOCH
        self._ts = 0.0

    # -- public reading ---------------------------------------------------------------------

    @property
    def seq(self) -> int:
        """The seq of the current status (0 before anything is known)."""
        return self._seq

    @property
    def occupancy_drift(self) -> int:
        """People added (+) or removed (−) by drift correction since the last baseline."""
        return self._occ.drift

    @property
    def occupancy_drift_total(self) -> int:
        """People absorbed by drift correction since this machine's state began (absolute)."""
        return self._occ.drift_total

    def status(self) -> FacilityStatus:
        """The current public status (built once per change)."""
        if self._status is None:
            self._status = self._build()
        return self._status

    def next_wakeup(self) -> datetime | None:
        """When :meth:`tick` must run next (None: no timer pending — never after the first call)."""
        return None if self._next_due is _NEVER else self._next_due

    def minute_rollup(self, minute_start: datetime) -> OccupancyMinute | None:
        """The occupancy figures of one minute (UTC start), finished or so far; None if untouched."""
        return self._occ.rollup_for(minute_start.astimezone(UTC))

    def drain_rollups(self) -> list[OccupancyMinute]:
        """The finished minutes not handed out yet, oldest first (the caller persists them)."""
        return self._occ.drain()

    # -- driving ----------------------------------------------------------------------------

    def _utc(self, now: datetime) -> datetime:
        """``now`` in UTC, converted once per clock reading (the worker shares one per batch).

        Every time the machine keeps is UTC: comparing datetimes with the same tzinfo object is
        nearly free, comparing across tzinfos costs two ``utcoffset`` calls.
        """
        if now is not self._clock_in:
            if now.tzinfo is None:
                raise ValueError(f"naive datetime given as the clock: {now.isoformat()}")
            self._clock_in = now
            self._clock = now.astimezone(UTC)
            self._ts = self._clock.timestamp()
        return self._clock

    def tick(self, now: datetime) -> bool:
        """Run the timers due at ``now``; True when the public status changed (seq bumped)."""
        now = self._utc(now)
        if self._run_timers(now):
            self._bump(now)
            return True
        return False

    def apply(self, event: CloudEvent, now: datetime) -> bool:
        """Apply one event at ``now``; True when the public status changed (seq bumped).

        Raises :class:`~streams.core.errors.WrongFacility` for another facility's event.
        Duplicates (by id) and events of no concern to the status change nothing.
        """
        if event.subject != self._fid:
            raise WrongFacility(self._fid, event.subject)
        now = self._utc(now)
        changed = self._run_timers(now) if now >= self._next_due else False
        if not self._dedup.add(event.id):
            if changed:
                self._bump(now)
            return changed
        if isinstance(event, PassageCounted):
            changed = self._passage(event, now) or changed
        elif isinstance(event, HeadcountMeasured):
            changed = self._headcount(event, now) or changed
        else:
            changed = self._other(event, now) or changed
        if changed:
            self._bump(now)
        return changed

    # -- events -----------------------------------------------------------------------------

    def _passage(self, event: PassageCounted, now: datetime) -> bool:
        data = event.data
        delta = data.count if data.direction == "in" else -data.count
        at = event.time.astimezone(UTC)
        occ = self._occ
        changed = occ.add_passage(at, delta, now, self._ts)
        end = occ.rollup_end
        if end is not None and end < self._next_due:
            self._next_due = end
        return self._live_data(at, now) or changed

    def _headcount(self, event: HeadcountMeasured, now: datetime) -> bool:
        at = event.time.astimezone(UTC)
        changed = self._occ.set_headcount(at, event.data.headcount, now, self._ts)
        end = self._occ.rollup_end
        if end is not None and end < self._next_due:
            self._next_due = end
        return self._live_data(at, now) or changed

    def _other(self, event: CloudEvent, now: datetime) -> bool:
        at = event.time.astimezone(UTC)
        if isinstance(event, TicketEvent):
            changed = self._live_data(at, now)
            if self._last_reset_at is None or at >= self._last_reset_at:
                data = event.data
                changed |= self._queues.apply(event.type, data.service_id, data.ticket_id, at, now)
        elif isinstance(event, SlotsPublished):
            slots = event.data
            changed = self._appointments.apply(
                slots.service_id, slots.next_available_at, slots.free_slots_7d, at, event.id, now
            )
        elif isinstance(event, CaseEvent):
            case = event.data
            changed = self._processing.apply(event.type, case.procedure_id, case.case_id, at, now)
        elif isinstance(event, ClosureDeclared):
            changed = self._closures.declare(event.data, at, now)
        elif isinstance(event, ClosureEnded):
            changed = self._closures.end(event.data.closure_id, at)
        elif isinstance(event, EquipmentStatusChanged):
            changed = self._equipment.apply(event.data, at, now)
        else:
            return False  # feedback and other events do not make the status
        windows = self._closures.windows()
        if self._schedule.needs_refresh(now, windows):
            changed |= self._schedule.refresh(now, windows)
            changed |= self._update_stale(now)
        self._next_due = self._compute_next_due(now)
        return changed

    def _live_data(self, at: datetime, now: datetime) -> bool:
        """Note live data seen at ``at``; True when that ended staleness."""
        if at > now:
            at = now
        last = self._last_data_at
        if last is None or at > last:
            self._last_data_at = at
        if not self._has_live_data:
            self._has_live_data = True
            self._next_due = self._compute_next_due(now)
        if self._stale:
            return self._update_stale(now)
        return False

    # -- timers -----------------------------------------------------------------------------

    def _run_timers(self, now: datetime) -> bool:
        changed = False
        hours = self._hours
        if not self._started:
            self._started = True
            self._last_reset_at = _as_utc(last_reset_at_or_before(hours, now))
            if self._last_reset_at is not None:
                self._occ.reset(self._last_reset_at, now)
            self._schedule.next_reset_at = next_reset_after(hours, now)
        changed |= self._closures.mark_overdue(now)
        changed |= self._equipment.mark_overdue(now)
        reset_at = self._schedule.next_reset_at
        if reset_at is not None and now >= reset_at:
            last = (last_reset_at_or_before(hours, now) or reset_at).astimezone(UTC)
            changed |= self._occ.reset(last, now)
            changed |= self._queues.reset(now)
            self._last_reset_at = last
            self._schedule.next_reset_at = next_reset_after(hours, now)
        windows = self._closures.windows()
        if self._schedule.needs_refresh(now, windows):
            changed |= self._schedule.refresh(now, windows)
        changed |= self._occ.advance(now)
        changed |= self._queues.refresh(now)
        changed |= self._appointments.refresh(now)
        changed |= self._processing.expire(now)
        changed |= self._update_stale(now)
        self._next_due = self._compute_next_due(now)
        return changed

    def _stale_at(self) -> datetime | None:
        """When the facility becomes stale if nothing arrives (None: it cannot)."""
        last = self._last_data_at
        since = self._schedule.open_since
        if not self._has_live_data or last is None or not self._schedule.is_open:
            return None
        start = last if since is None or last > since else since
        return start + self.config.stale_after

    def _update_stale(self, now: datetime) -> bool:
        due = self._stale_at()
        stale = due is not None and now >= due
        if stale == self._stale:
            return False
        self._stale = stale
        return True

    def _compute_next_due(self, now: datetime) -> datetime:
        candidates = (
            self._schedule.valid_until,
            self._schedule.next_reset_at,
            self._closures.next_timer(),
            self._equipment.next_timer(),
            self._occ.next_timer(),
            self._queues.next_timer(),
            self._appointments.next_timer(now),
            self._processing.next_timer(),
            None if self._stale else self._stale_at(),
        )
        due = min((c for c in candidates if c is not None and c > now), default=_NEVER)
        return due if due is _NEVER else due.astimezone(UTC)

    def _bump(self, now: datetime) -> None:
        self._seq += 1
        self._updated_at = now
        self._status = None

    # -- status -----------------------------------------------------------------------------

    def _build(self) -> FacilityStatus:
        facility = self.facility
        schedule = self._schedule
        return FacilityStatus(
            facility_id=facility.id,
            name=facility.name,
            type=facility.type,
            arrondissement=facility.arrondissement,
            seq=self._seq,
            updated_at=(self._updated_at or EPOCH).astimezone(PARIS),
            open_state=schedule.open_state,
            today_hours=schedule.today_hours,
            next_change_at=None if schedule.state is None else schedule.state.next_change_at,
            closures=self._closures.views(),
            occupancy=self._occ.view(),
            queues=self._queues.views(),
            appointments=self._appointments.views(),
            processing=self._processing.views(),
            stale=self._stale,
            last_data_at=_in_paris(self._last_data_at),
            hours_confidence=facility.hours_confidence_on(
                (self._updated_at or EPOCH).astimezone(PARIS).date()
            ),
            accessibility=self._equipment.view(),
        )

    # -- snapshots --------------------------------------------------------------------------

    def to_snapshot(self) -> dict[str, Any]:
        """Everything the machine knows, JSON-ready; :meth:`from_snapshot` restores it exactly."""
        return {
            "version": SNAPSHOT_VERSION,
            "facility_id": self._fid,
            "config": _config_out(self.config),
            "seq": self._seq,
            "updated_at": time_out(self._updated_at),
            "started": self._started,
            "next_due": None if self._next_due is _NEVER else time_out(self._next_due),
            "last_reset_at": time_out(self._last_reset_at),
            "last_data_at": time_out(self._last_data_at),
            "has_live_data": self._has_live_data,
            "stale": self._stale,
            "dedup": self._dedup.ids(),
            "occupancy": self._occ.to_dict(),
            "queues": self._queues.to_dict(),
            "appointments": self._appointments.to_dict(),
            "processing": self._processing.to_dict(),
            "closures": self._closures.to_dict(),
            "equipment": self._equipment.to_dict(),
            "schedule": self._schedule.to_dict(),
            "status": self.status().model_dump(mode="json"),
        }

    @classmethod
    def from_snapshot(
        cls, facility: Facility, data: dict[str, Any], config: MachineConfig = DEFAULT_CONFIG
    ) -> FacilityMachine:
        """The machine a snapshot was taken of; :class:`BadSnapshot` when it cannot be."""
        if data.get("version") != SNAPSHOT_VERSION:
            raise BadSnapshot(f"snapshot version {data.get('version')!r} is not {SNAPSHOT_VERSION}")
        if data.get("facility_id") != facility.id:
            raise BadSnapshot(f"snapshot of {data.get('facility_id')!r} given for {facility.id!r}")
        machine = cls(facility, config)
        try:
            machine._load(data)
        except (KeyError, TypeError, ValueError) as exc:
            raise BadSnapshot(f"damaged snapshot of {facility.id!r}: {exc!r}") from exc
        return machine

    def _load(self, data: dict[str, Any]) -> None:
        self._seq = int(data["seq"])
        self._updated_at = time_in(data["updated_at"])
        self._started = bool(data["started"])
        next_due = time_in(data["next_due"])
        self._next_due = _NEVER if next_due is None else next_due
        self._last_reset_at = time_in(data["last_reset_at"])
        self._last_data_at = time_in(data["last_data_at"])
        self._has_live_data = bool(data["has_live_data"])
        self._stale = bool(data["stale"])
        self._dedup = RecentIds(self.config.dedup_capacity, data["dedup"])
        self._occ.load(data["occupancy"])
        self._queues.load(data["queues"])
        self._appointments.load(data["appointments"])
        self._processing.load(data["processing"])
        self._closures.load(data["closures"])
        self._equipment.load(data.get("equipment") or {"live": []})  # older snapshots: none
        self._schedule.load(data["schedule"], self._closures.windows())
        self._status = FacilityStatus.model_validate(data["status"])


def _as_utc(value: datetime | None) -> datetime | None:
    return None if value is None else value.astimezone(UTC)


def _in_paris(value: datetime | None) -> datetime | None:
    return None if value is None else value.astimezone(PARIS)


@cache
def _config_out(config: MachineConfig) -> dict[str, Any]:
    """The configuration as JSON-ready values (for the record: a snapshot says what it ran with).

    Encoded once per configuration (it is frozen, and every machine of a worker shares one): the
    snapshots of a round share this dict, which nobody mutates (it is only serialised). It was
    ``dataclasses.asdict`` — a deep copy — per machine, 40 % of a snapshot round (issue 18)."""
    out: dict[str, Any] = {}
    for name, value in ((f.name, getattr(config, f.name)) for f in fields(config)):
        if isinstance(value, timedelta):
            out[name] = value.total_seconds()
        elif isinstance(value, tuple):
            out[name] = list(value)
        else:
            out[name] = value
    return out
