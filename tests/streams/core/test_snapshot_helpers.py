"""The snapshot helpers write instants exactly as :func:`time_out` does, whichever way they run."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

from hypothesis import given
from hypothesis import strategies as st

from streams.core.snapshot import req_time, time_out, timed_pairs_out

ZONES = [
    UTC,
    ZoneInfo("Europe/Paris"),
    timezone(timedelta(hours=2)),
    timezone(-timedelta(hours=9, minutes=30)),
]

pairs = st.lists(
    st.tuples(
        st.datetimes(
            min_value=datetime(1970, 1, 2),
            max_value=datetime(2100, 1, 1),
            timezones=st.sampled_from(ZONES),
        ),
        st.integers(min_value=-(2**31), max_value=2**31),
    ),
    max_size=80,
)


@given(pairs)
def test_timed_pairs_are_written_as_time_out_writes_them(
    values: list[tuple[datetime, int]],
) -> None:
    """Same text for every instant (UTC, Paris across both offsets, fixed offsets either side of
    UTC, with and without microseconds), same order, same numbers, and each reads back as the
    same instant."""
    written = timed_pairs_out(values)
    assert written == [[time_out(at), n] for at, n in values]
    assert [(req_time(at).timestamp(), n) for at, n in written] == [
        (at.timestamp(), n) for at, n in values
    ]


def test_whole_seconds_and_both_paris_offsets() -> None:
    """The cases a formatter most often writes differently: no microseconds, winter and summer."""
    paris = ZoneInfo("Europe/Paris")
    values = [
        (datetime(2026, 12, 4, 16, 0, tzinfo=UTC), 1),
        (datetime(2026, 1, 15, 8, 30, 0, 5, tzinfo=paris), -2),
        (datetime(2026, 7, 14, 22, 0, tzinfo=paris), 3),
    ]
    assert timed_pairs_out(values) == [
        ["2026-12-04T16:00:00+00:00", 1],
        ["2026-01-15T08:30:00.000005+01:00", -2],
        ["2026-07-14T22:00:00+02:00", 3],
    ]
