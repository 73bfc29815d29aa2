"""The reception's overview before typing (issue 16): who is away now and when each is back,
who comes back within the hour, and who is away later today.

Answered from the live view, never the store. Most people have nothing to say today, so
``entry`` first asks the person's stored inputs whether anything could take them away
between now and the end of the day (a manual referral or a busy calendar item touching
that stretch) and only then resolves: at region scale (100,000 people) that cheap test is
what a full scan costs, and ``resolve()`` runs only for the few it lets through.

Working hours alone (``outside_hours``, R8) put nobody on the overview: at 07:00 everyone
is "away", which tells a reception nothing.
"""

from __future__ import annotations

import heapq
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, time, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo

from switchboard.directory.model import Person
from switchboard.live.view import LiveView
from switchboard.presence.model import (
    Availability,
    BusyClass,
    PresenceInputs,
    Reason,
    Referral,
    ReferralKind,
    Source,
)
from switchboard.routing.decide import availability_of

BACK_SOON = timedelta(hours=1)
""""Comes back within the hour"."""
_NEVER = datetime.max.replace(tzinfo=UTC)
_AWAY_BUSY = (BusyClass.BUSY, BusyClass.OOF, BusyClass.TENTATIVE)
"""Calendar items that may take someone away (tentative only for those who chose so; the
resolve decides)."""


class Section(StrEnum):
    AWAY = "away"
    """Away now, back later than within the hour (or not said)."""
    BACK_SOON = "back_soon"
    """Away now, back within the hour."""
    LATER = "later"
    """Available now, away later today."""


@dataclass(frozen=True, slots=True)
class OverviewEntry:
    """One person's line on the overview: why, from when (``starts``: None means already),
    until when; ``label`` only for a calendar item that is not private (R7)."""

    person: Person
    reason: Reason
    kind: ReferralKind
    source: Source
    starts: datetime | None
    until: datetime | None
    label: str | None = None
    sort_name: str = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "sort_name", self.person.name.casefold())

    def section(self, now: datetime) -> Section | None:
        """Where the entry belongs at ``now`` (a little after it was made: an absence that
        started meanwhile is away, one that ended is gone)."""
        if self.until is not None and self.until <= now:
            return None
        if self.starts is not None and self.starts > now:
            return Section.LATER
        if self.until is not None and self.until <= now + BACK_SOON:
            return Section.BACK_SOON
        return Section.AWAY


def end_of_day(now: datetime, zone: ZoneInfo) -> datetime:
    """The next local midnight: "later today" ends there."""
    local = now.astimezone(zone)
    tomorrow = local.date() + timedelta(days=1)
    return datetime.combine(tomorrow, time(0), tzinfo=zone)


def _windows(inputs: PresenceInputs) -> list[tuple[datetime, datetime | None]]:
    """The stretches that may take the person away, as (start, end or open-ended)."""
    out: list[tuple[datetime, datetime | None]] = []
    manual = inputs.manual
    if manual is not None and manual.referral is not None:
        out.append((manual.start, manual.end))
    out.extend((plan.starts, plan.end) for plan in inputs.plans)
    out.extend((s.start, s.end) for s in inputs.calendar if s.busy in _AWAY_BUSY)
    return out


def _away(availability: Availability) -> Referral | None:
    """The referral that keeps the person away, or None (working hours alone do not)."""
    referral = availability.referral
    if referral is None or referral.source is Source.SCHEDULE:
        return None
    if availability.available and referral.kind is not ReferralKind.OPEN:
        return None
    return referral


def _utc(at: datetime | None) -> datetime | None:
    return at.astimezone(UTC) if at is not None else None


def _entry(person: Person, referral: Referral, starts: datetime | None) -> OverviewEntry:
    label = referral.text if referral.source is Source.CALENDAR else None
    # Kept in UTC: instants of one tzinfo compare without asking a zone for its offset, and
    # each screen's answer compares every entry's (as the view's availability cache does).
    return OverviewEntry(
        person,
        referral.reason,
        referral.kind,
        referral.source,
        _utc(starts),
        _utc(referral.until),
        label,
    )


def entry(view: LiveView, person: Person, now: datetime, day_end: datetime) -> OverviewEntry | None:
    """The person's overview entry for the rest of today, or None when nothing takes them
    away before ``day_end``."""
    inputs = view.presence_inputs(person.person_id)
    windows = [
        (start, end)
        for start, end in _windows(inputs)
        if start < day_end and (end is None or end > now)
    ]
    if not windows:
        return None
    away = _away(view.availability(person, now))
    if away is not None:
        return _entry(person, away, None)
    for start in sorted(start for start, _ in windows if start > now):
        # Resolved at that instant, uncached (the view keeps the answer for now): a manual
        # "available" or working hours may still keep the person reachable then.
        later = _away(availability_of(person, view, start))
        if later is not None:
            return _entry(person, later, start)
    return None


@dataclass(frozen=True, slots=True)
class Listed:
    """One section as shown: the first ``entries`` in order and how many there are in all."""

    total: int
    entries: tuple[OverviewEntry, ...]


def _order(section: Section) -> Callable[[OverviewEntry], tuple[datetime, str, str]]:
    """Soonest back first (not said: last); for later today, soonest gone first."""

    def key(e: OverviewEntry) -> tuple[datetime, str, str]:
        at = e.starts if section is Section.LATER else e.until
        return (
            at or datetime.max.replace(tzinfo=UTC),
            e.person.name.casefold(),
            e.person.person_id,
        )

    return key


def select(
    entries: Iterable[OverviewEntry],
    now: datetime,
    limit: int,
    *,
    organisation: str | None = None,
    unit: str | None = None,
    visible: Callable[[Person], bool] = lambda _: True,
) -> tuple[dict[Section, Listed], list[str]]:
    """The three sections for one screen's filter, each cut to ``limit``, and the units of
    the organisation's entries (what the unit filter offers)."""
    now = now.astimezone(UTC)
    grouped: dict[Section, list[OverviewEntry]] = {s: [] for s in Section}
    units: set[str] = set()
    for e in entries:
        person = e.person
        if organisation and person.organisation != organisation:
            continue
        section = e.section(now)
        if section is None or not visible(person):
            continue
        if person.unit:
            units.add(person.unit)
        if unit and person.unit != unit:
            continue
        grouped[section].append(e)
    listed = {
        s: Listed(len(found), tuple(heapq.nsmallest(limit, found, key=_order(s))))
        for s, found in grouped.items()
    }
    return listed, sorted(units, key=str.casefold)
