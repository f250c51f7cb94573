"""A producer process for the kill -9 test: publishes passages one by one while Kafka is away and
prints each event id once its publish call returned (i.e. once it is committed to the spool)."""

from __future__ import annotations

import asyncio
import datetime as dt
import sys
from pathlib import Path

from paris_live.logs import configure_logging
from paris_live.settings import Settings
from producers.publisher import Publisher, PublisherOptions
from schemas.events import EventType, make_event

T0 = dt.datetime(2026, 6, 2, 12, 0, tzinfo=dt.UTC)


async def main(spool_path: Path) -> None:
    options = PublisherOptions(
        name="kill9", spool_path=spool_path, connect_timeout_s=1.0, reconnect_backoff_s=(5, 5)
    )
    settings = Settings()
    configure_logging(settings)  # logs on stderr: stdout carries only accepted event ids
    async with Publisher(settings, options) as pub:
        n = 0
        while True:  # until killed
            facility = f"piscine-{n % 9}"
            event = make_event(
                EventType.PASSAGE_COUNTED,
                facility,
                {"gate_id": "g1", "direction": "in", "count": 1},
                source=f"/turnstiles/{facility}/g1",
                time=T0 + dt.timedelta(milliseconds=n),
                id=f"{facility}-{n}",
            )
            await pub.publish(event)
            sys.stdout.write(event.id + "\n")
            sys.stdout.flush()
            n += 1


if __name__ == "__main__":
    asyncio.run(main(Path(sys.argv[1])))
