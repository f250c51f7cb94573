"""Liveness, readiness and metrics."""

from __future__ import annotations

import httpx
import pytest

from api.app import create_app
from paris_live.settings import Settings
from tests.api.api_testkit import InProcessServer, fast_hub, free_port

pytestmark = pytest.mark.integration


async def test_health_ready_metrics(http: httpx.AsyncClient) -> None:
    """healthz and readyz answer 200 (at /v1 and at root); metrics count requests."""
    for path in ("/v1/healthz", "/healthz"):
        assert (await http.get(path)).json() == {"status": "ok"}
    for path in ("/v1/readyz", "/readyz"):
        ready = await http.get(path)
        assert ready.status_code == 200
        assert ready.json()["checks"] == {"redis": "ok", "postgresql": "ok", "live_feed": "ok"}
    metrics = (await http.get("/metrics")).text
    assert 'paris_live_http_requests_total{method="GET",route="/v1/readyz",status="200"}' in metrics
    assert "paris_live_live_connections" in metrics


async def test_readyz_503_when_redis_is_down(settings: Settings, db: Settings) -> None:
    """With Redis unreachable, readyz answers 503 in the error shape and healthz still 200."""
    broken = settings.model_copy(update={"redis_url": f"redis://127.0.0.1:{free_port()}/0"})
    server = InProcessServer(create_app(fast_hub(broken)), broken)
    await server.start(ready=False)
    try:
        async with httpx.AsyncClient(base_url=server.http) as client:
            ready = await client.get("/v1/readyz")
            assert ready.status_code == 503
            assert ready.json()["error"]["code"] == "not_ready"
            assert "redis" in ready.json()["error"]["message"]
            assert (await client.get("/v1/healthz")).status_code == 200
            missing = await client.get("/v1/facilities/piscine-pontoise")
            assert missing.status_code == 503 and missing.json()["error"]["code"] == "unavailable"
    finally:
        await server.stop()


async def test_503_says_what_is_unavailable_when_postgresql_is_down(
    settings: Settings, db: Settings
) -> None:
    """With PostgreSQL unreachable, a survey answer and a complaint answer 503 saying that
    feedback is unavailable (not « history »), the history says history; the API stays up."""
    broken = settings.model_copy(
        update={"database_url": f"postgresql://paris_live@127.0.0.1:{free_port()}/paris_live"}
    )
    server = InProcessServer(create_app(fast_hub(broken)), broken)
    await server.start(ready=False)
    answer = {"rating": 4, "rule_ratings": {"information": 5}, "channel": "screen"}
    complaint = {
        "facility_id": "piscine-pontoise",
        "rule": "welcome",
        "topic": "cleanliness",
        "text": "Vestiaires sales le 3 juin vers 18 h, personne pour nettoyer.",
        "contact": "claire.dupont.4821@example.org",
    }
    try:
        async with httpx.AsyncClient(base_url=server.http, timeout=30) as client:
            survey = await client.post("/v1/facilities/piscine-pontoise/feedback", json=answer)
            assert survey.status_code == 503, survey.text
            assert survey.json()["error"]["message"].startswith("Avis et réclamations")
            filed = await client.post("/v1/complaints", json=complaint)
            assert filed.status_code == 503, filed.text
            assert filed.json()["error"]["message"].startswith("Avis et réclamations")
            history = await client.get("/v1/facilities/piscine-pontoise/history")
            assert history.status_code == 503
            assert history.json()["error"]["message"].startswith("Historique")
            assert (await client.get("/v1/healthz")).status_code == 200
    finally:
        await server.stop()
