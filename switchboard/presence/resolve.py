"""resolve(): one person's effective availability at an instant, and why (R5-R8).

Precedence, highest first:

1. A manual status (set by the person, or on their behalf) while it applies: a referral,
   or "available" that overrides a calendar item. It applies from its start until its end;
   once expired it is ignored, and the sources below take over again by themselves.
   Planned referrals (issue 16) are manual statuses too: while one applies, the latest-
   starting of the current status and the active plans is the one in force
   (``presence.plans.in_force``).
2. The calendar (R7): busy and out-of-office items divert; tentative ones only for people
   who chose so, otherwise they become a hint for the receptionist. The return time is the
   end of the merged run of diverting items, moved to the next start of working hours when
   it falls outside them ("back on Monday"), and on past any diverting item that already
   covers that start (off on Friday and Monday: "back on Tuesday"). The schedule's return
   time (3.) skips such items too.
3. The working-hours schedule (R8): outside working hours a schedule referral applies;
   closed, unless a PRIVATE-arrangement person chose to be rung after hours (R9).
4. Otherwise the extension is active (R5).

Under the WORK_ONLY arrangement nothing rings outside working hours (R8): a manual
"available" does not apply there, and an open referral plays without ringing.
"""

from __future__ import annotations

from dataclasses import replace
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
from switchboard.presence.plans import in_force

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


def _return_time(
    end: datetime, diverting: list[CalendarSegment], hours: WorkingHours, zone: ZoneInfo
) -> datetime:
    """When the person is really back: ``end`` moved to working hours, then past any diverting
    run that covers that start (holiday on Friday and again on Monday: back on Tuesday)."""
    back = _back_at(end, hours, zone)
    while (later := _run_end(diverting, back)) != back:
        back = _back_at(later, hours, zone)
    return back


def _next_change(
    now: datetime, inputs: PresenceInputs, hours: WorkingHours, zone: ZoneInfo
) -> datetime | None:
    candidates: list[datetime] = []
    manual = inputs.manual
    if manual is not None:
        candidates.append(manual.start)
        if manual.end is not None:
            candidates.append(manual.end)
    for plan in inputs.plans:
        candidates.append(plan.starts)
        if plan.end is not None:
            candidates.append(plan.end)
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
    # R8: a WORK_ONLY phone stays at work, so outside working hours nothing may ring it: not
    # a manual "available", not an open referral (which still says why the person is away).
    off_duty = (
        person.arrangement is Arrangement.WORK_ONLY
        and any(hours.days)
        and not hours.is_working(now, zone)
    )
    no_ring = " It does not ring: calls must not ring under the work_only arrangement (R8)."

    manual = in_force(inputs.manual, inputs.plans, now)
    available_off_duty = (
        manual is not None and manual.active_at(now) and manual.referral is None and off_duty
    )
    if manual is not None and manual.active_at(now) and not available_off_duty:
        who = (
            "on their behalf by " + manual.set_by
            if _on_behalf(manual.referral)
            else ("by " + manual.set_by)
        )
        end = manual.end
        until = f" until {_fmt(end, zone)}" if end is not None else " until cleared"
        if manual.starts is not None:
            until = f" from {_fmt(manual.starts, zone)} (planned)" + until
        if manual.referral is None:
            return Availability(
                True,
                None,
                f"Set available {who} at {_fmt(manual.set_at, zone)}{until}; "
                "this overrides the calendar and working hours (R5).",
                next_change,
            )
        r = manual.referral
        silenced = off_duty and r.kind is ReferralKind.OPEN
        return Availability(
            r.kind is ReferralKind.OPEN and not silenced,
            replace(r, kind=ReferralKind.CLOSED) if silenced else r,
            f"{_kind_word(r)} referral '{label(r.reason, 'en')}' set {who} at "
            f"{_fmt(manual.set_at, zone)} applies{until}; a manual referral takes "
            "precedence over the calendar and working hours (R6)." + (no_ring if silenced else ""),
            next_change,
        )
    if manual is not None and available_off_duty:
        notes.append(
            f"The manual 'available' set by {manual.set_by} does not apply outside working "
            "hours under the work_only arrangement (R8)."
        )
    if manual is not None and manual.expired_at(now) and manual.end is not None:
        notes.append(
            f"The manual status set by {manual.set_by} expired at {_fmt(manual.end, zone)}."
        )

    covering = [s for s in inputs.calendar if s.covers(now)]
    diverting = [s for s in covering if _diverts(s, person)]
    all_diverting = [s for s in inputs.calendar if _diverts(s, person)]
    hints: list[str] = []
    for s in covering:
        if s.busy is BusyClass.TENTATIVE and not _diverts(s, person):
            hints.append(f"Tentatively busy until {_fmt(s.end, zone)}.")
    if diverting:
        top = max(diverting, key=lambda s: _RANK[s.busy])
        run_end = _run_end(all_diverting, now)
        back = _return_time(run_end, all_diverting, hours, zone)
        silenced = off_duty and top.kind is ReferralKind.OPEN
        referral = Referral(
            top.reason,
            ReferralKind.CLOSED if silenced else top.kind,
            back,
            # A private item's subject is never shown; a long subject is cut to the length
            # a referral text may have (Outlook allows 255 characters).
            None if top.private or top.label is None else top.label[:200],
            Source.CALENDAR,
        )
        what = "a private item" if top.private else f"'{top.label or label(top.reason, 'en')}'"
        moved = (
            "" if back == run_end else f", back at the start of working hours {_fmt(back, zone)}"
        )
        notes.append(
            f"The calendar shows {top.busy.value} ({what}) from {_fmt(top.start, zone)}; "
            f"the busy run ends {_fmt(run_end, zone)}{moved} (R7)." + (no_ring if silenced else "")
        )
        return Availability(
            referral.kind is ReferralKind.OPEN,
            referral,
            " ".join(notes),
            next_change,
            tuple(hints),
        )

    if any(hours.days) and not hours.is_working(now, zone):
        starts_again = hours.next_start(now, zone)
        rings = person.arrangement is Arrangement.PRIVATE and person.ring_after_hours
        kind = ReferralKind.OPEN if rings else ReferralKind.CLOSED
        returns = (
            _return_time(starts_again, all_diverting, hours, zone)
            if starts_again is not None
            else None
        )
        referral = Referral(Reason.OUTSIDE_HOURS, kind, returns, None, Source.SCHEDULE)
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
            + (
                f" The calendar keeps the person away until {_fmt(returns, zone)} (R7)."
                if returns is not None and returns != starts_again
                else ""
            )
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
