"""The lift controller adapter: a device's reports reach the API's equipment outage routes (the
audited path), only changes are forwarded, and the API's refusals are relayed."""

from __future__ import annotations

import httpx
import pytest

from paris_live.settings import Settings
from producers.adapters.equipment import EquipmentAdapter
from producers.adapters.http import bound_port, serve
from tests.api.agents_testkit import rows, token
from tests.api.api_testkit import InProcessServer
from tests.equipment.test_api import lifted

pytestmark = pytest.mark.integration


async def test_a_lift_controller_reports_its_outage_and_its_return(
    kafka_topics: Settings, api_server: InProcessServer, settings: Settings
) -> None:
    """out_of_service → one audited outage (repeats are not forwarded), in_service → ended, in
    service again → unchanged; another facility's lift → 403 relayed; an unknown kind → 422."""
    hall, other = lifted()
    device = token(settings, "device", hall.id, subject="ascenseur-ctrl-7")
    runner = await serve(EquipmentAdapter(api_server.http, device).app(), "127.0.0.1", 0)
    report = {"facility_id": hall.id, "equipment_id": "lift", "kind": "lift"}
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{bound_port(runner)}") as client:
        down = await client.post("/equipment", json={**report, "status": "out_of_service"})
        repeat = await client.post("/equipment", json={**report, "status": "out_of_service"})
        up = await client.post("/equipment", json={**report, "status": "in_service"})
        still_up = await client.post("/equipment", json={**report, "status": "in_service"})
        foreign = await client.post(
            "/equipment", json={**report, "facility_id": other.id, "status": "out_of_service"}
        )
        bad_kind = await client.post(
            "/equipment", json={**report, "kind": "teleporter", "status": "degraded"}
        )
        malformed = await client.post("/equipment", json={**report, "status": "broken"})
    await runner.cleanup()

    assert down.status_code == 201, down.text
    assert down.json()["declared_by"] == "ascenseur-ctrl-7"
    assert (repeat.status_code, repeat.json()) == (
        200,
        {"unchanged": True, "status": "out_of_service"},
    )
    assert up.status_code == 200 and up.json()["ended_at"] is not None
    assert (still_up.status_code, still_up.json()["unchanged"]) == (200, True)
    assert foreign.status_code == 403
    assert bad_kind.status_code == 422 and "teleporter" in bad_kind.json()["error"]["message"]
    assert malformed.status_code == 400
    actions = await rows(
        settings, "SELECT action FROM audit_log WHERE facility_id = %s ORDER BY audit_id", hall.id
    )
    assert actions == [("equipment.declared",), ("equipment.ended",)]
