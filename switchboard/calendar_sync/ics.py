"""iCalendar feeds (RFC 5545) as calendar items: Outlook/Exchange "publish calendar" links,
Google secret addresses, CalDAV servers' exports (R7).

Real feeds are messy, so parsing is forgiving and loud: Windows zone names and Exchange's
``tzone://`` values are mapped (:mod:`.zones`), a missing VTIMEZONE falls back to the IANA
name, floating times (RFC 5545 3.3.5, form #1) and all-day ``DATE`` values are read in the
deployment's zone, ``DURATION`` stands in for ``DTEND`` (3.8.2.5). Recurrences are expanded
by ``recurring-ical-events`` in the series' own zone, so a weekly 09:00 meeting stays at 09:00
across a daylight-saving change, with its ``RECURRENCE-ID`` overrides and ``EXDATE``\\s.

One broken VEVENT never breaks the feed: each series (one UID) is expanded on its own, and
what cannot be read is reported in :attr:`FeedResult.problems` with its UID and line, never
dropped silently. The HTTP side lives in :mod:`.fetch`: not imported here, so the process
feeds are parsed in (:mod:`.parse_process`) loads no HTTP client.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import icalendar
import recurring_ical_events  # type: ignore[import-untyped]  # no py.typed marker

from switchboard.calendar_sync.errors import CalendarError
from switchboard.calendar_sync.zones import normalise_tzids
from switchboard.presence.calendar import (
    Attendee,
    CalendarItem,
    EventStatus,
    Participation,
    Sensitivity,
    Transp,
)
from switchboard.presence.model import BusyClass, PresenceError

# What can go wrong inside one VEVENT: icalendar's and recurring-ical-events' errors are
# ValueErrors; the others come from properties of an unexpected type.
_EVENT_ERRORS = (ValueError, TypeError, KeyError, AttributeError, IndexError, OverflowError)

_BUSY = {
    "FREE": BusyClass.FREE,
    "TENTATIVE": BusyClass.TENTATIVE,
    "BUSY": BusyClass.BUSY,
    "OOF": BusyClass.OOF,
    "WORKINGELSEWHERE": BusyClass.WORKING_ELSEWHERE,
}
_PARTSTAT = {
    "ACCEPTED": Participation.ACCEPTED,
    "DECLINED": Participation.DECLINED,
    "TENTATIVE": Participation.TENTATIVE,
    "NEEDS-ACTION": Participation.NEEDS_ACTION,
    "DELEGATED": Participation.DELEGATED,
}
_CLASS = {"PRIVATE": Sensitivity.PRIVATE, "CONFIDENTIAL": Sensitivity.CONFIDENTIAL}


@dataclass(frozen=True, slots=True)
class FeedProblem:
    """Something in the feed that could not be read as written (for the source's health)."""

    uid: str | None
    line: int | None
    """The line of the VEVENT's ``BEGIN`` in the feed as served (1-based)."""
    what: str


@dataclass(frozen=True, slots=True)
class FeedResult:
    items: tuple[CalendarItem, ...]
    problems: tuple[FeedProblem, ...]


def _text(value: Any) -> str | None:
    if value is None:
        return None
    text = str(value).strip()
    return text or None


def _upper(component: icalendar.cal.Component, name: str) -> str | None:
    text = _text(component.get(name))
    return text.upper() if text else None


def _address(value: Any) -> str:
    text = str(value).strip()
    return text[7:] if text.lower().startswith("mailto:") else text


def _attendees(component: icalendar.cal.Component) -> tuple[Attendee, ...]:
    raw = component.get("ATTENDEE")
    values = raw if isinstance(raw, list) else [] if raw is None else [raw]
    out: list[Attendee] = []
    for value in values:
        partstat = str(getattr(value, "params", {}).get("PARTSTAT", "")).upper()
        out.append(Attendee(_address(value), _PARTSTAT.get(partstat)))
    return tuple(out)


def _dt(component: icalendar.cal.Component, name: str) -> Any:
    """The Python value of a date/time property (icalendar's union type is too wide)."""
    return getattr(component.get(name), "dt", None)


def _instant(value: date | datetime, zone: ZoneInfo) -> datetime:
    if isinstance(value, datetime):
        return value if value.tzinfo is not None else value.replace(tzinfo=zone)
    return datetime.combine(value, time(0, 0), zone)


def _item(occurrence: icalendar.cal.Component, uid: str, zone: ZoneInfo) -> CalendarItem:
    raw_start = _dt(occurrence, "DTSTART")
    if not isinstance(raw_start, date):
        raise ValueError("DTSTART is missing or not a date or date-time")
    all_day = not isinstance(raw_start, datetime)
    start = _instant(raw_start, zone)
    raw_end, duration = _dt(occurrence, "DTEND"), _dt(occurrence, "DURATION")
    if isinstance(raw_end, date):
        end = _instant(raw_end, zone)
    elif isinstance(duration, timedelta):
        end = start + duration
    else:
        # RFC 5545 3.6.1: without DTEND or DURATION a DATE event lasts one day, a DATE-TIME
        # event no time at all.
        end = start + (timedelta(days=1) if all_day else timedelta(0))
    if all_day:
        # Midnight to midnight in the zone, whatever the UTC offsets of the two days.
        end = _instant(end.date(), zone)
    busy = _upper(occurrence, "X-MICROSOFT-CDO-BUSYSTATUS") or _upper(
        occurrence, "X-MICROSOFT-CDO-INTENDEDSTATUS"
    )
    transp, status = _upper(occurrence, "TRANSP"), _upper(occurrence, "STATUS")
    organizer = occurrence.get("ORGANIZER")
    return CalendarItem(
        uid=uid,
        start=start,
        end=end,
        all_day=all_day,
        subject=_text(occurrence.get("SUMMARY")),
        location=_text(occurrence.get("LOCATION")),
        busy_status=_BUSY.get(busy or ""),
        transp=Transp(transp.lower()) if transp in ("OPAQUE", "TRANSPARENT") else None,
        status=EventStatus(status.lower())
        if status in ("CONFIRMED", "TENTATIVE", "CANCELLED")
        else None,
        attendees=_attendees(occurrence),
        organizer=_address(organizer) if organizer is not None else None,
        sensitivity=_CLASS.get(_upper(occurrence, "CLASS") or "", Sensitivity.PUBLIC),
    )


_FOLD = re.compile(r"\r?\n[ \t]")


def _begin_lines(text: str) -> list[int]:
    """1-based line numbers of each ``BEGIN:VEVENT`` in the feed as served."""
    return [
        n
        for n, line in enumerate(text.splitlines(), start=1)
        if line.strip().upper() == "BEGIN:VEVENT"
    ]


def _zone_problem(event: icalendar.cal.Component, zone: ZoneInfo) -> str | None:
    start = event.get("DTSTART")
    tzid = getattr(start, "params", {}).get("TZID") if start is not None else None
    dt = getattr(start, "dt", None)
    if tzid and isinstance(dt, datetime) and dt.tzinfo is None:
        return f"unknown time zone {tzid!r} and no VTIMEZONE for it: read in {zone.key}"
    return None


def _decode(data: bytes) -> str:
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        # Older Exchange servers publish Windows-1252; every byte decodes, nothing is lost.
        return data.decode("cp1252", errors="replace")


def parse_feed(
    data: bytes, *, window_start: datetime, window_end: datetime, default_zone: ZoneInfo
) -> FeedResult:
    """The occurrences in ``[window_start, window_end)`` and the problems met on the way.

    Raises CalendarError only when the data is not an iCalendar object at all.
    """
    text = _decode(data)
    begins = _begin_lines(text)
    try:
        calendar = icalendar.Calendar.from_ical(normalise_tzids(_FOLD.sub("", text)))
    except _EVENT_ERRORS as exc:
        raise CalendarError("feed", f"not an iCalendar (RFC 5545) object: {exc}") from None
    timezones = [c for c in calendar.subcomponents if c.name == "VTIMEZONE"]
    events = [c for c in calendar.subcomponents if c.name == "VEVENT"]
    problems: list[FeedProblem] = []
    series: dict[str, list[tuple[int | None, icalendar.cal.Component]]] = {}
    for index, event in enumerate(events):
        line = begins[index] if index < len(begins) else None
        uid = _text(event.get("UID"))
        if uid is None:
            uid = f"no-uid-line-{line}"
            problems.append(FeedProblem(None, line, "VEVENT without UID (RFC 5545 3.8.4.7)"))
        if event.errors:
            what = "; ".join(f"{name}: {message}" for name, message in event.errors)
            problems.append(FeedProblem(uid, line, f"unreadable property: {what}"))
            continue
        zone_problem = _zone_problem(event, default_zone)
        if zone_problem is not None:
            problems.append(FeedProblem(uid, line, zone_problem))
        series.setdefault(uid, []).append((line, event))
    # Widen the query by a day on each side: floating and all-day times are compared before
    # they get their zone; the exact window is applied to the aware instants below.
    lo, hi = window_start - timedelta(days=1), window_end + timedelta(days=1)
    items: list[CalendarItem] = []
    for uid, members in series.items():
        try:
            items.extend(_expand(uid, members, timezones, lo, hi, default_zone))
        except (*_EVENT_ERRORS, PresenceError) as exc:
            problems.append(FeedProblem(uid, members[0][0], f"cannot expand: {exc}"))
    inside = (i for i in items if i.start < window_end and i.end > window_start)
    return FeedResult(tuple(sorted(inside, key=lambda i: (i.start, i.end, i.uid))), tuple(problems))


def _expand(
    uid: str,
    members: Iterable[tuple[int | None, icalendar.cal.Component]],
    timezones: list[icalendar.cal.Component],
    lo: datetime,
    hi: datetime,
    zone: ZoneInfo,
) -> list[CalendarItem]:
    """One series (master and overrides) expanded on its own, so its errors stay its own."""
    single = icalendar.Calendar()
    for tz in timezones:
        single.add_component(tz)
    for _, event in members:
        single.add_component(event)
    occurrences = recurring_ical_events.of(single).between(lo, hi)
    return [_item(o, uid, zone) for o in occurrences]
