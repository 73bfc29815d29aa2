"""The storage protocol every backend implements (SQLite now, Redis later).

Rules every backend keeps, checked by one contract test suite (tests/contract):
- Each write method is atomic: it commits whole or not at all, and raises StoreError
  (or a subclass) on failure without a partial effect.
- Each committed write appends an audit entry (who, what, on whom) in the same transaction
  and bumps the version; after commit it publishes its events on the bus.
- Reads return frozen values; ``load()`` returns everything a node needs to start.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol

from switchboard.directory.credentials import SipCredential
from switchboard.directory.model import Person, PolicyException, PolicyRule
from switchboard.presence.model import CalendarSegment, ManualStatus, Template


class StoreError(Exception):
    """A write was refused or failed; nothing was changed."""


class NotFoundError(StoreError):
    def __init__(self, what: str) -> None:
        super().__init__(f"{what} not found")
        self.what = what


@dataclass(frozen=True, slots=True)
class AuditEntry:
    seq: int
    at: datetime
    actor: str
    action: str
    subject: str
    detail: str
    """Plain words; never a secret number (R18)."""


@dataclass(frozen=True, slots=True)
class ImportResult:
    created: int
    updated: int
    unchanged: int
    version: int


@dataclass(frozen=True, slots=True)
class StoreState:
    """Everything a node loads at start, consistent at ``version``."""

    version: int
    people: tuple[Person, ...]
    manual: dict[str, ManualStatus]
    calendar: dict[str, dict[str, tuple[CalendarSegment, ...]]]
    """person_id -> source -> segments."""
    templates: dict[str, tuple[Template, ...]]
    exceptions: tuple[PolicyException, ...]
    sip_credentials: dict[str, SipCredential] = field(default_factory=dict)
    """extension -> its SIP digest credential."""


class Store(Protocol):
    async def load(self) -> StoreState: ...

    async def version(self) -> int: ...

    async def import_people(self, people: list[Person], actor: str, at: datetime) -> ImportResult:
        """Create or update ``people`` (matched by person_id) in one transaction.

        A person equal to the stored one counts as unchanged. When nothing changed, the
        version stays and no event is published (a version without events would make every
        node reload for nothing); the audit trail still records the import.
        """
        ...

    async def save_person(self, person: Person, actor: str, at: datetime) -> int: ...

    async def remove_person(self, person_id: str, actor: str, at: datetime) -> int: ...

    async def set_manual(
        self, person_id: str, status: ManualStatus | None, actor: str, at: datetime
    ) -> int:
        """Set (or with None clear) a person's manual status; returns the new version."""
        ...

    async def set_calendar(
        self,
        person_id: str,
        source: str,
        segments: tuple[CalendarSegment, ...],
        actor: str,
        at: datetime,
    ) -> int: ...

    async def save_template(
        self, person_id: str, template: Template, actor: str, at: datetime
    ) -> int:
        """Create or replace the person's template of the same name."""
        ...

    async def delete_template(self, person_id: str, name: str, actor: str, at: datetime) -> int: ...

    async def grant_exception(self, exception: PolicyException) -> int: ...

    async def revoke_exception(
        self, subject: str, rule: PolicyRule, actor: str, at: datetime
    ) -> int: ...

    async def sip_credentials(self) -> dict[str, SipCredential]:
        """Every stored SIP credential by extension (also part of ``load()``)."""
        ...

    async def set_sip_credential(self, credential: SipCredential, actor: str, at: datetime) -> int:
        """Set or replace the credential of extension ``credential.user``.

        NotFoundError when no person holds that extension. The credential belongs to that
        person: removing or renumbering them removes it (with a SipCredentialChanged event),
        so an extension passed on never keeps the old holder's password. The audit entry
        names the extension, never the hashes.
        """
        ...

    async def remove_sip_credential(self, user: str, actor: str, at: datetime) -> int:
        """NotFoundError when extension ``user`` has no credential."""
        ...

    async def audit(self, limit: int = 100, subject: str | None = None) -> list[AuditEntry]:
        """The newest entries first."""
        ...

    async def close(self) -> None: ...
