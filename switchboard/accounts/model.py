"""Accounts, roles, permissions and ``allowed()``: the single authorization rule (issue 5).

Every page, API route and command that the web serves asks ``allowed()`` and nothing else,
so who-may-do-what lives in one place and is tested cell by cell against the matrix in
``docs/accounts.md`` (the test parses that table; doc and code cannot drift apart).

Rules behind the matrix:
- anonymous and disabled accounts may do nothing;
- an employee reads the directory and everyone's public availability, and changes only
  their own things (R6 is the person's own choice; a receptionist may act on their behalf);
- a manager may ask for the call list of the people in the units they manage, never their
  own (R19: the *nearest* manager asks); an administrator approves it;
- nobody reads secret numbers (R18): the permission exists so the rule is explicit, tested,
  and cannot be granted by adding a role.
Roles add up: an account with several roles may do what any of them may.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from enum import StrEnum
from types import MappingProxyType

from switchboard.directory.model import Person


class AccountError(Exception):
    """An account request refused; the message says what to do instead."""


class Role(StrEnum):
    EMPLOYEE = "employee"
    RECEPTIONIST = "receptionist"
    MANAGER = "manager"
    ADMIN = "admin"
    ROUTER = "router"
    """An integration, not a person: a SIP front end (Kamailio) asking how to route each
    call (issue 14). It may do that and nothing else, so its token, which sits in a
    config file on another machine, opens nothing more if it leaks."""


class Permission(StrEnum):
    READ_DIRECTORY = "read_directory"
    READ_PRESENCE = "read_presence"
    """Anyone's public availability view (R17; never a secret number, R18)."""
    WRITE_PRESENCE = "write_presence"
    PREVIEW_ROUTE = "preview_route"
    READ_OWN_VOICEMAIL = "read_own_voicemail"
    TAKE_MESSAGE = "take_message"
    IMPORT_DIRECTORY = "import_directory"
    MANAGE_ACCOUNTS = "manage_accounts"
    MANAGE_POLICY = "manage_policy"
    """Grant and revoke R16 exceptions."""
    READ_AUDIT = "read_audit"
    REQUEST_CALL_LIST = "request_call_list"
    """R19: the nearest manager asks for one employee's calls."""
    APPROVE_CALL_LIST = "approve_call_list"
    ROUTE_CALLS = "route_calls"
    """Ask what a call to any number gets, as a SIP front end does (``/api/v1/route``); the
    answer never holds a secret number (R18)."""
    READ_SECRET_NUMBERS = "read_secret_numbers"  # noqa: S105 - a permission name
    """R18: granted to nobody, whatever their roles."""


class Scope(StrEnum):
    """For which target a role holds a permission (the words of the documented matrix)."""

    ANY = "any"
    """Any target, and also without one (lists, "may this account do it at all?")."""
    SELF = "self"
    """Only the person the account is."""
    MANAGED = "managed"
    """Only someone else in a unit the account manages (R19)."""


class Relation(StrEnum):
    """How a target person relates to the account asking."""

    NONE = "none"
    SELF = "self"
    MANAGED = "managed"
    OTHER = "other"


USERNAME = re.compile(r"[\w][\w.@+-]{0,63}")
"""Letters (Nordic ones too), digits and ``. @ + - _``; an e-mail address fits."""


def normalise_username(text: str) -> str:
    """The one form a username is stored and compared in: NFKC, lower-case, trimmed."""
    return unicodedata.normalize("NFKC", text).strip().lower()


def unit_key(organisation: str, unit: str) -> str:
    """How ``Account.manages`` names a unit: ``organisation/unit``, compared case-folded.

    Why units and not people: the nearest manager (R19) is the manager of the person's own
    unit, and people move between units by a directory import without anyone editing
    accounts. The organisation is part of the key because unit names repeat across
    organisations ("Kommunhuset").
    """
    return f"{organisation.strip()}/{unit.strip()}".casefold()


@dataclass(frozen=True, slots=True)
class Account:
    """A person (or an integration) who signs in to the web; never carries a password hash."""

    account_id: str
    username: str
    """Lower-case (``normalise_username``); unique."""
    display_name: str
    person_id: str | None
    """The directory person this account is: what "self" means in the matrix."""
    roles: frozenset[Role]
    disabled: bool = False
    manages: frozenset[str] = frozenset()
    """Units (``unit_key``) a manager manages; only the MANAGER role uses it (R19)."""

    def __post_init__(self) -> None:
        if normalise_username(self.username) != self.username or not USERNAME.fullmatch(
            self.username
        ):
            raise AccountError(
                f"username {self.username!r} is not usable: use 1-64 lower-case letters, "
                "digits and . @ + - _, starting with a letter or digit"
            )
        if not self.display_name.strip():
            raise AccountError(f"account {self.username} needs a display name")
        if any(m != m.casefold() or "/" not in m for m in self.manages):
            raise AccountError("managed units are written organisation/unit (see unit_key)")


_GRANTS: MappingProxyType[Role, MappingProxyType[Permission, Scope]] = MappingProxyType(
    {
        Role.EMPLOYEE: MappingProxyType(
            {
                Permission.READ_DIRECTORY: Scope.ANY,
                Permission.READ_PRESENCE: Scope.ANY,
                Permission.WRITE_PRESENCE: Scope.SELF,
                Permission.PREVIEW_ROUTE: Scope.SELF,
                Permission.READ_OWN_VOICEMAIL: Scope.SELF,
            }
        ),
        Role.RECEPTIONIST: MappingProxyType(
            {
                Permission.READ_DIRECTORY: Scope.ANY,
                Permission.READ_PRESENCE: Scope.ANY,
                # On someone's behalf: the engine records the source ON_BEHALF (audited).
                Permission.WRITE_PRESENCE: Scope.ANY,
                Permission.PREVIEW_ROUTE: Scope.ANY,
                Permission.READ_OWN_VOICEMAIL: Scope.SELF,
                Permission.TAKE_MESSAGE: Scope.ANY,
            }
        ),
        Role.MANAGER: MappingProxyType(
            {
                Permission.READ_DIRECTORY: Scope.ANY,
                Permission.READ_PRESENCE: Scope.ANY,
                Permission.WRITE_PRESENCE: Scope.SELF,
                Permission.PREVIEW_ROUTE: Scope.SELF,
                Permission.READ_OWN_VOICEMAIL: Scope.SELF,
                Permission.REQUEST_CALL_LIST: Scope.MANAGED,
            }
        ),
        Role.ADMIN: MappingProxyType(
            {
                Permission.READ_DIRECTORY: Scope.ANY,
                Permission.READ_PRESENCE: Scope.ANY,
                Permission.WRITE_PRESENCE: Scope.ANY,
                Permission.PREVIEW_ROUTE: Scope.ANY,
                Permission.READ_OWN_VOICEMAIL: Scope.SELF,
                Permission.IMPORT_DIRECTORY: Scope.ANY,
                Permission.MANAGE_ACCOUNTS: Scope.ANY,
                Permission.MANAGE_POLICY: Scope.ANY,
                Permission.READ_AUDIT: Scope.ANY,
                Permission.APPROVE_CALL_LIST: Scope.ANY,
                Permission.ROUTE_CALLS: Scope.ANY,
            }
        ),
        Role.ROUTER: MappingProxyType({Permission.ROUTE_CALLS: Scope.ANY}),
    }
)


def relation(account: Account, target: Person | None) -> Relation:
    if target is None:
        return Relation.NONE
    if account.person_id is not None and target.person_id == account.person_id:
        return Relation.SELF
    if unit_key(target.organisation, target.unit) in account.manages:
        return Relation.MANAGED
    return Relation.OTHER


def _covers(scope: Scope, rel: Relation) -> bool:
    if scope is Scope.ANY:
        return True
    if scope is Scope.SELF:
        return rel is Relation.SELF
    return rel is Relation.MANAGED


def allowed(
    account: Account | None, permission: Permission, *, target: Person | None = None
) -> bool:
    """May ``account`` do ``permission`` (to ``target``, when it concerns one person)?

    THE authorization function: the HTTP layer asks this and nothing else. Pass the target
    the request really acts on, as loaded from the store, never one taken from the request
    body unchecked.
    """
    if account is None or account.disabled:
        return False
    if permission is Permission.READ_SECRET_NUMBERS:
        return False  # R18: nobody, whatever the roles say.
    rel = relation(account, target)
    for role in account.roles:
        scope = _GRANTS[role].get(permission)
        if scope is not None and _covers(scope, rel):
            return True
    return False


def allowed_by_name(account: object, permission: str, *, target: Person | None = None) -> bool:
    """``allowed`` for an edge that names permissions by member name (``"READ_PRESENCE"``)
    and types accounts by a Protocol of its own (``switchboard.http.principal.Authorizer``).

    Anything that is not an ``Account`` of this package, or an unknown name, is refused.
    """
    if not isinstance(account, Account) or permission not in Permission.__members__:
        return False
    return allowed(account, Permission[permission], target=target)
