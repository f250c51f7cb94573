"""How a publisher is configured, what one publish call returns, and what it counts."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from paris_live.settings import Settings


@dataclass(frozen=True, slots=True)
class PublisherOptions:
    """How one publisher talks to Kafka and where it spools (defaults measured by bench/produce)."""

    name: str = "producer"
    """Names the spool file and labels the metrics; one spool per producer process."""
    spool_path: Path | None = None
    """Default: ``<state_dir>/spool/<name>.sqlite3``."""
    spool_max_bytes: int = 1 << 30
    spool_min_free_bytes: int = 64 << 20
    spool_synchronous: Literal["normal", "full"] = "normal"
    linger_ms: int = 5
    max_batch_bytes: int = 512 * 1024
    compression: Literal["none", "lz4"] = "none"
    delivery_timeout_s: float = 10.0
    """How long a publish call waits for Kafka before spooling what is not acknowledged."""
    connect_timeout_s: float = 5.0
    reconnect_backoff_s: tuple[float, float] = (0.2, 5.0)
    drain_chunk: int = 5000
    close_timeout_s: float = 5.0
    """On close, how long to keep draining the spool and flushing before giving up (the rest
    stays in the spool for the next start)."""

    def resolved_spool_path(self, settings: Settings) -> Path:
        return self.spool_path or Path(settings.state_dir) / "spool" / f"{self.name}.sqlite3"


@dataclass(frozen=True, slots=True)
class PublishResult:
    """What became of the events of one call: acknowledged by Kafka, or safely spooled."""

    sent: int = 0
    spooled: int = 0


@dataclass(slots=True)
class PublisherStats:
    """Counters of one publisher since it started (``Publisher.stats``)."""

    sent: int = 0
    spooled: int = 0
    drained: int = 0
    rejected: int = 0
    limbo_resolved: int = 0
    connects: int = 0
    resets: int = 0
