"""decide(): what happens to a call for one of our numbers, at an instant (R3, R5, R8, R10, R11).

Pure: it reads an in-memory snapshot and the instant it is given; it never touches the
network, a file or the clock, so the SIP edge may call it on every INVITE.
"""

from __future__ import annotations

from datetime import datetime

from switchboard.directory.model import Person
from switchboard.directory.numbers import NumberError
from switchboard.presence.labels import sentence
from switchboard.presence.model import Availability, ReferralKind
from switchboard.presence.resolve import resolve
from switchboard.routing.model import (
    Announce,
    Call,
    CallerOption,
    Decision,
    Divert,
    NoAnswer,
    Reject,
    Ring,
    Snapshot,
    Target,
    TargetKind,
    Voicemail,
)


def availability_of(person: Person, snapshot: Snapshot, now: datetime) -> Availability:
    """Resolve a person's availability from the snapshot's inputs (R5-R8), uncached."""
    org = snapshot.organisation(person.organisation)
    inputs = snapshot.presence_inputs(person.person_id)
    return resolve(person, inputs, now, org.hours, snapshot.zone)


def decide(call: Call, snapshot: Snapshot, now: datetime) -> Decision:
    found = callee(call, snapshot)
    if isinstance(found, Reject):
        return found
    person, extension = found
    if owner_calls(call, person, snapshot):
        return Voicemail(
            person,
            None,
            f"{_reached(call, extension, person)} The call comes from the owner's own mobile; "
            "ringing it would call itself, so it goes to the owner's voicemail.",
        )
    availability = snapshot.availability(person, now)
    return decide_for(call, person, extension, availability, snapshot, now)


def callee(call: Call, snapshot: Snapshot) -> Reject | tuple[Person, str]:
    """Whose extension the dialled number reaches (R1-R3), or why it reaches nobody."""
    plan = snapshot.plan
    try:
        dialled = plan.classify(call.dialled)
    except NumberError as exc:
        return Reject(
            484, "Address Incomplete", f"The dialled number cannot be read: {exc.problem}."
        )
    if dialled.extension is None:
        return Reject(
            404,
            "Not Found",
            "The dialled number is not in any of our number series (R1), so it is not ours.",
        )
    extension = dialled.extension
    person = snapshot.person_by_extension(extension)
    if person is None:
        series = dialled.series.label if dialled.series else "our number plan"
        return Reject(
            404,
            "Not Found",
            f"Extension {extension} belongs to our series ({series}) but nobody has it.",
        )
    return person, extension


def owner_calls(call: Call, person: Person, snapshot: Snapshot) -> bool:
    """Whether the call comes from the extension owner's own mobile."""
    return (
        person.mobile is not None
        and call.caller is not None
        and _same_number(snapshot, call.caller, person.mobile)
    )


def _reached(call: Call, extension: str, person: Person) -> str:
    return f"{call.dialled.strip()} reaches extension {extension} ({person.name}) (R2, R3)."


def timeless(decision: Decision) -> bool:
    """Whether ``decide_for`` made ``decision`` from its person, availability and dialled
    text alone, without reading ``now`` (a spoken sentence says "back at 13:00" relative
    to it): such a decision holds as long as those three do."""
    return isinstance(decision, Divert) or (
        isinstance(decision, Ring) and decision.announcement is None
    )


def decide_for(
    call: Call,
    person: Person,
    extension: str,
    availability: Availability,
    snapshot: Snapshot,
    now: datetime,
) -> Decision:
    """The decision for a call that reaches ``person``, not from their own mobile, given
    their ``availability`` at ``now`` (R5, R8, R10, R11)."""
    reached = _reached(call, extension, person)
    referral = availability.referral
    org = snapshot.organisation(person.organisation)
    zone = snapshot.zone

    if not availability.available and referral is not None:
        if referral.divert_to:
            return Divert(
                person,
                referral.divert_to,
                referral,
                availability,
                f"{reached} {availability.explanation} The referral diverts calls to "
                f"{referral.divert_to}.",
            )
        reception = org.reception if org.reception and org.reception != extension else None
        options = (CallerOption.LEAVE_MESSAGE,) + ((CallerOption.RECEPTION,) if reception else ())
        then = f" or press 0 for the reception ({reception})." if reception else "."
        return Announce(
            person,
            referral,
            sentence(person.name, referral, now, zone, person.language),
            options,
            reception,
            availability,
            f"{reached} {availability.explanation} The caller hears the referral instead of "
            f"ringing (R10), then may leave a message{then}",
        )

    targets = [Target(TargetKind.DEVICES, extension)]
    if person.mobile is not None:
        targets.append(Target(TargetKind.MOBILE, person.mobile))
    open_referral = referral is not None and referral.kind is ReferralKind.OPEN
    if open_referral and referral is not None:
        on_no_answer = NoAnswer.ANNOUNCE
        announcement: str | None = sentence(person.name, referral, now, zone, person.language)
        after = "If nobody answers, the open referral plays, then the caller may leave a message."
    else:
        on_no_answer = NoAnswer.VOICEMAIL
        announcement = None
        after = "If nobody answers, the owner's voicemail greeting plays (R11)."
    where = (
        "the mobile and registered phones" if person.mobile else "registered phones (no mobile, R4)"
    )
    return Ring(
        person,
        tuple(targets),
        snapshot.ring_timeout,
        on_no_answer,
        availability,
        f"{reached} {availability.explanation} Ring {where} for {snapshot.ring_timeout} s. {after}",
        announcement,
    )


def _same_number(snapshot: Snapshot, a: str, e164: str) -> bool:
    return snapshot.plan.e164_or_none(a) == e164
