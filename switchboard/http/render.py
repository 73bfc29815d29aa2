"""Core values as JSON-ready dicts, for the CLI now and the HTTP API later.

Privacy is applied here, once: a secret mobile (R18) is never rendered, only masked and
flagged, because the output of these functions ends up on screens and in scripts' logs.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from switchboard.directory.model import Person
from switchboard.directory.numbers import NumberPlan, mask_number
from switchboard.presence.model import Availability, ManualStatus, Referral, Template
from switchboard.routing.model import (
    Announce,
    Decision,
    Divert,
    Reject,
    Ring,
    Target,
    TargetKind,
    Voicemail,
)
from switchboard.routing.presentation import Presentation

JSON = dict[str, Any]


def instant(at: datetime | None, zone: ZoneInfo) -> str | None:
    return at.astimezone(zone).replace(microsecond=0).isoformat() if at is not None else None


def person_dict(person: Person, plan: NumberPlan) -> JSON:
    return {
        "name": person.name,
        "extension": person.extension,
        "number": plan.e164_of_extension(person.extension) if person.extension else None,
        "mobile": person.public_mobile,
        "mobile_secret": person.secret_mobile,
        "email": person.email,
        "organisation": person.organisation,
        "unit": person.unit,
        "title": person.title,
        "language": person.language,
        "hide_mobile": person.hide_mobile,
        "hide_extension": person.hide_extension,
        "arrangement": person.arrangement.value,
        "hours": person.hours.format() if person.hours else None,
        "ring_after_hours": person.ring_after_hours,
    }


def referral_dict(referral: Referral, zone: ZoneInfo) -> JSON:
    return {
        "reason": referral.reason.value,
        "kind": referral.kind.value,
        "until": instant(referral.until, zone),
        "text": referral.text,
        "source": referral.source.value,
        "divert_to": referral.divert_to,
    }


def availability_dict(availability: Availability, zone: ZoneInfo) -> JSON:
    r = availability.referral
    return {
        "available": availability.available,
        "referral": referral_dict(r, zone) if r else None,
        "explanation": availability.explanation,
        "next_change": instant(availability.next_change, zone),
        "hints": list(availability.hints),
    }


def manual_dict(status: ManualStatus | None, zone: ZoneInfo) -> JSON | None:
    if status is None:
        return None
    return {
        "referral": referral_dict(status.referral, zone) if status.referral else None,
        "set_by": status.set_by,
        "set_at": instant(status.set_at, zone),
        "starts": instant(status.starts, zone),
        "until": instant(status.end, zone),
    }


def template_dict(template: Template) -> JSON:
    return {
        "name": template.name,
        "reason": template.reason.value,
        "kind": template.kind.value,
        "duration_minutes": int(template.duration.total_seconds() // 60)
        if template.duration
        else None,
        "text": template.text,
    }


def _target(target: Target, person: Person) -> JSON:
    if target.kind is TargetKind.MOBILE and person.secret_mobile:
        return {"kind": target.kind.value, "address": mask_number(target.address), "secret": True}
    return {"kind": target.kind.value, "address": target.address}


def decision_dict(decision: Decision, zone: ZoneInfo) -> JSON:
    out: JSON = {"action": decision.action.value}
    match decision:
        case Ring():
            out |= {
                "extension": decision.person.extension,
                "name": decision.person.name,
                "targets": [_target(t, decision.person) for t in decision.targets],
                "ring_timeout": decision.ring_timeout,
                "on_no_answer": decision.on_no_answer.value,
                "announcement": decision.announcement,
                "referral": referral_dict(decision.availability.referral, zone)
                if decision.availability.referral
                else None,
            }
        case Announce():
            out |= {
                "extension": decision.person.extension,
                "name": decision.person.name,
                "referral": referral_dict(decision.referral, zone),
                "reason": decision.referral.reason.value,
                "until": instant(decision.referral.until, zone),
                "announcement": decision.announcement,
                "options": [o.value for o in decision.options],
                "reception": decision.reception,
            }
        case Voicemail():
            out |= {"extension": decision.person.extension, "name": decision.person.name}
        case Divert():
            out |= {
                "extension": decision.person.extension,
                "name": decision.person.name,
                "to": decision.to,
                "referral": referral_dict(decision.referral, zone) if decision.referral else None,
            }
        case Reject():
            out |= {"status": decision.status, "reason": decision.reason}
    out["explanation"] = decision.explanation
    return out


def presentation_dict(presentation: Presentation) -> JSON:
    return {
        "allowed": presentation.allowed,
        "number": presentation.number,
        "withheld": presentation.withheld,
        "explanation": presentation.explanation,
    }
