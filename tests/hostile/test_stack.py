"""Hostile inputs against the whole platform as ``paris-live up`` runs it (worker, feedback job,
API): each input gets its answer (4xx, close code, dead letter with a reason), then the platform is
checked to keep serving (:meth:`Stack.assert_serving`). The table lands in
``test-artifacts/hostile.json``; RELIABILITY.md reports it.

The reproductions of issue 13 are here exactly as they were found; the per-component suites
(``test_http_inputs``, ``test_ws_inputs``, ``test_stream_inputs``, ``test_supervisor``) cover more
variants against each part.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import os
import signal
from collections.abc import AsyncIterator
from typing import Any

import httpx
import orjson
import pytest
from aiokafka.partitioner import murmur2

from paris_live.settings import Settings
from schemas import topics as contract
from schemas.events import EventType, make_event
from tests.hostile.stackkit import Outcome, Stack, dead_letters, new_id, report
from tests.streams.streams_testkit import pg_count, quiet_facilities, wait_until

pytestmark = [pytest.mark.integration, pytest.mark.slow]


@pytest.fixture(scope="module")
async def stack(
    base_settings: Settings, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[Stack]:
    """``paris-live up --no-simulate`` on topics, schema and Redis keys of this module's own."""
    import uuid

    from psycopg import sql

    from paris_live.db import connect
    from paris_live.kafka_admin import delete_topics, ensure_topics

    tag = uuid.uuid4().hex[:10]
    settings = base_settings.model_copy(
        update={"topic_prefix": f"h{tag}.", "redis_prefix": f"h{tag}:", "db_schema": f"h_{tag}"}
    )
    created = await ensure_topics(settings)
    probe, *_ = quiet_facilities(1, min_capacity=200)
    stack = Stack(settings, tmp_path_factory.mktemp("stack"), probe)
    try:
        await stack.start()
        yield stack
    finally:
        await stack.stop()
        print(f"--- up ---\n{stack.output()[-4000:]}")
        await delete_topics(settings, created)
        async with await connect(settings, autocommit=True) as conn:
            await conn.execute(
                sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(
                    sql.Identifier(settings.db_schema)
                )
            )


def _event_doc(
    type_: EventType, facility_id: str, data: dict[str, Any], **kw: Any
) -> dict[str, Any]:
    """A valid event as a JSON document, to be made hostile by the test."""
    event = make_event(type_, facility_id, data, source=f"/tests/{facility_id}", **kw)
    return orjson.loads(event.to_json())  # type: ignore[no-any-return]


def _at(offset: int, topic: str) -> Any:
    return lambda letter: letter["offset"] == offset and letter["topic"].endswith(topic)


async def test_nul_in_a_survey_answer_is_refused_and_never_stops_the_feedback_job(
    stack: Stack,
) -> None:
    """A NUL byte in a survey answer: 422 naming the field over HTTP; the same record put straight
    on Kafka is dead-lettered and the feedback job keeps its pid and stores the next answer."""
    outcome = Outcome("survey with NUL in `liked` (HTTP, then raw on Kafka)", "")
    before = stack.children()
    async with httpx.AsyncClient(base_url=stack.base, timeout=10) as http:
        answer = await http.post(
            "/v1/facilities/piscine-alfred-nakache/feedback",
            json={"rating": 3, "liked": "a\u0000b"},
        )
    assert answer.status_code == 422, answer.text
    error = answer.json()["error"]
    assert "liked" in error["message"], error
    data = {"response_id": new_id(), "channel": "web", "rating": 3, "liked": "a\u0000b"}
    poison = _event_doc(
        EventType.SURVEY_SUBMITTED, "piscine-alfred-nakache", {**data, "liked": "ok"}
    )
    poison["data"]["liked"] = "a\u0000b"
    offset = await stack.send(contract.SURVEYS, b"piscine-alfred-nakache", orjson.dumps(poison))
    good = make_event(
        EventType.SURVEY_SUBMITTED,
        "piscine-alfred-nakache",
        {**data, "response_id": new_id(), "liked": "accueil"},
        source="/tests/survey",
    )
    await stack.send(contract.SURVEYS, b"piscine-alfred-nakache", good.to_json())
    letters = await dead_letters(
        stack.settings, within=60, want=1, match=_at(offset, contract.SURVEYS)
    )
    assert letters, "the poison survey is not in dead-letters"

    async def stored() -> bool:
        query = "SELECT count(*) FROM survey_responses WHERE event_id = %s"
        return await pg_count(stack.settings, query, good.id) == 1

    await wait_until(stored, within=60, what="the next survey answer in PostgreSQL")
    assert stack.children()["feedback"] == before["feedback"], "the feedback job was restarted"
    outcome.answer = (
        f"HTTP 422 « {error['message']} »; on Kafka: dead letter `{letters[0]['reason']}`"
    )
    outcome.checks.append("feedback job same pid, next answer stored")
    await stack.assert_serving(outcome.checks)
    report(outcome)


async def test_nul_in_a_gate_id_goes_to_dead_letters_and_history_goes_on(stack: Stack) -> None:
    """A passage whose gate_id holds a NUL is dead-lettered; later passages reach history and the
    worker's checkpoints keep advancing."""
    outcome = Outcome("passage with NUL in `gate_id`", "")
    fid = stack.probe_facility
    doc = _event_doc(
        EventType.PASSAGE_COUNTED, fid, {"gate_id": "tripode-1", "direction": "in", "count": 1}
    )
    doc["data"]["gate_id"] = "tri\u0000pode"
    offset = await stack.send(contract.PASSAGES, fid.encode(), orjson.dumps(doc))
    good = make_event(
        EventType.PASSAGE_COUNTED,
        fid,
        {"gate_id": "tripode-1", "direction": "in", "count": 1},
        source="/tests/gate",
    )
    await stack.send(contract.PASSAGES, fid.encode(), good.to_json())
    letters = await dead_letters(
        stack.settings, within=60, want=1, match=_at(offset, contract.PASSAGES)
    )
    assert letters, "the NUL passage is not in dead-letters"

    async def in_history() -> bool:
        return (
            await pg_count(
                stack.settings, "SELECT count(*) FROM events WHERE event_id = %s", good.id
            )
            == 1
        )

    await wait_until(in_history, within=60, what="the next passage in history")
    outcome.answer = f"dead letter `{letters[0]['reason']}` (field {letters[0]['field']})"
    outcome.checks.append("next passage in history")
    await stack.assert_serving(outcome.checks)
    report(outcome)


@pytest.mark.parametrize("kind", ["headcount", "passage"])
async def test_an_event_dated_2999_is_refused_and_never_freezes_occupancy(
    stack: Stack, kind: str
) -> None:
    """A headcount or passage dated 2999 goes to dead-letters as time_out_of_range; a headcount
    measured now is then shown as it is."""
    outcome = Outcome(f"{kind} dated 2999", "")
    fid = stack.probe_facility
    future = dt.datetime(2999, 1, 1, 12, tzinfo=dt.UTC)
    if kind == "headcount":
        value = stack.headcount(fid, 7, at=future)
        topic = contract.HEADCOUNTS
    else:
        data = {"gate_id": "tripode-1", "direction": "in", "count": 5}
        value = make_event(EventType.PASSAGE_COUNTED, fid, data, source="/t", time=future).to_json()
        topic = contract.PASSAGES
    offset = await stack.send(topic, fid.encode(), value)
    letters = await dead_letters(stack.settings, within=60, want=1, match=_at(offset, topic))
    assert letters and letters[0]["reason"] == "time_out_of_range", letters
    outcome.answer = "dead letter `time_out_of_range`"
    await stack.assert_serving(outcome.checks)  # a headcount "now" is shown exactly
    report(outcome)


async def test_a_60_mb_anonymous_body_is_refused_before_it_is_read(stack: Stack) -> None:
    """60 MB of JSON to the closure route without a token: 413 before reading it, the API's
    memory stays put."""
    outcome = Outcome("60 MB anonymous JSON body to the closure route", "")
    before = stack.api_rss_mb()
    chunk = b" " * (1 << 20)

    async def body() -> AsyncIterator[bytes]:
        yield b'{"reason": "other", "message": {"fr": "'
        for _ in range(60):
            yield chunk
        yield b'"}}'

    async with httpx.AsyncClient(base_url=stack.base, timeout=60) as http:
        try:
            answer = await http.post(
                f"/v1/facilities/{stack.probe_facility}/closures",
                content=body(),
                headers={"content-type": "application/json"},
            )
            status = answer.status_code
            shape = answer.json()["error"]["code"]
        except httpx.WriteError:  # the server answered and closed while we were still sending
            status, shape = 413, "closed while sending"
    assert status == 413, status
    after = stack.api_rss_mb()
    outcome.answer = f"413 ({shape})"
    outcome.figures = {"api_rss_before_mb": round(before, 1), "api_rss_after_mb": round(after, 1)}
    assert after < before + 50, outcome.figures
    await stack.assert_serving(outcome.checks)
    report(outcome)


async def test_a_client_that_never_reads_and_resubscribes_4000_times_is_cut_off(
    stack: Stack,
) -> None:
    """4,000 subscribes in a row from a client that never reads: it is told or closed, the API's
    memory stays bounded and the other clients keep their updates."""
    outcome = Outcome("WebSocket: 4,000 re-subscribes without reading", "")
    before = stack.api_rss_mb()
    reader, writer = await asyncio.open_connection("127.0.0.1", stack.port)
    key = "dGhlIHNhbXBsZSBub25jZQ=="
    writer.write(
        (
            f"GET /v1/live HTTP/1.1\r\nHost: 127.0.0.1:{stack.port}\r\nUpgrade: websocket\r\n"
            f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n"
        ).encode()
    )
    await writer.drain()
    head = await reader.readuntil(b"\r\n\r\n")
    assert b" 101 " in head, head
    payload = orjson.dumps({"op": "subscribe", "filter": {}})
    frame = _masked_text_frame(payload)
    sent = 0
    try:
        for _ in range(4000):
            writer.write(frame)
            sent += 1
            if writer.transport.get_write_buffer_size() > (1 << 20):
                await asyncio.wait_for(writer.drain(), 10)
    except (ConnectionError, TimeoutError):
        pass  # the server closed, or stopped reading a client that floods it
    peak = stack.api_rss_mb()
    close_code = await _close_code(reader)
    writer.close()
    after = stack.api_rss_mb()
    outcome.answer = f"closed by the server with {close_code}" if close_code else "still open"
    outcome.figures = {
        "subscribes_sent": sent,
        "api_rss_before_mb": round(before, 1),
        "api_rss_peak_mb": round(peak, 1),
        "api_rss_after_mb": round(after, 1),
    }
    assert peak < before + 80, outcome.figures
    await stack.assert_serving(outcome.checks)
    report(outcome)


async def _close_code(reader: asyncio.StreamReader) -> int | None:
    """Read what the server sends until its close frame; its code (``None`` if it never closes)."""
    buffer = b""
    try:
        while True:
            chunk = await asyncio.wait_for(reader.read(1 << 16), 15)
            if not chunk:
                return None
            buffer += chunk
            while len(buffer) >= 2:
                opcode, size, start = buffer[0] & 0x0F, buffer[1] & 0x7F, 2
                if size == 126:
                    size, start = int.from_bytes(buffer[2:4], "big"), 4
                elif size == 127:
                    size, start = int.from_bytes(buffer[2:10], "big"), 10
                if len(buffer) < start + size:
                    break
                if opcode == 0x8:
                    return int.from_bytes(buffer[start : start + 2], "big")
                buffer = buffer[start + size :]
    except (TimeoutError, ConnectionError):
        return None


def _masked_text_frame(payload: bytes) -> bytes:
    """One client→server text frame (RFC 6455: clients mask)."""
    mask = os.urandom(4)
    masked = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
    size = len(payload)
    head = bytes([0x81]) + (
        bytes([0x80 | size]) if size < 126 else bytes([0x80 | 126]) + size.to_bytes(2, "big")
    )
    return head + mask + masked


async def test_an_oversize_dead_letter_never_loses_the_others(stack: Stack) -> None:
    """A 1 MB bad event (just under the broker's message limit) among ten small bad ones: all eleven
    reach dead-letters, the big one's raw bytes truncated."""
    outcome = Outcome("1 MB malformed event among 10 small ones", "")
    fid = stack.probe_facility
    offsets = []
    big = b'{"specversion": "1.0", "junk": "' + b"x" * 1_000_000 + b'"}'
    for i in range(11):
        value = big if i == 5 else b'{"not": "an event", "i": %d}' % i
        offsets.append(await stack.send(contract.PASSAGES, fid.encode(), value))
    wanted = set(offsets)
    letters = await dead_letters(
        stack.settings,
        within=60,
        want=11,
        match=lambda letter: (
            letter["topic"].endswith(contract.PASSAGES) and letter["offset"] in wanted
        ),
    )
    assert {letter["offset"] for letter in letters} == wanted
    big_letter = next(letter for letter in letters if letter["offset"] == offsets[5])
    raw_header = big_letter["_headers"].get("raw", b"")
    assert len(raw_header) < 1_000_000, "the raw bytes were not truncated"
    outcome.answer = (
        f"11/11 dead letters (`{big_letter['reason']}`), raw header {len(raw_header)} B"
    )
    outcome.figures = {"raw_header_bytes": len(raw_header)}
    await stack.assert_serving(outcome.checks)
    report(outcome)


async def test_an_event_on_the_wrong_partition_is_forwarded_not_dropped(stack: Stack) -> None:
    """A headcount a CRC32-partitioning client put on another partition is applied, not refused."""
    outcome = Outcome("headcount on the wrong partition (librdkafka CRC32 partitioner)", "")
    fid = stack.probe_facility
    partitions = stack.settings.partitions
    right = (murmur2(fid.encode()) & 0x7FFFFFFF) % partitions
    wrong = (right + 1) % partitions
    value = stack.headcount(fid, 77)
    offset = await stack.send(contract.HEADCOUNTS, fid.encode(), value, partition=wrong)
    client = stack.client
    assert client is not None

    async def applied() -> bool:
        occupancy = (client.view.get(fid) or {}).get("occupancy") or {}
        return occupancy.get("count") == 77

    await wait_until(applied, within=60, what="the misrouted headcount on a live client")
    letters = await dead_letters(
        stack.settings, within=2, want=1, match=_at(offset, contract.HEADCOUNTS)
    )
    assert not [x for x in letters if x["partition"] == wrong], letters
    outcome.answer = f"forwarded from partition {wrong} to {right} and applied"
    await stack.assert_serving(outcome.checks)
    report(outcome)


@pytest.mark.parametrize(
    ("path", "status"),
    [("/static/pages/pages.css%00.js", 422), ("/static/pages/..%2ftemplates%2flayout.html", 404)],
)
async def test_static_paths_outside_the_assets_are_refused(
    stack: Stack, path: str, status: int
) -> None:
    """A NUL (422, the path rule) or an encoded ``..`` (404, not an asset) in a static path: the
    error shape, never a 500 nor a raw template."""
    outcome = Outcome(f"GET {path}", "")
    async with httpx.AsyncClient(base_url=stack.base, timeout=10) as http:
        answer = await http.get(path)
    assert answer.status_code == status, answer.text[:200]
    assert answer.json()["error"]["code"], answer.text[:200]
    assert "{%" not in answer.text
    outcome.answer = f"{status} {answer.json()['error']['code']}"
    await stack.assert_serving(outcome.checks)
    report(outcome)


async def test_a_killed_api_process_is_restarted_and_the_others_keep_running(stack: Stack) -> None:
    """kill -9 of the API: up restarts it; the worker and the feedback job keep their pids."""
    outcome = Outcome("kill -9 of the API process under up", "")
    before = stack.children()
    os.kill(before["api"], signal.SIGKILL)

    async def back() -> bool:
        now = stack.children()
        return "api" in now and now["api"] != before["api"]

    await wait_until(back, within=60, what="a new API process")
    after = stack.children()
    assert after["worker"] == before["worker"] and after["feedback"] == before["feedback"]
    outcome.answer = "API restarted by up"
    outcome.checks.append("worker and feedback job kept their pids")
    await stack.assert_serving(outcome.checks)
    report(outcome)
