"""PostgreSQL from Debian's binaries, as a cluster the project owns (``initdb`` under the state dir)."""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import subprocess
from collections.abc import Sequence
from pathlib import Path

from paris_live.services.base import (
    LocalService,
    ServiceMissing,
    ServiceStartFailed,
    apt_install,
    is_root,
)

DB_USER = "paris_live"
DB_NAME = "paris_live"


def find_bindir() -> Path | None:
    """The newest Debian PostgreSQL bin folder, or the one holding ``pg_ctl`` on PATH."""
    candidates = sorted(
        glob.glob("/usr/lib/postgresql/*/bin"), key=lambda p: int(Path(p).parent.name), reverse=True
    )
    for folder in candidates:
        if Path(folder, "initdb").exists():
            return Path(folder)
    pg_ctl = shutil.which("pg_ctl")
    return Path(pg_ctl).parent if pg_ctl else None


class PostgresService(LocalService):
    name = "postgres"

    @property
    def data_dir(self) -> Path:
        return self.root / "data"

    def bindir(self) -> Path:
        found = find_bindir()
        if found is None:
            apt_install("postgresql")
            found = find_bindir()
        if found is None:
            raise ServiceMissing("postgres: PostgreSQL is missing: `apt-get install postgresql`")
        return found

    def run_as(self) -> Sequence[str]:
        if not is_root():
            return ()
        try:
            pwd.getpwnam("postgres")
        except KeyError as exc:
            raise ServiceMissing(
                "postgres: running as root needs the `postgres` system user "
                "(created by Debian's postgresql package)"
            ) from exc
        return ("runuser", "-u", "postgres", "--")

    def prepare(self) -> None:
        bindir = self.bindir()
        if is_root():
            entry = pwd.getpwnam("postgres")
            for path in (self.root, *self.root.parents):
                if path == Path("/"):
                    break
                # the postgres user must be able to traverse to its data folder
                mode = path.stat().st_mode
                if not mode & 0o001:
                    os.chmod(path, mode | 0o001)
            os.chown(self.root, entry.pw_uid, entry.pw_gid)
            if self.log_file.exists():
                os.chown(self.log_file, entry.pw_uid, entry.pw_gid)
        if (self.data_dir / "PG_VERSION").exists():
            return
        result = subprocess.run(
            [
                *self.run_as(),
                str(bindir / "initdb"),
                "-D",
                str(self.data_dir),
                "-U",
                DB_USER,
                "--auth=trust",
                "-E",
                "UTF8",
                "--locale=C.UTF-8",
            ],
            capture_output=True,
            text=True,
            cwd="/",
        )
        if result.returncode != 0:
            raise ServiceStartFailed(
                f"postgres: initdb failed:\n{(result.stdout + result.stderr)[-1500:]}"
            )

    def command(self) -> Sequence[str]:
        return [
            str(self.bindir() / "postgres"),
            "-D",
            str(self.data_dir),
            "-p",
            str(self.port),
            "-c",
            "listen_addresses=127.0.0.1",
            "-c",
            f"unix_socket_directories={self.root}",
            "-c",
            "max_connections=200",
            "-c",
            "shared_buffers=256MB",
            "-c",
            "synchronous_commit=on",
            "-c",
            "timezone=UTC",
            "-c",
            "log_min_messages=warning",
        ]

    def ready(self) -> bool:
        import psycopg

        try:
            with psycopg.connect(
                host="127.0.0.1", port=self.port, user=DB_USER, dbname="postgres", connect_timeout=2
            ) as conn:
                conn.execute("SELECT 1")
            return True
        except psycopg.Error:
            return False

    def after_ready(self) -> None:
        import psycopg

        with psycopg.connect(
            host="127.0.0.1", port=self.port, user=DB_USER, dbname="postgres", autocommit=True
        ) as conn:
            exists = conn.execute(
                "SELECT 1 FROM pg_database WHERE datname = %s", (DB_NAME,)
            ).fetchone()
            if not exists:
                conn.execute(f'CREATE DATABASE "{DB_NAME}"')

    def stop(self, timeout: float = 30.0) -> bool:
        pid = self.pid()
        if pid is None:
            return super().stop(timeout)
        subprocess.run(
            [
                *self.run_as(),
                str(self.bindir() / "pg_ctl"),
                "-D",
                str(self.data_dir),
                "-m",
                "fast",
                "-w",
                "-t",
                str(int(timeout)),
                "stop",
            ],
            capture_output=True,
            cwd="/",
        )
        super().stop(timeout)
        return True
