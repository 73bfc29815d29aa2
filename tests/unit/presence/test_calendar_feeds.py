"""The iCalendar source against the fixture corpus: parse_feed() then explain() at probes.

The corpus (tests/fixtures/calendar) imitates Outlook/Exchange, Google and CalDAV output;
probes.json holds the expected answer at each probe instant (R7).
"""

from __future__ import annotations

import json
from datetime import datetime
from functools import cache
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from switchboard.calendar_sync import CalendarError
from switchboard.calendar_sync.fetch import mask_url
from switchboard.calendar_sync.ics import FeedResult, parse_feed
from switchboard.calendar_sync.zones import WINDOWS_ZONES, iana_name, normalise_tzids
from switchboard.directory.hours import WorkingHours
from switchboard.presence.calendar import Explanation, explain, map_items

CORPUS = Path(__file__).resolve().parents[2] / "fixtures" / "calendar"
PROBES: dict[str, Any] = json.loads((CORPUS / "probes.json").read_text(encoding="utf-8"))
HOURS = WorkingHours.parse(PROBES["hours"])


@cache
def feed(name: str, zone: str) -> FeedResult:
    z = ZoneInfo(zone)
    return parse_feed(
        (CORPUS / name).read_bytes(),
        window_start=datetime(2026, 1, 1, tzinfo=z),
        window_end=datetime(2027, 1, 1, tzinfo=z),
        default_zone=z,
    )


def as_probe(got: Explanation, zone: ZoneInfo) -> dict[str, Any]:
    """The answer as probes.json writes it: the return time on the wall clock of ``zone``."""
    return {
        "busy": got.busy,
        "kind": got.kind.value,
        "until": got.until.astimezone(zone).isoformat() if got.until else None,
        "reason": got.reason.value if got.reason else None,
        "referral_kind": got.referral_kind.value if got.referral_kind else None,
        "show_subject": got.show_subject,
        "subject": got.subject,
    }


@pytest.mark.parametrize("probe", PROBES["probes"], ids=lambda p: p["id"])
def test_probe(probe: dict[str, Any]) -> None:
    zone = ZoneInfo(probe["zone"])
    at = datetime.fromisoformat(probe["at"])
    items = feed(probe["feed"], probe["zone"]).items
    got = explain(items, at, probe["owner"], zone, HOURS, language=probe["language"])
    answer = as_probe(got, zone)
    assert answer == {k: probe[k] for k in answer}


@pytest.mark.parametrize("name", sorted(PROBES["problems"]))
def test_each_broken_event_is_reported_and_the_rest_still_maps(name: str) -> None:
    result = feed(name, "Europe/Stockholm")
    assert [p.uid for p in result.problems] == PROBES["problems"][name]
    assert all(p.line is not None and p.what for p in result.problems)
    assert len(result.items) > 5


def test_the_broken_event_names_its_line_and_property() -> None:
    (problem,) = feed("outlook.ics", "Europe/Stockholm").problems
    lines = (CORPUS / "outlook.ics").read_text(encoding="utf-8").splitlines()
    assert lines[problem.line - 1 if problem.line else 0] == "BEGIN:VEVENT"
    assert "DTSTART" in problem.what


def test_private_subjects_never_reach_segments_or_explanations() -> None:
    for name, zone in (("outlook.ics", "Europe/Stockholm"), ("google.ics", "Europe/Oslo")):
        result = feed(name, zone)
        z = ZoneInfo(zone)
        segments = map_items(
            result.items,
            window_start=datetime(2026, 1, 1, tzinfo=z),
            window_end=datetime(2027, 1, 1, tzinfo=z),
        )
        text = repr(segments) + "".join(
            repr(explain(result.items, s.start, None, z, HOURS)) for s in segments
        )
        for secret in PROBES["private_subjects"]:
            assert secret not in text


def test_the_window_is_half_open_and_respected() -> None:
    z = ZoneInfo("Europe/Stockholm")
    result = parse_feed(
        (CORPUS / "outlook.ics").read_bytes(),
        window_start=datetime(2026, 3, 23, 10, tzinfo=z),
        window_end=datetime(2026, 3, 30, 13, tzinfo=z),
        default_zone=z,
    )
    starts = [i.start.astimezone(z).strftime("%m-%d %H:%M") for i in result.items]
    # The 23 March 09:00-10:00 meeting ends at the window start; the moved one starts at its end.
    assert starts[0] == "03-24 11:30"
    assert "03-23 09:00" not in starts
    assert "03-30 13:00" not in starts


def test_not_a_calendar_is_one_clear_error() -> None:
    z = ZoneInfo("Europe/Oslo")
    with pytest.raises(CalendarError, match="not an iCalendar"):
        parse_feed(
            b"<html>Sign in</html>",
            window_start=datetime(2026, 1, 1, tzinfo=z),
            window_end=datetime(2026, 2, 1, tzinfo=z),
            default_zone=z,
        )


@pytest.mark.parametrize("name", sorted(WINDOWS_ZONES))
def test_every_windows_zone_maps_to_a_real_iana_zone(name: str) -> None:
    ZoneInfo(WINDOWS_ZONES[name])


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("DTSTART;TZID=W. Europe Standard Time:20260330T100000",
         "DTSTART;TZID=Europe/Berlin:20260330T100000"),
        ('DTSTART;TZID="FLE Standard Time":20260330T100000',
         "DTSTART;TZID=Europe/Helsinki:20260330T100000"),
        ("DTSTART;TZID=tzone://Microsoft/Utc:20260330T100000",
         "DTSTART;TZID=UTC:20260330T100000"),
        ("DTSTART;TZID=tzone://Microsoft/Custom:20260330T100000",
         'DTSTART;TZID="tzone://Microsoft/Custom":20260330T100000'),
        ("DTSTART;TZID=Europe/Oslo:20260330T100000", "DTSTART;TZID=Europe/Oslo:20260330T100000"),
        ("EXDATE;VALUE=DATE-TIME;TZID=GMT Standard Time:20260330T100000",
         "EXDATE;VALUE=DATE-TIME;TZID=Europe/London:20260330T100000"),
    ],
)  # fmt: skip
def test_tzid_normalisation(line: str, expected: str) -> None:
    assert normalise_tzids(line) == expected


def test_iana_name_knows_the_european_windows_names() -> None:
    assert iana_name("Romance Standard Time") == "Europe/Paris"
    assert iana_name("Central Europe Standard Time") == "Europe/Budapest"
    assert iana_name("tzone://Microsoft/W. Europe Standard Time") == "Europe/Berlin"
    assert iana_name("Narnia Time") is None


@pytest.mark.parametrize(
    ("url", "masked"),
    [
        ("https://calendar.google.com/calendar/ical/anna%40x.se/private-0123abcd/basic.ics",
         "https://calendar.google.com/***"),
        ("https://outlook.office365.com/owa/calendar/abc@x.se/SECRET/calendar.ics?a=b",
         "https://outlook.office365.com/***"),
        ("http://user:pw@127.0.0.1:8080/feed?token=SECRET", "http://127.0.0.1:8080/***"),
        ("https://example.org/", "https://example.org"),
    ],
)  # fmt: skip
def test_mask_url_hides_every_secret_part(url: str, masked: str) -> None:
    assert mask_url(url) == masked
