"""``switchboard users``: web accounts, their roles, passwords and API tokens (issue 5).

Passwords are read from a prompt (or stdin with ``--password-stdin``, for scripts), never
from the command line, where they would land in shell history and ``ps``. A token is
printed once, when it is made; only its hash is kept, so it cannot be shown again.
"""

from __future__ import annotations

import argparse
from typing import Any

from switchboard.accounts.model import Account, AccountError, Role
from switchboard.cli.input import read_new_password
from switchboard.http.render import instant
from switchboard.live.accounts import AccountService
from switchboard.live.engine import Engine

ROLES = [r.value for r in Role]


def add_arguments(group: Any, leaf: Any, by: Any) -> None:
    def roles(p: argparse.ArgumentParser, *, required: bool) -> None:
        p.add_argument(
            "--role",
            dest="roles",
            action="append",
            choices=ROLES,
            required=required,
            help="repeatable: employee, receptionist, manager, admin, router",
        )
        p.add_argument(
            "--manages",
            metavar="ORG/UNIT",
            action="append",
            help="a unit this manager manages (R19), e.g. sotenas/Socialtjänsten; repeatable",
        )

    def stdin(p: argparse.ArgumentParser) -> None:
        p.add_argument(
            "--password-stdin", action="store_true", help="read the password from stdin (scripts)"
        )

    p = leaf(group, "add", "users add", "create a web account")
    p.add_argument("username", metavar="USERNAME")
    roles(p, required=True)
    p.add_argument("--person", metavar="NUMBER|EMAIL", help="the directory person it is")
    p.add_argument("--name", help="display name (default: the person's name, or USERNAME)")
    stdin(p)
    p.add_argument("--no-password", action="store_true", help="no password sign-in (set one later)")
    by(p)
    leaf(group, "list", "users list", "every account with its roles (no secrets shown)")
    p = leaf(group, "role", "users role", "replace an account's roles")
    p.add_argument("username", metavar="USERNAME")
    roles(p, required=True)
    by(p)
    p = leaf(group, "disable", "users disable", "stop an account: sign-in, sessions, tokens")
    p.add_argument("username", metavar="USERNAME")
    by(p)
    p = leaf(group, "enable", "users enable", "let a disabled account sign in again")
    p.add_argument("username", metavar="USERNAME")
    by(p)
    p = leaf(group, "password", "users password", "set a password (ends the account's sessions)")
    p.add_argument("username", metavar="USERNAME")
    stdin(p)
    by(p)
    p = leaf(group, "token", "users token", "make an API token for an integration (shown once)")
    p.add_argument("username", metavar="USERNAME")
    p.add_argument("--name", required=True, help="what uses the token, to revoke it by")
    by(p)
    p = leaf(group, "tokens", "users tokens", "an account's API tokens: name, created, last used")
    p.add_argument("username", metavar="USERNAME")
    p = leaf(group, "revoke-token", "users revoke-token", "revoke an API token by its name")
    p.add_argument("username", metavar="USERNAME")
    p.add_argument("--name", required=True)
    by(p)
    p = leaf(
        group,
        "unbind-sso",
        "users unbind-sso",
        "forget the single sign-on identity bound to an account (it is matched afresh)",
    )
    p.add_argument("username", metavar="USERNAME")
    by(p)


def service(engine: Engine) -> AccountService:
    return AccountService(engine.store, engine.clock, find_person=engine.view.find)


def _read_password(args: argparse.Namespace) -> str:
    return read_new_password(args.password_stdin, f"Password for {args.username}: ", AccountError)


def _describe(account: Account, engine: Engine) -> str:
    roles = ",".join(sorted(account.roles))
    state = "disabled" if account.disabled else "active"
    person = engine.view.person(account.person_id) if account.person_id else None
    who = f" (person: {person.name})" if person and person.name != account.display_name else ""
    manages = f" manages {', '.join(sorted(account.manages))}" if account.manages else ""
    return f"{account.username:<20} {roles:<26} {state:<8} {account.display_name}{who}{manages}"


async def cmd_users_add(args: argparse.Namespace, engine: Engine, actor: str) -> int:
    if args.no_password and args.password_stdin:
        raise AccountError("give --no-password or --password-stdin, not both")
    password = None if args.no_password else _read_password(args)
    account = await service(engine).add_account(
        args.username,
        args.name,
        [Role(r) for r in args.roles],
        args.person,
        password,
        actor,
        manages=args.manages or (),
    )
    print(f"Account created: {_describe(account, engine)}")
    return 0


async def cmd_users_list(args: argparse.Namespace, engine: Engine) -> int:
    for account in await service(engine).accounts():
        print(_describe(account, engine))
    return 0


async def cmd_users_role(args: argparse.Namespace, engine: Engine, actor: str) -> int:
    account = await service(engine).set_roles(
        args.username, [Role(r) for r in args.roles], actor, manages=args.manages
    )
    print(f"Roles set: {_describe(account, engine)}")
    return 0


async def cmd_users_disable(args: argparse.Namespace, engine: Engine, actor: str) -> int:
    account = await service(engine).disable(args.username, actor)
    print(f"Disabled {account.username}: its sessions ended and its tokens stop working.")
    return 0


async def cmd_users_enable(args: argparse.Namespace, engine: Engine, actor: str) -> int:
    account = await service(engine).enable(args.username, actor)
    print(f"Enabled {account.username}.")
    return 0


async def cmd_users_password(args: argparse.Namespace, engine: Engine, actor: str) -> int:
    password = _read_password(args)
    await service(engine).set_password(args.username, password, actor)
    print(f"Password set for {args.username}; its sessions ended.")
    return 0


async def cmd_users_token(args: argparse.Namespace, engine: Engine, actor: str) -> int:
    accounts = service(engine)
    account = await accounts.require(args.username)
    token = await accounts.create_token(account.account_id, args.name, actor)
    print(f"API token {args.name!r} for {account.username} (shown once; keep it secret):")
    print(token)
    return 0


async def cmd_users_tokens(args: argparse.Namespace, engine: Engine) -> int:
    accounts = service(engine)
    account = await accounts.require(args.username)
    zone = engine.settings.zone
    for t in await accounts.tokens(account.account_id):
        used = instant(t.last_used, zone) if t.last_used else "never used"
        print(f"{t.name:<24} created {instant(t.created_at, zone)}  last used {used}")
    return 0


async def cmd_users_revoke_token(args: argparse.Namespace, engine: Engine, actor: str) -> int:
    accounts = service(engine)
    account = await accounts.require(args.username)
    await accounts.revoke_token(account.account_id, args.name, actor)
    print(f"Revoked the token {args.name!r} of {account.username}.")
    return 0


async def cmd_users_unbind_sso(args: argparse.Namespace, engine: Engine, actor: str) -> int:
    removed = await service(engine).unbind_identities(args.username, actor)
    if removed == 0:
        print(f"{args.username} has no single sign-on identity bound; nothing changed.")
    else:
        print(
            f"Unbound {args.username}: the next single sign-on matches it by username or "
            "e-mail again, and binds the identity that signs in."
        )
    return 0


async def run(args: argparse.Namespace, engine: Engine, actor: str) -> int:
    """Dispatch ``users <command>`` (``cli/__init__`` maps every ``users`` key here)."""
    key = args.command_key
    if key == "users list":
        return await cmd_users_list(args, engine)
    if key == "users tokens":
        return await cmd_users_tokens(args, engine)
    return await _WRITES[key](args, engine, actor)


_WRITES = {
    "users add": cmd_users_add,
    "users role": cmd_users_role,
    "users disable": cmd_users_disable,
    "users enable": cmd_users_enable,
    "users password": cmd_users_password,
    "users token": cmd_users_token,
    "users revoke-token": cmd_users_revoke_token,
    "users unbind-sso": cmd_users_unbind_sso,
}
KEYS = ("users list", "users tokens", *_WRITES)
