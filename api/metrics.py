"""Prometheus metrics of one API process (``GET /metrics``), in a registry of the app's own.

HTTP requests are counted by route template (never by raw path), the hub is read at scrape time.
With several worker processes, each answers for itself.
"""

from __future__ import annotations

import time
from collections.abc import Iterator

from prometheus_client import CollectorRegistry, Counter, Histogram
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.metrics_core import Metric
from prometheus_client.registry import Collector
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.hub import Hub

__all__ = ["HttpMetrics", "HubCollector", "MetricsMiddleware"]


class HubCollector(Collector):
    """Connections, subscriptions and fan-out figures of the hub, read when scraped."""

    def __init__(self, hub: Hub) -> None:
        self.hub = hub

    def collect(self) -> Iterator[Metric]:
        hub = self.hub
        yield GaugeMetricFamily(
            "paris_live_live_connections", "Open /v1/live and SSE connections", len(hub.subscribers)
        )
        yield GaugeMetricFamily(
            "paris_live_live_slow_connections", "Connections whose socket is full", len(hub.paused)
        )
        yield GaugeMetricFamily(
            "paris_live_live_facilities_mirrored", "Statuses held by the hub", len(hub.latest)
        )
        yield CounterMetricFamily(
            "paris_live_live_updates", "Status changes received from Redis", hub.updates_in
        )
        yield CounterMetricFamily(
            "paris_live_live_frames", "Update frames fanned out to clients", hub.frames_out
        )
        closed = CounterMetricFamily(
            "paris_live_live_closed", "Connections closed by policy", labels=["reason"]
        )
        closed.add_metric(["slow"], hub.closed_slow)
        closed.add_metric(["abuse"], hub.closed_abuse)
        closed.add_metric(["dead"], hub.closed_dead)
        yield closed


class HttpMetrics:
    def __init__(self, registry: CollectorRegistry) -> None:
        self.requests = Counter(
            "paris_live_http_requests",
            "HTTP requests answered",
            ["method", "route", "status"],
            registry=registry,
        )
        self.latency = Histogram(
            "paris_live_http_request_duration_seconds",
            "Time to answer an HTTP request",
            ["route"],
            registry=registry,
            buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5),
        )


class MetricsMiddleware:
    """Pure ASGI middleware (no buffering: SSE streams pass through untouched)."""

    def __init__(self, app: ASGIApp, metrics: HttpMetrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500

        async def send_wrapper(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_wrapper)
        finally:
            route = getattr(scope.get("route"), "path", "unmatched")
            self.metrics.requests.labels(scope["method"], route, str(status)).inc()
            self.metrics.latency.labels(route).observe(time.perf_counter() - started)
