"""The latency Kafka itself adds: produce → consume, beside a Redis publish → subscribe (issue 18).

    .venv/bin/python -m bench.kafka_floor [--rate 2000] [--seconds 20]

``bench.e2e`` compares its p99 (event handed to Kafka → WebSocket client) with a baseline that
skips the whole worker path (statuses written straight to Redis → the API → the same clients).
This bench measures the one hop of the worker path that no code of ours runs: records of ~300
bytes keyed over the 1,166 facilities, at ``rate`` per second for ``seconds``, from an aiokafka
producer with the producers' settings (``linger_ms=5``, ``acks=all``, idempotence) to an aiokafka
consumer of the same 4-partition topic, in one process on an otherwise idle machine — and, as the
baseline, the same messages through a Redis channel (``PUBLISH`` → a subscriber). Latency =
receive time − the send time carried in the message. The topic is deleted afterwards.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import time
import uuid
from collections.abc import Awaitable, Callable, Iterable

PAD = b"x" * 280  # ~300 bytes, the size of a facility event


def quantiles(samples: list[float]) -> dict[str, float]:
    samples = sorted(samples)

    def at(q: float) -> float:
        return round(samples[min(len(samples) - 1, int(q * len(samples)))], 2)

    return {"p50_ms": at(0.5), "p99_ms": at(0.99), "p999_ms": at(0.999), "max_ms": at(1.0)}


async def paced(rate: int, seconds: float, send: Callable[[int, bytes], Awaitable[object]]) -> int:
    """Call ``send(n, payload)`` ``rate`` times a second for ``seconds``; the number sent."""
    started, sent = time.monotonic(), 0
    while (elapsed := time.monotonic() - started) < seconds:
        while sent < int(elapsed * rate):
            await send(sent, f"{time.time():.6f}".encode() + PAD)
            sent += 1
        await asyncio.sleep(0.002)
    return sent


class Tally:
    """Latency samples, and an event set once ``expect``'s count has arrived."""

    def __init__(self) -> None:
        self.samples: list[float] = []
        self.want: int | None = None
        self.complete = asyncio.Event()

    def add(self, values: Iterable[float]) -> None:
        self.samples.extend(values)
        self._check()

    def expect(self, n: int) -> None:
        self.want = n
        self._check()

    def _check(self) -> None:
        if self.want is not None and len(self.samples) >= self.want:
            self.complete.set()

    async def wait(self, within: float = 10.0) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self.complete.wait(), within)


def latency_ms(payload: bytes, now: float) -> float:
    return (now - float(payload[: payload.index(b"x")])) * 1000


async def kafka_hop(bootstrap: str, rate: int, seconds: float) -> dict[str, float]:
    from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
    from aiokafka.admin import AIOKafkaAdminClient, NewTopic

    topic = f"bench-kafka-floor-{uuid.uuid4().hex[:8]}"
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    await admin.create_topics([NewTopic(topic, num_partitions=4, replication_factor=1)])
    consumer = AIOKafkaConsumer(topic, bootstrap_servers=bootstrap, auto_offset_reset="earliest")
    producer = AIOKafkaProducer(
        bootstrap_servers=bootstrap, linger_ms=5, acks="all", enable_idempotence=True
    )
    tally = Tally()
    try:
        await consumer.start()
        await producer.start()

        async def consume() -> None:
            while True:
                batches = await consumer.getmany(timeout_ms=500)
                now = time.time()
                tally.add(latency_ms(m.value, now) for ms in batches.values() for m in ms)

        async def send(n: int, payload: bytes) -> None:
            await producer.send(topic, payload, key=f"facility-{n % 1166}".encode())

        reader = asyncio.create_task(consume())
        await asyncio.sleep(1.0)  # the consumer has its partitions
        sent = await paced(rate, seconds, send)
        await producer.flush()
        tally.expect(sent)
        await tally.wait()
        reader.cancel()
    finally:
        await producer.stop()
        await consumer.stop()
        await admin.delete_topics([topic])
        await admin.close()
    return {**quantiles(tally.samples), "sent": sent, "received": len(tally.samples)}


async def redis_hop(url: str, rate: int, seconds: float) -> dict[str, float]:
    import redis.asyncio as aioredis

    channel = f"bench-kafka-floor-{uuid.uuid4().hex[:8]}"
    publisher, subscriber = aioredis.from_url(url), aioredis.from_url(url)
    pubsub = subscriber.pubsub()
    await pubsub.subscribe(channel)
    tally = Tally()

    async def consume() -> None:
        async for message in pubsub.listen():
            if message["type"] == "message":
                tally.add([latency_ms(message["data"], time.time())])

    reader = asyncio.create_task(consume())
    try:
        await asyncio.sleep(0.5)
        sent = await paced(rate, seconds, lambda _n, payload: publisher.publish(channel, payload))
        tally.expect(sent)
        await tally.wait()
    finally:
        reader.cancel()
        await pubsub.aclose()
        await publisher.aclose()
        await subscriber.aclose()
    return {**quantiles(tally.samples), "sent": sent, "received": len(tally.samples)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rate", type=int, default=2000, help="messages per second")
    parser.add_argument("--seconds", type=float, default=20.0)
    args = parser.parse_args()
    from bench.common import write_result
    from paris_live.settings import Settings

    settings = Settings()
    load = os.getloadavg()
    kafka = asyncio.run(kafka_hop(settings.kafka, args.rate, args.seconds))
    redis = asyncio.run(redis_hop(settings.redis, args.rate, args.seconds))
    print(f"  kafka produce → consume: {kafka}")
    print(f"  redis publish → subscribe: {redis}")
    write_result(
        "kafka_floor",
        kafka["p99_ms"],
        "ms",
        "Redis PUBLISH → subscriber p99, same messages and rate",
        redis["p99_ms"],
        "a floor, not a goal: what Kafka alone adds to bench/e2e's worker path (issue 18)",
        rate=args.rate,
        seconds=args.seconds,
        kafka=kafka,
        redis=redis,
        kafka_p50_ms=kafka["p50_ms"],
        redis_p50_ms=redis["p50_ms"],
        load_average_start=[round(x, 2) for x in load],
    )


if __name__ == "__main__":
    main()
