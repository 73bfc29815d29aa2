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
        detail: str,
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
