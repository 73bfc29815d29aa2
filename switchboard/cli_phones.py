"""``switchboard phones``: SIP passwords for people's phones (issue 3).

The password is read from a prompt (or stdin with ``--password-stdin``, for scripts) and
never from the command line, where it would land in shell history and ``ps``. Only the
digest hashes are stored (``HA1`` per RFC 3261 §22.4, for the configured realm).
"""

from __future__ import annotations

import argparse
from typing import Any

from switchboard.cli_input import read_new_password
from switchboard.live.engine import Engine, EngineError


def add_arguments(group: Any, leaf: Any, by: Any) -> None:
    p = leaf(group, "password", "phones password", "set the SIP password of an extension")
    p.add_argument("extension", metavar="EXTENSION")
    p.add_argument(
        "--password-stdin", action="store_true", help="read the password from stdin (scripts)"
    )
    by(p)
    p = leaf(group, "remove", "phones remove", "remove an extension's SIP password")
    p.add_argument("extension", metavar="EXTENSION")
    by(p)
    leaf(group, "list", "phones list", "extensions that have a SIP password (no secrets shown)")


def _read_password(args: argparse.Namespace) -> str:
    return read_new_password(
        args.password_stdin, f"SIP password for {args.extension}: ", EngineError
    )


async def cmd_phones_password(args: argparse.Namespace, engine: Engine, actor: str) -> int:
    password = _read_password(args)
    realm = engine.settings.sip.realm
    await engine.set_sip_password(args.extension, password, realm, actor)
    print(f"SIP password set for {args.extension} (realm {realm!r}).")
    return 0


async def cmd_phones_remove(args: argparse.Namespace, engine: Engine, actor: str) -> int:
    await engine.remove_sip_password(args.extension, actor)
    print(f"SIP password removed for {args.extension}.")
    return 0


async def cmd_phones_list(args: argparse.Namespace, engine: Engine) -> int:
    for person in engine.view.people():
        if person.extension and engine.credential(person.extension) is not None:
            print(f"{person.extension:>6}  {person.name}")
    return 0
