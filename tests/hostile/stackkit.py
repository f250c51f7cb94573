"""The whole platform as ``paris-live up`` runs it, for the hostile-input suite: its processes, the
checks every hostile input is followed by, and the report (``test-artifacts/hostile.json``).

After each hostile input, :meth:`Stack.assert_serving` checks what a Parisian and an operator
would notice:

* ``/v1/healthz`` answers 200 and a normal ``/v1/live`` client receives a fresh status (a
  headcount produced now reaches it — through Kafka, the worker, Redis and the API);
* every input record before that headcount has its effects stored (the worker's checkpoints
  advanced past it: no partition frozen, nothing acknowledged left behind);
* every process ``up`` started is alive (a restarted one counts as alive, its pid is reported);
* the API's resident memory stays below :data:`API_RSS_BOUND_MB`.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import os
import signal
import subprocess
import sys
import time
import uuid
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import httpx
import orjson
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer

from paris_live.settings import Settings
from schemas import topics as contract
from schemas.events import EventType, make_event
from tests.faults.faultkit import LiveClient
from tests.streams.streams_testkit import end_offsets, free_port, processed_up_to, wait_until
from tests.testkit import merge_report

ROOT = Path(__file__).resolve().parents[2]
REPORT = ROOT / "test-artifacts" / "hostile.json"
API_RSS_BOUND_MB = 400
"""The API's resident memory after any hostile input (it idles at 120–160 MB with the catalogue)."""


def rss_mb(pid: int) -> float:
    """Resident memory of a process, in MB (``VmRSS`` of ``/proc``)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise AssertionError(f"no VmRSS for pid {pid}")


@dataclass
class Outcome:
    """One hostile input and what the platform did with it (a row of the report's table)."""

    input: str
    answer: str
    checks: list[str] = field(default_factory=list)
    figures: dict[str, Any] = field(default_factory=dict)


def report(outcome: Outcome) -> None:
    """Print the figures and merge them into ``test-artifacts/hostile.json``."""
    merge_report(REPORT, outcome.input, asdict(outcome))


class Stack:
    """``paris-live up --no-simulate`` on this test module's own topics, schema and Redis keys."""

    def __init__(self, settings: Settings, state_dir: Path, probe_facility: str) -> None:
        self.settings = settings
        self.state_dir = state_dir
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.probe_facility = probe_facility
        self.probe_count = 0
        self.env = {
            **os.environ,
            "PARIS_LIVE_KAFKA_BOOTSTRAP": settings.kafka,
            "PARIS_LIVE_REDIS_URL": settings.redis,
            "PARIS_LIVE_DATABASE_URL": settings.database,
            "PARIS_LIVE_TOPIC_PREFIX": settings.topic_prefix,
            "PARIS_LIVE_REDIS_PREFIX": settings.redis_prefix,
            "PARIS_LIVE_DB_SCHEMA": settings.db_schema,
            "PARIS_LIVE_STATE_DIR": str(state_dir),
            "PARIS_LIVE_API_PORT": str(self.port),
            "PARIS_LIVE_PUBLIC_BASE_URL": self.base,
            "COLUMNS": "200",
        }
        self.up: subprocess.Popen[bytes] | None = None
        self.client: LiveClient | None = None
        self.producer: AIOKafkaProducer | None = None

    # -- life cycle ---------------------------------------------------------------------------

    def launch(self) -> None:
        """Start ``up`` (returns at once)."""
        with (self.state_dir / "up.out").open("wb") as out:
            self.up = subprocess.Popen(
                [sys.executable, "-m", "paris_live.cli", "up", "--no-simulate"],
                env=self.env,
                stdout=out,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,
            )

    async def start(self) -> None:
        """Start ``up``, wait for its processes, connect the producer and a normal live client."""
        self.launch()
        await wait_until(self._healthy, within=180, every=0.5, what="the API of up")
        await wait_until(self._all_children, within=60, every=0.5, what="worker and feedback job")
        self.producer = AIOKafkaProducer(
            bootstrap_servers=self.settings.kafka,
            enable_idempotence=True,
            linger_ms=2,
            max_request_size=2 << 20,
        )
        await self.producer.start()
        self.client = LiveClient([f"ws://127.0.0.1:{self.port}/v1/live"], [self.probe_facility])
        self.client.start()
        await asyncio.wait_for(self.client.subscribed.wait(), 30)

    async def stop(self) -> None:
        if self.client is not None:
            await self.client.stop()
        if self.producer is not None:
            await self.producer.stop()
        if self.up is not None and self.up.poll() is None:
            self.up.send_signal(signal.SIGINT)
            try:
                self.up.wait(60)
            except subprocess.TimeoutExpired:
                os.killpg(self.up.pid, signal.SIGKILL)
                self.up.wait()

    def output(self) -> str:
        return (self.state_dir / "up.out").read_text(errors="replace")

    # -- the processes up started ---------------------------------------------------------------

    def children(self) -> dict[str, int]:
        """Role (``api``, ``worker``, ``feedback``) → pid of the live processes of this stack."""
        found: dict[str, int] = {}
        marker = f"PARIS_LIVE_TOPIC_PREFIX={self.settings.topic_prefix}".encode()
        for proc in Path("/proc").iterdir():
            if not proc.name.isdigit() or (self.up and int(proc.name) == self.up.pid):
                continue
            try:
                if marker not in (proc / "environ").read_bytes().split(b"\0"):
                    continue
                argv = (proc / "cmdline").read_bytes().split(b"\0")
                state = (proc / "stat").read_text().split(") ", 1)[1][0]
            except OSError:
                continue
            if state == "Z":
                continue
            words = [a.decode(errors="replace") for a in argv]
            if "paris_live.cli" not in words:
                continue
            rest = words[words.index("paris_live.cli") + 1 :]
            role = {"api": "api", "worker": "worker", "feedback": "feedback"}.get(
                rest[0] if rest else ""
            )
            if role and role not in found:
                found[role] = int(proc.name)
        return found

    async def _all_children(self) -> bool:
        return {"api", "worker", "feedback"} <= set(self.children())

    async def _healthy(self) -> bool:
        assert self.up is not None
        if self.up.poll() is not None:
            raise AssertionError(f"up exited with {self.up.returncode}:\n{self.output()[-3000:]}")
        try:
            async with httpx.AsyncClient(timeout=3) as http:
                return (await http.get(f"{self.base}/v1/healthz")).status_code == 200
        except httpx.HTTPError:
            return False

    def api_rss_mb(self) -> float:
        return rss_mb(self.children()["api"])

    # -- producing ------------------------------------------------------------------------------

    async def send(
        self, topic: str, key: bytes | None, value: bytes, partition: int | None = None
    ) -> int:
        """Produce one record to this stack's ``topic``; returns its offset once acknowledged."""
        assert self.producer is not None
        meta = await (
            await self.producer.send(
                self.settings.topic(topic), value, key=key, partition=partition
            )
        )
        return int(meta.offset)

    def headcount(self, facility_id: str, count: int, *, at: dt.datetime | None = None) -> bytes:
        return make_event(
            EventType.HEADCOUNT_MEASURED,
            facility_id,
            {"sensor_id": "capteur-1", "headcount": count},
            source=f"/sensors/{facility_id}/capteur-1",
            time=at,
        ).to_json()

    # -- what a user and an operator notice -----------------------------------------------------

    async def assert_serving(self, checks: list[str]) -> None:
        """The platform still serves (see the module docstring); appends what was checked."""
        assert self.up is not None and self.up.poll() is None, self.output()[-3000:]
        await wait_until(self._healthy, within=60, every=0.3, what="/v1/healthz 200")
        checks.append("healthz 200")
        assert self.client is not None
        self.probe_count += 1
        want = 10 + 3 * self.probe_count
        client = self.client
        seq_before = int((client.view.get(self.probe_facility) or {}).get("seq", 0))
        await self.send(
            contract.HEADCOUNTS,
            self.probe_facility.encode(),
            self.headcount(self.probe_facility, want),
        )

        async def seen() -> bool:
            status = client.view.get(self.probe_facility) or {}
            occupancy = status.get("occupancy") or {}
            return int(status.get("seq", 0)) > seq_before and occupancy.get("count") == want

        await wait_until(seen, within=30, every=0.05, what="the probe headcount on a live client")
        checks.append("a normal live client got its update")
        ends = await end_offsets(self.settings)

        async def stored() -> bool:
            return await processed_up_to(self.settings, ends)

        await wait_until(stored, within=60, every=0.5, what="checkpoints past every record")
        checks.append("checkpoints advanced past every record")
        alive = self.children()
        assert {"api", "worker", "feedback"} <= set(alive), alive
        checks.append("api, worker and feedback job alive")
        rss = self.api_rss_mb()
        assert rss < API_RSS_BOUND_MB, f"API RSS {rss:.0f} MB"
        checks.append(f"API RSS {rss:.0f} MB < {API_RSS_BOUND_MB} MB")


async def dead_letters(
    settings: Settings, *, within: float, want: int, match: Any
) -> list[dict[str, Any]]:
    """The dead letters of ``settings`` whose JSON satisfies ``match`` — at least ``want`` of them
    (waits up to ``within`` seconds for them to be written)."""
    topic = settings.topic(contract.DEAD_LETTERS)
    consumer = AIOKafkaConsumer(
        topic,
        bootstrap_servers=settings.kafka,
        enable_auto_commit=False,
        auto_offset_reset="earliest",
        group_id=None,
    )
    await consumer.start()
    found: list[dict[str, Any]] = []
    try:
        deadline = time.monotonic() + within
        while len(found) < want and time.monotonic() < deadline:
            batch = await consumer.getmany(timeout_ms=500)
            for records in batch.values():
                for record in records:
                    with contextlib.suppress(ValueError):
                        letter = orjson.loads(record.value)
                        letter["_headers"] = {k: v for k, v in record.headers or ()}
                        if match(letter):
                            found.append(letter)
    finally:
        await consumer.stop()
    return found


def new_id() -> str:
    return f"hostile-{uuid.uuid4()}"
