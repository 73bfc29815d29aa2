"""The audit trail's values and its part of the storage protocol (issue 17).

Kept apart from ``protocol.py`` (which re-exports ``AuditEntry``, as it always had it) so
that one stays readable: what an entry holds, and what a backend offers to read the trail
and to record what is no write.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Protocol


class AuditDecision(StrEnum):
    """What became of the act an audit entry records."""

    ALLOWED = "allowed"
    """A change that was made (every write of the store)."""
    REFUSED = "refused"
    """A request ``allowed()`` or the CSRF check refused (HTTP 403): nothing changed."""
    FAILED = "failed"
    """A sign-in with a wrong password (or to a disabled account)."""
    LIMITED = "limited"
    """The sign-in limit of an account came into force (a notice to administrators)."""


@dataclass(frozen=True, slots=True)
class Change:
    """One value a write changed, as words: never a secret number, hash or password."""

    field: str
    old: str
    """Empty when there was none (created)."""
    new: str
    """Empty when there is none any more (deleted)."""


class ArgKind(StrEnum):
    """How a page shows a value named in an entry's words (issue 16)."""

    TEXT = "text"
    """A user's own words (a note, a reason, a name), masked by ``plain``: shown as typed."""
    CODE = "code"
    """An id, an extension, a masked number: shown as it is, in no language."""
    COUNT = "count"
    """A whole number."""
    INSTANT = "instant"
    """An ISO 8601 instant, shown in the deployment's local time."""
    WORD = "word"
    """An enum value, shown through the catalog key ``<catalog>.<value>``."""
    WORDS = "words"
    """Several enum values, each through ``<catalog>.<value>``; "none" when there are none."""
    HOURS = "hours"
    """Working hours in their written form (``mon-fri 08:00-16:00``, English day names):
    shown with the catalog's day names (``day.0`` .. ``day.6``), as the person's page shows
    them."""


@dataclass(frozen=True, slots=True)
class Arg:
    kind: ArgKind
    value: str | int | tuple[str, ...]
    catalog: str = ""
    """For WORD and WORDS: the prefix of the catalog keys (``reason``, ``role``)."""


@dataclass(frozen=True, slots=True)
class Phrase:
    """One catalog key and the values it names; a detail is one or more phrases in a row."""

    key: str
    args: tuple[tuple[str, Arg], ...] = ()


Words = tuple[Phrase, ...]


def say(key: str, **args: Arg) -> Words:
    """The words of one phrase: ``say("audit.say.plan", plan=code(plan_id))``."""
    return (Phrase(key, tuple(args.items())),)


@dataclass(frozen=True, slots=True)
class ChangeWords:
    """A ``Change`` as words: its field, and its old and new values as words or as typed
    (a ``str``: a user's own text, a masked number, or empty)."""

    field: Words
    old: Words | str
    new: Words | str


@dataclass(frozen=True, slots=True)
class EntryWords:
    """An entry's detail and changes as catalog keys and values, so a page says them in
    the reader's language (issue 16). ``changes`` runs beside ``AuditEntry.changes``; None
    where a change has no words (the page shows its English)."""

    detail: Words
    changes: tuple[ChangeWords | None, ...] = ()


@dataclass(frozen=True, slots=True)
class AuditEntry:
    seq: int
    at: datetime
    """UTC, as stored."""
    actor: str
    """Who: an account's username, ``cli:USER``, ``sso``, ``calendar:...``."""
    action: str
    subject: str
    """On whom: a person_id, ``account:NAME``, an exception's subject, ``directory``."""
    detail: str
    """Plain words; never a secret number (R18)."""
    decision: AuditDecision = AuditDecision.ALLOWED
    via: str = ""
    """How the actor proved who they are (``Origin.via``); empty before issue 17."""
    source: str = ""
    """The address the request came from."""
    request_id: str = ""
    changes: tuple[Change, ...] = ()
    """Old and new value of each thing the write changed."""
    words: EntryWords | None = None
    """The detail and changes as words for the pages (issue 16); None for an entry written
    before them, which the pages show in English."""


def account_subject(username: str) -> str:
    """How the audit trail names an account as the subject of an entry."""
    return f"account:{username}"


class AuditStore(Protocol):
    """The audit trail: who did what to whom, when, from where and how (issue 17).

    Every write of every part of the store appends its entries in its own transaction;
    each entry carries the ``Origin`` current when it was written (``store.origin``).
    ``append_audit`` records what is no write: a refused request, a failed sign-in, a
    sign-in limit coming into force. It bumps no version and publishes nothing.
    """

    async def append_audit(
        self,
        at: datetime,
        actor: str,
        action: str,
        subject: str,
        detail: Words | str,
        decision: AuditDecision,
    ) -> None: ...

    async def audit(self, limit: int = 100, subject: str | None = None) -> list[AuditEntry]:
        """The newest entries first."""
        ...

    async def audit_page(
        self,
        limit: int = 100,
        *,
        before: int | None = None,
        subject: str | None = None,
        actor: str | None = None,
    ) -> list[AuditEntry]:
        """Newest first, entries with ``seq < before``; filtered by subject and actor."""
        ...
