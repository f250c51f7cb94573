"""Property-based conformance: schemathesis drives every public GET of the OpenAPI document
against a real server; no 5xx, and every answer conforms to what the document says."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from psycopg import sql
from schemathesis.specs.openapi.checks import positive_data_acceptance

from paris_live.db import connect, migrate
from paris_live.settings import Settings
from tests.api.api_testkit import ProcessServer
from tests.testkit import wait_for

pytestmark = pytest.mark.integration


async def _drop(settings: Settings) -> None:
    async with await connect(settings, autocommit=True) as conn:
        await conn.execute(
            sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(sql.Identifier(settings.db_schema))
        )


@pytest.fixture(scope="module")
def fuzz_server(base_settings: Settings) -> Iterator[ProcessServer]:
    """One API process for the whole module, on its own Redis prefix and PostgreSQL schema."""
    tag = uuid.uuid4().hex[:10]
    own = base_settings.model_copy(update={"redis_prefix": f"f{tag}:", "db_schema": f"f_{tag}"})
    asyncio.run(migrate(own))
    server = ProcessServer(own)

    def ready() -> bool:
        try:
            return httpx.get(f"{server.http}/v1/readyz", timeout=2).status_code == 200
        except httpx.HTTPError:
            return False

    wait_for(ready, within=30, every=0.1, what="the server to become ready")
    yield server
    server.stop()
    asyncio.run(_drop(own))


def test_api_conforms_to_openapi(fuzz_server: ProcessServer) -> None:
    """Every generated request (25 per operation) gets no 5xx and a response matching the
    OpenAPI document: status codes, content types, bodies and headers. (Schema-valid values the
    API refuses on meaning — an opaque cursor it did not issue, ``from`` after ``to`` — answer
    422, so schemathesis' positive-data-acceptance check is not applied.)"""
    loaded = schemathesis.openapi.from_url(f"{fuzz_server.http}/openapi.json")
    schema = loaded.exclude(path="/v1/live/sse")  # an endless stream: covered by test_sse.py
    operations = [result.ok() for result in schema.get_all_operations()]  # type: ignore[union-attr]
    assert len(operations) >= 8
    for operation in operations:

        @given(case=operation.as_strategy())
        @hypothesis_settings(
            max_examples=25,
            deadline=None,
            suppress_health_check=list(HealthCheck),
            database=None,
        )
        def check(case: Any) -> None:
            case.call_and_validate(excluded_checks=[positive_data_acceptance])

        check()
