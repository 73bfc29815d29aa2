"""Change events, at the root because the store, the live view and the edges all share them.

What the store publishes after each committed write, and every node applies: past-tense
frozen values. ``version`` is the store's version after the write: a node that missed events
reloads when it sees a gap.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from switchboard.directory.credentials import SipCredential
from switchboard.directory.model import Person, PolicyException
from switchboard.presence.model import CalendarSegment, ManualStatus, PlannedReferral, Template
from switchboard.sip.saved_bindings import SavedBinding


@dataclass(frozen=True, slots=True)
class PersonSaved:
    version: int
    person: Person


@dataclass(frozen=True, slots=True)
class PersonRemoved:
    version: int
    person_id: str


@dataclass(frozen=True, slots=True)
class DirectoryImported:
    """A whole import committed; the PersonSaved events of its rows precede it."""

    version: int
    created: int
    updated: int
    unchanged: int


@dataclass(frozen=True, slots=True)
class ManualStatusChanged:
    version: int
    person_id: str
    status: ManualStatus | None
    """None: cleared."""


@dataclass(frozen=True, slots=True)
class PlansChanged:
    """A person's planned referrals changed (one added or cancelled, issue 16): the whole
    list that is left, by start, so applying it twice is harmless."""

    version: int
    person_id: str
    plans: tuple[PlannedReferral, ...]


@dataclass(frozen=True, slots=True)
class CalendarChanged:
    version: int
    person_id: str
    source: str
    segments: tuple[CalendarSegment, ...]


@dataclass(frozen=True, slots=True)
class TemplatesChanged:
    version: int
    person_id: str
    templates: tuple[Template, ...]


@dataclass(frozen=True, slots=True)
class ExceptionsChanged:
    version: int
    exceptions: tuple[PolicyException, ...]


@dataclass(frozen=True, slots=True)
class SipCredentialChanged:
    """A SIP password was set or removed for extension ``user``.

    Carries the new HA1 hashes (None: removed) so every node's registrar checks the new
    password at once without a store read; ``SipCredential`` keeps them out of ``repr``.
    """

    version: int
    user: str
    credential: SipCredential | None


@dataclass(frozen=True, slots=True)
class LineStateChanged:
    """A person's first call through the switchboard started, or their last one ended.

    Not a store event: line state lives in the SIP edge's process and is never written, so
    ``version`` is 0 and nodes apply it without the version check store events get.
    """

    person_id: str
    in_call: bool
    calls: int
    version: int = 0


@dataclass(frozen=True, slots=True)
class PresenceTicked:
    """Time reached a boundary of someone's stored availability: a calendar item began or
    ended, a manual status started or expired (R5-R7).

    Not a store event: nothing was written (``version`` 0). Routing needs no nudge, since
    resolve() reads the instant of each call; open screens re-resolve the person on it.
    Published by the calendar worker at each transition instant.
    """

    person_id: str
    at: datetime
    version: int = 0


@dataclass(frozen=True, slots=True)
class VoicemailChanged:
    """A person's recorded messages changed: one left, heard, unheard or deleted (R11, R12).

    What the message-waiting light (RFC 3842) and the owner's open inbox follow. Not
    versioned (``version`` 0): voicemail is not part of the routing view.
    """

    person_id: str
    new: int
    """Messages not yet heard."""
    old: int
    """Messages heard and kept."""
    version: int = 0


@dataclass(frozen=True, slots=True)
class BindingsChanged:
    """A REGISTER changed an address of record's bindings in one worker (issue 14):
    ``added`` are the bindings it made or refreshed, ``removed`` the contacts (as the 200
    showed them) it took away. Every other worker applies the same change to its own
    registrar, so an INVITE on any of them rings the phone.

    A change, not the whole set: two phones of one extension registering through two
    workers at once both stay, whichever change the feed orders first. Applying is
    idempotent (a binding replaces the one with the same contact), so the writer applies
    its own change again when the feed brings it back. Not versioned (``version`` 0):
    registrations are not part of the routing view.
    """

    aor: str
    added: tuple[SavedBinding, ...]
    removed: tuple[str, ...]
    version: int = 0


@dataclass(frozen=True, slots=True)
class OwnCalendarChanged:
    """An employee connected, changed or disconnected their own calendar (issue 16).

    Carries only the person: the feed address is a secret, so the calendar worker reads
    the connection from the store when it hears this. Not versioned (``version`` 0): a
    connection is not a routing input; the segments it brings are (``CalendarChanged``).
    """

    person_id: str
    version: int = 0


@dataclass(frozen=True, slots=True)
class StoreReloaded:
    """This process fell behind the store's change feed (the changes it missed are no
    longer kept) and reloaded everything at ``version``: whatever follows events
    (the search index, open screens, the calendar's transitions) starts again from the
    reloaded view, as after an import."""

    version: int


Event = (
    PersonSaved
    | PersonRemoved
    | DirectoryImported
    | ManualStatusChanged
    | PlansChanged
    | CalendarChanged
    | TemplatesChanged
    | ExceptionsChanged
    | SipCredentialChanged
    | VoicemailChanged
    | BindingsChanged
    | OwnCalendarChanged
    | LineStateChanged
    | PresenceTicked
    | StoreReloaded
)
