"""A stream worker in a consumer group of the test's choosing, for replay tests.

``python -m streams.cli worker`` always joins the group ``settings.topic("paris-live-streams")``,
so a second worker over the same topics would share the first one's partitions and committed
offsets. A replay needs a group of its own (it starts from offset 0): this module runs the very
same app (``streams.app.create_app``, default options) with ``AppOptions.group_id`` set.

``python -m tests.streams.replay_worker GROUP_ID`` — settings from the ``PARIS_LIVE_*`` environment.
"""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from pathlib import Path

from paris_live.settings import Settings
from tests.streams.streams_testkit import ROOT, WorkerProcess


class GroupWorkerProcess(WorkerProcess):
    """Like :class:`WorkerProcess` (same environment, logs, stop/kill), in consumer group ``group_id``."""

    def __init__(self, settings: Settings, log_dir: Path, group_id: str) -> None:
        self.settings = settings
        self.group_id = group_id
        self.log_path = log_dir / f"worker-{group_id[-12:]}-{uuid.uuid4().hex[:6]}.log"
        env = dict(os.environ)
        env.update(
            PARIS_LIVE_ENV="test",
            PARIS_LIVE_KAFKA_BOOTSTRAP=settings.kafka,
            PARIS_LIVE_REDIS_URL=settings.redis,
            PARIS_LIVE_DATABASE_URL=settings.database,
            PARIS_LIVE_TOPIC_PREFIX=settings.topic_prefix,
            PARIS_LIVE_REDIS_PREFIX=settings.redis_prefix,
            PARIS_LIVE_DB_SCHEMA=settings.db_schema,
            PARIS_LIVE_PARTITIONS=str(settings.partitions),
            PARIS_LIVE_STATE_DIR=str(log_dir / "state"),
            PARIS_LIVE_LOG_JSON="false",
            PARIS_LIVE_LOG_LEVEL="info",
        )
        self._log = self.log_path.open("wb")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "tests.streams.replay_worker", group_id],
            cwd=ROOT,
            env=env,
            stdout=self._log,
            stderr=subprocess.STDOUT,
        )


def main(group_id: str) -> None:
    """Run one worker of ``group_id`` until SIGTERM (what ``streams.cli worker --no-prepare`` does)."""
    from paris_live.logs import configure_logging
    from paris_live.settings import get_settings
    from streams.app import AppOptions, create_app, run_worker

    settings = get_settings()
    configure_logging(settings)
    run_worker(create_app(settings, AppOptions(group_id=group_id)), loglevel="warning")


if __name__ == "__main__":
    main(sys.argv[1])
