"""The JSON the API answers with: people, their availability, line state and calendar hints.

Built on ``switchboard.http.render`` so privacy is applied the same way everywhere: numbers are
those a receptionist may give out (R17) and never a secret mobile (R18); calendar hints
carry a label only for items that are not private (R7 privacy, issue 5).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from switchboard.directory.display import display_number
from switchboard.directory.model import Person
from switchboard.http.render import availability_dict, instant, manual_dict
from switchboard.live.engine import Engine
from switchboard.live.lines import LineStates
from switchboard.presence.labels import label, sentence
from switchboard.presence.model import BusyClass, CalendarSegment, PlannedReferral, PresenceInputs
from switchboard.presence.plans import pending

JSON = dict[str, Any]
HINT_HORIZON = timedelta(hours=1)
"""How far ahead a calendar hint looks: "busy in a meeting for the next hour"."""


def person_json(person: Person, engine: Engine) -> JSON:
    plan = engine.settings.plan
    office = plan.e164_of_extension(person.extension) if person.extension else None
    national = plan.national_of_extension(person.extension) if person.extension else None
    return {
        "id": person.person_id,
        "name": person.name,
        "organisation": person.organisation,
        "unit": person.unit,
        "title": person.title,
        "email": person.email,
        "language": person.language,
        "extension": person.extension,
        "number": office,
        "national": national,
        "mobile": person.public_mobile,
        "mobile_secret": person.secret_mobile,
        # As people read them, in one national style (issue 16); never a secret one (R18).
        "national_display": display_number(national, plan),
        "mobile_display": display_number(person.public_mobile, plan),
    }


def line_json(person: Person, lines: LineStates) -> JSON:
    return {"in_call": lines.in_call(person.person_id), "calls": lines.calls(person.person_id)}


def calendar_hint(
    segments: tuple[CalendarSegment, ...], now: datetime, engine: Engine, language: str
) -> JSON | None:
    """What the calendar says about the next hour, for the receptionist (never a private
    item's subject: a private segment has no label, and we show none)."""
    zone = engine.settings.zone
    relevant = [
        s
        for s in sorted(segments, key=lambda s: s.start)
        if s.busy not in (BusyClass.FREE, BusyClass.WORKING_ELSEWHERE)
        and s.end > now
        and s.start < now + HINT_HORIZON
    ]
    if not relevant:
        return None
    segment = relevant[0]
    current = segment.start <= now
    # Consecutive busy items read as one stretch ("busy until 11:30").
    end = segment.end
    for s in relevant[1:]:
        if s.start <= end:
            end = max(end, s.end)
    word = label(segment.reason, language)
    # The date whenever the end is not today (issue 16: a holiday ending on Friday).
    same_day = end.astimezone(zone).date() == now.astimezone(zone).date()
    local_end = (
        f"{end.astimezone(zone):%H:%M}" if same_day else f"{end.astimezone(zone):%Y-%m-%d %H:%M}"
    )
    if current:
        hour = " for the next hour" if end - now >= HINT_HORIZON else ""
        text = f"{word}: busy{hour} (until {local_end})"
    else:
        text = f"{word} from {segment.start.astimezone(zone):%H:%M} until {local_end}"
    return {
        "now": current,
        "busy": segment.busy.value,
        "reason": segment.reason.value,
        "starts": instant(segment.start, zone),
        "ends": instant(end, zone),
        "label": None if segment.private else segment.label,
        "text": text,
    }


def presence_json(person: Person, engine: Engine, lines: LineStates, now: datetime) -> JSON:
    """Availability, referral, return time, line state and calendar hint of one person."""
    zone = engine.settings.zone
    language = engine.settings.language
    availability = engine.availability(person, now)
    referral = availability.referral
    out = availability_dict(availability, zone)
    out["sentence"] = (
        sentence(person.name, referral, now, zone, language) if referral is not None else None
    )
    out["line"] = line_json(person, lines)
    inputs = engine.view.presence_inputs(person.person_id)
    out["calendar"] = calendar_hint(inputs.calendar, now, engine, language)
    out["planned"] = planned_json(inputs, now, engine)
    return out


def plan_json(plan: PlannedReferral, engine: Engine, now: datetime) -> JSON:
    """One plan as the API, the employee's page and the reception's rows show it (issue 16).
    A divert target was checked never to be a secret mobile when the plan was made (R18)."""
    zone = engine.settings.zone
    r = plan.referral
    return {
        "id": plan.plan_id,
        "reason": r.reason.value,
        "kind": r.kind.value,
        "starts": instant(plan.starts, zone),
        "until": instant(r.until, zone),
        "text": r.text,
        "divert_to": r.divert_to,
        "source": r.source.value,
        "set_by": plan.set_by,
        "set_at": instant(plan.set_at, zone),
        "in_force": plan.active_at(now),
    }


def planned_json(inputs: PresenceInputs, now: datetime, engine: Engine) -> list[JSON]:
    """Referrals planned in advance that have not started yet, by start (issue 16: the
    reception sees a planned holiday on the person's row, however many there are). A
    manual status with a future start, from before plans were kept apart, counts too."""
    out = [plan_json(p, engine, now) for p in pending(inputs.plans, now) if p.starts > now]
    manual = inputs.manual
    if manual is not None and manual.referral is not None and manual.start > now:
        zone = engine.settings.zone
        referral = manual.referral
        out.append(
            {
                "id": None,
                "reason": referral.reason.value,
                "kind": referral.kind.value,
                "starts": instant(manual.start, zone),
                "until": instant(referral.until, zone),
                "text": referral.text,
            }
        )
        out.sort(key=lambda p: str(p["starts"]))
    return out


def availability_json(person: Person, engine: Engine, lines: LineStates, now: datetime) -> JSON:
    """``presence_json`` plus the manual status behind it, for the availability resource."""
    out: JSON = {"person_id": person.person_id, "at": instant(now, engine.settings.zone)}
    out |= presence_json(person, engine, lines, now)
    out["manual"] = manual_dict(engine.view.manual(person.person_id), engine.settings.zone)
    # Every plan that has not ended, the one in force now included (issue 16).
    out["plans"] = [plan_json(p, engine, now) for p in engine.plans(person)]
    return out
