"""The one Redis client factory and the Sentinel settings (issue 19): direct by default, through
the Sentinels when ``PARIS_LIVE_REDIS_SENTINELS`` is set, and the failover set the services
command can start."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from pydantic import ValidationError

from paris_live.redis_client import SentinelRedis, redis_client
from paris_live.services import ServiceManager
from paris_live.services.redis_sentinel import LOCAL_PORTS
from paris_live.settings import Settings
from tests.cluster.redis_fixtures import SentinelSet


def test_sentinel_addresses_are_read_from_the_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    """`PARIS_LIVE_REDIS_SENTINELS` is a comma-separated host:port list."""
    monkeypatch.setenv("PARIS_LIVE_REDIS_SENTINELS", "127.0.0.1:18926, 10.0.0.2:26379")
    settings = Settings()
    assert settings.sentinel_addresses == (("127.0.0.1", 18926), ("10.0.0.2", 26379))
    assert settings.redis_sentinel_master == "paris-live"


@pytest.mark.parametrize("bad", ["127.0.0.1", "127.0.0.1:port", ":18926", "host:70000"])
def test_a_bad_sentinel_address_is_refused(bad: str) -> None:
    """A Sentinel address without a valid port fails at start, naming the address."""
    with pytest.raises(ValidationError, match="host:port"):
        Settings(redis_sentinels=bad)


async def test_without_sentinels_the_client_goes_to_the_url() -> None:
    """Unset Sentinels: a plain client of REDIS_URL (the default is unchanged)."""
    client = redis_client(Settings(redis_url="redis://127.0.0.1:6390/3"))
    try:
        assert not isinstance(client, SentinelRedis)
        kwargs = client.connection_pool.connection_kwargs
        assert (kwargs["host"], kwargs["port"], kwargs["db"]) == ("127.0.0.1", 6390, 3)
    finally:
        await client.aclose()


async def test_through_sentinels_the_client_reaches_the_primary(
    sentinel_set: SentinelSet,
) -> None:
    """With Sentinels set, commands land on the server the Sentinels call primary, in the
    database REDIS_URL names."""
    settings = sentinel_set.settings_for(Settings()).model_copy(
        update={"redis_url": "redis://127.0.0.1:1/2"}  # host and port: ignored, db: used
    )
    client = redis_client(settings, decode_responses=True)
    try:
        assert isinstance(client, SentinelRedis)
        replication = await client.info("replication")
        assert replication["role"] == "master"
        assert await client.connection_pool.get_master_address() == (  # type: ignore[attr-defined]
            "127.0.0.1",
            sentinel_set.primary_port(),
        )
        await client.set("pl-factory-probe", "1", ex=5)
        assert (await client.client_info())["db"] == 2
    finally:
        await client.aclose()


def test_the_manager_adds_the_failover_set_only_when_asked(tmp_path: Path) -> None:
    """`services start --redis-sentinel`: two Redis servers and three Sentinels join the
    services; without the flag (and none running) the single Redis stays the only one."""
    settings = Settings(state_dir=tmp_path, redis_url=None)
    plain = [s.name for s in ServiceManager(settings).services]
    assert not any(n.startswith(("redis-a", "redis-b", "sentinel")) for n in plain)
    with_set = ServiceManager(settings, redis_sentinel=True).services
    assert [s.name for s in with_set][len(plain) :] == [
        "redis-a",
        "redis-b",
        "sentinel-1",
        "sentinel-2",
        "sentinel-3",
    ]
    assert [s.port for s in with_set][len(plain) :] == [
        LOCAL_PORTS.primary,
        LOCAL_PORTS.replica,
        *LOCAL_PORTS.sentinels,
    ]


def test_the_services_command_offers_the_failover_set() -> None:
    """`paris-live services start --help` documents --redis-sentinel."""
    result = subprocess.run(
        [sys.executable, "-m", "paris_live.cli", "services", "start", "--help"],
        capture_output=True,
        text=True,
        env={**os.environ, "COLUMNS": "200"},
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert "--redis-sentinel" in result.stdout
