"""Issue and honour one-time password links (``accounts.reset_links``) against the store.

Hashing a password costs argon2's tens of milliseconds and memory: done in a worker
thread, so a password set from the web never holds the event loop.
"""

from __future__ import annotations

import asyncio
import secrets

import structlog

from switchboard.accounts.model import Account, AccountError, normalise_username
from switchboard.accounts.passwords import check_policy
from switchboard.accounts.reset_links import ResetLink, link_holds, make_link
from switchboard.live.accounts import AccountService
from switchboard.store import audit_phrases
from switchboard.store.audit import AuditDecision, account_subject

log = structlog.get_logger("switchboard.accounts")


class LinkError(AccountError):
    """The link is unknown, expired, already used, or its account is disabled."""


class PasswordLinks:
    def __init__(self, accounts: AccountService) -> None:
        self._accounts = accounts

    @property
    def accounts(self) -> AccountService:
        return self._accounts

    async def issue(self, username: str, actor: str) -> tuple[Account, ResetLink]:
        """A new link for ``username``: its old password and sessions end now (audited as
        ``account_password_set`` by ``actor``)."""
        service = self._accounts
        account = await service.require(username)
        unknown = secrets.token_urlsafe(32)
        stored = await asyncio.to_thread(service.hasher.hash, unknown)
        await service.store.set_password_hash(
            account.account_id, stored, actor, service.clock.now()
        )
        link = make_link(stored, account.account_id, account.username, service.clock.now())
        log.info("password_link_made", username=account.username, actor=actor)
        return account, link

    async def valid(self, username: str, expires: int, token: str) -> Account | None:
        """The account the link is for, if it still holds."""
        service = self._accounts
        found = await service.store.account_by_username(normalise_username(username))
        if found is None:
            return None
        account, stored = found
        now = service.clock.now()
        if account.disabled or not link_holds(stored, account.account_id, expires, token, now):
            return None
        return account

    async def use(self, username: str, expires: int, token: str, password: str) -> Account:
        """Set the password the link's holder chose; the link works no more. PasswordError
        (an AccountError) for a password the policy refuses, LinkError for a dead link."""
        service = self._accounts
        found = await service.store.account_by_username(normalise_username(username))
        if found is None:
            raise LinkError("this link is not valid")
        account, stored = found
        now = service.clock.now()
        if stored is None or account.disabled:
            raise LinkError("this link is not valid")
        if not link_holds(stored, account.account_id, expires, token, now):
            raise LinkError("this link is not valid")
        check_policy(password, account.username)
        new = await asyncio.to_thread(service.hasher.hash, password)
        # Compare-and-set on the hash the link was made from: of two uses at once, one wins.
        if not await service.store.upgrade_password_hash(account.account_id, stored, new):
            raise LinkError("this link is not valid")
        await service.store.append_audit(
            now,
            account.username,
            "account_password_set",
            account_subject(account.username),
            audit_phrases.PASSWORD_LINK,
            AuditDecision.ALLOWED,
        )
        log.info("password_set_with_link", username=account.username)
        return account
