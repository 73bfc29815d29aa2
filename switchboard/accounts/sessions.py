"""Web sessions and API tokens as values: made here, kept by the store (issue 5).

Secrets and what is stored of them:
- a session id is 32 random bytes (urlsafe base64 in the cookie); the store keeps only its
  SHA-256, so a copy of the database (a backup, a stolen disk) opens no session;
- an API token is ``sbt_`` + 32 random bytes, shown once; likewise stored as SHA-256.
A fast hash is right here and argon2 would be wrong: these secrets have 256 bits of
entropy, so there is nothing to guess, and they are checked on every request.

The CSRF token is per session and stored as is: pages must embed it, and it is worthless
without the session cookie it belongs to (OWASP CSRF cheat sheet, synchronizer token).

Timeouts (OWASP Session Management cheat sheet): idle 30 min (``[http]
session_idle_minutes`` chooses another, issue 17), absolute 12 h. ``last_seen``
is written at most once a minute per session, so a busy page does not turn every request
into a database write; the idle timeout is therefore exact to within that minute.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta

SECRET_BYTES = 32
TOKEN_PREFIX = "sbt_"  # noqa: S105 - the public prefix, no secret

RandomBytes = Callable[[int], bytes]


@dataclass(frozen=True, slots=True)
class SessionPolicy:
    idle: timedelta = timedelta(minutes=30)
    absolute: timedelta = timedelta(hours=12)
    touch_every: timedelta = timedelta(minutes=1)


@dataclass(frozen=True, slots=True)
class Session:
    session_id_hash: str = field(repr=False)
    account_id: str
    csrf_token: str = field(repr=False)
    created_at: datetime
    last_seen: datetime
    absolute_expiry: datetime

    def expired(self, now: datetime, policy: SessionPolicy) -> bool:
        return now >= self.absolute_expiry or now - self.last_seen >= policy.idle

    def needs_touch(self, now: datetime, policy: SessionPolicy) -> bool:
        return now - self.last_seen >= policy.touch_every

    def touched(self, now: datetime) -> Session:
        return replace(self, last_seen=now)

    def ends_at(self, policy: SessionPolicy) -> datetime:
        """When the session ends if nothing uses it: idle or absolute, whichever is first.
        The pages warn before this instant and offer to carry on (WCAG 2.2.1, issue 16)."""
        return min(self.last_seen + policy.idle, self.absolute_expiry)


@dataclass(frozen=True, slots=True)
class ApiToken:
    """An integration's bearer token as stored: its hash, never the token."""

    token_hash: str = field(repr=False)
    account_id: str
    name: str
    created_at: datetime
    last_used: datetime | None = None


def secret(random_bytes: RandomBytes = secrets.token_bytes) -> str:
    """32 random bytes, urlsafe base64 without padding (43 characters)."""
    return base64.urlsafe_b64encode(random_bytes(SECRET_BYTES)).rstrip(b"=").decode("ascii")


def hash_secret(value: str) -> str:
    """SHA-256 hex of a session id or token: what the store keys them by."""
    return hashlib.sha256(value.encode("utf-8")).hexdigest()


def same_secret(a: str, b: str) -> bool:
    """Constant-time comparison, for the CSRF token a form sends back."""
    return hmac.compare_digest(a.encode("utf-8"), b.encode("utf-8"))


def new_session(
    account_id: str,
    now: datetime,
    policy: SessionPolicy,
    random_bytes: RandomBytes = secrets.token_bytes,
) -> tuple[str, Session]:
    """A fresh session id (for the cookie) and the session to store."""
    session_id = secret(random_bytes)
    session = Session(
        session_id_hash=hash_secret(session_id),
        account_id=account_id,
        csrf_token=secret(random_bytes),
        created_at=now,
        last_seen=now,
        absolute_expiry=now + policy.absolute,
    )
    return session_id, session


def new_token(
    account_id: str, name: str, now: datetime, random_bytes: RandomBytes = secrets.token_bytes
) -> tuple[str, ApiToken]:
    """A fresh API token (shown once) and the record to store."""
    token = TOKEN_PREFIX + secret(random_bytes)
    return token, ApiToken(hash_secret(token), account_id, name, now)


def looks_like_token(value: str) -> bool:
    """Cheap shape check before any store lookup (a bearer value of another kind)."""
    return value.startswith(TOKEN_PREFIX) and len(value) == len(TOKEN_PREFIX) + 43
