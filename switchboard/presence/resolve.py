"""resolve(): one person's effective availability at an instant, and why (R5-R8).

Precedence, highest first:

1. A manual status (set by the person, or on their behalf) while it applies: a referral,
   or "available" that overrides a calendar item. It applies from its start until its end;
   once expired it is ignored, and the sources below take over again by themselves.
2. The calendar (R7): busy and out-of-office items divert; tentative ones only for people
   who chose so, otherwise they become a hint for the receptionist. The return time is the
   end of the merged run of diverting items, moved to the next start of working hours when
   it falls outside them ("back on Monday").
3. The working-hours schedule (R8): outside working hours a schedule referral applies;
   closed, unless a PRIVATE-arrangement person chose to be rung after hours (R9).
4. Otherwise the extension is active (R5).
"""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from switchboard.directory.hours import WorkingHours
from switchboard.directory.model import Arrangement, Person
from switchboard.presence.labels import label
from switchboard.presence.model import (
    Availability,
    BusyClass,
    CalendarSegment,
    PresenceInputs,
    Reason,
    Referral,
    ReferralKind,
    Source,
)

_RANK = {
    BusyClass.OOF: 4,
    BusyClass.BUSY: 3,
    BusyClass.TENTATIVE: 2,
    BusyClass.WORKING_ELSEWHERE: 1,
    BusyClass.FREE: 0,
}


def _fmt(at: datetime, zone: ZoneInfo) -> str:
    return f"{at.astimezone(zone):%Y-%m-%d %H:%M}"


def _diverts(segment: CalendarSegment, person: Person) -> bool:
    if segment.busy in (BusyClass.BUSY, BusyClass.OOF):
        return True
    return segment.busy is BusyClass.TENTATIVE and person.tentative_diverts


def _run_end(segments: list[CalendarSegment], now: datetime) -> datetime:
    """End of the merged run of segments that contains ``now`` (back-to-back items merge)."""
    end = now
    changed = True
    while changed:
        changed = False
        for s in segments:
            if s.start <= end < s.end:
                end = s.end
                changed = True
    return end


def _back_at(end: datetime, hours: WorkingHours, zone: ZoneInfo) -> datetime:
    """The return time: ``end``, or the next start of working hours if ``end`` is outside them."""
    if not any(hours.days) or hours.is_working(end, zone):
        return end
    return hours.next_start(end, zone) or end


def _next_change(
    now: datetime, inputs: PresenceInputs, hours: WorkingHours, zone: ZoneInfo
) -> datetime | None:
    candidates: list[datetime] = []
    manual = inputs.manual
    if manual is not None:
        candidates.append(manual.start)
        if manual.end is not None:
            candidates.append(manual.end)
    for s in inputs.calendar:
        candidates.extend((s.start, s.end))
    if any(hours.days):
        end = hours.current_end(now, zone)
        candidates.append(end if end is not None else hours.next_start(now, zone) or now)
    future = [c for c in candidates if c > now]
    return min(future) if future else None


def resolve(
    person: Person,
    inputs: PresenceInputs,
    now: datetime,
    default_hours: WorkingHours,
    zone: ZoneInfo,
) -> Availability:
    """Merge the sources at ``now`` (aware) into one Availability with its explanation."""
    if now.tzinfo is None:
        raise ValueError("resolve() needs an aware instant")
    hours = person.hours or default_hours
    next_change = _next_change(now, inputs, hours, zone)
    notes: list[str] = []

    manual = inputs.manual
    if manual is not None and manual.active_at(now):
        who = (
            "on their behalf by " + manual.set_by
            if _on_behalf(manual.referral)
            else ("by " + manual.set_by)
        )
        end = manual.end
        until = f" until {_fmt(end, zone)}" if end is not None else " until cleared"
        if manual.referral is None:
            return Availability(
                True,
                None,
                f"Set available {who} at {_fmt(manual.set_at, zone)}{until}; "
                "this overrides the calendar and working hours (R5).",
                next_change,
            )
        r = manual.referral
        return Availability(
            r.kind is ReferralKind.OPEN,
            r,
            f"{_kind_word(r)} referral '{label(r.reason, 'en')}' set {who} at "
            f"{_fmt(manual.set_at, zone)} applies{until}; a manual referral takes "
            "precedence over the calendar and working hours (R6).",
            next_change,
        )
    if manual is not None and manual.expired_at(now) and manual.end is not None:
        notes.append(
            f"The manual status set by {manual.set_by} expired at {_fmt(manual.end, zone)}."
        )

    covering = [s for s in inputs.calendar if s.covers(now)]
    diverting = [s for s in covering if _diverts(s, person)]
    hints: list[str] = []
    for s in covering:
        if s.busy is BusyClass.TENTATIVE and not _diverts(s, person):
            hints.append(f"Tentatively busy until {_fmt(s.end, zone)}.")
    if diverting:
        top = max(diverting, key=lambda s: _RANK[s.busy])
        run_end = _run_end([s for s in inputs.calendar if _diverts(s, person)], now)
        back = _back_at(run_end, hours, zone)
        referral = Referral(
            top.reason,
            top.kind,
            back,
            None if top.private else top.label,
            Source.CALENDAR,
        )
        what = "a private item" if top.private else f"'{top.label or label(top.reason, 'en')}'"
        moved = (
            "" if back == run_end else f", back at the start of working hours {_fmt(back, zone)}"
        )
        notes.append(
            f"The calendar shows {top.busy.value} ({what}) from {_fmt(top.start, zone)}; "
            f"the busy run ends {_fmt(run_end, zone)}{moved} (R7)."
        )
        return Availability(
            top.kind is ReferralKind.OPEN, referral, " ".join(notes), next_change, tuple(hints)
        )

    if any(hours.days) and not hours.is_working(now, zone):
        starts_again = hours.next_start(now, zone)
        rings = person.arrangement is Arrangement.PRIVATE and person.ring_after_hours
        kind = ReferralKind.OPEN if rings else ReferralKind.CLOSED
        referral = Referral(Reason.OUTSIDE_HOURS, kind, starts_again, None, Source.SCHEDULE)
        why = (
            "the person chose to be rung after hours (R9)"
            if rings
            else "calls must not ring under the work_only arrangement (R8)"
            if person.arrangement is Arrangement.WORK_ONLY
            else "employees are reachable within working time, not always (R8)"
        )
        notes.append(
            f"Outside working hours ({hours.format()}); {why}."
            + (f" Working time starts again {_fmt(starts_again, zone)}." if starts_again else "")
        )
        return Availability(rings, referral, " ".join(notes), next_change, tuple(hints))

    notes.append(
        "No manual referral and no diverting calendar item"
        + (", within working hours" if any(hours.days) else "")
        + ": the extension is active (R5)."
    )
    return Availability(True, None, " ".join(notes), next_change, tuple(hints))


def _on_behalf(referral: Referral | None) -> bool:
    return referral is not None and referral.source is Source.ON_BEHALF


def _kind_word(referral: Referral) -> str:
    return "Open" if referral.kind is ReferralKind.OPEN else "Closed"
