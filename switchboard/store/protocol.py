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

from switchboard.accounts.model import Account
from switchboard.accounts.sessions import ApiToken, Session
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


class AccountStore(Protocol):
    """Web accounts, their sessions and API tokens (issue 5).

    Unlike the directory, accounts are not held in every node's memory: each request reads
    its session (and account) from the store, so a disable or a sign-out on one node holds
    on all of them at once. Hence account writes append audit entries but neither bump the
    version nor publish events (a version without events would make every node reload).
    Sessions and tokens are keyed by the SHA-256 of their secret; the secret is never
    stored. Session writes are not audited, except the sign-in that creates one.
    """

    async def accounts(self) -> list[Account]:
        """Every account, by username."""
        ...

    async def account(self, account_id: str) -> Account | None: ...

    async def account_by_username(self, username: str) -> tuple[Account, str | None] | None:
        """The account and its password hash (None: it has no password to sign in with)."""
        ...

    async def create_account(
        self, account: Account, password_hash: str | None, actor: str, at: datetime
    ) -> None:
        """StoreError when the username or id is taken; NotFoundError for an unknown person."""
        ...

    async def update_account(self, account: Account, actor: str, at: datetime) -> None:
        """Change everything but the username (which never changes) and the password.

        Disabling ends the account's sessions in the same transaction. Each kind of change
        is audited apart: account_roles_changed, account_disabled, account_enabled,
        account_updated.
        """
        ...

    async def set_password_hash(
        self, account_id: str, password_hash: str | None, actor: str, at: datetime
    ) -> None:
        """Set (None: remove) the password; ends every session of the account."""
        ...

    async def upgrade_password_hash(self, account_id: str, old: str, new: str) -> bool:
        """Replace hash ``old`` by ``new`` (stronger parameters) if it is still ``old``.

        Not audited and no session ends: the password is the same.
        """
        ...

    async def create_session(self, session: Session, replaces: str | None) -> None:
        """Store a new session (a sign-in, audited as signed_in) and delete the session
        ``replaces`` (the hash of the browser's previous id), so a sign-in rotates the id.
        Sessions past their absolute expiry are purged on the way."""
        ...

    async def session(self, session_id_hash: str) -> Session | None: ...

    async def touch_session(self, session_id_hash: str, at: datetime) -> None: ...

    async def delete_session(self, session_id_hash: str) -> None:
        """Deleting a session that is gone already is harmless."""
        ...

    async def create_token(self, token: ApiToken, actor: str, at: datetime) -> None:
        """StoreError when the account already has a token of that name."""
        ...

    async def tokens(self, account_id: str) -> list[ApiToken]:
        """The account's tokens, oldest first."""
        ...

    async def token(self, token_hash: str) -> ApiToken | None: ...

    async def touch_token(self, token_hash: str, at: datetime) -> None: ...

    async def revoke_token(self, account_id: str, name: str, actor: str, at: datetime) -> None:
        """NotFoundError when the account has no token of that name."""
        ...


class Store(AccountStore, Protocol):
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
