"""From verified id_token claims to a switchboard account (single sign-on, issue 5).

Identity first: the provider's ``iss`` and ``sub`` (stable, never reassigned) are bound to
the account at its first single sign-on, and from then on they alone find it. Without a
binding, matching, in this order: the ``username_claim`` as a username; the
``email_claim`` as a username; the account tied to the directory person with that e-mail.
Several accounts tied to that one person make the match ambiguous, and it is refused
rather than guessed. An account bound to another identity of the provider is never taken
over by a matching username or e-mail (a departed employee's address given to a new one):
that is refused until an administrator runs ``switchboard users unbind-sso``.

An e-mail marked ``email_verified: false`` is not used for matching: with some providers a
user can type any address into their profile, and matching on it would let them become
someone else (the "nOAuth" class of flaw). Entra ID's tenant-specific issuer limits sign-
ins to the organisation's own directory, whose addresses its administrators set.

Roles: when ``roles`` maps groups to roles, the provider's groups decide the roles that
appear in the mapping, at every sign-in; roles that appear nowhere in the mapping (say an
admin role given by hand) are left alone. A change goes through ``set_roles`` and so is
audited (``account_roles_changed``). Nothing is written before the token has been verified,
and an account is created only as the last step before its session.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any, Protocol

import structlog

from switchboard.accounts.model import USERNAME, Account, AccountError, Role, normalise_username
from switchboard.directory.model import Person
from switchboard.http.oidc_provider import OidcError
from switchboard.http.principal import AccountService
from switchboard.settings.oidc import OidcSettings
from switchboard.store.protocol import StoreError, StoreUnavailableError

log = structlog.get_logger("switchboard.http")

ACTOR = "sso"
"""How the audit trail names changes made by single sign-on (roles from groups, accounts)."""
NO_ACCOUNT = (
    "You signed in with the organisation's account, but there is no switchboard account "
    "for you. Ask an administrator to add one."
)
NOT_USABLE = "This account cannot sign in. Ask an administrator."

FindPerson = Callable[[str], Person | None]


class OidcAccountService(AccountService, Protocol):
    """What single sign-on needs of ``switchboard.live.accounts.AccountService`` beyond
    sessions: finding, creating and re-roling accounts."""

    async def accounts(self) -> list[Account]: ...

    async def find(self, username: str) -> Account | None: ...

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
    ) -> Account: ...

    async def set_roles(
        self,
        username: str,
        roles: Iterable[Role],
        actor: str,
        *,
        manages: Iterable[str] | None = None,
    ) -> Account: ...

    async def account_for_identity(self, issuer: str, subject: str) -> Account | None: ...

    async def identity_subject(self, account_id: str, issuer: str) -> str | None: ...

    async def bind_identity(
        self, account_id: str, issuer: str, subject: str, actor: str
    ) -> None: ...


def _text(claims: Mapping[str, Any], name: str) -> str | None:
    value = claims.get(name)
    return value.strip() if isinstance(value, str) and value.strip() else None


def groups_of(claims: Mapping[str, Any], name: str) -> frozenset[str]:
    value = claims.get(name)
    if isinstance(value, str):
        return frozenset({value})
    if isinstance(value, list):
        return frozenset(v for v in value if isinstance(v, str))
    return frozenset()


def roles_from(settings: OidcSettings, claims: Mapping[str, Any]) -> frozenset[Role]:
    groups = groups_of(claims, settings.groups_claim)
    return frozenset(role for group, role in settings.roles.items() if group in groups)


def roles_after(
    settings: OidcSettings, current: frozenset[Role], given: frozenset[Role]
) -> frozenset[Role]:
    """Managed roles replaced by the provider's; an account left with none is an employee
    (the least role: it reads the directory and changes only its own things)."""
    roles = (current - settings.managed_roles) | given
    return roles or frozenset({Role.EMPLOYEE})


class AccountLinker:
    def __init__(
        self, settings: OidcSettings, accounts: OidcAccountService, find_person: FindPerson
    ) -> None:
        self.settings = settings
        self.accounts = accounts
        self.find_person = find_person

    async def account_for(self, claims: Mapping[str, Any]) -> Account:
        """The account these verified claims sign in as, created or re-roled as configured.

        Raises OidcError (logged by the caller) when there is none to use.
        """
        settings = self.settings
        issuer, subject = str(claims["iss"]), str(claims["sub"])  # verified, required
        given = roles_from(settings, claims)
        account = await self.accounts.account_for_identity(issuer, subject)
        bound = account is not None
        if account is None:
            username = _text(claims, settings.username_claim)
            email = _text(claims, settings.email_claim)
            if claims.get("email_verified") is False:
                email = None
            account = await self._match(username, email)
            if account is None:
                account = await self._provision(username, email, given)
        if account.disabled:
            raise OidcError(f"account {account.username} is disabled", NOT_USABLE, 403)
        if not bound:
            await self._not_bound_elsewhere(account, issuer)
            try:
                await self.accounts.bind_identity(account.account_id, issuer, subject, ACTOR)
            except StoreUnavailableError:
                raise  # the store is down: 503, not a refusal
            except StoreError as exc:  # bound meanwhile by a sign-in in parallel
                raise OidcError(f"identity not bound: {exc}", NOT_USABLE, 403) from None
            log.info("sso_identity_bound", username=account.username)
        if settings.roles:
            roles = roles_after(settings, account.roles, given)
            if roles != account.roles:
                account = await self.accounts.set_roles(account.username, roles, ACTOR)
                log.info(
                    "sso_roles_changed",
                    username=account.username,
                    roles=sorted(r.value for r in roles),
                )
        return account

    async def _not_bound_elsewhere(self, account: Account, issuer: str) -> None:
        """Called only for an account the identity did not find by itself."""
        if await self.accounts.identity_subject(account.account_id, issuer) is not None:
            # Matched by username or e-mail, yet the account belongs to another identity
            # of this provider: an address handed on to a new employee, say. The claims
            # must not take the account over; an administrator unbinds it if right.
            raise OidcError(
                f"account {account.username} is bound to another single sign-on identity",
                NOT_USABLE,
                403,
            )

    async def _match(self, username: str | None, email: str | None) -> Account | None:
        for name in (username, email):
            if name is not None:
                found = await self.accounts.find(name)
                if found is not None:
                    return found
        if email is None:
            return None
        person = self.find_person(email)
        if person is None:
            return None
        tied = [a for a in await self.accounts.accounts() if a.person_id == person.person_id]
        if len(tied) > 1:
            raise OidcError(
                f"{len(tied)} accounts are tied to person {person.person_id}", NOT_USABLE, 403
            )
        return tied[0] if tied else None

    async def _provision(
        self, username: str | None, email: str | None, given: frozenset[Role]
    ) -> Account:
        if self.settings.provision != "employee":
            raise OidcError("no account matches and provision is 'link'", NO_ACCOUNT, 403)
        person = self.find_person(email) if email is not None else None
        if person is None or email is None:
            raise OidcError("no account and no directory person with that e-mail", NO_ACCOUNT, 403)
        name = normalise_username(username or email)
        if not USERNAME.fullmatch(name):
            raise OidcError(f"claim is not a usable username ({len(name)} chars)", NO_ACCOUNT, 403)
        try:
            account = await self.accounts.add_account(
                name, person.name, given | {Role.EMPLOYEE}, email, None, ACTOR
            )
        except StoreUnavailableError:
            raise  # the store is down: 503, not a refusal
        except (AccountError, StoreError) as exc:
            raise OidcError(f"account not created: {exc}", NO_ACCOUNT, 403) from None
        log.info("sso_account_created", username=name, person=person.person_id)
        return account
