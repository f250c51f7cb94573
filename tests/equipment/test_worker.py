"""The stream worker on real Kafka, Redis and PostgreSQL: a lift outage on facility-equipment
reaches the live status (step-free access no), and what the worker cannot process — an
equipment the facility does not have, a kind that is not its kind, an unknown status — is parked
in dead-letters with its reason while the flow continues."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import orjson
import pytest
import redis.asyncio as aioredis

from paris_live.live import facility_key
from paris_live.settings import Settings
from schemas import topics as contract
from schemas.events import EventType, make_event
from tests.equipment.test_api import lifted
from tests.streams.streams_testkit import WorkerProcess, produce, read_dead_letters
from tests.testkit import wait_until

pytestmark = pytest.mark.integration


def report(facility_id: str, **data: Any) -> tuple[str, bytes, bytes]:
    fields: dict[str, Any] = {
        "equipment_id": "lift",
        "kind": "lift",
        "status": "out_of_service",
        "message": {"fr": "Ascenseur hors service."},
        "declared_by": "device:ascenseur-1",
        **data,
    }
    event = make_event(
        EventType.EQUIPMENT_STATUS_CHANGED,
        facility_id,
        fields,
        source=f"/devices/{facility_id}/lift",
    )
    return (contract.EQUIPMENT, facility_id.encode(), event.to_json())


async def test_outages_reach_the_status_and_bad_reports_are_dead_lettered(
    stream_env: Settings, redis_client: aioredis.Redis, workers: list[WorkerProcess], tmp_path: Path
) -> None:
    """Good report → the hall's status shows its lift out of service and step-free access no;
    unknown equipment, wrong kind and an unknown status → three dead letters naming why."""
    settings = stream_env
    hall, other = (f.id for f in lifted())
    wrong_status = report(other)
    doc = orjson.loads(wrong_status[2])
    doc["data"]["status"] = "on_fire"
    bad = [
        report(other, equipment_id="lift-9"),
        report(other, kind="escalator"),
        (contract.EQUIPMENT, other.encode(), orjson.dumps(doc)),
    ]
    workers.append(WorkerProcess(settings, tmp_path))
    await produce(settings, [*bad, report(hall)])

    async def lift_down() -> bool:
        raw = await redis_client.hget(facility_key(settings, hall), "json")
        if raw is None:
            return False
        access = orjson.loads(raw)["accessibility"]
        lift = next(e for e in access["equipment"] if e["equipment_id"] == "lift")
        return bool(lift["status"] == "out_of_service" and access["step_free_access"] == "no")

    await wait_until(lift_down, within=120, what="the hall's lift out of service in its status")
    letters = await read_dead_letters(settings, want=3)
    assert sorted(letter["reason"] for letter in letters) == [
        "invalid_value",
        "unknown_equipment",
        "unknown_equipment",
    ]
    assert {letter["topic"] for letter in letters} == {settings.topic(contract.EQUIPMENT)}
    named = " ".join(letter["message"] for letter in letters)
    assert "lift-9" in named and "escalator" in named
