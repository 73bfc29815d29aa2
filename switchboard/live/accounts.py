"""The account service: what the web (and ``switchboard users``) signs in and authorizes with.

It ties the pure parts together (``switchboard.accounts``: roles, passwords, throttle,
sessions) with the store, and keeps the rules that need both (issue 5):
- ``authenticate`` does the same work whatever was wrong: one argon2 verify, against the
  account's hash or, for an unknown user, a disabled account or one without a password,
  against a dummy hash of the same cost. It answers an account or None, never why;
- ``start_session`` always makes a new id (rotation at sign-in) and revokes the browser's
  previous session in the same write;
- ``session`` and ``account_for_token`` re-read the account every time, so disabling or
  changing roles holds at once on every node; ``last_seen`` / ``last_used`` are written at
  most once a minute.
"""

from __future__ import annotations

import asyncio
import secrets
import uuid
from collections.abc import Callable, Iterable
from concurrent.futures import Executor
from dataclasses import replace
from datetime import datetime
from typing import Protocol, TypeVar

import structlog

from switchboard.accounts.model import Account, AccountError, Role, normalise_username
from switchboard.accounts.passwords import (
    PasswordHasher,
    check_policy,
    dummy_hash,
    make_hasher,
    needs_rehash,
    verify_password,
)
from switchboard.accounts.sessions import (
    ApiToken,
    RandomBytes,
    Session,
    SessionPolicy,
    hash_secret,
    looks_like_token,
    new_session,
    new_token,
)
from switchboard.accounts.throttle import LimitReached, LoginThrottle, LoginThrottledError
from switchboard.clock import Clock
from switchboard.directory.model import Person
from switchboard.store import audit_phrases
from switchboard.store.audit import AuditDecision, AuditStore, account_subject
from switchboard.store.protocol import AccountStore

log = structlog.get_logger("switchboard.accounts")

FindPerson = Callable[[str], Person | None]


class AccountsStore(AccountStore, AuditStore, Protocol):
    """The store's accounts, and the audit trail for failed sign-ins (issue 17)."""


ANONYMOUS_ACTOR = "anonymous"
"""The actor of a failed sign-in: whoever typed the password is not known."""
LIMIT_ACTOR = "switchboard"
"""The actor of a sign-in limit coming into force: the throttle's own doing."""


def _new_id() -> str:
    return uuid.uuid4().hex


T = TypeVar("T")


class AccountService:
    def __init__(
        self,
        store: AccountsStore,
        clock: Clock,
        hasher: PasswordHasher | None = None,
        *,
        find_person: FindPerson | None = None,
        throttle: LoginThrottle | None = None,
        policy: SessionPolicy | None = None,
        new_id: Callable[[], str] = _new_id,
        random_bytes: RandomBytes = secrets.token_bytes,
        hashing: Executor | None = None,
    ) -> None:
        """``hashing``: where argon2 runs (36 ms and 19 MiB a hash, which held the event
        loop at every sign-in; issue 15): ``serve`` gives a pool of two; None, asyncio's
        default threads."""
        self.store = store
        self.clock = clock
        self.hasher: PasswordHasher = hasher or make_hasher()
        self.throttle = throttle or LoginThrottle()
        self.policy = policy or SessionPolicy()
        self._find_person = find_person
        self._new_id = new_id
        self._random_bytes = random_bytes
        self._dummy: str | None = None
        self._hashing_pool = hashing
        self.share: Callable[[str, str, bool], None] | None = None
        """With workers: told (username, source, failed) of each verified attempt, so the
        other workers' throttles count it too (``throttle.failed``/``succeeded`` there)."""

    # -- accounts --------------------------------------------------------------------------
    async def accounts(self) -> list[Account]:
        return await self.store.accounts()

    async def find(self, username: str) -> Account | None:
        found = await self.store.account_by_username(normalise_username(username))
        return None if found is None else found[0]

    async def require(self, username: str) -> Account:
        account = await self.find(username)
        if account is None:
            raise AccountError(f"there is no account {normalise_username(username)!r}")
        return account

    async def add_account(
        self,
        username: str,
        display_name: str | None,
        roles: Iterable[Role],
        person_key: str | None,
        password: str | None,
        actor: str,
        *,
        manages: Iterable[str] = (),
    ) -> Account:
        """Create an account; without a password it cannot sign in until one is set."""
        name = normalise_username(username)
        person = self._person(person_key) if person_key else None
        account = Account(
            account_id=self._new_id(),
            username=name,
            display_name=(display_name or (person.name if person else name)).strip(),
            person_id=person.person_id if person else None,
            roles=self._roles(roles),
            manages=frozenset(m.casefold() for m in manages),
        )
        password_hash = None
        if password is not None:
            check_policy(password, name)
            password_hash = await self._hashing(lambda: self.hasher.hash(password))
        await self.store.create_account(account, password_hash, actor, self.clock.now())
        log.info(
            "account_created",
            username=name,
            roles=sorted(r.value for r in account.roles),
            actor=actor,
        )
        return account

    async def set_password(self, username: str, password: str, actor: str) -> None:
        """Set a new password (policy checked); every session of the account ends."""
        account = await self.require(username)
        check_policy(password, account.username)
        hashed = await self._hashing(lambda: self.hasher.hash(password))
        await self.store.set_password_hash(account.account_id, hashed, actor, self.clock.now())

    async def set_roles(
        self,
        username: str,
        roles: Iterable[Role],
        actor: str,
        *,
        manages: Iterable[str] | None = None,
    ) -> Account:
        account = await self.require(username)
        changed = replace(
            account,
            roles=self._roles(roles),
            manages=account.manages
            if manages is None
            else frozenset(m.casefold() for m in manages),
        )
        await self.store.update_account(changed, actor, self.clock.now())
        return changed

    async def disable(self, username: str, actor: str) -> Account:
        """Sign-ins, sessions and tokens of the account stop working at once."""
        return await self._set_disabled(username, True, actor)

    async def enable(self, username: str, actor: str) -> Account:
        return await self._set_disabled(username, False, actor)

    # -- signing in ------------------------------------------------------------------------
    async def authenticate(self, username: str, password: str, source: str) -> Account | None:
        """The account if ``password`` is right for ``username``; None otherwise, never why.

        Raises LoginThrottledError (with ``retry_after``) without checking anything while the
        throttle asks this source or name to wait; such an attempt does not count.
        """
        now = self.clock.now()
        wait = self.throttle.check(username, source, now)
        if wait > 0:
            log.info("sign_in_throttled", source=source, retry_after=round(wait, 1))
            raise LoginThrottledError(wait)
        dummy = await self._dummy_hash()  # made before the lookup: the first call costs alike
        found = await self.store.account_by_username(normalise_username(username))
        account, stored = found if found is not None else (None, None)
        ok = await self._hashing(lambda: verify_password(stored or dummy, password, self.hasher))
        if not ok or account is None or stored is None or account.disabled:
            limited = self.throttle.failed(username, source, now)
            if self.share is not None:
                self.share(username, source, True)
            # The typed name is not logged: people type their password into it by mistake.
            log.info("sign_in_failed", source=source)
            if account is not None:
                await self._audit_failure(account, stored, now)
            if limited is not None:
                await self._notice_limit(account, limited, now)
            return None
        self.throttle.succeeded(username, source, now)
        if self.share is not None:
            self.share(username, source, False)
        if needs_rehash(stored, self.hasher):
            rehashed = await self._hashing(lambda: self.hasher.hash(password))
            await self.store.upgrade_password_hash(account.account_id, stored, rehashed)
        log.info("sign_in_succeeded", username=account.username, source=source)
        return account

    async def start_session(
        self, account: Account, previous: str | None = None
    ) -> tuple[str, Session]:
        """A new session id for the cookie (always new: rotation at sign-in) and its session.

        ``previous`` is the id the browser sent, if any: that session is revoked.
        """
        session_id, session = new_session(
            account.account_id, self.clock.now(), self.policy, self._random_bytes
        )
        replaces = None if previous is None else hash_secret(previous)
        await self.store.create_session(session, replaces)
        return session_id, session

    async def session(
        self, session_id: str, *, touch: bool = True
    ) -> tuple[Session, Account] | None:
        """The live session and its account, or None (unknown, expired, or disabled).

        Using a session renews its idle time (written at most once a minute); ``touch=False``
        only looks, for the page asking how long it has left (that must not lengthen it)."""
        key = hash_secret(session_id)
        session = await self.store.session(key)
        if session is None:
            return None
        now = self.clock.now()
        account = await self.store.account(session.account_id)
        if account is None or account.disabled or session.expired(now, self.policy):
            await self.store.delete_session(key)
            return None
        if touch and session.needs_touch(now, self.policy):
            await self.store.touch_session(key, now)
            session = session.touched(now)
        return session, account

    async def extend_session(self, session_id: str) -> Session | None:
        """Renew the idle time now, whatever ``touch_every`` says: "Fortsätt inloggad" on
        the pages' warning (WCAG 2.2.1). The absolute lifetime is never extended. None when
        the session has ended already."""
        found = await self.session(session_id, touch=False)
        if found is None:
            return None
        session, _ = found
        now = self.clock.now()
        await self.store.touch_session(hash_secret(session_id), now)
        return session.touched(now)

    async def end_session(self, session_id: str) -> None:
        """Sign out: the id stops working on every node; unknown ids are ignored."""
        await self.store.delete_session(hash_secret(session_id))

    # -- API tokens ------------------------------------------------------------------------
    async def create_token(self, account_id: str, name: str, actor: str) -> str:
        """A new bearer token, returned once: only its hash is kept."""
        name = name.strip()
        if not name or len(name) > 100:
            raise AccountError("a token needs a name of 1-100 characters (what uses it)")
        token, record = new_token(account_id, name, self.clock.now(), self._random_bytes)
        await self.store.create_token(record, actor, self.clock.now())
        return token

    async def tokens(self, account_id: str) -> list[ApiToken]:
        return await self.store.tokens(account_id)

    async def revoke_token(self, account_id: str, name: str, actor: str) -> None:
        await self.store.revoke_token(account_id, name.strip(), actor, self.clock.now())

    async def account_for_token(self, token: str) -> Account | None:
        holder = await self.token_holder(token)
        return None if holder is None else holder[0]

    async def token_holder(self, token: str) -> tuple[Account, str] | None:
        """The account the token acts as and the token's name (the audit trail tells an
        account's tokens from its web sessions by it); None when unknown or disabled."""
        if not looks_like_token(token):
            return None
        key = hash_secret(token)
        record = await self.store.token(key)
        if record is None:
            return None
        account = await self.store.account(record.account_id)
        if account is None or account.disabled:
            return None
        now = self.clock.now()
        if record.last_used is None or now - record.last_used >= self.policy.touch_every:
            await self.store.touch_token(key, now)
        return account, record.name

    # -- single sign-on identities ---------------------------------------------------------
    async def account_for_identity(self, issuer: str, subject: str) -> Account | None:
        return await self.store.account_by_identity(issuer, subject)

    async def identity_subject(self, account_id: str, issuer: str) -> str | None:
        return await self.store.identity_subject(account_id, issuer)

    async def bind_identity(self, account_id: str, issuer: str, subject: str, actor: str) -> None:
        await self.store.bind_identity(account_id, issuer, subject, actor, self.clock.now())

    async def unbind_identities(self, username: str, actor: str) -> int:
        """Let the account be matched afresh at its next single sign-on (a changed
        provider, or an identity bound by mistake)."""
        account = await self.require(username)
        return await self.store.unbind_identities(account.account_id, actor, self.clock.now())

    # -- plumbing --------------------------------------------------------------------------
    async def _audit_failure(self, account: Account, stored: str | None, now: datetime) -> None:
        """A failed sign-in to an existing account goes into the audit trail (issue 17),
        with the source and request id of its origin. One to a name that is no account
        does not: what was typed there is sometimes a password, and nobody's account it is.
        """
        if account.disabled:
            why = audit_phrases.ACCOUNT_DISABLED
        elif stored is None:
            why = audit_phrases.SSO_ONLY
        else:
            why = audit_phrases.WRONG_PASSWORD
        await self.store.append_audit(
            now,
            ANONYMOUS_ACTOR,
            "sign_in_failed",
            account_subject(account.username),
            why,
            AuditDecision.FAILED,
        )

    async def _notice_limit(
        self, account: Account | None, limited: LimitReached, now: datetime
    ) -> None:
        """Tell administrators that an account's sign-in limit came into force (issue 17):
        a warning in the log, and for an existing account an entry in the audit trail
        (filter by ``account:NAME``, or look for decision ``limited``). Someone guessing at
        a name that is no account is logged without the name (it may be a password)."""
        p = self.throttle.policy
        if limited is LimitReached.NEW:
            free, interval = p.account_free_failures, p.account_interval
        else:
            free, interval = p.known_free_failures, p.known_interval
        detail = audit_phrases.sign_in_limit(
            limited is not LimitReached.NEW, free, int(interval.total_seconds()), p.hourly_limit
        )
        log.warning(
            "sign_in_limit_reached",
            username=None if account is None else account.username,
            limit=limited.value,
        )
        if account is None:
            return
        await self.store.append_audit(
            now,
            LIMIT_ACTOR,
            "sign_in_limit_reached",
            account_subject(account.username),
            detail,
            AuditDecision.LIMITED,
        )

    async def _hashing(self, work: Callable[[], T]) -> T:
        return await asyncio.get_running_loop().run_in_executor(self._hashing_pool, work)

    async def _dummy_hash(self) -> str:
        """Made on first use, so commands that never authenticate do not pay for it."""
        if self._dummy is None:
            self._dummy = await self._hashing(lambda: dummy_hash(self.hasher))
        return self._dummy

    def _person(self, key: str) -> Person:
        if self._find_person is None:
            raise AccountError("no directory to find the person in")
        person = self._find_person(key)
        if person is None:
            raise AccountError(f"nobody in the directory has the number or e-mail {key!r}")
        return person

    @staticmethod
    def _roles(roles: Iterable[Role]) -> frozenset[Role]:
        chosen = frozenset(Role(r) for r in roles)
        if not chosen:
            raise AccountError(
                "an account needs at least one role: " + ", ".join(r.value for r in Role)
            )
        return chosen

    async def _set_disabled(self, username: str, disabled: bool, actor: str) -> Account:
        account = await self.require(username)
        changed = replace(account, disabled=disabled)
        await self.store.update_account(changed, actor, self.clock.now())
        return changed
