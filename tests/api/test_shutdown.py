"""The API's way out: one client that never finishes closing does not keep the others open."""

from __future__ import annotations

import asyncio

import pytest

from api import app as app_module


async def test_a_stuck_close_is_abandoned_and_the_next_one_still_runs(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setattr(app_module, "SHUTDOWN_STEP_S", 0.05)
    closed: list[str] = []

    async def stuck() -> None:
        await asyncio.Event().wait()

    async def fine() -> None:
        closed.append("redis client")

    async def broken() -> None:
        raise ConnectionResetError("peer gone")

    await app_module._close_within("kafka clients", stuck())
    await app_module._close_within("postgresql pool", broken())
    await app_module._close_within("redis client", fine())
    assert closed == ["redis client"]
    messages = [record.getMessage() for record in caplog.records]
    assert any("kafka clients did not close" in m for m in messages)
    assert any("closing postgresql pool failed" in m for m in messages)
