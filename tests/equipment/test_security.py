"""Security of the equipment outage routes, as the closures' (tests/api/test_agents_security.py):
schemathesis with valid credentials finds no 5xx and every answer matches the OpenAPI document;
the write rate limit covers them. (Wrong facility → 403, bad tokens → 401, devices only for their
facility, idempotency and audit: tests/equipment/test_api.py.)"""

from __future__ import annotations

import itertools
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from schemathesis.specs.openapi.checks import ignored_auth, positive_data_acceptance

from paris_live.settings import Settings
from tests.api.agents_testkit import bearer, token
from tests.api.api_testkit import ProcessServer
from tests.equipment.test_api import lifted
from tests.testkit import wait_for

pytestmark = pytest.mark.integration


@pytest.fixture
def process_server_factory(
    settings: Settings, db: Settings
) -> Iterator[Callable[..., ProcessServer]]:
    """The API in another process (``paris-live api serve``), as the closures' security test."""
    started: list[ProcessServer] = []

    def start(workers: int = 1, **env: str) -> ProcessServer:
        server = ProcessServer(settings, workers, **env)
        started.append(server)
        return server

    yield start
    for server in started:
        server.stop()


def _wait_ready(base: str) -> None:
    def ready() -> bool:
        try:
            return httpx.get(f"{base}/v1/readyz", timeout=2).status_code == 200
        except httpx.HTTPError:
            return False

    wait_for(ready, within=30, every=0.1, what=f"{base} to become ready")


def test_schemathesis_with_valid_credentials_finds_no_server_error(
    kafka_topics: Settings, process_server_factory: Callable[..., ProcessServer]
) -> None:
    """Generated requests (40 per operation) to the equipment outage routes, with a supervisor's
    token over town halls and real town halls with a lift, never get a 5xx and always match the
    OpenAPI document; declared, updated, ended, 409 and 422 answers all occur."""
    settings = kafka_topics
    server = process_server_factory(PARIS_LIVE_TOPIC_PREFIX=settings.topic_prefix)
    _wait_ready(server.http)
    halls = [f.id for f in lifted()]
    picks = itertools.count()
    loaded = schemathesis.openapi.from_url(f"{server.http}/openapi.json")
    schema = loaded.include(path_regex=r"^/v1/facilities/\{facility_id\}/equipment-outages")
    operations = [result.ok() for result in schema.get_all_operations()]  # type: ignore[union-attr]
    assert {op.path for op in operations} == {
        "/v1/facilities/{facility_id}/equipment-outages",
        "/v1/facilities/{facility_id}/equipment-outages/end",
    }
    statuses: dict[int, int] = {}
    for operation in operations:

        @given(case=operation.as_strategy())
        @hypothesis_settings(
            max_examples=40, deadline=None, suppress_health_check=list(HealthCheck), database=None
        )
        def check(case: Any) -> None:
            n = next(picks)
            if case.path_parameters and n % 4:
                case.path_parameters["facility_id"] = halls[n % 2]
            if isinstance(case.body, dict) and n % 3 == 0:
                case.body["equipment_id"] = "lift"
                if "kind" in case.body or "status" in case.body:
                    case.body["kind"] = "lift"
                    case.body.pop("expected_back_at", None)
            auth = token(
                settings, "supervisor", subject=f"fuzz-{uuid.uuid4().hex[:8]}", types=("town_hall",)
            )
            response = case.call_and_validate(
                headers=bearer(auth), excluded_checks=[positive_data_acceptance, ignored_auth]
            )
            statuses[response.status_code] = statuses.get(response.status_code, 0) + 1

        check()
    print(f"equipment routes fuzzed: {sorted(statuses.items())}")
    assert not [s for s in statuses if s >= 500], statuses
    assert {200, 201, 409, 422} <= set(statuses), statuses  # the generated cases went deep enough
