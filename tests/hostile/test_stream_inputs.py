"""Issue 13's hostile stream inputs against the real worker and feedback job (Kafka, Redis,
PostgreSQL): each is answered by a dead letter with its reason (or, for a misrouted event, by
being applied), the good events around it are all applied and in history, and the checkpoints
and committed offsets move past it.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import hashlib
import uuid
import zlib
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import orjson
import pytest
import redis.asyncio as aioredis
from psycopg import sql

from paris_live.db import connect
from paris_live.settings import Settings
from schemas import topics as contract
from schemas.events import EventType, make_event
from streams.app import APP_NAME
from streams.feedback.job import FeedbackJob
from streams.worker.partitions import partition_for
from tests.streams.streams_testkit import (
    WorkerProcess,
    committed_past,
    end_offsets,
    occupancy,
    passage,
    pg_count,
    processed_up_to,
    produce,
    produce_at,
    quiet_facilities,
    read_dead_letters,
    wait_until,
)

pytestmark = pytest.mark.integration

SURVEY_FACILITY = "piscine-alfred-nakache"


def _passage_doc(fid: str, gate: str = "tripode-1", **kw: Any) -> dict[str, Any]:
    event = make_event(
        EventType.PASSAGE_COUNTED,
        fid,
        {"gate_id": gate, "direction": "in", "count": 1},
        source=f"/turnstiles/{fid}/{gate}",
        **kw,
    )
    return orjson.loads(event.to_json())  # type: ignore[no-any-return]


def _headcount(fid: str, headcount: int, at: dt.datetime | None = None) -> bytes:
    return make_event(
        EventType.HEADCOUNT_MEASURED,
        fid,
        {"sensor_id": "capteur-1", "headcount": headcount},
        source=f"/sensors/{fid}/capteur-1",
        time=at,
    ).to_json()


def _survey(response_id: str, liked: str = "accueil") -> dict[str, Any]:
    event = make_event(
        EventType.SURVEY_SUBMITTED,
        SURVEY_FACILITY,
        {"response_id": response_id, "channel": "web", "rating": 3, "liked": liked},
        source="/tests/survey",
    )
    return orjson.loads(event.to_json())  # type: ignore[no-any-return]


async def _is(value: Any, expected: object) -> bool:
    return bool(await value == expected)


async def _all_done(settings: Settings) -> None:
    """Every input record produced so far has its effects stored and its offset committed."""
    ends = await end_offsets(settings)
    await wait_until(lambda: processed_up_to(settings, ends), within=60, what="checkpoints")
    group = settings.topic(APP_NAME)

    async def committed() -> bool:
        for (topic, partition), end in ends.items():
            base = topic.removeprefix(settings.topic_prefix)
            if not await committed_past(settings, group, base, partition, end - 1):
                return False
        return True

    await wait_until(committed, within=60, what="offsets committed past every record")


async def _constraint(settings: Settings, table: str, check: str) -> None:
    """A CHECK constraint PostgreSQL enforces on this test's schema (a row it refuses for good)."""
    async with await connect(settings, autocommit=True) as conn:
        await conn.execute(
            sql.SQL("ALTER TABLE {} ADD CONSTRAINT hostile_poison CHECK ({})").format(
                sql.Identifier(table), sql.SQL(check)
            )
        )


# -- the worker ---------------------------------------------------------------------------------


async def test_nul_in_a_gate_id_is_dead_lettered_and_history_goes_on(
    stream_env: Settings,
    redis_client: aioredis.Redis,
    workers: list[WorkerProcess],
    tmp_path: Path,
) -> None:
    """A passage whose gate_id holds a NUL is an invalid_value dead letter; the 20 passages
    around it are applied and in history, checkpoints and offsets move past it."""
    settings = stream_env
    fid = quiet_facilities(1, min_capacity=50)[0]
    poison = _passage_doc(fid)
    poison["data"]["gate_id"] = "tri\u0000pode"
    records = [passage(fid, "in") for _ in range(10)]
    records.append((contract.PASSAGES, fid.encode(), orjson.dumps(poison)))
    records += [passage(fid, "in") for _ in range(10)]
    workers.append(WorkerProcess(settings, tmp_path))
    await produce(settings, records)

    letters = await read_dead_letters(settings, want=1, within=90)
    assert [(x["reason"], x["field"]) for x in letters] == [("invalid_value", "data.gate_id")]
    assert orjson.loads(letters[0]["payload"])["id"] == poison["id"]
    await wait_until(lambda: _is(occupancy(redis_client, settings, fid), 20), within=60)
    await wait_until(lambda: _is(pg_count(settings, "SELECT count(*) FROM events"), 20), within=60)
    await _all_done(settings)


async def test_a_history_row_postgresql_refuses_is_dead_lettered_and_checkpoints_advance(
    stream_env: Settings,
    redis_client: aioredis.Redis,
    workers: list[WorkerProcess],
    tmp_path: Path,
) -> None:
    """A valid passage PostgreSQL refuses for good (a constraint) among 40 good ones: the good
    rows are in history, the refused one is a permanent_error dead letter with its offset, and
    the checkpoints and committed offsets keep advancing."""
    settings = stream_env
    await _constraint(settings, "events", "data->>'gate_id' IS DISTINCT FROM 'refused-gate'")
    fid = quiet_facilities(1, min_capacity=50)[0]
    poison = _passage_doc(fid, gate="refused-gate")
    records = [passage(fid, "in") for _ in range(20)]
    records.append((contract.PASSAGES, fid.encode(), orjson.dumps(poison)))
    records += [passage(fid, "in") for _ in range(20)]
    workers.append(WorkerProcess(settings, tmp_path))
    await produce(settings, records)

    letters = await read_dead_letters(settings, want=1, within=90)
    assert len(letters) == 1, letters
    letter = letters[0]
    assert letter["reason"] == "permanent_error" and "hostile_poison" in letter["message"]
    assert letter["topic"] == settings.topic(contract.PASSAGES)
    assert letter["partition"] == partition_for(fid, settings.partitions)
    assert orjson.loads(letter["payload"])["id"] == poison["id"]
    await wait_until(lambda: _is(occupancy(redis_client, settings, fid), 41), within=60)
    await wait_until(lambda: _is(pg_count(settings, "SELECT count(*) FROM events"), 40), within=60)
    await _all_done(settings)
    # the flow goes on after it: ten more passages reach history
    await produce(settings, [passage(fid, "in") for _ in range(10)])
    await wait_until(lambda: _is(pg_count(settings, "SELECT count(*) FROM events"), 50), within=60)
    await _all_done(settings)


@pytest.mark.parametrize("kind", ["headcount", "passage"])
async def test_an_event_dated_2999_is_refused_and_never_freezes_occupancy(
    stream_env: Settings,
    redis_client: aioredis.Redis,
    workers: list[WorkerProcess],
    tmp_path: Path,
    kind: str,
) -> None:
    """A headcount or passage dated 2999 is a time_out_of_range dead letter; a headcount measured
    now is then shown exactly, and passages after it add to it."""
    settings = stream_env
    fid = quiet_facilities(1, min_capacity=50)[0]
    future = dt.datetime(2999, 1, 1, 12, tzinfo=dt.UTC)
    if kind == "headcount":
        hostile = (contract.HEADCOUNTS, fid.encode(), _headcount(fid, 40, at=future))
    else:
        doc = _passage_doc(fid, time=future)
        doc["data"]["count"] = 5
        hostile = (contract.PASSAGES, fid.encode(), orjson.dumps(doc))
    workers.append(WorkerProcess(settings, tmp_path))
    await produce(settings, [passage(fid, "in"), hostile])
    letters = await read_dead_letters(settings, want=1, within=90)
    assert [(x["reason"], x["field"]) for x in letters] == [("time_out_of_range", "time")]
    await wait_until(lambda: processed_up_to_now(settings), within=60, what="hostile processed")

    await produce(settings, [(contract.HEADCOUNTS, fid.encode(), _headcount(fid, 7))])
    await wait_until(lambda: _is(occupancy(redis_client, settings, fid), 7), within=60)
    await produce(settings, [passage(fid, "in"), passage(fid, "in")])
    await wait_until(lambda: _is(occupancy(redis_client, settings, fid), 9), within=60)
    await wait_until(lambda: _is(pg_count(settings, "SELECT count(*) FROM events"), 4), within=60)
    await _all_done(settings)


async def processed_up_to_now(settings: Settings) -> bool:
    return await processed_up_to(settings, await end_offsets(settings))


async def test_a_1_mb_event_among_ten_bad_ones_gives_eleven_dead_letters(
    stream_env: Settings,
    redis_client: aioredis.Redis,
    workers: list[WorkerProcess],
    tmp_path: Path,
) -> None:
    """A 1 MB malformed event among ten small ones: eleven dead letters, the big one's raw bytes
    cut to 64 KiB with its size and SHA-256 recorded; the passages after them are applied."""
    settings = stream_env
    fid = quiet_facilities(1, min_capacity=50)[0]
    big = b'{"specversion": "1.0", "junk": "' + b"x" * 1_000_000 + b'"}'
    workers.append(WorkerProcess(settings, tmp_path))
    offsets = []
    for i in range(11):
        value = big if i == 5 else b'{"not": "an event", "i": %d}' % i
        offsets.append((await produce_at(settings, contract.PASSAGES, fid.encode(), value))[1])
    await produce(settings, [passage(fid, "in") for _ in range(5)])

    letters = await read_dead_letters(settings, want=11, within=90)
    assert sorted(x["offset"] for x in letters) == sorted(offsets)
    assert all(x["reason"] and x["topic"] == settings.topic(contract.PASSAGES) for x in letters)
    letter = next(x for x in letters if x["offset"] == offsets[5])
    assert letter["raw_size"] == len(big) and letter["raw_truncated"] is True
    assert letter["raw_sha256"] == hashlib.sha256(big).hexdigest()
    headers = letter["_headers"]
    assert headers["raw"] == big[: 64 * 1024]
    assert headers["raw-size"] == str(len(big)).encode()
    assert headers["raw-sha256"] == hashlib.sha256(big).hexdigest().encode()
    small = [x for x in letters if x["offset"] != offsets[5]]
    assert all(not x["raw_truncated"] for x in small)
    await wait_until(lambda: _is(occupancy(redis_client, settings, fid), 5), within=60)
    await wait_until(lambda: _is(pg_count(settings, "SELECT count(*) FROM events"), 5), within=60)
    await _all_done(settings)


async def test_an_event_partitioned_by_crc32_is_forwarded_and_applied(
    stream_env: Settings,
    redis_client: aioredis.Redis,
    workers: list[WorkerProcess],
    tmp_path: Path,
) -> None:
    """A headcount put on the partition librdkafka's CRC32 partitioner picks (not murmur2's) is
    forwarded to its facility's partition and applied, never dead-lettered; the offset of the
    wrong partition is committed past it."""
    settings = stream_env
    n = settings.partitions
    fid = next(
        f
        for f in quiet_facilities(20, min_capacity=50)
        if zlib.crc32(f.encode()) % n != partition_for(f, n)
    )
    wrong = zlib.crc32(fid.encode()) % n
    right = partition_for(fid, n)
    workers.append(WorkerProcess(settings, tmp_path))
    value = _headcount(fid, 33)
    where = await produce_at(settings, contract.HEADCOUNTS, fid.encode(), value, partition=wrong)
    assert where[0] == wrong
    await wait_until(lambda: _is(occupancy(redis_client, settings, fid), 33), within=90)
    event_id = orjson.loads(value)["id"]
    query = "SELECT count(*) FROM events WHERE event_id = %s AND kafka_partition = %s"
    await wait_until(lambda: _is(pg_count(settings, query, event_id, right), 1), within=60)
    await _all_done(settings)
    assert await committed_past(settings, settings.topic(APP_NAME), contract.HEADCOUNTS, *where)
    assert await read_dead_letters(settings, want=1, within=3) == []


# -- the feedback job ---------------------------------------------------------------------------


@pytest.fixture
async def feedback_env(
    kafka_topics: Settings, db: Settings, tmp_path: Path
) -> AsyncIterator[tuple[Settings, FeedbackJob]]:
    """This test's topics and schema, and the feedback job consuming them in the background."""
    settings = kafka_topics.model_copy(update={"state_dir": tmp_path})
    job = FeedbackJob(settings, group_id=settings.topic(f"feedback-{uuid.uuid4().hex[:6]}"))
    stop = asyncio.Event()
    task = asyncio.create_task(job.run(stop), name="feedback-job")
    yield settings, job
    stop.set()
    await asyncio.wait_for(task, timeout=30)


async def _surveys_stored(settings: Settings, n: int) -> bool:
    return await pg_count(settings, "SELECT count(*) FROM survey_responses") == n


async def _job_committed(settings: Settings, job: FeedbackJob, partition: int, offset: int) -> bool:
    return await committed_past(settings, job.group_id, contract.SURVEYS, partition, offset)


async def test_nul_in_a_survey_answer_is_dead_lettered_and_the_feedback_job_goes_on(
    feedback_env: tuple[Settings, FeedbackJob],
) -> None:
    """The exact reproduction — `liked: "a\\u0000b"` put straight on Kafka — is an invalid_value
    dead letter; the job keeps running, stores the answers around it and commits past it."""
    settings, job = feedback_env
    poison = _survey("srv-poison")
    poison["data"]["liked"] = "a\u0000b"
    key = SURVEY_FACILITY.encode()
    await produce_at(settings, contract.SURVEYS, key, orjson.dumps(_survey("srv-before")))
    where = await produce_at(settings, contract.SURVEYS, key, orjson.dumps(poison))
    last = await produce_at(settings, contract.SURVEYS, key, orjson.dumps(_survey("srv-after")))

    letters = await read_dead_letters(settings, want=1, within=60)
    assert [(x["reason"], x["field"], x["offset"]) for x in letters] == [
        ("invalid_value", "data.liked", where[1])
    ]
    await wait_until(lambda: _surveys_stored(settings, 2), within=60, what="the two answers")
    await wait_until(lambda: _job_committed(settings, job, *last), within=60, what="commit")
    assert job.stats.dead_letters == 1


async def test_a_survey_postgresql_refuses_is_dead_lettered_and_its_batch_is_stored(
    feedback_env: tuple[Settings, FeedbackJob],
) -> None:
    """A valid answer PostgreSQL refuses for good (a constraint), in one batch with 20 good ones:
    it is a permanent_error dead letter naming the constraint, the 20 others are stored and
    counted, and the job commits past the batch."""
    settings, job = feedback_env
    await _constraint(settings, "survey_responses", "liked IS DISTINCT FROM 'refused-text'")
    key = SURVEY_FACILITY.encode()
    records = [(contract.SURVEYS, key, orjson.dumps(_survey(f"srv-{i}"))) for i in range(10)]
    records.append((contract.SURVEYS, key, orjson.dumps(_survey("srv-x", liked="refused-text"))))
    records += [(contract.SURVEYS, key, orjson.dumps(_survey(f"srv-{i}"))) for i in range(10, 20)]
    await produce(settings, records)
    ends = await end_offsets_of(settings, contract.SURVEYS)

    letters = await read_dead_letters(settings, want=1, within=60)
    assert len(letters) == 1, letters
    assert letters[0]["reason"] == "permanent_error"
    assert "hostile_poison" in letters[0]["message"]
    assert orjson.loads(letters[0]["payload"])["data"]["response_id"] == "srv-x"
    await wait_until(lambda: _surveys_stored(settings, 20), within=60, what="20 answers")
    overall = await pg_count(
        settings, "SELECT responses FROM satisfaction_monthly WHERE aspect = 'overall'"
    )
    assert overall == 20
    for partition, end in ends.items():
        await wait_until(
            lambda p=partition, e=end: _job_committed(settings, job, p, e - 1),
            within=60,
            what="commit past the batch",
        )


async def end_offsets_of(settings: Settings, base: str) -> dict[int, int]:
    """The next offset of each partition of a (base) topic that holds records."""
    from aiokafka import AIOKafkaConsumer, TopicPartition

    consumer = AIOKafkaConsumer(bootstrap_servers=settings.kafka)
    await consumer.start()
    try:
        tps = [TopicPartition(settings.topic(base), p) for p in range(settings.partitions)]
        ends = await consumer.end_offsets(tps)
    finally:
        await consumer.stop()
    return {tp.partition: end for tp, end in ends.items() if end}
