"""Times and durations as typed on the command line, in the organisation's zone."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from switchboard.cli.time import TimeError, parse_duration, parse_instant

STOCKHOLM = ZoneInfo("Europe/Stockholm")
NOW = datetime(2026, 11, 23, 14, 0, tzinfo=STOCKHOLM)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("45m", timedelta(minutes=45)),
        ("1h30m", timedelta(minutes=90)),
        ("2d", timedelta(days=2)),
        ("90", timedelta(minutes=90)),
    ],
    ids=["minutes", "hours-minutes", "days", "bare-minutes"],
)
def test_durations(text: str, expected: timedelta) -> None:
    assert parse_duration(text) == expected


@pytest.mark.parametrize("text", ["", "0", "soon", "1x", "0m"])
def test_bad_durations_are_refused(text: str) -> None:
    with pytest.raises(TimeError):
        parse_duration(text)


def test_clock_time_is_today_or_rolls_to_tomorrow() -> None:
    assert parse_instant("15:30", NOW, STOCKHOLM) == datetime(
        2026, 11, 23, 15, 30, tzinfo=STOCKHOLM
    )
    rolled = parse_instant("08:00", NOW, STOCKHOLM, roll_forward=True)
    assert rolled == datetime(2026, 11, 24, 8, 0, tzinfo=STOCKHOLM)


def test_dates_and_iso_instants() -> None:
    assert parse_instant("2026-12-01", NOW, STOCKHOLM) == datetime(2026, 12, 1, tzinfo=STOCKHOLM)
    naive = parse_instant("2026-11-23T19:00", NOW, STOCKHOLM)
    assert naive.utcoffset() == timedelta(hours=1)
    aware = parse_instant("2026-11-23T19:00+00:00", NOW, STOCKHOLM)
    assert aware.utcoffset() == timedelta(0)


@pytest.mark.parametrize("text", ["25:00", "tomorrow", "2026-13-01"])
def test_bad_instants_are_refused(text: str) -> None:
    with pytest.raises(TimeError):
        parse_instant(text, NOW, STOCKHOLM)
