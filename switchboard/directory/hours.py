"""Working hours: when an employee must be reachable (R8), in the organisation's local time.

The written form is what administrators type in a CSV or the config file:
``mon-fri 07:30-16:00`` or ``mon-thu 08:00-16:30, fri 08:00-15:00`` (weekdays in English,
Swedish or Norwegian abbreviations; ``;`` or ``,`` between groups). Several intervals on one
day are allowed (``mon-fri 08:00-12:00, mon-fri 13:00-17:00``).

Pure: the caller passes the instant and the zone.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from itertools import pairwise
from zoneinfo import ZoneInfo

_DAY_NAMES: dict[str, int] = {}
for _index, _names in enumerate(
    (
        ("mon", "monday", "mån", "måndag", "man", "mandag"),
        ("tue", "tuesday", "tis", "tisdag", "tir", "tirsdag"),
        ("wed", "wednesday", "ons", "onsdag"),
        ("thu", "thursday", "tor", "torsdag", "tors"),
        ("fri", "friday", "fre", "fredag"),
        ("sat", "saturday", "lör", "lördag", "lør", "lørdag"),
        ("sun", "sunday", "sön", "söndag", "søn", "søndag"),
    )
):
    for _name in _names:
        _DAY_NAMES[_name] = _index
_SHORT = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


class HoursError(ValueError):
    def __init__(self, text: str, problem: str) -> None:
        super().__init__(f"working hours {text!r}: {problem}")
        self.text = text
        self.problem = problem


@dataclass(frozen=True, slots=True)
class Interval:
    start: time
    end: time


@dataclass(frozen=True, slots=True)
class WorkingHours:
    """Intervals per weekday (0 = Monday). An empty week means "no fixed hours"."""

    days: tuple[tuple[Interval, ...], ...]

    @classmethod
    def parse(cls, text: str) -> WorkingHours:
        week: list[list[Interval]] = [[] for _ in range(7)]
        groups = [g.strip() for g in text.replace(";", ",").split(",") if g.strip()]
        if not groups:
            raise HoursError(text, "empty; write for example 'mon-fri 08:00-16:30'")
        for group in groups:
            parts = group.split()
            if len(parts) != 2:
                raise HoursError(text, f"{group!r} should be 'DAYS HH:MM-HH:MM'")
            day_spec, time_spec = parts
            days = _parse_days(text, day_spec.lower())
            start, end = _parse_times(text, time_spec)
            for d in days:
                week[d].append(Interval(start, end))
        for intervals in week:
            intervals.sort(key=lambda i: i.start)
            for a, b in pairwise(intervals):
                if b.start < a.end:
                    raise HoursError(text, "intervals on the same day overlap")
        return cls(tuple(tuple(i) for i in week))

    def format(self) -> str:
        """The canonical written form; parse(format(h)) == h."""
        groups: list[str] = []
        # Group consecutive days with identical interval lists.
        d = 0
        while d < 7:
            if not self.days[d]:
                d += 1
                continue
            e = d
            while e + 1 < 7 and self.days[e + 1] == self.days[d]:
                e += 1
            span = _SHORT[d] if d == e else f"{_SHORT[d]}-{_SHORT[e]}"
            for i in self.days[d]:
                groups.append(f"{span} {i.start:%H:%M}-{i.end:%H:%M}")
            d = e + 1
        return ", ".join(groups)

    def is_working(self, at: datetime, zone: ZoneInfo) -> bool:
        local = at.astimezone(zone)
        t = local.time().replace(tzinfo=None)
        return any(i.start <= t < i.end for i in self.days[local.weekday()])

    def _boundaries(self, day: date, zone: ZoneInfo) -> list[tuple[datetime, datetime]]:
        return [
            (
                datetime.combine(day, i.start, zone),
                datetime.combine(day, i.end, zone),
            )
            for i in self.days[day.weekday()]
        ]

    def next_start(self, after: datetime, zone: ZoneInfo) -> datetime | None:
        """The first start of working time strictly after ``after`` (within two weeks)."""
        day = after.astimezone(zone).date()
        for offset in range(15):
            for start, _ in self._boundaries(day + timedelta(days=offset), zone):
                if start > after:
                    return start
        return None

    def current_end(self, at: datetime, zone: ZoneInfo) -> datetime | None:
        """When the working interval containing ``at`` ends, or None outside working time."""
        day = at.astimezone(zone).date()
        for start, end in self._boundaries(day, zone):
            if start <= at < end:
                return end
        return None


def _parse_days(text: str, spec: str) -> list[int]:
    days: list[int] = []
    for piece in spec.split("+"):
        if "-" in piece:
            a, _, b = piece.partition("-")
            if a not in _DAY_NAMES or b not in _DAY_NAMES:
                raise HoursError(text, f"unknown weekday in {piece!r}")
            lo, hi = _DAY_NAMES[a], _DAY_NAMES[b]
            if hi < lo:
                raise HoursError(text, f"{piece!r} runs backwards")
            days.extend(range(lo, hi + 1))
        else:
            if piece not in _DAY_NAMES:
                raise HoursError(text, f"unknown weekday {piece!r}")
            days.append(_DAY_NAMES[piece])
    return days


def _parse_times(text: str, spec: str) -> tuple[time, time]:
    a, sep, b = spec.partition("-")
    if not sep:
        raise HoursError(text, f"{spec!r} should be HH:MM-HH:MM")
    try:
        start, end = time.fromisoformat(_pad(a)), time.fromisoformat(_pad(b))
    except ValueError:
        raise HoursError(text, f"{spec!r} is not a time range like 08:00-16:30") from None
    if end <= start:
        raise HoursError(text, f"{spec!r} ends before it starts")
    return start, end


def _pad(value: str) -> str:
    hh, sep, mm = value.partition(":")
    if not sep or not hh.isdigit() or not mm.isdigit() or len(hh) > 2 or len(mm) != 2:
        raise ValueError(value)
    return f"{int(hh):02d}:{mm}"
