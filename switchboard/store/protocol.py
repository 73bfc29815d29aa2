"""The storage protocol every backend implements (SQLite now, Redis later).

Rules every backend keeps, checked by one contract test suite (tests/contract):
- Each write method is atomic: it commits whole or not at all, and raises StoreError
  (or a subclass) on failure without a partial effect.
- Each committed write appends an audit entry (who, what, on whom, old and new values, and
  the ``Origin``: how, from where, in which request) in the same transaction and bumps the
  version; after commit it publishes its events on the bus.
- Reads return frozen values; ``load()`` returns everything a node needs to start.
- The change feed (issue 14): every event a write publishes is also appended, in the same
  transaction, to the store's feed, numbered in commit order. Each store object remembers
  the last change it has published; ``catch_up()`` publishes those committed since by other
  processes (or other store objects), in order, so every process's bus sees one order. A
  write publishes the changes committed before it first, then its own.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol

from switchboard.accounts.model import Account
from switchboard.accounts.sessions import ApiToken, Session
from switchboard.calls.model import CallListRequest, CallRecord
from switchboard.directory.credentials import SipCredential
from switchboard.directory.model import Person, PolicyException, PolicyRule
from switchboard.events import BindingsChanged
from switchboard.presence.model import CalendarSegment, ManualStatus, PlannedReferral, Template
from switchboard.presence.own_calendar import OwnCalendar
from switchboard.sip.saved_bindings import SavedBinding
from switchboard.store.audit import AuditEntry as AuditEntry
from switchboard.store.audit import AuditStore, Words
from switchboard.voicemail.model import EmailStatus, TakenMessage, VoiceMessage


class StoreError(Exception):
    """A write was refused or failed; nothing was changed."""


class StoreUnavailableError(StoreError):
    """The store could not be reached (a networked store that is down, stopped or cut
    off). The HTTP edge answers 503 for it rather than 500: the request was fine, try again
    later. Routing goes on from memory meanwhile (``live.follow``)."""


class NotFoundError(StoreError):
    def __init__(self, what: str) -> None:
        super().__init__(f"{what} not found")
        self.what = what


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
    plans: dict[str, tuple[PlannedReferral, ...]] = field(default_factory=dict)
    """person_id -> their planned referrals by start (issue 16); an ended one may linger
    until ``prune_plans`` at its end (or the next plan write), and every reader ignores it."""


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

    async def account_by_identity(self, issuer: str, subject: str) -> Account | None:
        """The account a single sign-on identity (the provider's ``iss`` and ``sub``) is
        bound to, if any."""
        ...

    async def identity_subject(self, account_id: str, issuer: str) -> str | None:
        """The subject the account is bound to at that provider, if any."""
        ...

    async def bind_identity(
        self, account_id: str, issuer: str, subject: str, actor: str, at: datetime
    ) -> None:
        """Audited. StoreError when the identity is bound to another account, or the
        account to another identity of that provider (an administrator unbinds first)."""
        ...

    async def unbind_identities(self, account_id: str, actor: str, at: datetime) -> int:
        """Remove the account's bindings (audited when there were any); how many."""
        ...


class CallListStateError(StoreError):
    """A call-list request is not in the state the step needs (decided already, not
    approved, expired, downloaded as often as allowed, or not the requester's)."""


class CallStore(Protocol):
    """Call records and call-list requests (R19).

    Call records are written in batches by the recorder, neither audited (one entry per
    call would drown the trail) nor versioned nor published: no node holds them in memory
    and nothing but an approved call-list download ever reads them. Every call-list step
    (request, decision, download) is audited in its own transaction, with the employee's
    person_id as subject.
    """

    async def add_call_records(self, records: Sequence[CallRecord]) -> None:
        """All of ``records`` in one transaction, or none."""
        ...

    async def delete_call_records(self, before: datetime) -> int:
        """Delete records of calls that started before ``before``; returns how many."""
        ...

    async def create_call_list_request(self, request: CallListRequest) -> CallListRequest:
        """Store a new pending request (its ``request_id`` is ignored); returns it with
        the id it got. Audited as call_list_requested by ``request.requester``."""
        ...

    async def call_list_request(self, request_id: int) -> CallListRequest | None: ...

    async def call_list_requests(self, requester_id: str | None = None) -> list[CallListRequest]:
        """Newest first; only those of ``requester_id`` when given."""
        ...

    async def decide_call_list_request(
        self,
        request_id: int,
        approve: bool,
        actor: str,
        comment: str,
        at: datetime,
        *,
        expires_at: datetime,
        downloads: int,
    ) -> CallListRequest:
        """Approve or reject a pending request. NotFoundError for an unknown id;
        CallListStateError when it is not pending any more."""
        ...

    async def release_call_list(
        self, request_id: int, requester_id: str, actor: str, at: datetime
    ) -> tuple[CallListRequest, list[CallRecord]]:
        """One download: check (approved, ``requester_id`` is the requester, not expired,
        downloads left), count it, audit it, and return exactly the person's records of
        exactly the period, oldest first; all in one transaction. CallListStateError
        otherwise, with nothing counted."""
        ...


class VoicemailStore(Protocol):
    """Voicemail metadata and taken messages (issue 5; R11, R18, R20).

    The audio lives in the spool (``switchboard.voicemail.spool``), which writes a file
    before adding its row and deletes the row before the file, so a row always has its
    file. Like the call store: audited (subject: the person's id; never a number or a
    message's text), but neither versioned nor published (no node holds them in memory).
    A message is addressed by person and id together: the id of someone else's message is
    "not found", not "forbidden".
    """

    async def add_voice_message(self, message: VoiceMessage, actor: str) -> None:
        """NotFoundError for an unknown person; StoreError for an id in use."""
        ...

    async def voice_messages(self, person_id: str) -> list[VoiceMessage]:
        """Newest first."""
        ...

    async def voice_message(self, person_id: str, message_id: str) -> VoiceMessage | None: ...

    async def voice_message_ids(self) -> set[str]:
        """Every stored id (the spool's sweep keeps exactly these files)."""
        ...

    async def voicemail_counts(self) -> dict[str, tuple[int, int]]:
        """(new, heard) messages per person who has any: what the message-waiting light
        starts from; ``VoicemailChanged`` events keep it current."""
        ...

    async def mark_voice_message(
        self, person_id: str, message_id: str, heard: bool, actor: str, at: datetime
    ) -> VoiceMessage:
        """Mark heard (or unheard again); NotFoundError when the person has no such message."""
        ...

    async def delete_voice_message(
        self, person_id: str, message_id: str, actor: str, at: datetime
    ) -> None:
        """NotFoundError when the person has no such message."""
        ...

    async def audit_recording(
        self, person_id: str, action: str, detail: Words | str, actor: str, at: datetime
    ) -> None:
        """Audit a change of a greeting or a name clip (``voicemail.model.RECORDING_ACTIONS``:
        ``greeting_set``, ``name_clip_deleted``, ...); they are files only. StoreError for
        any other action."""
        ...

    async def voicemail_pin(self, person_id: str) -> str | None:
        """The hash of the person's voicemail PIN (listening by phone from outside), or
        None when they have none."""
        ...

    async def set_voicemail_pin(
        self, person_id: str, pin_hash: str | None, actor: str, at: datetime
    ) -> None:
        """Set or replace the PIN's hash, or with None remove it. NotFoundError for an
        unknown person, or for removing a PIN that is not there. Audited as
        ``voicemail_pin_set`` / ``voicemail_pin_removed``, never with the hash."""
        ...

    async def add_taken_message(self, message: TakenMessage) -> None:
        """Audited as message_taken by ``message.taken_by``; NotFoundError for an unknown
        person."""
        ...

    async def taken_messages(self, person_id: str) -> list[TakenMessage]:
        """Newest first."""
        ...

    async def set_taken_message_email(
        self, message_id: str, status: EmailStatus, actor: str, at: datetime
    ) -> None:
        """Record what became of the message's e-mail; NotFoundError for an unknown id."""
        ...


class BindingStore(Protocol):
    """The SIP registrar's bindings, saved so that a restart does not leave every phone
    unreachable until it next registers (issue 3). Like call records: neither versioned
    nor audited (a phone registers every few minutes; the SIP log line records each
    REGISTER). Each ``save_bindings`` is one transaction. With several workers
    (``serve --workers``) the changes also travel on the change feed as
    ``BindingsChanged`` (issue 14), appended in that same transaction."""

    async def saved_bindings(self) -> list[SavedBinding]:
        """Every saved binding: by address of record, then in the order saved."""
        ...

    async def save_bindings(
        self,
        changes: Mapping[str, Sequence[SavedBinding]],
        expired_before: datetime,
        announce: Sequence[BindingsChanged] = (),
    ) -> None:
        """Replace the bindings of each address of record in ``changes`` with its
        sequence (empty: it has none now), drop every binding that expired before
        ``expired_before``, and append ``announce`` to the change feed; all in one
        transaction. The announcements are not published on this store's bus at once:
        ``catch_up`` brings them, here as in every other process, in feed order."""
        ...


class OwnCalendarStore(Protocol):
    """Calendars employees connected from their page (issue 16).

    Like voicemail PINs: audited (subject: the person; the feed address masked, never
    whole), not versioned (not a routing input), and each change emits an
    ``OwnCalendarChanged`` on the change feed, which the calendar worker of whichever
    process syncs calendars follows. Removing the person removes their connection.
    """

    async def own_calendars(self) -> list[OwnCalendar]:
        """Every connection, by person id."""
        ...

    async def own_calendar(self, person_id: str) -> OwnCalendar | None: ...

    async def set_own_calendar(
        self, person_id: str, calendar: OwnCalendar | None, actor: str, at: datetime
    ) -> None:
        """Connect (or replace) the person's calendar, or with None disconnect it.
        NotFoundError for an unknown person, or for disconnecting when nothing is
        connected; StoreError when ``calendar`` is someone else's. Audited as
        ``calendar_connected`` / ``calendar_disconnected`` by ``actor``."""
        ...


class Store(
    AccountStore,
    CallStore,
    VoicemailStore,
    BindingStore,
    OwnCalendarStore,
    AuditStore,
    Protocol,
):
    async def load(self) -> StoreState: ...

    async def version(self) -> int: ...

    async def wait_for_changes(self, seconds: float) -> None:
        """Return when changes may have been committed elsewhere, or after ``seconds``
        seconds: SQLite cannot be told, so it waits that long (a poll); a networked
        backend returns as soon as its feed moves. A failure to wait raises StoreError."""
        ...

    async def catch_up(self) -> int | None:
        """Publish, in feed order, the changes committed elsewhere since this store last
        published or loaded, a bounded batch at a time; how many (call again while that is
        not 0). None when some of them are no longer kept: the caller reloads with
        ``load()``, which starts following again from the state it returns."""
        ...

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
        """Set (or with None clear) a person's manual status; returns the new version.
        Planned referrals are kept apart (``add_plan``) and stay as they are."""
        ...

    async def add_plan(
        self, person_id: str, plan: PlannedReferral, actor: str, at: datetime
    ) -> int:
        """Add a planned referral (issue 16); the current status stays as it is. Plans that
        ended by ``at`` are dropped in the same write. StoreError when the person already
        has a plan of that id. Overlaps are the engine's to refuse, not the store's."""
        ...

    async def cancel_plan(self, person_id: str, plan_id: str, actor: str, at: datetime) -> int:
        """Remove one planned referral (and any that ended by ``at``); NotFoundError when
        the person has no plan ``plan_id`` that has not ended."""
        ...

    async def prune_plans(self, person_id: str, actor: str, at: datetime) -> int | None:
        """Drop the person's plans that ended by ``at`` (housekeeping at their end, issue
        16); None, with nothing written, when none had (another process pruned first)."""
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
        self, subject: str, rule: PolicyRule, actor: str, at: datetime, reason: str | None = None
    ) -> int:
        """``reason``, when given, is kept in the audit entry (R16: why it ended)."""
        ...

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

    async def close(self) -> None: ...


async def follow_to_end(store: Store) -> None:
    """Publish what other processes committed, a batch per event-loop turn, until the feed
    is done (0) or too far ahead to follow (None: the follower reloads the whole state)."""
    applied: int | None = 1
    while applied:
        applied = await store.catch_up()
        await asyncio.sleep(0)
