"""The demo's web accounts: an employee, a receptionist and an administrator (issue 5).

DEMO ONLY: the passwords are fixed strings printed by ``switchboard demo`` and written in
docs/accounts.md, so anyone can sign in with them. Never run the demo on a data directory
that serves real people. Running the demo again puts the three accounts back as they were
(roles, enabled, password) and changes nothing when they already are.
"""

from __future__ import annotations

from dataclasses import dataclass

from switchboard.accounts.model import Account, Role
from switchboard.accounts.passwords import verify_password
from switchboard.live.accounts import AccountService
from switchboard.live.engine import Engine

DEMO_ACTOR = "demo"
ANNA_EMAIL = "anna.berg@sotenas.example"


@dataclass(frozen=True, slots=True)
class DemoAccount:
    username: str
    password: str
    role: Role
    person_key: str | None


# Demo only: public passwords (see the module doc).
DEMO_ACCOUNTS = (
    DemoAccount("anna", "kaffe-och-bulle", Role.EMPLOYEE, ANNA_EMAIL),
    DemoAccount("reception", "vaxeln-svarar-alltid", Role.RECEPTIONIST, None),
    DemoAccount("admin", "nyckelknippa-demo", Role.ADMIN, None),
)


def _person_key(engine: Engine, wanted: str | None) -> str | None:
    """Anna Berg in the SML demo; in another demo directory, its first person with an
    extension stands in for her."""
    if wanted is None or engine.view.find(wanted) is not None:
        return wanted
    first = next((p for p in engine.view.people() if p.extension), None)
    return None if first is None else first.extension


async def seed_demo_accounts(engine: Engine, accounts: AccountService) -> list[Account]:
    made: list[Account] = []
    for demo in DEMO_ACCOUNTS:
        key = _person_key(engine, demo.person_key)
        account = await accounts.find(demo.username)
        if account is None:
            account = await accounts.add_account(
                demo.username, None, [demo.role], key, demo.password, DEMO_ACTOR
            )
        else:
            if account.roles != {demo.role}:
                account = await accounts.set_roles(demo.username, [demo.role], DEMO_ACTOR)
            if account.disabled:
                account = await accounts.enable(demo.username, DEMO_ACTOR)
            found = await accounts.store.account_by_username(demo.username)
            stored = None if found is None else found[1]
            if stored is None or not verify_password(stored, demo.password, accounts.hasher):
                await accounts.set_password(demo.username, demo.password, DEMO_ACTOR)
        made.append(account)
    return made


def print_demo_accounts(engine: Engine, accounts: list[Account]) -> None:
    passwords = {d.username: d.password for d in DEMO_ACCOUNTS}
    print("\nDemo accounts (demo only: these passwords are public):")
    for account in accounts:
        person = engine.view.person(account.person_id) if account.person_id else None
        who = f", signs in as {person.name}" if person else ""
        roles = ", ".join(sorted(account.roles))
        print(f"  {account.username:<10} {passwords[account.username]:<22} {roles}{who}")
