"""Test kit of the pure core tests: a facility, a fake clock and an event factory (no services).

The facility is a pool of capacity 100 open every day 09:00–20:00 (Paris time), with a ticket
queue (``accueil``), a bookable service (``rdv``) and a procedure committed in 30 days. The clock
starts on Tuesday 10 June 2025 at 10:00 Paris time and only moves when a test moves it.
"""

from __future__ import annotations

import itertools
from datetime import datetime, timedelta
from typing import Any

from schemas.catalogue import Facility
from schemas.clock import PARIS
from schemas.events import CloudEvent, EventType, make_event

FACILITY_ID = "piscine-test"
START = datetime(2025, 6, 10, 10, 0, tzinfo=PARIS)

_DAY = [("09:00", "20:00")]


def facility_data(**overrides: Any) -> dict[str, Any]:
    """The test pool as catalogue JSON-like data, with fields replaced by ``overrides``."""
    data: dict[str, Any] = {
        "id": FACILITY_ID,
        "name": "Piscine de test",
        "type": "pool",
        "address": {"street": "19 rue de Pontoise", "postcode": "75005"},
        "arrondissement": 5,
        "location": {"lat": 48.85, "lon": 2.35},
        "capacity": 100,
        "hours": {
            "weekly": {day: _DAY for day in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")},
            "public_holidays": "open",
        },
        "services": [
            {
                "service_id": "accueil",
                "name": {"fr": "Accueil", "en": "Front desk"},
                "bookable": False,
                "queue": True,
            },
            {
                "service_id": "rdv",
                "name": {"fr": "Rendez-vous", "en": "Appointments"},
                "bookable": True,
                "queue": False,
                "procedures": ["passport"],
            },
        ],
        "contacts": [
            {
                "need": "information",
                "service_name": {"fr": "Accueil", "en": "Front desk"},
                "level": "local",
                "phone": "01 00 00 00 00",
            },
            {
                "need": "booking",
                "service_name": {"fr": "Réservations", "en": "Bookings"},
                "level": "local",
                "phone": "01 00 00 00 01",
            },
        ],
        "procedures": [
            {
                "procedure_id": "passport",
                "name": {"fr": "Passeport", "en": "Passport"},
                "committed_days": 30,
            }
        ],
    }
    data.update(overrides)
    return data


def make_facility(**overrides: Any) -> Facility:
    """The test pool (see :func:`facility_data`)."""
    return Facility.model_validate(facility_data(**overrides))


class Clock:
    """A fake clock: ``now`` moves only when told."""

    def __init__(self, start: datetime = START) -> None:
        self.now = start

    def advance(self, **delta: float) -> datetime:
        """Move forward by ``timedelta(**delta)`` and return the new time."""
        self.now = self.now + timedelta(**delta)
        return self.now

    def set(self, when: datetime) -> datetime:
        """Jump to ``when``."""
        self.now = when
        return self.now


class Events:
    """Builds valid contract events for the test facility; ids are unique unless given."""

    def __init__(self, clock: Clock, facility_id: str = FACILITY_ID) -> None:
        self._clock = clock
        self._facility_id = facility_id
        self._ids = itertools.count(1)

    def _make(
        self,
        type_: EventType,
        data: dict[str, Any],
        at: datetime | None,
        id: str | None,
    ) -> CloudEvent:
        return make_event(
            type_,
            self._facility_id,
            data,
            source=f"/test/{self._facility_id}",
            time=self._clock.now if at is None else at,
            id=id if id is not None else f"ev-{next(self._ids)}",
        )

    def passage(
        self,
        direction: str = "in",
        count: int = 1,
        *,
        at: datetime | None = None,
        id: str | None = None,
        gate: str = "g1",
    ) -> CloudEvent:
        """A turnstile passage of ``count`` people."""
        data = {"gate_id": gate, "direction": direction, "count": count}
        return self._make(EventType.PASSAGE_COUNTED, data, at, id)

    def headcount(
        self, headcount: int, *, at: datetime | None = None, id: str | None = None
    ) -> CloudEvent:
        """An absolute headcount from a sensor."""
        data = {"sensor_id": "s1", "headcount": headcount}
        return self._make(EventType.HEADCOUNT_MEASURED, data, at, id)

    def ticket(
        self,
        kind: str,
        ticket_id: str,
        *,
        service: str = "accueil",
        at: datetime | None = None,
        id: str | None = None,
    ) -> CloudEvent:
        """A ticket event: ``kind`` is issued, called, served or abandoned."""
        data = {"service_id": service, "ticket_id": ticket_id}
        return self._make(EventType(f"fr.paris.facilities.ticket.{kind}"), data, at, id)

    def slots(
        self,
        next_available_at: datetime | None,
        *,
        service: str = "rdv",
        free: int = 3,
        at: datetime | None = None,
        id: str | None = None,
    ) -> CloudEvent:
        """A booking system publication."""
        data = {
            "service_id": service,
            "next_available_at": next_available_at,
            "free_slots_7d": free,
        }
        return self._make(EventType.SLOTS_PUBLISHED, data, at, id)

    def case(
        self,
        kind: str,
        case_id: str,
        *,
        procedure: str = "passport",
        at: datetime | None = None,
        id: str | None = None,
    ) -> CloudEvent:
        """A case opened or closed."""
        data = {"procedure_id": procedure, "case_id": case_id}
        return self._make(EventType(f"fr.paris.facilities.case.{kind}"), data, at, id)

    def closure(
        self,
        closure_id: str,
        *,
        scope: dict[str, str] | None = None,
        starts_at: datetime | None = None,
        reopening: datetime | None = None,
        reason: str = "technical_failure",
        message: str = "Fermé pour panne.",
        updated: bool = False,
        at: datetime | None = None,
        id: str | None = None,
    ) -> CloudEvent:
        """A closure declared (or updated, the full new state)."""
        data = {
            "closure_id": closure_id,
            "scope": scope or {"kind": "facility"},
            "reason": reason,
            "message": {"fr": message, "en": "Closed."},
            "starts_at": starts_at or self._clock.now,
            "expected_reopening_at": reopening,
            "declared_by": "agent-1",
        }
        kind = EventType.CLOSURE_UPDATED if updated else EventType.CLOSURE_DECLARED
        return self._make(kind, data, at, id)

    def closure_end(
        self, closure_id: str, *, at: datetime | None = None, id: str | None = None
    ) -> CloudEvent:
        """The end of a closure."""
        return self._make(EventType.CLOSURE_ENDED, {"closure_id": closure_id}, at, id)
