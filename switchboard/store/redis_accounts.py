"""Accounts, sessions, API tokens and single sign-on identities in Redis (issue 5).

The ``AccountStore`` part of ``RedisStore``; the same rules as ``sqlite_accounts`` (whose
row codecs and audit words it shares): audited, but no version and no event, since every
request reads its session and account from the store, so a sign-out or a disable on one
node holds on all of them at once. Hashes only, never a secret; audit entries carry none.

Layout: accounts by id (JSON, the SQLite columns) with a username index; sessions by the
hash of their id, a sorted set of their absolute expiry (purged at each sign-in, as
SQLite's ``DELETE ... WHERE absolute_expiry <= ?`` does: the store's clock is the caller's,
so Redis's own key expiry, which follows the wall clock, cannot stand in) and a set per
account (to end them all); tokens by hash with a name -> hash index per account;
identities by (issuer, subject) with an issuer -> subject index per account.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from switchboard.accounts.model import Account
from switchboard.accounts.sessions import ApiToken, Session
from switchboard.store import audit_phrases, audit_words, codec, tables
from switchboard.store.audit import ChangeWords, Words, account_subject
from switchboard.store.protocol import NotFoundError, StoreError
from switchboard.store.redis_base import RedisBase
from switchboard.store.redis_keys import dump, encode, identity_field, load, micros
from switchboard.store.redis_tx import Tx
from switchboard.store.sqlite_accounts import (
    ACCOUNT_COLUMNS,
    SESSION_COLUMNS,
    TOKEN_COLUMNS,
    account_changes,
    account_from_row,
    names_json,
    session_from_row,
    session_row,
    token_from_row,
)


def _account_fields(account: Account, password_hash: str | None, created: str, changed: str) -> str:
    row = (
        account.account_id,
        account.username,
        account.display_name,
        account.person_id,
        names_json(account.roles),
        names_json(account.manages),
        int(account.disabled),
        password_hash,
        created,
        changed,
    )
    return encode(ACCOUNT_COLUMNS, row)


def _token_json(token: ApiToken) -> str:
    row = (
        token.token_hash,
        token.account_id,
        token.name,
        codec.iso(token.created_at),
        codec.iso_or_none(token.last_used),
    )
    return encode(TOKEN_COLUMNS, row)


class RedisAccounts(RedisBase):
    # -- accounts --------------------------------------------------------------------------
    async def accounts(self) -> list[Account]:
        stored = await self._call("read the accounts", "HVALS", self._keys.accounts)
        found = [account_from_row(load(text, "account")) for text in stored]
        return sorted(found, key=lambda a: a.username)

    async def account(self, account_id: str) -> Account | None:
        text = await self._call("read an account", "HGET", self._keys.accounts, account_id)
        return None if text is None else account_from_row(load(text, "account"))

    async def account_by_username(self, username: str) -> tuple[Account, str | None] | None:
        k = self._keys
        account_id = await self._call("read an account", "HGET", k.usernames, username)
        text = None
        if account_id is not None:
            text = await self._call("read an account", "HGET", k.accounts, account_id)
        if text is None:
            return None
        fields = load(text, "account")
        return account_from_row(fields), fields["password_hash"]

    async def create_account(
        self, account: Account, password_hash: str | None, actor: str, at: datetime
    ) -> None:
        k = self._keys

        async def body(tx: Tx) -> None:
            taken = await tx.read("HEXISTS", k.usernames, account.username)
            if taken or await tx.read("HEXISTS", k.accounts, account.account_id):
                raise StoreError(f"the username {account.username!r} is taken already")
            if account.person_id is not None:
                await self._require_person(tx, account.person_id)
            when = codec.iso(at)
            fields = _account_fields(account, password_hash, when, when)
            tx.write("HSET", k.accounts, account.account_id, fields)
            tx.write("HSET", k.usernames, account.username, account.account_id)
            detail = audit_phrases.account_created(account.roles, bool(password_hash))
            changes = (
                *audit_words.account_changes(None, account),
                audit_words.changed("password", "", audit_words.presence(password_hash)),
            )
            self._audit(tx, at, actor, "account_created", account.username, detail, changes)

        what = f"create the account {account.username}"
        await self._write(what, body, watch=[k.accounts, k.usernames])

    async def update_account(self, account: Account, actor: str, at: datetime) -> None:
        k = self._keys

        async def body(tx: Tx) -> None:
            fields = await self._require(tx, account.account_id)
            old = account_from_row(fields)
            if old.username != account.username:
                raise StoreError(
                    f"the username {old.username!r} cannot change; create a new account"
                )
            if account.person_id is not None and account.person_id != old.person_id:
                await self._require_person(tx, account.person_id)
            new = _account_fields(
                account, fields["password_hash"], fields["created_at"], codec.iso(at)
            )
            tx.write("HSET", k.accounts, account.account_id, new)
            if account.disabled:
                await self._end_sessions(tx, account.account_id)
            for action, detail, changes in account_changes(old, account):
                self._audit(tx, at, actor, action, account.username, detail, changes)

        what = f"change the account {account.username}"
        await self._write(what, body, watch=self._session_keys(account.account_id))

    async def set_password_hash(
        self, account_id: str, password_hash: str | None, actor: str, at: datetime
    ) -> None:
        async def body(tx: Tx) -> None:
            fields = await self._require(tx, account_id)
            had = fields["password_hash"]
            fields["password_hash"] = password_hash
            fields["changed_at"] = codec.iso(at)
            tx.write("HSET", self._keys.accounts, account_id, dump(fields))
            ended = await self._end_sessions(tx, account_id)
            detail = audit_phrases.password_set(bool(password_hash), ended)
            change = audit_phrases.password_change(had, bool(password_hash))
            username = str(fields["username"])
            self._audit(tx, at, actor, "account_password_set", username, detail, (change,))

        await self._write("set a password", body, watch=self._session_keys(account_id))

    async def upgrade_password_hash(self, account_id: str, old: str, new: str) -> bool:
        async def body(tx: Tx) -> bool:
            text = await tx.read("HGET", self._keys.accounts, account_id)
            fields = None if text is None else load(text, "account")
            if fields is None or fields["password_hash"] != old:
                return False
            fields["password_hash"] = new
            tx.write("HSET", self._keys.accounts, account_id, dump(fields))
            return True

        what = "upgrade a password hash"
        return await self._write(what, body, watch=[self._keys.accounts], audited=False)

    # -- sessions --------------------------------------------------------------------------
    async def create_session(self, session: Session, replaces: str | None) -> None:
        k = self._keys

        async def body(tx: Tx) -> None:
            account = account_from_row(await self._require(tx, session.account_id))
            gone = set(
                await tx.read("ZRANGEBYSCORE", k.session_expiry, "-inf", micros(session.created_at))
            )
            if replaces is not None:
                gone.add(replaces)
            await self._forget_sessions(tx, sorted(gone))
            tx.write("HSET", k.sessions, session.session_id_hash, _session_json(session))
            expiry = micros(session.absolute_expiry)
            tx.write("ZADD", k.session_expiry, expiry, session.session_id_hash)
            tx.write("SADD", k.account_sessions(session.account_id), session.session_id_hash)
            self._audit(
                tx,
                session.created_at,
                account.username,
                "signed_in",
                account.username,
                audit_phrases.SESSION_STARTED,
            )

        await self._write("start a session", body, watch=[k.accounts, k.sessions])

    async def session(self, session_id_hash: str) -> Session | None:
        text = await self._call("read a session", "HGET", self._keys.sessions, session_id_hash)
        return None if text is None else session_from_row(load(text, "session"))

    async def touch_session(self, session_id_hash: str, at: datetime) -> None:
        key = self._keys.sessions

        async def body(tx: Tx) -> None:
            text = await tx.read("HGET", key, session_id_hash)
            if text is None:
                return
            fields = load(text, "session")
            if codec.instant(fields["last_seen"]) < at:
                fields["last_seen"] = codec.iso(at)
                tx.write("HSET", key, session_id_hash, dump(fields))

        await self._write("note a session's use", body, watch=[key], audited=False)

    async def delete_session(self, session_id_hash: str) -> None:
        async def body(tx: Tx) -> None:
            await self._forget_sessions(tx, [session_id_hash])

        what = "end a session"
        await self._write(what, body, watch=[self._keys.sessions], audited=False)

    # -- API tokens ------------------------------------------------------------------------
    async def create_token(self, token: ApiToken, actor: str, at: datetime) -> None:
        k = self._keys
        index = k.account_tokens(token.account_id)

        async def body(tx: Tx) -> None:
            account = account_from_row(await self._require(tx, token.account_id))
            if await tx.read("HEXISTS", index, token.name):
                raise StoreError(
                    f"{account.username} already has a token named {token.name!r}; "
                    "revoke it first or choose another name"
                )
            tx.write("HSET", k.tokens, token.token_hash, _token_json(token))
            tx.write("HSET", index, token.name, token.token_hash)
            change = audit_phrases.token_change(token.name, active=True)
            detail = audit_phrases.token_created(token.name)
            self._audit(tx, at, actor, "token_created", account.username, detail, (change,))

        what = f"create the token {token.name!r}"
        await self._write(what, body, watch=[k.accounts, k.tokens, index])

    async def tokens(self, account_id: str) -> list[ApiToken]:
        what = "read the tokens"
        hashes = await self._call(what, "HVALS", self._keys.account_tokens(account_id))
        if not hashes:
            return []
        texts = await self._call(what, "HMGET", self._keys.tokens, *hashes)
        found = [token_from_row(load(t, "token")) for t in texts if t is not None]
        return sorted(found, key=lambda t: (t.created_at, t.name))

    async def token(self, token_hash: str) -> ApiToken | None:
        text = await self._call("read a token", "HGET", self._keys.tokens, token_hash)
        return None if text is None else token_from_row(load(text, "token"))

    async def touch_token(self, token_hash: str, at: datetime) -> None:
        key = self._keys.tokens

        async def body(tx: Tx) -> None:
            text = await tx.read("HGET", key, token_hash)
            if text is not None:
                fields = load(text, "token")
                fields["last_used"] = codec.iso(at)
                tx.write("HSET", key, token_hash, dump(fields))

        await self._write("note a token's use", body, watch=[key], audited=False)

    async def revoke_token(self, account_id: str, name: str, actor: str, at: datetime) -> None:
        k = self._keys
        index = k.account_tokens(account_id)

        async def body(tx: Tx) -> None:
            account = account_from_row(await self._require(tx, account_id))
            token_hash = await tx.read("HGET", index, name)
            if token_hash is None:
                raise NotFoundError(f"a token named {name!r} of {account.username}")
            tx.write("HDEL", k.tokens, token_hash)
            tx.write("HDEL", index, name)
            change = audit_phrases.token_change(name, active=False)
            detail = audit_phrases.token_revoked(name)
            self._audit(tx, at, actor, "token_revoked", account.username, detail, (change,))

        await self._write(f"revoke the token {name!r}", body, watch=[k.accounts, k.tokens, index])

    # -- single sign-on identities ---------------------------------------------------------
    async def account_by_identity(self, issuer: str, subject: str) -> Account | None:
        field = identity_field(issuer, subject)
        what = "read a single sign-on identity"
        account_id = await self._call(what, "HGET", self._keys.identities, field)
        return None if account_id is None else await self.account(account_id)

    async def identity_subject(self, account_id: str, issuer: str) -> str | None:
        index = self._keys.account_identities(account_id)
        found = await self._call("read a single sign-on identity", "HGET", index, issuer)
        return None if found is None else str(found)

    async def bind_identity(
        self, account_id: str, issuer: str, subject: str, actor: str, at: datetime
    ) -> None:
        k = self._keys
        index = k.account_identities(account_id)
        field = identity_field(issuer, subject)

        async def body(tx: Tx) -> None:
            account = account_from_row(await self._require(tx, account_id))
            holder = await tx.read("HGET", k.identities, field)
            bound = await tx.read("HGET", index, issuer)
            if holder == account_id and bound == subject:
                return  # bound already: nothing to do, nothing to audit
            if holder is not None or bound is not None:
                raise StoreError(
                    f"{account.username} or this identity is bound to another already; "
                    "unbind it first (switchboard users unbind-sso)"
                )
            tx.write("HSET", k.identities, field, account_id)
            tx.write("HSET", index, issuer, subject)
            detail = audit_phrases.sso_bound(issuer)
            change = audit_phrases.sso_bound_change(issuer)
            self._audit(tx, at, actor, "sso_identity_bound", account.username, detail, (change,))

        what = "bind a single sign-on identity"
        await self._write(what, body, watch=[k.accounts, k.identities, index])

    async def unbind_identities(self, account_id: str, actor: str, at: datetime) -> int:
        k = self._keys
        index = k.account_identities(account_id)

        async def body(tx: Tx) -> int:
            account = account_from_row(await self._require(tx, account_id))
            bound: dict[str, str] = await tx.read("HGETALL", index)
            if not bound:
                return 0
            fields = [identity_field(issuer, subject) for issuer, subject in bound.items()]
            tx.write("HDEL", k.identities, *fields)
            tx.write("DEL", index)
            removed = len(bound)
            detail = audit_phrases.sso_unbound(removed)
            change = audit_phrases.sso_unbound_change(removed)
            self._audit(tx, at, actor, "sso_identity_unbound", account.username, detail, (change,))
            return removed

        what = "unbind single sign-on identities"
        return await self._write(what, body, watch=[k.accounts, k.identities, index])

    # -- plumbing --------------------------------------------------------------------------
    async def _require(self, tx: Tx, account_id: str) -> dict[str, Any]:
        """The account's stored fields; NotFoundError when there is none."""
        await tx.watch(self._keys.accounts)
        text = await tx.read("HGET", self._keys.accounts, account_id)
        if text is None:
            raise NotFoundError(f"account {account_id}")
        fields: dict[str, Any] = load(text, "account")
        return fields

    def _session_keys(self, account_id: str) -> list[str]:
        k = self._keys
        return [k.accounts, k.sessions, k.session_expiry, k.account_sessions(account_id)]

    async def _end_sessions(self, tx: Tx, account_id: str) -> int:
        """Queue the end of every session of the account; how many there were."""
        hashes = sorted(await tx.read("SMEMBERS", self._keys.account_sessions(account_id)))
        return await self._forget_sessions(tx, hashes)

    async def _forget_sessions(self, tx: Tx, hashes: Sequence[str]) -> int:
        """Queue the removal of these sessions (those still there); how many were there."""
        k = self._keys
        if not hashes:
            return 0
        texts = await tx.read("HMGET", k.sessions, *hashes)
        found = [(h, load(t, "session")) for h, t in zip(hashes, texts, strict=True) if t]
        if found:
            tx.write("HDEL", k.sessions, *(h for h, _ in found))
        for h, fields in found:
            tx.write("SREM", k.account_sessions(str(fields["account_id"])), h)
        tx.write("ZREM", k.session_expiry, *hashes)
        return len(found)

    @staticmethod
    def _audit(
        tx: Tx,
        at: datetime,
        actor: str,
        action: str,
        username: str,
        detail: Words,
        changes: Sequence[ChangeWords] = (),
    ) -> None:
        tx.audit(tables.entry(at, actor, action, account_subject(username), detail, changes))


def _session_json(session: Session) -> str:
    return encode(SESSION_COLUMNS, session_row(session))
