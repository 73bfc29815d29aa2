"""One-time links to set a password (issue 16: an administrator resets a password, or gives
a new account its first one, from the web).

Nothing is stored for a link. Making one replaces the account's password by a random one
nobody knows (the old password stops working and every session ends, audited as any
password change), and the link carries an HMAC of the account id and the expiry keyed with
that password's *hash*, which only the store holds. Setting a password through the link
changes the hash, so the same link fails from then on: it works once. A second link made
later also kills the first. The same construction as Django's password-reset tokens, keyed
with the hash alone because the switchboard keeps no other server secret.

Pure: the caller passes the time.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from datetime import datetime, timedelta

LINK_LIFETIME = timedelta(hours=72)
"""Long enough to hand over a link on a Friday and have it used on Monday."""
PATH = "/password"


@dataclass(frozen=True, slots=True)
class ResetLink:
    username: str
    expires: int
    """Unix seconds."""
    token: str

    @property
    def path(self) -> str:
        """Where the link points on this site (the page adds its origin)."""
        return f"{PATH}?u={self.username}&e={self.expires}&k={self.token}"


def _mac(password_hash: str, account_id: str, expires: int) -> str:
    message = f"switchboard-password-link|{account_id}|{expires}".encode()
    return hmac.new(password_hash.encode(), message, hashlib.sha256).hexdigest()


def make_link(password_hash: str, account_id: str, username: str, now: datetime) -> ResetLink:
    expires = int((now + LINK_LIFETIME).timestamp())
    return ResetLink(username, expires, _mac(password_hash, account_id, expires))


def link_holds(
    password_hash: str | None, account_id: str, expires: int, token: str, now: datetime
) -> bool:
    """Whether ``token`` is a link made for the account's current hash that has not
    expired (compared in constant time)."""
    if password_hash is None or expires < now.timestamp():
        return False
    return hmac.compare_digest(_mac(password_hash, account_id, expires), token)
