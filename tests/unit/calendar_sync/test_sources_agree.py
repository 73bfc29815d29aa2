"""Property: the same logical events, written as an iCalendar feed, as Graph JSON and as
exchangelib items, map to the same segments (R7: one mapper, three sources)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import exchangelib  # type: ignore[import-untyped]
from hypothesis import given, settings
from hypothesis import strategies as st

from switchboard.calendar_sync.ews import ews_item
from switchboard.calendar_sync.graph import graph_item
from switchboard.calendar_sync.ics import parse_feed
from switchboard.presence.calendar import CalendarItem, map_items
from switchboard.presence.model import CalendarSegment

ZONE = ZoneInfo("Europe/Stockholm")
OWNER = "anna@example.se"
FIRST_DAY = date(2026, 3, 23)  # the week before the spring change, and the week after
WINDOW = (datetime(2026, 3, 1, tzinfo=ZONE), datetime(2026, 5, 1, tzinfo=ZONE))
SHOW_AS = ["free", "tentative", "busy", "oof", "workingElsewhere"]
ICS_BUSY = {
    "free": "FREE",
    "tentative": "TENTATIVE",
    "busy": "BUSY",
    "oof": "OOF",
    "workingElsewhere": "WORKINGELSEWHERE",
}
EWS_BUSY = {
    "free": "Free",
    "tentative": "Tentative",
    "busy": "Busy",
    "oof": "OOF",
    "workingElsewhere": "WorkingElsewhere",
}
RESPONSES = {  # graph: (ics PARTSTAT, ews MyResponseType)
    "organizer": ("ACCEPTED", "Organizer"),
    "accepted": ("ACCEPTED", "Accept"),
    "declined": ("DECLINED", "Decline"),
    "tentativelyAccepted": ("TENTATIVE", "Tentative"),
    "notResponded": ("NEEDS-ACTION", "NoResponseReceived"),
}


@dataclass(frozen=True)
class Logical:
    uid: str
    day: int
    minute: int
    minutes: int
    all_day_days: int
    """0: a timed event."""
    show_as: str
    private: bool
    cancelled: bool
    response: str
    subject: str

    def span(self) -> tuple[datetime, datetime]:
        first = FIRST_DAY + timedelta(days=self.day)
        if self.all_day_days:
            start = datetime.combine(first, datetime.min.time(), ZONE)
            end = datetime.combine(
                first + timedelta(days=self.all_day_days), datetime.min.time(), ZONE
            )
            return start, end
        start = datetime.combine(first, datetime.min.time(), ZONE) + timedelta(minutes=self.minute)
        return start.astimezone(UTC), (start + timedelta(minutes=self.minutes)).astimezone(UTC)


def logical() -> st.SearchStrategy[Logical]:
    return st.builds(
        Logical,
        uid=st.uuids().map(str),
        day=st.integers(0, 13),
        minute=st.integers(6 * 4, 18 * 4).map(lambda q: q * 15),
        minutes=st.sampled_from([0, 15, 30, 60, 90, 240]),
        all_day_days=st.sampled_from([0, 0, 0, 1, 3]),
        show_as=st.sampled_from(SHOW_AS),
        private=st.booleans(),
        cancelled=st.booleans(),
        response=st.sampled_from(list(RESPONSES)),
        subject=st.sampled_from(
            ["Möte", "LUN: Lunch med Bo", "MÖT; Planering", "FER: Kreta", "Re: budget"]
        ),
    )


def _ics(events: list[Logical]) -> bytes:
    lines = ["BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//test//sources agree//EN"]
    for e in events:
        start, end = e.span()
        if e.all_day_days:
            when = [f"DTSTART;VALUE=DATE:{start:%Y%m%d}", f"DTEND;VALUE=DATE:{end:%Y%m%d}"]
        else:
            when = [f"DTSTART:{start:%Y%m%dT%H%M%SZ}", f"DTEND:{end:%Y%m%dT%H%M%SZ}"]
        lines += [
            "BEGIN:VEVENT",
            f"UID:{e.uid}",
            "DTSTAMP:20260301T000000Z",
            *when,
            f"SUMMARY:{e.subject}",
            f"X-MICROSOFT-CDO-BUSYSTATUS:{ICS_BUSY[e.show_as]}",
            f"CLASS:{'PRIVATE' if e.private else 'PUBLIC'}",
            f"STATUS:{'CANCELLED' if e.cancelled else 'CONFIRMED'}",
            f"ATTENDEE;PARTSTAT={RESPONSES[e.response][0]}:mailto:{OWNER}",
            "END:VEVENT",
        ]
    lines.append("END:VCALENDAR")
    return ("\r\n".join(lines) + "\r\n").encode()


def _graph(e: Logical) -> dict[str, Any]:
    start, end = e.span()
    fmt = "%Y-%m-%dT%H:%M:%S.0000000"
    if e.all_day_days:  # Graph writes all-day events at midnight of the zone asked for (UTC)
        s, t = start.replace(tzinfo=None).strftime(fmt), end.replace(tzinfo=None).strftime(fmt)
    else:
        s, t = start.strftime(fmt), end.strftime(fmt)
    return {
        "id": e.uid,
        "subject": e.subject,
        "isAllDay": bool(e.all_day_days),
        "isCancelled": e.cancelled,
        "showAs": e.show_as,
        "sensitivity": "private" if e.private else "normal",
        "responseStatus": {"response": e.response},
        "start": {"dateTime": s, "timeZone": "UTC"},
        "end": {"dateTime": t, "timeZone": "UTC"},
    }


def _ews(e: Logical) -> Any:
    start, end = e.span()
    if e.all_day_days:  # exchangelib hands all-day items out as dates, the end inclusive
        s: Any = exchangelib.EWSDate(start.year, start.month, start.day)
        last = end.date() - timedelta(days=1)
        t: Any = exchangelib.EWSDate(last.year, last.month, last.day)
        duration = f"P{e.all_day_days}D"
    else:
        s = exchangelib.EWSDateTime.from_datetime(start)
        t = exchangelib.EWSDateTime.from_datetime(end)
        duration = f"PT{e.minutes}M"
    return exchangelib.CalendarItem(
        subject=e.subject,
        start=s,
        end=t,
        duration=duration,
        is_all_day=bool(e.all_day_days),
        legacy_free_busy_status=EWS_BUSY[e.show_as],
        sensitivity="Private" if e.private else "Normal",
        is_cancelled=e.cancelled,
        my_response_type=RESPONSES[e.response][1],
    )


def _map(items: list[CalendarItem] | tuple[CalendarItem, ...]) -> tuple[CalendarSegment, ...]:
    return map_items(items, window_start=WINDOW[0], window_end=WINDOW[1], owner_email=OWNER)


@settings(max_examples=60, deadline=None)
@given(st.lists(logical(), max_size=8, unique_by=lambda e: e.uid))
def test_ics_graph_and_ews_give_the_same_segments(events: list[Logical]) -> None:
    feed = parse_feed(_ics(events), window_start=WINDOW[0], window_end=WINDOW[1], default_zone=ZONE)
    assert feed.problems == ()
    from_ics = _map(feed.items)
    from_graph = _map([graph_item(_graph(e), ZONE) for e in events])
    from_ews = _map([ews_item(_ews(e), ZONE) for e in events])
    assert from_graph == from_ics
    assert from_ews == from_ics
    for segment in from_ics:
        if segment.private:
            assert segment.label is None
