"""Complaints and survey answers go through the outbox: an API process killed between the database
commit and Kafka loses nothing — another API process relays what it left behind, once."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from paris_live.db import connect
from paris_live.settings import Settings
from schemas import topics
from schemas.catalogue import load_catalogue
from tests.api.api_testkit import ROOT
from tests.feedback.feedback_testkit import read_topic
from tests.testkit import wait_until

POOL = load_catalogue().by_type("pool")[0]
# This engineer's range (18500–18599): two API processes, and a Kafka address nobody listens on.
PORT_A, PORT_B = 18580, 18581
NO_KAFKA = "127.0.0.1:18590"


class ApiProcess:
    """``python -m api.cli serve`` on a port of ours, in its own process group."""

    def __init__(self, settings: Settings, port: int, state_dir: Path, kafka: str) -> None:
        self.port = port
        state_dir.mkdir(parents=True, exist_ok=True)
        self.log_path = state_dir / f"api-{port}.log"
        self._log = self.log_path.open("wb")
        env = {
            **os.environ,
            "PARIS_LIVE_ENV": "test",
            "PARIS_LIVE_REDIS_URL": settings.redis,
            "PARIS_LIVE_DATABASE_URL": settings.database,
            "PARIS_LIVE_KAFKA_BOOTSTRAP": kafka,
            "PARIS_LIVE_REDIS_PREFIX": settings.redis_prefix,
            "PARIS_LIVE_TOPIC_PREFIX": settings.topic_prefix,
            "PARIS_LIVE_DB_SCHEMA": settings.db_schema,
            "PARIS_LIVE_STATE_DIR": str(state_dir),
            "PARIS_LIVE_LOG_LEVEL": "warning",
            "PYTHONPATH": str(ROOT),
        }
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "api.cli", "serve", "--port", str(port), "--workers", "1"],
            cwd=ROOT,
            env=env,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    @property
    def http(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def ready(self) -> None:
        async def answers() -> bool:
            try:
                async with httpx.AsyncClient(timeout=2) as client:
                    return (await client.get(f"{self.http}/v1/healthz")).status_code == 200
            except httpx.HTTPError:
                return False

        await wait_until(answers, within=60, every=0.5, what=f"API on {self.port}")

    def kill(self) -> None:
        """kill -9 of the whole process group: no lifespan, no flush, no goodbye."""
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGKILL)
        self.proc.wait(timeout=10)

    def stop(self) -> None:
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(timeout=5)
        self._log.close()


@pytest.fixture
def processes() -> Iterator[list[ApiProcess]]:
    started: list[ApiProcess] = []
    yield started
    for process in started:
        process.stop()


async def _pending(settings: Settings) -> dict[str, Any]:
    async with await connect(settings, autocommit=True) as conn:
        cur = await conn.execute("SELECT event_id, published_at FROM closure_outbox")
        return {str(r[0]): r[1] for r in await cur.fetchall()}


@pytest.mark.timeout(240)
async def test_a_killed_api_process_outbox_is_relayed_by_another(
    fault_env: Settings, tmp_path: Path, processes: list[ApiProcess]
) -> None:
    """Committed, never sent, process killed: the other process publishes each event once."""
    # A: Kafka unreachable, so every event is committed to the outbox and none reaches Kafka.
    a = ApiProcess(fault_env, PORT_A, tmp_path / "a", NO_KAFKA)
    processes.append(a)
    await a.ready()
    async with httpx.AsyncClient(base_url=a.http, timeout=20) as client:
        filed = await client.post(
            "/v1/complaints",
            json={
                "facility_id": POOL.id,
                "rule": "welcome",
                "topic": "cleanliness",
                "text": "Vestiaires sales le 3 juin vers 18 h, personne pour nettoyer.",
            },
        )
        assert filed.status_code == 201, filed.text
        reference = filed.json()["reference"]
        answered = await client.post(
            f"/v1/facilities/{POOL.id}/feedback", json={"rating": 2, "liked": "l'accueil"}
        )
        assert answered.status_code == 202, answered.text
    pending = await _pending(fault_env)
    assert f"{reference}:filed" in pending and len(pending) == 2
    assert all(at is None for at in pending.values()), "nothing reached Kafka"
    a.kill()

    # B: a healthy process of the same deployment. It never received these requests.
    b = ApiProcess(fault_env, PORT_B, tmp_path / "b", fault_env.kafka)
    processes.append(b)
    await b.ready()

    async def all_published() -> bool:
        return all(at is not None for at in (await _pending(fault_env)).values())

    await wait_until(all_published, within=60, every=0.5, what="outbox relayed by B")

    complaints = await read_topic(fault_env, topics.COMPLAINTS, expect=1)
    routed = await read_topic(fault_env, topics.COMPLAINTS_ROUTED, expect=1)
    surveys = await read_topic(fault_env, topics.SURVEYS, expect=1)
    assert [v["id"] for _, v in complaints] == [f"{reference}:filed"]
    assert [k for k, _ in complaints] == [POOL.id]
    assert [v["id"] for _, v in routed] == [f"{reference}:filed"]
    assert [k for k, _ in routed] == [filed.json()["service"]["service_id"]]
    assert len(surveys) == 1 and surveys[0][1]["data"]["rating"] == 2
    assert surveys[0][0] == POOL.id
