"""``switchboard phones``: SIP passwords for people's phones (issue 3), and the PIN that
opens a person's mailbox from their mobile (issue 13).

A password or PIN is read from a prompt (or stdin with ``--password-stdin`` /
``--pin-stdin``, for scripts) and never from the command line, where it would land in
shell history and ``ps``. Only hashes are stored: the digest's ``HA1`` per RFC 3261 §22.4
for the configured realm, argon2id for a PIN (``voicemail/pins.py``).
"""

from __future__ import annotations

import argparse
from typing import Any

from switchboard.cli.input import read_new_password
from switchboard.live.engine import Engine, EngineError
from switchboard.store.protocol import NotFoundError
from switchboard.voicemail.model import VoicemailError
from switchboard.voicemail.pins import VoicemailPins


def add_arguments(group: Any, leaf: Any, by: Any) -> None:
    p = leaf(group, "password", "phones password", "set the SIP password of an extension")
    p.add_argument("extension", metavar="EXTENSION")
    p.add_argument(
        "--password-stdin", action="store_true", help="read the password from stdin (scripts)"
    )
    p.add_argument(
        "--sha256-only",
        action="store_true",
        help="for a phone that answers SHA-256 digest: keep no MD5 hash, offer it SHA-256 alone",
    )
    by(p)
    p = leaf(group, "remove", "phones remove", "remove an extension's SIP password")
    p.add_argument("extension", metavar="EXTENSION")
    by(p)
    leaf(group, "list", "phones list", "extensions that have a SIP password (no secrets shown)")
    p = leaf(
        group,
        "pin",
        "phones pin",
        "set the PIN that opens a person's voicemail when they call it from their mobile",
    )
    p.add_argument("person", metavar="NUMBER", help="extension, any form of a number, or e-mail")
    p.add_argument("--pin-stdin", action="store_true", help="read the PIN from stdin (scripts)")
    p.add_argument("--remove", action="store_true", help="remove the PIN instead")
    by(p)
    leaf(
        group,
        "registered",
        "phones registered",
        "registered phones as last saved: what a restart puts back",
    )


def _read_password(args: argparse.Namespace) -> str:
    return read_new_password(
        args.password_stdin, f"SIP password for {args.extension}: ", EngineError
    )


async def cmd_phones_password(args: argparse.Namespace, engine: Engine, actor: str) -> int:
    password = _read_password(args)
    realm = engine.settings.sip.realm
    await engine.set_sip_password(
        args.extension, password, realm, actor, sha256_only=args.sha256_only
    )
    digest = (
        "SHA-256 only" if args.sha256_only else ", ".join(engine.settings.sip.digest_algorithms)
    )
    print(f"SIP password set for {args.extension} (realm {realm!r}, digest {digest}).")
    return 0


async def cmd_phones_remove(args: argparse.Namespace, engine: Engine, actor: str) -> int:
    await engine.remove_sip_password(args.extension, actor)
    print(f"SIP password removed for {args.extension}.")
    return 0


async def cmd_phones_pin(args: argparse.Namespace, engine: Engine, actor: str) -> int:
    person = engine.find(args.person)
    pins = VoicemailPins(engine.store, engine.clock)
    if args.remove:
        try:
            await pins.remove(person.person_id, actor)
        except NotFoundError:
            raise EngineError(f"{person.name} has no voicemail PIN to remove") from None
        print(f"Voicemail PIN removed for {person.name}.")
        return 0
    pin = read_new_password(
        args.pin_stdin, f"Voicemail PIN for {person.name}: ", EngineError, flag="--pin-stdin"
    )
    try:
        await pins.set(person.person_id, pin, actor)
    except VoicemailError as exc:
        raise EngineError(str(exc)) from None
    print(
        f"Voicemail PIN set for {person.name}: from their mobile, the voicemail number asks for it."
    )
    return 0


async def cmd_phones_list(args: argparse.Namespace, engine: Engine) -> int:
    for person in engine.view.people():
        credential = engine.credential(person.extension) if person.extension else None
        if credential is not None:
            only = "  (SHA-256 only)" if credential.sha256_only else ""
            print(f"{person.extension:>6}  {person.name}{only}")
    return 0


async def cmd_phones_registered(args: argparse.Namespace, engine: Engine) -> int:
    """The saved registrations that have not expired: extension, who, where requests go
    (the address the REGISTER came from) and the time left. A running server saves each
    change within a second; a stopped one shows what its next start restores. The
    Contact is not shown: its user part is the phone's to choose and may be a number."""
    now = engine.clock.now()
    names = {p.extension: p.name for p in engine.view.people() if p.extension}
    for saved in await engine.store.saved_bindings():
        left = (saved.expires_at - now).total_seconds()
        if left <= 0:
            continue
        host = f"[{saved.host}]" if ":" in saved.host else saved.host
        where = f"{saved.transport}:{host}:{saved.port}"
        name = names.get(saved.aor, "(no one holds this extension)")
        print(f"{saved.aor:>6}  {name:<24}  {where:<28}  {int(left)} s left")
    return 0
