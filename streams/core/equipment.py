"""Live accessibility of one facility: each equipment's state and step-free access. No I/O.

Fed by ``equipment.status_changed`` (the full state of one equipment, so replays are harmless).
Per equipment, the latest event ``time`` wins: an older report arriving late changes nothing, a
report with the same time and the same content is a duplicate. ``out_of_service`` / ``degraded``
keep ``since`` from the first report of the outage (an update of the message or of the expected
return does not restart it); ``in_service`` ends the outage and forgets its words.

``overdue`` is set when ``expected_back_at`` passes while the equipment is not in service
(:meth:`EquipmentBook.mark_overdue`, a timer of the machine).

Step-free access (:meth:`EquipmentBook.step_free`):

* ``unknown`` when the catalogue does not say the facility is step-free (its baseline);
* ``no`` when an equipment on the step-free route (a lift on the only step-free way in) is out of
  service — a degraded one still carries people;
* ``yes`` otherwise.

An ``equipment_id`` the catalogue does not list for the facility, or a ``kind`` that is not the
listed one, is refused with :class:`~schemas.errors.InvalidEvent` (``unknown_equipment``): the
worker parks it in ``dead-letters`` — a device reporting for an equipment nobody knows is a
misconfiguration to fix, not a fact to show.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from schemas.catalogue import Facility
from schemas.clock import PARIS
from schemas.equipment import CatalogueEquipment, baseline_step_free, equipment_of
from schemas.errors import InvalidEvent, Reason
from schemas.events import EquipmentState, EquipmentStatusData
from schemas.provenance import ESTIMATED
from schemas.status import Accessibility, EquipmentStatus, StepFreeAccess
from streams.core.snapshot import req_time

__all__ = ["EquipmentBook"]


@dataclass(slots=True)
class _Live:
    data: EquipmentStatusData
    since: datetime
    changed_at: datetime
    overdue: bool = False


class EquipmentBook:
    """The equipment of one facility and the latest report of each."""

    __slots__ = ("_baseline", "_catalogue", "_estimated", "_live", "_view")

    def __init__(self, facility: Facility) -> None:
        self._catalogue: dict[str, CatalogueEquipment] = {
            e.equipment_id: e for e in equipment_of(facility)
        }
        self._baseline = StepFreeAccess(baseline_step_free(facility))
        self._estimated = facility.sources.get("accessibility", ESTIMATED) == ESTIMATED
        self._live: dict[str, _Live] = {}
        self._view: Accessibility | None = None

    def apply(self, data: EquipmentStatusData, at: datetime, now: datetime) -> bool:
        """Apply one status report made at ``at``; True when the public view changed."""
        known = self._catalogue.get(data.equipment_id)
        if known is None:
            listed = ", ".join(self._catalogue) or "none"
            raise InvalidEvent(
                Reason.UNKNOWN_EQUIPMENT,
                "data.equipment_id",
                f"data.equipment_id: {data.equipment_id!r} is not an equipment of the facility "
                f"(listed: {listed})",
            )
        if known.kind != data.kind:
            raise InvalidEvent(
                Reason.UNKNOWN_EQUIPMENT,
                "data.kind",
                f"data.kind: {data.equipment_id!r} is a {known.kind.value}, not a {data.kind.value}",
            )
        current = self._live.get(data.equipment_id)
        if current is None or current.data.status is EquipmentState.IN_SERVICE:
            since = at
        elif at < current.changed_at or (at == current.changed_at and data == current.data):
            return False
        else:
            since = at if data.status is EquipmentState.IN_SERVICE else current.since
        if current is not None and at < current.changed_at:
            return False
        live = _Live(data, since, at, self._is_overdue(data, now))
        self._live[data.equipment_id] = live
        self._view = None
        return current is None or (current.data, current.since, current.overdue) != (
            live.data,
            live.since,
            live.overdue,
        )

    @staticmethod
    def _is_overdue(data: EquipmentStatusData, now: datetime) -> bool:
        back = data.expected_back_at
        return data.status is not EquipmentState.IN_SERVICE and back is not None and back <= now

    def mark_overdue(self, now: datetime) -> bool:
        """Set ``overdue`` on outages whose expected return passed; True when one changed."""
        changed = False
        for live in self._live.values():
            overdue = self._is_overdue(live.data, now)
            if overdue != live.overdue:
                live.overdue = overdue
                changed = True
        if changed:
            self._view = None
        return changed

    def next_timer(self) -> datetime | None:
        """The next expected return that would make an outage overdue."""
        due = [
            live.data.expected_back_at
            for live in self._live.values()
            if not live.overdue
            and live.data.expected_back_at is not None
            and live.data.status is not EquipmentState.IN_SERVICE
        ]
        return min(due, default=None)

    def step_free(self) -> StepFreeAccess:
        """Step-free access now (see the module docstring)."""
        if self._baseline is not StepFreeAccess.YES:
            return self._baseline
        for equipment_id, live in self._live.items():
            if (
                live.data.status is EquipmentState.OUT_OF_SERVICE
                and self._catalogue[equipment_id].step_free_route
            ):
                return StepFreeAccess.NO
        return StepFreeAccess.YES

    def view(self) -> Accessibility:
        """The public ``accessibility`` part: every listed equipment, catalogue order (built once
        per change)."""
        if self._view is None:
            self._view = self._build()
        return self._view

    def _build(self) -> Accessibility:
        items = []
        for equipment_id, known in self._catalogue.items():
            live = self._live.get(equipment_id)
            base = {
                "equipment_id": equipment_id,
                "kind": known.kind,
                "name": known.name,
                "step_free_route": known.step_free_route,
                "estimated": known.source == ESTIMATED,
            }
            if live is None:
                items.append(EquipmentStatus(**base))
                continue
            data, working = live.data, live.data.status is EquipmentState.IN_SERVICE
            items.append(
                EquipmentStatus(
                    **base,
                    status=data.status,
                    area=data.area,
                    message=None if working else data.message,
                    since=live.since.astimezone(PARIS),
                    expected_back_at=None if working else data.expected_back_at,
                    declared_by=data.declared_by,
                    overdue=live.overdue,
                )
            )
        return Accessibility(
            step_free_access=self.step_free(), equipment=items, estimated=self._estimated
        )

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready state."""
        return {
            "live": [
                {
                    "data": live.data.model_dump(mode="json"),
                    "since": live.since.isoformat(),
                    "changed_at": live.changed_at.isoformat(),
                    "overdue": live.overdue,
                }
                for live in self._live.values()
            ]
        }

    def load(self, data: dict[str, Any]) -> None:
        """Restore the state written by :meth:`to_dict` (equipment the catalogue no longer lists
        is dropped)."""
        self._live = {}
        self._view = None
        for item in data["live"]:
            # strict model: JSON mode parses RFC 3339 text as the codec does for events
            report = EquipmentStatusData.model_validate_json(json.dumps(item["data"]))
            if report.equipment_id in self._catalogue:
                self._live[report.equipment_id] = _Live(
                    report,
                    req_time(item["since"]),
                    req_time(item["changed_at"]),
                    bool(item["overdue"]),
                )
