"""Records handed to aiokafka as batches, one per topic-partition.

Hot path: records are grouped by topic-partition into aiokafka ``BatchBuilder`` s (one future per
batch instead of one per event); the partition is Kafka's default (murmur2 of the key), cached per
facility. Kafka's record timestamp is the send time; the event ``time`` stays in the envelope.
"""

from __future__ import annotations

import asyncio
from collections import defaultdict
from collections.abc import Sequence
from typing import Any, Protocol, TypeVar

from aiokafka import AIOKafkaProducer
from aiokafka.partitioner import murmur2

from producers.spool import Record


class HasRecord(Protocol):
    """A record to send, bare (:class:`Direct`) or from the spool (``SpooledRecord``)."""

    @property
    def record(self) -> Record: ...


class Direct:
    """A record sent straight to Kafka (``.record`` like a :class:`SpooledRecord`)."""

    __slots__ = ("record",)

    def __init__(self, record: Record) -> None:
        self.record = record


T = TypeVar("T", bound=HasRecord)
Sent = list[tuple[list[T], "asyncio.Future[Any]"]]
"""The batches aiokafka owns, each with its members and its delivery future."""


class PartitionBatcher:
    """Groups records by topic-partition and hands each group to aiokafka as whole batches."""

    def __init__(self) -> None:
        self._keys: dict[str, tuple[bytes, int]] = {}
        self._partitions: dict[str, list[int]] = {}

    def forget_partitions(self) -> None:
        """Drop the partition lists (a new producer asks the cluster again)."""
        self._partitions.clear()

    async def _partition_list(self, producer: AIOKafkaProducer, topic: str) -> list[int]:
        partitions = self._partitions.get(topic)
        if partitions is None:
            partitions = sorted(await producer.partitions_for(topic))
            self._partitions[topic] = partitions
        return partitions

    async def enqueue(self, producer: AIOKafkaProducer, items: Sequence[T], out: Sent[T]) -> None:
        """Hand records to aiokafka as batches, one future per batch appended to ``out`` as soon
        as aiokafka owns it (so the caller knows exactly what was handed over if this raises)."""
        groups: dict[tuple[str, int], list[tuple[T, bytes]]] = defaultdict(list)
        keys = self._keys
        for item in items:
            record = item.record
            partitions = self._partitions.get(record.topic)
            if partitions is None:
                partitions = await self._partition_list(producer, record.topic)
            cached = keys.get(record.facility_id)
            if cached is None:
                key = record.facility_id.encode()
                cached = keys[record.facility_id] = (key, murmur2(key) & 0x7FFFFFFF)
            groups[(record.topic, partitions[cached[1] % len(partitions)])].append(
                (item, cached[0])
            )
        for (topic, partition), group in groups.items():
            builder = producer.create_batch()
            members: list[T] = []
            for item, key in group:
                record = item.record
                if builder.append(key=key, value=record.value, timestamp=None) is None:
                    await _send_batch(producer, builder, topic, partition, members, out)
                    builder, members = producer.create_batch(), []
                    builder.append(key=key, value=record.value, timestamp=None)
                members.append(item)
            if members:
                await _send_batch(producer, builder, topic, partition, members, out)


async def _send_batch(
    producer: AIOKafkaProducer,
    builder: Any,
    topic: str,
    partition: int,
    members: list[T],
    out: Sent[T],
) -> None:
    builder.close()  # no lingering: the batch is complete
    future = await producer.send_batch(builder, topic, partition=partition)
    future.add_done_callback(_consume_exception)
    out.append((members, future))


def _consume_exception(future: asyncio.Future[Any]) -> None:
    """Mark a batch failure as seen (the publisher inspects every batch future itself)."""
    if not future.cancelled():
        future.exception()
