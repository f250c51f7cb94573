"""Device line protocols: good lines become events, bad lines get a precise reason."""

from __future__ import annotations

import datetime as dt

import pytest

from producers.errors import MalformedInput
from producers.lineproto import (
    PassageBatcher,
    PassageLine,
    parse_passage_line,
    parse_ticket_line,
    ticket_event,
)
from schemas.events import EventType

NOW = dt.datetime(2026, 6, 2, 10, 0, 0, tzinfo=dt.UTC)


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("piscine-pontoise porte-1 in", PassageLine("piscine-pontoise", "porte-1", "in", 1, None)),
        ("piscine-pontoise\tporte-1\tOUT\t3", PassageLine("piscine-pontoise", "porte-1", "out", 3, None)),
        (
            "mairie-15 g2 in 2 2026-06-02T12:31:07+02:00",
            PassageLine("mairie-15", "g2", "in", 2, dt.datetime(2026, 6, 2, 10, 31, 7, tzinfo=dt.UTC)),
        ),
        (
            "mairie-15 g2 out 2026-06-02T10:31:07Z",
            PassageLine("mairie-15", "g2", "out", 1, dt.datetime(2026, 6, 2, 10, 31, 7, tzinfo=dt.UTC)),
        ),
    ],
)  # fmt: skip
def test_good_passage_lines(line: str, expected: PassageLine) -> None:
    """Well-formed turnstile lines parse, with count 1 and "now" as defaults."""
    assert parse_passage_line(line) == expected


@pytest.mark.parametrize("line", ["", "   ", "# gate controller v2 connected"])
def test_blank_and_comment_lines_are_skipped(line: str) -> None:
    """Empty lines and comments are not errors and produce nothing."""
    assert parse_passage_line(line) is None


@pytest.mark.parametrize(
    ("line", "reason"),
    [
        ("piscine-pontoise porte-1", "field_count"),
        ("piscine-pontoise porte-1 in 1 2026-06-02T10:00:00Z extra", "field_count"),
        ("Piscine-Pontoise porte-1 in", "bad_facility"),
        ("piscine-pontoise porte/1 in", "bad_gate"),
        ("piscine-pontoise porte-1 sideways", "bad_direction"),
        ("piscine-pontoise porte-1 in 0", "bad_count"),
        ("piscine-pontoise porte-1 in 20000", "bad_count"),
        ("piscine-pontoise porte-1 in -3", "bad_count"),
        ("piscine-pontoise porte-1 in x 2026-06-02T10:00:00Z", "bad_count"),
        # isdigit() is true for these, int() refuses « ² » and reads « ３ »: a ValueError escaped
        # the adapter's line reader and dropped the device's connection
        ("piscine-pontoise porte-1 in ²", "bad_count"),
        ("piscine-pontoise porte-1 in ３", "bad_count"),
        ("piscine-pontoise porte-1 in ٣ 2026-06-02T10:00:00Z", "bad_count"),
        ("piscine-pontoise porte-1 in 1234567890123456789012", "bad_count"),
        ("piscine-pontoise porte-1 in 2 2026-06-02T10:00:00", "naive_time"),
        ("piscine-pontoise porte-1 in 2 2026-13-02T10:00:00Z", "bad_time"),
        ("piscine-pontoise porte-1 in " + "1" * 2000, "too_long"),
    ],
)
def test_malformed_passage_lines_say_why(line: str, reason: str) -> None:
    """Each kind of malformed line is refused with its own reason code."""
    with pytest.raises(MalformedInput) as refused:
        parse_passage_line(line)
    assert refused.value.reason == reason
    assert refused.value.message


def test_unknown_facility_is_refused_when_the_catalogue_is_given() -> None:
    """A facility id outside the catalogue is refused (a typo in a controller's config)."""
    with pytest.raises(MalformedInput) as refused:
        parse_passage_line("piscine-nulle-part g1 in", facilities={"piscine-pontoise"})
    assert refused.value.reason == "unknown_facility"


def test_ticket_lines() -> None:
    """Ticket lines become ticket events of the right type; bad actions are refused."""
    line = parse_ticket_line("mairie-15 etat-civil A042 called 2026-06-02T09:12:40+02:00")
    assert line is not None
    event = ticket_event(line, NOW)
    assert event.type == EventType.TICKET_CALLED
    assert event.data.model_dump() == {"service_id": "etat-civil", "ticket_id": "A042"}
    assert event.time == dt.datetime(2026, 6, 2, 7, 12, 40, tzinfo=dt.UTC)
    with pytest.raises(MalformedInput) as refused:
        parse_ticket_line("mairie-15 etat-civil A042 lost")
    assert refused.value.reason == "bad_action"


def test_batcher_sums_per_gate_direction_and_second() -> None:
    """Lines of one gate, direction and second become one event with the summed count."""
    batcher = PassageBatcher()
    t = NOW + dt.timedelta(milliseconds=100)
    for count in (1, 2, 3):
        batcher.add(PassageLine("piscine-a", "g1", "in", count, None), t)
    batcher.add(PassageLine("piscine-a", "g1", "out", 1, None), t)
    batcher.add(PassageLine("piscine-a", "g2", "in", 1, None), t)
    batcher.add(PassageLine("piscine-a", "g1", "in", 4, None), t + dt.timedelta(seconds=1))
    assert batcher.due(NOW + dt.timedelta(milliseconds=900)) == []  # second not over
    events = batcher.due(NOW + dt.timedelta(seconds=1, milliseconds=300))
    summary = sorted((e.data.gate_id, e.data.direction, e.data.count) for e in events)  # type: ignore[attr-defined]
    assert summary == [("g1", "in", 6), ("g1", "out", 1), ("g2", "in", 1)]
    assert all(e.type == EventType.PASSAGE_COUNTED and e.subject == "piscine-a" for e in events)
    (last,) = batcher.flush_all()
    assert last.data.count == 4  # type: ignore[attr-defined]
    assert len(batcher) == 0
