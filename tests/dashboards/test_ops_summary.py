"""The operations summary's alerts (pure: :func:`api.pages.ops.summarize`, no Kafka): a lagging
stream worker is an alert naming its consumer group, topic and partition with its seconds and
events behind, in French and English."""

from __future__ import annotations

from typing import Any

from api.pages.ops import LAG_ALERT_SECONDS, summarize

GROUP = "paris-live-streams"


def sample(lagging: list[dict[str, Any]], **extra: Any) -> dict[str, Any]:
    lag = sum(p["events"] for p in lagging)
    seconds = [p["seconds"] for p in lagging if p["seconds"] is not None]
    return {
        "mono": 0.0,
        "at": "2026-12-02T22:00:00+01:00",
        "events_total": 100_000,
        "consumer_lag": lag,
        "lag_seconds": max(seconds, default=0),
        "dead_letters": 0,
        "updates_total": 0,
        "events_per_s": 10.0,
        "status_changes_per_s": 1.0,
        "consumer_group": GROUP,
        "group_committed": True,
        "lagging": lagging,
        **extra,
    }


def behind(partition: int, events: int, seconds: int | None) -> dict[str, Any]:
    return {
        "group": GROUP,
        "topic": "facility-passages",
        "partition": partition,
        "events": events,
        "seconds": seconds,
    }


def alerts_of(s: dict[str, Any]) -> list[dict[str, Any]]:
    alerts: list[dict[str, Any]] = summarize({}, {}, s, [s], kafka_error=None, clients=0)["alerts"]
    return alerts


def test_a_worker_behind_by_minutes_raises_an_alert_with_its_seconds_and_events() -> None:
    """6,761 events and 412 s behind on one partition: a critical alert that says so (the old
    threshold, 10,000 events, said « Aucune alerte »)."""
    (alert,) = alerts_of(sample([behind(3, 6_761, 412)]))
    assert alert["code"] == "consumer_lag" and alert["level"] == "critical"
    assert alert["messages"]["fr"] == (
        "Traitement en retard de 412 s : groupe paris-live-streams, facility-passages "
        "partition 3 (6\u202f761 événements en attente)"
    )
    assert alert["messages"]["en"] == (
        "Processing 412 s behind: group paris-live-streams, facility-passages partition 3 "
        "(6,761 events waiting)"
    )
    assert alert["message"] == f"{alert['messages']['fr']} / {alert['messages']['en']}"


def test_the_worst_partition_is_named_with_the_total_over_every_lagging_one() -> None:
    """Three partitions behind: the one furthest behind in seconds is named, with the total."""
    (alert,) = alerts_of(sample([behind(0, 10, 140), behind(1, 500, 195), behind(2, 3, 1)]))
    assert "195 s" in alert["messages"]["fr"] and "partition 1 " in alert["messages"]["fr"]
    assert "513 au total sur 3 partitions en retard" in alert["messages"]["fr"]


def test_a_worker_keeping_up_raises_nothing() -> None:
    """A few seconds behind (commits every second) is no alert; the summary still says it."""
    s = sample([behind(0, 40, int(LAG_ALERT_SECONDS) - 1)])
    assert alerts_of(s) == []
    body = summarize({}, {}, s, [s], kafka_error=None, clients=0)
    assert body["stream"]["lag_seconds"] == int(LAG_ALERT_SECONDS) - 1
    assert body["stream"]["lagging"][0]["partition"] == 0


def test_events_nobody_ever_processed_raise_an_alert() -> None:
    """Input events and no committed position for the workers' group: nothing processes them."""
    s = sample([], group_committed=False, consumer_lag=None)
    (alert,) = alerts_of(s)
    assert alert["code"] == "no_consumer"
    assert (
        "paris-live-streams" in alert["messages"]["fr"]
        and "100\u202f000" in alert["messages"]["fr"]
    )


def test_the_threshold_is_the_callers() -> None:
    """The sampler's threshold is passed along (tests lower it rather than wait 30 s)."""
    s = sample([behind(0, 5, 4)])
    body = summarize({}, {}, s, [s], kafka_error=None, clients=0, lag_alert_seconds=3)
    assert [a["code"] for a in body["alerts"]] == ["consumer_lag"]


def test_records_in_flight_are_bounded_not_fetched() -> None:
    """A partition whose next record arrived since the previous sample is « under » that many
    seconds behind: no alert, and the summary gives the bound rather than a made-up figure."""
    s = sample([])
    s["lagging"] = [dict(behind(0, 12, None), under=4)]
    s["consumer_lag"], s["lag_seconds"], s["lag_seconds_under"] = 12, None, 4
    body = summarize({}, {}, s, [s], kafka_error=None, clients=0)
    assert body["alerts"] == []
    assert body["stream"]["lag_seconds"] is None and body["stream"]["lag_seconds_under"] == 4
