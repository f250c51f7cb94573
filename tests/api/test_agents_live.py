"""End to end: a closure declared through the API reaches a subscribed WebSocket client through
Kafka and the real stream worker (``bench/closure_latency.py`` measures how fast)."""

from __future__ import annotations

import asyncio
import datetime as dt
import time
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest
import websockets

from api.templates import declared_label
from paris_live.settings import Settings
from tests.api.agents_testkit import bearer, cast, declare, in_an_hour, token
from tests.api.api_testkit import InProcessServer
from tests.streams.streams_testkit import WorkerProcess

pytestmark = pytest.mark.integration


async def _update_where(
    ws: Any, facility_id: str, predicate: Any, within: float
) -> tuple[dict[str, Any], float]:
    deadline = time.monotonic() + within
    while True:
        left = deadline - time.monotonic()
        assert left > 0, f"no matching update for {facility_id} within {within} s"
        message = orjson.loads(await asyncio.wait_for(ws.recv(), left))
        if (
            message["op"] == "update"
            and message["facility"]["facility_id"] == facility_id
            and predicate(message["facility"])
        ):
            return message["facility"], time.monotonic()


async def test_a_declared_closure_reaches_websocket_clients_and_goes_away_when_ended(
    kafka_topics: Settings, api_server: InProcessServer, tmp_path: Path
) -> None:
    """Declared by an agent, the closure shows in the facility's live status pushed to a
    subscribed client (with the time the public card shows as « déclaré par l'équipe à
    HH:MM »); ended, it leaves the status."""
    settings = kafka_topics
    pool = cast().pool_a
    worker = WorkerProcess(settings, tmp_path)
    try:
        agent = token(settings, "agent", pool.id)
        async with (
            httpx.AsyncClient(base_url=api_server.http, timeout=15.0) as http,
            websockets.connect(api_server.ws) as ws,
        ):
            await ws.send(orjson.dumps({"op": "subscribe", "facilities": [pool.id]}).decode())
            assert orjson.loads(await ws.recv())["op"] == "snapshot"
            response = await declare(
                http,
                pool.id,
                agent,
                reason="security",
                message={"fr": "Alerte incendie, évacuation.", "en": "Fire alarm, evacuation."},
                expected_reopening_at=in_an_hour(),
            )
            assert response.status_code == 201, response.text
            created = response.json()
            closure_id = created["closure_id"]

            def listed(status: dict[str, Any]) -> bool:
                return any(c["closure_id"] == closure_id for c in status["closures"])

            status, _ = await _update_where(ws, pool.id, listed, within=90)
            (shown,) = [c for c in status["closures"] if c["closure_id"] == closure_id]
            assert shown["reason"] == "security"
            assert shown["message"]["fr"] == "Alerte incendie, évacuation."
            assert shown["declared_by"] == "agent"
            declared_at = dt.datetime.fromisoformat(shown["declared_at"])
            assert declared_at == dt.datetime.fromisoformat(created["declared_at"])
            label = declared_label(declared_at, dt.datetime.now(dt.UTC))
            assert label.fr == created["declared_label"]["fr"]

            ended = await http.post(f"/v1/closures/{closure_id}/end", headers=bearer(agent))
            assert ended.status_code == 200
            # ended, it leaves the pushed status (a bound against hanging, not a speed target)
            await _update_where(ws, pool.id, lambda s: not listed(s), within=60)
    finally:
        worker.stop()
