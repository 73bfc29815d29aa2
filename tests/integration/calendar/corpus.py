"""What the recorded EWS and Graph calendars of Anna mean (tests/fixtures/calendar/{ews,graph}).

Both recordings hold the same nine logical items in the week of the spring daylight-saving
change (Sunday 29 March 2026); this is the one answer every source must give.
"""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from switchboard.presence.model import BusyClass, CalendarSegment, Reason, ReferralKind

STOCKHOLM = ZoneInfo("Europe/Stockholm")
OWNER = "anna@example.se"
WINDOW = (datetime(2026, 3, 1, tzinfo=STOCKHOLM), datetime(2026, 5, 1, tzinfo=STOCKHOLM))


def _utc(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 3, day, hour, minute, tzinfo=UTC)


EXPECTED = (
    CalendarSegment(
        _utc(23, 8), _utc(23, 9), BusyClass.BUSY, Reason.MEETING, label="Ledningsgrupp"
    ),
    CalendarSegment(_utc(23, 11), _utc(23, 12), BusyClass.BUSY, Reason.LUNCH, label="Lunch med Bo"),
    # Private: diverts, but no label.
    CalendarSegment(_utc(24, 13), _utc(24, 14, 30), BusyClass.BUSY, Reason.MEETING, private=True),
    CalendarSegment(
        _utc(25, 9),
        _utc(25, 11),
        BusyClass.TENTATIVE,
        Reason.MEETING,
        label="Workshop digitalisering",
    ),
    # All-day Friday to Sunday: midnight to midnight in Stockholm, over the DST change.
    CalendarSegment(
        datetime(2026, 3, 27, tzinfo=STOCKHOLM).astimezone(UTC),
        datetime(2026, 3, 30, tzinfo=STOCKHOLM).astimezone(UTC),
        BusyClass.OOF,
        Reason.HOLIDAY,
        label="Semester",
    ),
    CalendarSegment(
        _utc(31, 7), _utc(31, 8), BusyClass.BUSY, Reason.MEETING, ReferralKind.OPEN, "Planering"
    ),
)
