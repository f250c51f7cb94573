"""Redis from Debian's ``redis-server``, bound to 127.0.0.1, persisted with an append-only file."""

from __future__ import annotations

import os
import shutil
from collections.abc import Sequence

from paris_live.services.base import LocalService, ServiceMissing, apt_install


class RedisService(LocalService):
    name = "redis"

    def binary(self) -> str:
        path = shutil.which("redis-server") or "/usr/bin/redis-server"
        if not os.path.exists(path):
            apt_install("redis-server")
        if not os.path.exists(path):
            raise ServiceMissing("redis: `redis-server` is missing: `apt-get install redis-server`")
        return path

    def prepare(self) -> None:
        self.binary()
        (self.root / "data").mkdir(parents=True, exist_ok=True)

    def command(self) -> Sequence[str]:
        return [
            self.binary(),
            "--bind",
            "127.0.0.1",
            "--port",
            str(self.port),
            "--dir",
            str(self.root / "data"),
            "--appendonly",
            "yes",
            "--appendfsync",
            "everysec",
            "--save",
            "",
            "--daemonize",
            "no",
            "--protected-mode",
            "yes",
            "--maxclients",
            "20000",
        ]

    def ready(self) -> bool:
        import redis

        try:
            client = redis.Redis(host="127.0.0.1", port=self.port, socket_timeout=1)
            try:
                return bool(client.ping())
            finally:
                client.close()
        except redis.RedisError:
            return False
