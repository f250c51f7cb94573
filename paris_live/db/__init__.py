"""PostgreSQL access: versioned, idempotent migrations with a TimescaleDB path and a plain path.

Migrations are ``migrations/NNN_name.sql`` (both paths) followed by ``NNN_name.timescale.sql`` or
``NNN_name.plain.sql``. They run in the settings' schema, under an advisory lock (several workers may
start at once), each version once, recorded in ``schema_migrations`` with the path it took.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from importlib import resources
from typing import Literal

import psycopg
from psycopg import sql

from paris_live.settings import Settings

Mode = Literal["timescale", "plain"]
_FILE = re.compile(r"^(\d{3})_([a-z0-9_]+?)(?:\.(timescale|plain))?\.sql$")
_LOCK_ID = 7_514_311  # advisory lock id for migrations


@dataclass(frozen=True)
class Migration:
    version: str
    name: str
    common: str | None
    timescale: str | None
    plain: str | None

    def script(self, mode: Mode) -> str:
        parts = [self.common, self.timescale if mode == "timescale" else self.plain]
        return "\n".join(p for p in parts if p)


def load_migrations() -> list[Migration]:
    folder = resources.files("paris_live.db") / "migrations"
    found: dict[str, dict[str, str]] = {}
    names: dict[str, str] = {}
    for entry in folder.iterdir():
        match = _FILE.match(entry.name)
        if not match:
            continue
        version, name, variant = match.groups()
        names[version] = name
        found.setdefault(version, {})[variant or "common"] = entry.read_text(encoding="utf-8")
    return [
        Migration(v, names[v], f.get("common"), f.get("timescale"), f.get("plain"))
        for v, f in sorted(found.items())
    ]


def search_path(schema: str) -> sql.Composed:
    """``SET search_path TO <schema>, public`` with the schema quoted as an identifier — the one
    place the platform sets it (never by string formatting)."""
    return sql.SQL("SET search_path TO {}, public").format(sql.Identifier(schema))


async def connect(settings: Settings, *, autocommit: bool = False) -> psycopg.AsyncConnection:
    """An async connection whose search_path is the settings' schema (then public)."""
    conn = await psycopg.AsyncConnection.connect(settings.database, autocommit=autocommit)
    await conn.execute(search_path(settings.db_schema))
    if not autocommit:
        await conn.commit()
    return conn


def connect_sync(settings: Settings, *, autocommit: bool = True) -> psycopg.Connection:
    conn = psycopg.connect(settings.database, autocommit=autocommit)
    conn.execute(search_path(settings.db_schema))
    return conn


async def detect_mode(conn: psycopg.AsyncConnection) -> Mode:
    """``timescale`` when the extension is installed or can be created, else ``plain``."""
    cur = await conn.execute(
        "SELECT installed_version FROM pg_available_extensions WHERE name = 'timescaledb'"
    )
    row = await cur.fetchone()
    if row is None:
        return "plain"
    if row[0] is None:
        try:
            await conn.execute("CREATE EXTENSION IF NOT EXISTS timescaledb")
        except psycopg.Error:
            return "plain"
    return "timescale"


async def migrate(settings: Settings) -> tuple[Mode, list[str]]:
    """Apply pending migrations; returns the path taken and the versions applied now."""
    applied_now: list[str] = []
    async with await connect(settings, autocommit=True) as conn:
        await conn.execute("SELECT pg_advisory_lock(%s)", (_LOCK_ID,))
        try:
            await conn.execute(
                sql.SQL("CREATE SCHEMA IF NOT EXISTS {}").format(sql.Identifier(settings.db_schema))
            )
            mode = await detect_mode(conn)
            await conn.execute(
                "CREATE TABLE IF NOT EXISTS schema_migrations (version text PRIMARY KEY, "
                "name text NOT NULL, mode text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())"
            )
            cur = await conn.execute("SELECT version, mode FROM schema_migrations")
            done = {row[0]: row[1] for row in await cur.fetchall()}
            if done and set(done.values()) != {mode}:
                raise RuntimeError(
                    f"schema {settings.db_schema!r} was migrated as {set(done.values())}, "
                    f"but this server is {mode}: use a new schema or database"
                )
            for migration in load_migrations():
                if migration.version in done:
                    continue
                async with conn.transaction():
                    await conn.execute(migration.script(mode).encode())
                    await conn.execute(
                        "INSERT INTO schema_migrations (version, name, mode) VALUES (%s, %s, %s)",
                        (migration.version, migration.name, mode),
                    )
                applied_now.append(f"{migration.version}_{migration.name}")
        finally:
            await conn.execute("SELECT pg_advisory_unlock(%s)", (_LOCK_ID,))
    return mode, applied_now
