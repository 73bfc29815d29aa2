"""The ``AccountStore`` half of the SQLite store: accounts, sessions, API tokens (issue 5).

A mixin of ``SqliteStore`` (kept apart so sqlite.py stays readable): it runs in the same
connection and the same ``BEGIN IMMEDIATE`` transactions as the directory, and appends to
the same audit trail, but bumps no version and publishes no event (see ``AccountStore``).
Audit entries name an account as ``account:<username>`` and never carry a hash or secret.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Sequence
from datetime import datetime

from switchboard.accounts.model import Account, AccountError, Role
from switchboard.accounts.sessions import ApiToken, Session
from switchboard.store import audit_english, audit_phrases, audit_words, codec, tables
from switchboard.store.audit import Arg, ChangeWords, Words, account_subject, say
from switchboard.store.protocol import NotFoundError, StoreError
from switchboard.store.sqlite_part import SqlitePart

ACCOUNT_COLUMNS = (
    "account_id",
    "username",
    "display_name",
    "person_id",
    "roles",
    "manages",
    "disabled",
    "password_hash",
    "created_at",
    "changed_at",
)
SESSION_COLUMNS = (
    "session_id_hash",
    "account_id",
    "csrf_token",
    "created_at",
    "last_seen",
    "absolute_expiry",
)
TOKEN_COLUMNS = ("token_hash", "account_id", "name", "created_at", "last_used")


def _insert(table: str, columns: tuple[str, ...]) -> str:
    placeholders = ", ".join("?" * len(columns))
    return f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({placeholders})"  # noqa: S608


INSERT_ACCOUNT = _insert("accounts", ACCOUNT_COLUMNS)
INSERT_SESSION = _insert("sessions", SESSION_COLUMNS)
INSERT_TOKEN = _insert("api_tokens", TOKEN_COLUMNS)


subject = account_subject
"""How the audit trail names an account."""


def names_json(values: frozenset[str] | frozenset[Role]) -> str:
    return json.dumps(sorted(str(v) for v in values))


def account_from_row(r: codec.Fields) -> Account:
    try:
        return Account(
            account_id=r["account_id"],
            username=r["username"],
            display_name=r["display_name"],
            person_id=r["person_id"],
            roles=frozenset(Role(v) for v in json.loads(r["roles"])),
            disabled=bool(r["disabled"]),
            manages=frozenset(json.loads(r["manages"])),
        )
    except (ValueError, AccountError) as exc:
        raise StoreError(f"stored account {r['username']!r} is unreadable: {exc}") from exc


def session_row(s: Session) -> codec.Row:
    return (
        s.session_id_hash,
        s.account_id,
        s.csrf_token,
        codec.iso(s.created_at),
        codec.iso(s.last_seen),
        codec.iso(s.absolute_expiry),
    )


def session_from_row(r: codec.Fields) -> Session:
    return Session(
        session_id_hash=r["session_id_hash"],
        account_id=r["account_id"],
        csrf_token=r["csrf_token"],
        created_at=codec.instant(r["created_at"]),
        last_seen=codec.instant(r["last_seen"]),
        absolute_expiry=codec.instant(r["absolute_expiry"]),
    )


def token_from_row(r: codec.Fields) -> ApiToken:
    return ApiToken(
        token_hash=r["token_hash"],
        account_id=r["account_id"],
        name=r["name"],
        created_at=codec.instant(r["created_at"]),
        last_used=codec.instant_or_none(r["last_used"]),
    )


def account_changes(old: Account, new: Account) -> list[tuple[str, Words, tuple[ChangeWords, ...]]]:
    """(action, detail, old -> new values) for each kind of change, in words (no
    secrets)."""
    found: list[tuple[str, Words, tuple[ChangeWords, ...]]] = []
    changes = {audit_english.english(c.field): c for c in audit_words.account_changes(old, new)}
    if "roles" in changes:
        roles = changes.pop("roles")
        detail = say("audit.say.roles_changed", old=_roles(old), new=_roles(new))
        found.append(("account_roles_changed", detail, (roles,)))
    if "disabled" in changes:
        disabled = (changes.pop("disabled"),)
        found.append(
            ("account_disabled", say("audit.say.account_disabled"), disabled)
            if new.disabled
            else ("account_enabled", say("audit.say.account_enabled"), disabled)
        )
    if changes:
        other = tuple(changes.values())
        fields = audit_english.words("audit.field", changes, keep_order=True)
        found.append(("account_updated", say("audit.say.account_updated", fields=fields), other))
    return found


def _roles(account: Account) -> Arg:
    return audit_english.words("role", account.roles)


class SqliteAccounts(SqlitePart):
    """Mixed into ``SqliteStore``, which provides the two transaction helpers."""

    # -- accounts --------------------------------------------------------------------------
    async def accounts(self) -> list[Account]:
        with self._reading("read the accounts") as conn:
            rows = conn.execute("SELECT * FROM accounts ORDER BY username")
            return [account_from_row(r) for r in rows]

    async def account(self, account_id: str) -> Account | None:
        with self._reading("read an account") as conn:
            row = conn.execute(
                "SELECT * FROM accounts WHERE account_id = ?", (account_id,)
            ).fetchone()
            return None if row is None else account_from_row(row)

    async def account_by_username(self, username: str) -> tuple[Account, str | None] | None:
        with self._reading("read an account") as conn:
            row = conn.execute("SELECT * FROM accounts WHERE username = ?", (username,)).fetchone()
            return None if row is None else (account_from_row(row), row["password_hash"])

    async def create_account(
        self, account: Account, password_hash: str | None, actor: str, at: datetime
    ) -> None:
        async with self._writing(f"create the account {account.username}") as conn:
            taken = conn.execute(
                "SELECT 1 FROM accounts WHERE username = ? OR account_id = ?",
                (account.username, account.account_id),
            ).fetchone()
            if taken is not None:
                raise StoreError(f"the username {account.username!r} is taken already")
            if account.person_id is not None:
                tables.require_person(conn, account.person_id)
            when = codec.iso(at)
            conn.execute(
                INSERT_ACCOUNT,
                (
                    account.account_id,
                    account.username,
                    account.display_name,
                    account.person_id,
                    names_json(account.roles),
                    names_json(account.manages),
                    int(account.disabled),
                    password_hash,
                    when,
                    when,
                ),
            )
            detail = audit_phrases.account_created(account.roles, bool(password_hash))
            changes = (
                *audit_words.account_changes(None, account),
                audit_words.changed("password", "", audit_words.presence(password_hash)),
            )
            self._audit(conn, at, actor, "account_created", account.username, detail, changes)

    async def update_account(self, account: Account, actor: str, at: datetime) -> None:
        async with self._writing(f"change the account {account.username}") as conn:
            old = self._require(conn, account.account_id)
            if old.username != account.username:
                raise StoreError(
                    f"the username {old.username!r} cannot change; create a new account"
                )
            if account.person_id is not None and account.person_id != old.person_id:
                tables.require_person(conn, account.person_id)
            conn.execute(
                "UPDATE accounts SET display_name = ?, person_id = ?, roles = ?, manages = ?, "
                "disabled = ?, changed_at = ? WHERE account_id = ?",
                (
                    account.display_name,
                    account.person_id,
                    names_json(account.roles),
                    names_json(account.manages),
                    int(account.disabled),
                    codec.iso(at),
                    account.account_id,
                ),
            )
            if account.disabled:
                conn.execute("DELETE FROM sessions WHERE account_id = ?", (account.account_id,))
            for action, detail, changes in account_changes(old, account):
                self._audit(conn, at, actor, action, account.username, detail, changes)

    async def set_password_hash(
        self, account_id: str, password_hash: str | None, actor: str, at: datetime
    ) -> None:
        async with self._writing("set a password") as conn:
            old = self._require(conn, account_id)
            had = conn.execute(
                "SELECT password_hash FROM accounts WHERE account_id = ?", (account_id,)
            ).fetchone()[0]
            conn.execute(
                "UPDATE accounts SET password_hash = ?, changed_at = ? WHERE account_id = ?",
                (password_hash, codec.iso(at), account_id),
            )
            ended = conn.execute("DELETE FROM sessions WHERE account_id = ?", (account_id,))
            detail = audit_phrases.password_set(bool(password_hash), ended.rowcount)
            change = audit_phrases.password_change(had, bool(password_hash))
            self._audit(conn, at, actor, "account_password_set", old.username, detail, (change,))

    async def upgrade_password_hash(self, account_id: str, old: str, new: str) -> bool:
        async with self._writing("upgrade a password hash") as conn:
            changed = conn.execute(
                "UPDATE accounts SET password_hash = ? WHERE account_id = ? AND password_hash = ?",
                (new, account_id, old),
            ).rowcount
            return changed == 1

    # -- sessions --------------------------------------------------------------------------
    async def create_session(self, session: Session, replaces: str | None) -> None:
        async with self._writing("start a session") as conn:
            account = self._require(conn, session.account_id)
            if replaces is not None:
                conn.execute("DELETE FROM sessions WHERE session_id_hash = ?", (replaces,))
            conn.execute(
                "DELETE FROM sessions WHERE absolute_expiry <= ?", (codec.iso(session.created_at),)
            )
            conn.execute(INSERT_SESSION, session_row(session))
            self._audit(
                conn,
                session.created_at,
                account.username,
                "signed_in",
                account.username,
                audit_phrases.SESSION_STARTED,
            )

    async def session(self, session_id_hash: str) -> Session | None:
        with self._reading("read a session") as conn:
            row = conn.execute(
                "SELECT * FROM sessions WHERE session_id_hash = ?", (session_id_hash,)
            ).fetchone()
            return None if row is None else session_from_row(row)

    async def touch_session(self, session_id_hash: str, at: datetime) -> None:
        async with self._writing("note a session's use") as conn:
            conn.execute(
                "UPDATE sessions SET last_seen = ? WHERE session_id_hash = ? AND last_seen < ?",
                (codec.iso(at), session_id_hash, codec.iso(at)),
            )

    async def delete_session(self, session_id_hash: str) -> None:
        async with self._writing("end a session") as conn:
            conn.execute("DELETE FROM sessions WHERE session_id_hash = ?", (session_id_hash,))

    # -- API tokens ------------------------------------------------------------------------
    async def create_token(self, token: ApiToken, actor: str, at: datetime) -> None:
        async with self._writing(f"create the token {token.name!r}") as conn:
            account = self._require(conn, token.account_id)
            taken = conn.execute(
                "SELECT 1 FROM api_tokens WHERE account_id = ? AND name = ?",
                (token.account_id, token.name),
            ).fetchone()
            if taken is not None:
                raise StoreError(
                    f"{account.username} already has a token named {token.name!r}; "
                    "revoke it first or choose another name"
                )
            conn.execute(
                INSERT_TOKEN,
                (
                    token.token_hash,
                    token.account_id,
                    token.name,
                    codec.iso(token.created_at),
                    codec.iso_or_none(token.last_used),
                ),
            )
            detail = audit_phrases.token_created(token.name)
            change = audit_phrases.token_change(token.name, active=True)
            self._audit(conn, at, actor, "token_created", account.username, detail, (change,))

    async def tokens(self, account_id: str) -> list[ApiToken]:
        with self._reading("read the tokens") as conn:
            rows = conn.execute(
                "SELECT * FROM api_tokens WHERE account_id = ? ORDER BY created_at, name",
                (account_id,),
            )
            return [token_from_row(r) for r in rows]

    async def token(self, token_hash: str) -> ApiToken | None:
        with self._reading("read a token") as conn:
            row = conn.execute(
                "SELECT * FROM api_tokens WHERE token_hash = ?", (token_hash,)
            ).fetchone()
            return None if row is None else token_from_row(row)

    async def touch_token(self, token_hash: str, at: datetime) -> None:
        async with self._writing("note a token's use") as conn:
            conn.execute(
                "UPDATE api_tokens SET last_used = ? WHERE token_hash = ?",
                (codec.iso(at), token_hash),
            )

    async def revoke_token(self, account_id: str, name: str, actor: str, at: datetime) -> None:
        async with self._writing(f"revoke the token {name!r}") as conn:
            account = self._require(conn, account_id)
            deleted = conn.execute(
                "DELETE FROM api_tokens WHERE account_id = ? AND name = ?", (account_id, name)
            ).rowcount
            if deleted == 0:
                raise NotFoundError(f"a token named {name!r} of {account.username}")
            detail = audit_phrases.token_revoked(name)
            change = audit_phrases.token_change(name, active=False)
            self._audit(conn, at, actor, "token_revoked", account.username, detail, (change,))

    # -- single sign-on identities ---------------------------------------------------------
    async def account_by_identity(self, issuer: str, subject: str) -> Account | None:
        with self._reading("read a single sign-on identity") as conn:
            row = conn.execute(
                "SELECT a.* FROM sso_identities i JOIN accounts a USING (account_id) "
                "WHERE i.issuer = ? AND i.subject = ?",
                (issuer, subject),
            ).fetchone()
            return None if row is None else account_from_row(row)

    async def identity_subject(self, account_id: str, issuer: str) -> str | None:
        with self._reading("read a single sign-on identity") as conn:
            row = conn.execute(
                "SELECT subject FROM sso_identities WHERE account_id = ? AND issuer = ?",
                (account_id, issuer),
            ).fetchone()
            return None if row is None else str(row["subject"])

    async def bind_identity(
        self, account_id: str, issuer: str, subject: str, actor: str, at: datetime
    ) -> None:
        async with self._writing("bind a single sign-on identity") as conn:
            account = self._require(conn, account_id)
            found = conn.execute(
                "SELECT account_id, subject FROM sso_identities "
                "WHERE (issuer = ? AND subject = ?) OR (issuer = ? AND account_id = ?)",
                (issuer, subject, issuer, account_id),
            ).fetchall()
            if any(r["account_id"] == account_id and r["subject"] == subject for r in found):
                return  # bound already: nothing to do, nothing to audit
            if found:
                raise StoreError(
                    f"{account.username} or this identity is bound to another already; "
                    "unbind it first (switchboard users unbind-sso)"
                )
            conn.execute(
                "INSERT INTO sso_identities (issuer, subject, account_id, bound_at) "
                "VALUES (?, ?, ?, ?)",
                (issuer, subject, account_id, codec.iso(at)),
            )
            detail = audit_phrases.sso_bound(issuer)
            change = audit_phrases.sso_bound_change(issuer)
            self._audit(conn, at, actor, "sso_identity_bound", account.username, detail, (change,))

    async def unbind_identities(self, account_id: str, actor: str, at: datetime) -> int:
        async with self._writing("unbind single sign-on identities") as conn:
            account = self._require(conn, account_id)
            removed = conn.execute(
                "DELETE FROM sso_identities WHERE account_id = ?", (account_id,)
            ).rowcount
            if removed:
                detail = audit_phrases.sso_unbound(removed)
                change = audit_phrases.sso_unbound_change(removed)
                self._audit(
                    conn, at, actor, "sso_identity_unbound", account.username, detail, (change,)
                )
            return int(removed)

    # -- plumbing --------------------------------------------------------------------------
    @staticmethod
    def _require(conn: sqlite3.Connection, account_id: str) -> Account:
        row = conn.execute("SELECT * FROM accounts WHERE account_id = ?", (account_id,)).fetchone()
        if row is None:
            raise NotFoundError(f"account {account_id}")
        return account_from_row(row)

    @staticmethod
    def _audit(
        conn: sqlite3.Connection,
        at: datetime,
        actor: str,
        action: str,
        username: str,
        detail: Words,
        changes: Sequence[ChangeWords] = (),
    ) -> None:
        conn.execute(
            tables.INSERT_AUDIT,
            tables.entry(at, actor, action, subject(username), detail, changes),
        )
