"""The one module that reaches into aiokafka's private producer: failing what it still holds.

An idempotent ``AIOKafkaProducer`` retries a batch for as long as the broker is away, so
``stop()`` would wait forever for it; aiokafka has no public way to give up. The publisher's
session (:meth:`producers.publishing.session.KafkaSession.stop_producer`) therefore fails every
pending batch through the producer's private accumulator, as aiokafka :data:`AIOKAFKA_VERSION`
has it:

- ``AIOKafkaProducer._message_accumulator``: the ``MessageAccumulator`` set in ``__init__``;
- ``MessageAccumulator.fail_all(exception)``: fails every pending batch's futures with it.

:data:`INTERNALS` names them; ``tests/faults/test_framework_internals.py`` checks each against the
installed aiokafka (and that failing works on a real producer) and fails naming the one that
changed. aiokafka is pinned exactly in ``pyproject.toml``: an upgrade means reviewing this module,
then moving the pin and the constant.
"""

from __future__ import annotations

from aiokafka import AIOKafkaProducer

__all__ = ["AIOKAFKA_VERSION", "INTERNALS", "fail_pending"]

AIOKAFKA_VERSION = "0.14.0"
"""The aiokafka release this module was written and checked against."""

INTERNALS: dict[str, str] = {
    "AIOKafkaProducer._message_accumulator": "aiokafka.producer.producer.AIOKafkaProducer.__init__",
    "MessageAccumulator.fail_all(exception)": (
        "aiokafka.producer.message_accumulator.MessageAccumulator.fail_all"
    ),
}
"""What the publisher relies on → where it lives in aiokafka."""


def fail_pending(producer: AIOKafkaProducer, exception: BaseException) -> None:
    """Fail every batch the producer still holds (their ``send`` futures raise ``exception``)."""
    producer._message_accumulator.fail_all(exception)
