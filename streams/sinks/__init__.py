"""Sinks of the stream worker: batched, idempotent writers of what the state machines produce.

- :mod:`streams.sinks.redis` — live status (``paris_live.live`` layout, conditional on ``seq``);
- :mod:`streams.sinks.kafka` — records to ``facility-status`` (compacted) and ``dead-letters``;
- :mod:`streams.sinks.postgres` — history (raw events, status changes, 1-minute rollups) and the
  worker's checkpoints, in one transaction per flush;
- :mod:`streams.sinks.copy_rows` — history rows in COPY text format (encoded on the hot path);
- :mod:`streams.sinks.spool` — history batches waiting for PostgreSQL, in memory then on disk.
"""
