"""Which administration sections an account may use: the navigation shows only those.

Asked of ``allowed()`` alone, like every page and route. Kept apart from ``pages_admin``
so ``page_render`` (every page's frame shows the "Administration" link) can ask it without
importing the admin pages, which are built on ``page_render``.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from switchboard.accounts.model import Account
from switchboard.directory.model import Person
from switchboard.http.principal import Authorizer, Permission


@dataclass(frozen=True, slots=True)
class Section:
    key: str
    """Its translation key (``admin.section.<key>``) and its id in the page."""
    path: str


IMPORT = Section("import", "/admin/import")
PEOPLE = Section("people", "/admin/people")
POLICY = Section("policy", "/admin/policy")
AUDIT = Section("audit", "/admin/audit")
CALL_LISTS = Section("call_lists", "/admin/call-lists")
SECTIONS = (IMPORT, PEOPLE, POLICY, AUDIT, CALL_LISTS)

_NEEDS = {
    IMPORT: Permission.IMPORT_DIRECTORY,
    PEOPLE: Permission.MANAGE_ACCOUNTS,
    POLICY: Permission.MANAGE_POLICY,
    AUDIT: Permission.READ_AUDIT,
}


def requestable(
    account: Account | None, allowed: Authorizer, people: Iterable[Person]
) -> list[Person]:
    """The people whose call list this account may ask for (R19: a *managed* grant, so
    only ``allowed()`` with each person as the target can say), by name."""
    found = [p for p in people if allowed(account, Permission.REQUEST_CALL_LIST, target=p)]
    return sorted(found, key=lambda p: p.name.casefold())


def may_use(section: Section, account: Account | None, allowed: Authorizer) -> bool:
    needed = _NEEDS.get(section)
    if needed is not None:
        return allowed(account, needed)
    if allowed(account, Permission.APPROVE_CALL_LIST):
        return True
    # R19: a call list is asked for about a *managed* person, so only an account that
    # manages a unit can ask; whom it may ask for is the page's to list (``requestable``).
    # Asking ``allowed`` about each person here cost every page 60-80 ms at 100,000 people.
    return account is not None and bool(account.manages)


def admin_sections(account: Account | None, allowed: Authorizer) -> tuple[Section, ...]:
    """The sections ``account`` may use, in navigation order; empty for most accounts."""
    if account is None:
        return ()
    return tuple(s for s in SECTIONS if may_use(s, account, allowed))
