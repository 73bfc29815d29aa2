"""What the HTTP edge needs from accounts: who is asking (``Account``), and may they.

The one authorization decision is ``switchboard.accounts.model.allowed``; handlers never
look at roles themselves. The service is described as a Protocol so ``build_app`` can take
``switchboard.live.accounts.AccountService`` (what ``serve`` uses) or any object with the
same methods.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from switchboard.accounts.model import Account, Permission, allowed
from switchboard.accounts.sessions import SessionPolicy
from switchboard.accounts.throttle import LoginThrottledError
from switchboard.directory.model import Person

__all__ = [
    "Access",
    "Account",
    "AccountService",
    "Authorizer",
    "LoginThrottledError",
    "Permission",
    "Session",
]


class Session(Protocol):
    @property
    def csrf_token(self) -> str: ...

    def ends_at(self, policy: SessionPolicy) -> datetime:
        """When it ends unless used again (idle or absolute limit)."""
        ...


class AccountService(Protocol):
    """``Runtime.accounts``: sessions, bearer tokens and sign-in."""

    @property
    def policy(self) -> SessionPolicy:
        """The idle and absolute limits, for the pages' warning before the end (2.2.1)."""
        ...

    async def session(
        self, session_id: str, *, touch: bool = True
    ) -> tuple[Session, Account] | None:
        """The live session and its account; None when unknown, expired or disabled.
        ``touch=False`` looks without renewing the idle time."""
        ...

    async def extend_session(self, session_id: str) -> Session | None:
        """Renew the idle time now ("Fortsätt inloggad"); None when it has ended."""
        ...

    async def token_holder(self, token: str) -> tuple[Account, str] | None:
        """The account a bearer token acts as, and the token's name; None when unknown."""
        ...

    async def authenticate(self, username: str, password: str, source: str) -> Account | None:
        """None for an unknown user and a wrong password alike (same answer, same time).

        Raises :class:`LoginThrottledError` while the throttle asks for a pause.
        """
        ...

    async def start_session(
        self, account: Account, previous: str | None = None
    ) -> tuple[str, Session]:
        """A new session id (rotation); ``previous``, the browser's old one, is revoked."""
        ...

    async def end_session(self, session_id: str) -> None: ...


class Authorizer(Protocol):
    """``allowed(account | None, permission, *, target)``: the accounts package's decision."""

    def __call__(
        self, account: Account | None, permission: Permission, *, target: Person | None = None
    ) -> bool: ...


@dataclass(frozen=True, slots=True)
class Access:
    """The two things the edge asks of the accounts package, bundled for ``build_app``."""

    accounts: AccountService
    allowed: Authorizer = allowed
