"""Times as people type them on the command line, read in the organisation's zone."""

from __future__ import annotations

import re
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo


class TimeError(ValueError):
    pass


_DURATION = re.compile(r"^(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m(?:in)?)?$")


def parse_duration(text: str) -> timedelta:
    """ "45m", "1h30m", "2d", "90" (minutes)."""
    value = text.strip().lower().replace(" ", "")
    if value.isdigit():
        minutes = int(value)
        if minutes <= 0:
            raise TimeError(f"duration {text!r} must be positive")
        return timedelta(minutes=minutes)
    m = _DURATION.match(value)
    if not value or m is None or not any(m.groups()):
        raise TimeError(f"duration {text!r}: write it like 45m, 1h30m or 2d")
    d, h, mins = (int(g) if g else 0 for g in m.groups())
    result = timedelta(days=d, hours=h, minutes=mins)
    if result <= timedelta(0):
        raise TimeError(f"duration {text!r} must be positive")
    return result


def parse_instant(
    text: str | None, now: datetime, zone: ZoneInfo, *, roll_forward: bool = False
) -> datetime:
    """HH:MM (today; tomorrow if passed and ``roll_forward``), YYYY-MM-DD (its start), or
    ISO 8601 (without an offset, the organisation's zone)."""
    if text is None:
        return now
    value = text.strip()
    local_now = now.astimezone(zone)
    if re.fullmatch(r"\d{1,2}[:.]\d{2}", value):
        hh, mm = (int(x) for x in re.split(r"[:.]", value))
        try:
            at = datetime.combine(local_now.date(), time(hh, mm), zone)
        except ValueError:
            raise TimeError(f"{text!r} is not a time of day") from None
        if roll_forward and at <= now:
            at += timedelta(days=1)
            at = datetime.combine(at.date(), time(hh, mm), zone)
        return at
    try:
        if re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
            return datetime.combine(date.fromisoformat(value), time(0, 0), zone)
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise TimeError(
            f"{text!r} is not a time: write HH:MM, YYYY-MM-DD or YYYY-MM-DDTHH:MM[+01:00]"
        ) from None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=zone)
