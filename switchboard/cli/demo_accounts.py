"""The demo's accounts: three web accounts (an employee, a receptionist and an
administrator, issue 5) and one SIP phone to call the demo from (issue 16).

DEMO ONLY: the passwords are fixed strings printed by ``switchboard demo`` and written in
docs/accounts.md and docs/sip.md, so anyone can sign in or register with them. Never run
the demo on a data directory that serves real people. Running the demo again puts the
accounts and the phone's password back as they were (roles, enabled, password) and changes
nothing when they already are.
"""

from __future__ import annotations

from dataclasses import dataclass

from switchboard.accounts.model import Account, Role
from switchboard.accounts.passwords import verify_password
from switchboard.directory.credentials import make_credential
from switchboard.directory.model import Person
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
DEMO_PHONE_PASSWORD = "lur-pa-skrivbordet"  # noqa: S105 - demo only, public (module doc)
"""The SIP password of the demo's phone: the digest password of its extension."""


@dataclass(frozen=True, slots=True)
class DemoPhone:
    """A phone to call the demo with: who it belongs to, and whom to call."""

    owner: Person
    password: str
    callee: Person
    """The first person of the demo directory, whom the demo sends to lunch."""

    @property
    def user(self) -> str:
        """The digest user name and the extension the phone registers: the same (docs/sip.md)."""
        return self.owner.extension or ""

    def announcement(self, sip: str) -> str:
        """How to call the demo from a softphone, once SIP listens on ``sip`` (host:port).

        The baresip line is one line of ``~/.baresip/accounts`` as Debian's baresip 1.0
        reads it; Linphone takes the same three things in its "Use a SIP account" assistant.
        """
        return (
            f"  SIP:  {sip} (UDP and TCP; see docs/sip.md)\n"
            f"        Register a phone as {self.user}, password {self.password} "
            f"({self.owner.name};\n"
            f"        demo only: the password is public), then call "
            f"sip:{self.callee.extension}@{sip} ({self.callee.name}).\n"
            f"        baresip, a line for ~/.baresip/accounts:\n"
            f"          {self.baresip_account(sip)}\n"
            f'        Linphone, "Use a SIP account": username {self.user}, '
            f"password {self.password},\n"
            f"          domain {sip}, transport UDP\n"
        )

    def baresip_account(self, sip: str) -> str:
        return f"<sip:{self.user}@{sip}>;auth_pass={self.password};regint=300"


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


def _phone_owner(engine: Engine, callee: Person) -> Person:
    """The first organisation's reception (a desk phone, no mobile), else the last person
    with an extension who is not the one to call."""
    people = [p for p in engine.view.people() if p.extension and p.person_id != callee.person_id]
    reception = engine.settings.organisations[0].reception
    for person in people:
        if person.extension == reception:
            return person
    return people[-1] if people else callee


async def seed_demo_phone(engine: Engine) -> DemoPhone:
    """Give the demo phone its public password, unless it has it already (no audit entry
    for nothing). Its digest hashes belong to the configured realm, as every phone's."""
    people = [p for p in engine.view.people() if p.extension]
    callee = people[0]
    owner = _phone_owner(engine, callee)
    extension = owner.extension or ""
    realm = engine.settings.sip.realm
    wanted = make_credential(extension, realm, DEMO_PHONE_PASSWORD)
    if engine.credential(extension) != wanted:
        await engine.set_sip_password(extension, DEMO_PHONE_PASSWORD, realm, DEMO_ACTOR)
    return DemoPhone(owner, DEMO_PHONE_PASSWORD, callee)
