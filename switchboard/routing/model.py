"""What the routing core takes and returns: calls, the snapshot it reads, and decisions."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Protocol
from zoneinfo import ZoneInfo

from switchboard.directory.model import Organisation, Person
from switchboard.directory.numbers import NumberPlan
from switchboard.presence.model import Availability, PresenceInputs, Referral
from switchboard.routing.values import quick_init


@quick_init
@dataclass(frozen=True, slots=True)
class Call:
    """An incoming call: what was dialled and, when known, who calls (any dialled form)."""

    dialled: str
    caller: str | None = None


class Snapshot(Protocol):
    """A consistent, in-memory view of the directory and presence; no I/O behind it."""

    @property
    def plan(self) -> NumberPlan: ...

    @property
    def zone(self) -> ZoneInfo: ...

    @property
    def ring_timeout(self) -> int: ...

    def person_by_extension(self, extension: str) -> Person | None: ...

    def organisation(self, org_id: str) -> Organisation: ...

    def presence_inputs(self, person_id: str) -> PresenceInputs: ...

    def availability(self, person: Person, now: datetime) -> Availability:
        """``availability_of(person, self, now)``, which a snapshot may keep between events
        and until ``Availability.next_change`` (the answer cannot differ before then)."""
        ...


class Action(StrEnum):
    RING = "ring"
    ANNOUNCE = "announce"
    VOICEMAIL = "voicemail"
    DIVERT = "divert"
    REJECT = "reject"


class TargetKind(StrEnum):
    MOBILE = "mobile"
    """The person's mobile, reached through the operator trunk (E.164)."""
    DEVICES = "devices"
    """Whatever phones are registered to the extension (the SIP edge knows which)."""


@quick_init
@dataclass(frozen=True, slots=True)
class Target:
    kind: TargetKind
    address: str


class NoAnswer(StrEnum):
    VOICEMAIL = "voicemail"
    """R11: the owner's greeting plays and the caller may leave a message."""
    ANNOUNCE = "announce"
    """An open referral: the referral plays, then the caller may leave a message."""


class CallerOption(StrEnum):
    """What a caller may do after hearing a referral."""

    LEAVE_MESSAGE = "leave_message"
    RECEPTION = "reception"


@quick_init
@dataclass(frozen=True, slots=True)
class Ring:
    person: Person
    targets: tuple[Target, ...]
    ring_timeout: int
    on_no_answer: NoAnswer
    availability: Availability
    explanation: str
    announcement: str | None = None
    """For an open referral: what plays when nobody answers."""
    action: Action = Action.RING


@quick_init
@dataclass(frozen=True, slots=True)
class Announce:
    person: Person
    referral: Referral
    announcement: str
    """The sentence in the person's language (R10)."""
    options: tuple[CallerOption, ...]
    reception: str | None
    availability: Availability
    explanation: str
    action: Action = Action.ANNOUNCE


@quick_init
@dataclass(frozen=True, slots=True)
class Voicemail:
    person: Person
    availability: Availability | None
    explanation: str
    action: Action = Action.VOICEMAIL


@quick_init
@dataclass(frozen=True, slots=True)
class Divert:
    person: Person
    to: str
    """Our extension, or an outside number in E.164."""
    referral: Referral | None
    availability: Availability
    explanation: str
    action: Action = Action.DIVERT


@quick_init
@dataclass(frozen=True, slots=True)
class Reject:
    status: int
    """A SIP status code the edge can answer with as it is."""
    reason: str
    explanation: str
    action: Action = Action.REJECT


Decision = Ring | Announce | Voicemail | Divert | Reject
