"""The `switchboard` command.

Global options come first: ``switchboard --config FILE --data DIR COMMAND ...`` (also from
SWITCHBOARD_CONFIG / SWITCHBOARD_DATA). Without either, the bundled SML example config and
``~/.local/share/switchboard`` are used, so a newcomer needs neither.

Exit codes: 0 done, 1 refused (bad input, policy, not found; the message says why),
2 bad usage.
"""

from __future__ import annotations

import argparse
import asyncio
import getpass
import json
import os
import sys
import uuid
from collections.abc import Awaitable, Callable, Sequence
from pathlib import Path
from typing import Any

import structlog

from switchboard.accounts.model import AccountError
from switchboard.app import open_engine
from switchboard.calendar_sync import CalendarError
from switchboard.cli.calendar import cmd_calendar_explain, cmd_calendar_health
from switchboard.cli.plans import cmd_presence_plans, plans_of
from switchboard.cli.time import TimeError, parse_duration, parse_instant
from switchboard.clock import Clock, FixedClock, SystemClock
from switchboard.directory.csv_import import DirectoryImportError
from switchboard.directory.model import PolicyRule
from switchboard.http.render import (
    availability_dict,
    decision_dict,
    instant,
    manual_dict,
    person_dict,
    presentation_dict,
    template_dict,
)
from switchboard.live.engine import Engine, EngineError
from switchboard.logs import configure_logging
from switchboard.presence.labels import sentence
from switchboard.presence.model import PresenceError, Reason, Referral, ReferralKind, Template
from switchboard.routing.model import Call
from switchboard.routing.presentation import OutboundKind
from switchboard.settings.config import ConfigError, Settings, load_settings
from switchboard.settings.resources import bundled
from switchboard.store.audit import AuditDecision
from switchboard.store.origin import Origin, acting_from
from switchboard.store.protocol import StoreError

log = structlog.get_logger()
Handler = Callable[[argparse.Namespace, Engine], Awaitable[int]]
MANUAL_REASONS = [r.value for r in Reason if r is not Reason.OUTSIDE_HOURS]


def default_data_dir() -> Path:
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "switchboard"


def _print(data: Any) -> None:
    print(json.dumps(data, ensure_ascii=False, indent=2))


def _actor(args: argparse.Namespace) -> str:
    return str(args.by) if args.by else f"cli:{getpass.getuser()}"


# -- directory ---------------------------------------------------------------------------
async def cmd_directory_import(args: argparse.Namespace, engine: Engine) -> int:
    path = Path(args.file)
    try:
        data = path.read_bytes()  # noqa: ASYNC240 - the CLI runs nothing concurrently
    except OSError as exc:
        raise EngineError(f"{path}: cannot read the file: {exc.strerror}") from None
    outcome = await engine.import_directory(data, str(path), _actor(args), dry_run=args.dry_run)
    people = outcome.people
    how = f"read as {outcome.encoding}, separated by {outcome.delimiter!r}"
    if outcome.inferred:
        # Found, not written: said before anything else, so the reader can check each.
        print(f"{path}: {outcome.inferred_count} organisation(s) inferred:")
        for inferred in outcome.inferred:
            print(inferred.format(str(path)))
        if outcome.inferred_count > len(outcome.inferred):
            print(f"{path}: ... and {outcome.inferred_count - len(outcome.inferred)} more")
    if outcome.result is None:
        print(f"{path}: {people} people are valid ({how}); nothing was changed (--dry-run).")
        return 0
    r = outcome.result
    log.info("directory_imported", file=str(path), created=r.created, updated=r.updated)
    print(
        f"{path}: imported {people} people ({how}): {r.created} created, {r.updated} updated, "
        f"{r.unchanged} unchanged."
    )
    return 0


async def cmd_directory_list(args: argparse.Namespace, engine: Engine) -> int:
    plan = engine.settings.plan
    people = engine.view.people()
    if args.json:
        _print([person_dict(p, plan) for p in people])
        return 0
    for p in people:
        av = engine.availability(p)
        state = "available" if av.available else (av.referral.reason.value if av.referral else "")
        print(f"{p.extension or '-':>6}  {p.name:<28} {p.organisation:<12} {state}")
    return 0


async def cmd_directory_show(args: argparse.Namespace, engine: Engine) -> int:
    _print(person_dict(engine.find(args.person), engine.settings.plan))
    return 0


# -- presence ----------------------------------------------------------------------------
def _presence(engine: Engine, key: str, at: Any = None) -> dict[str, Any]:
    person = engine.find(key)
    now = at or engine.clock.now()
    zone = engine.settings.zone
    av = engine.availability(person, now)
    out: dict[str, Any] = {
        "name": person.name,
        "extension": person.extension,
        "at": instant(now, zone),
        **availability_dict(av, zone),
        "sentence": sentence(person.name, av.referral, now, zone, person.language)
        if av.referral
        else None,
        "manual": manual_dict(engine.view.manual(person.person_id), zone),
        "plans": plans_of(engine, key),
    }
    return out


async def cmd_presence_set(args: argparse.Namespace, engine: Engine) -> int:
    person = engine.find(args.person)
    now = engine.clock.now()
    zone = engine.settings.zone
    starts = parse_instant(args.start, now, zone) if args.start else None
    base = starts or now
    if args.template:
        template = engine.template(person, args.template)
        referral = template.referral_at(base)
    else:
        if not args.reason:
            raise EngineError("give --reason or --template")
        referral = Referral(
            Reason(args.reason),
            ReferralKind.OPEN if args.open else ReferralKind.CLOSED,
            None,
            args.text,
        )
    until = referral.until
    if args.until:
        until = parse_instant(args.until, base, zone, roll_forward=True)
    elif args.duration:
        until = base + parse_duration(args.duration)
    referral = Referral(
        referral.reason,
        ReferralKind.OPEN if args.open else referral.kind,
        until,
        args.text or referral.text,
        referral.source,
        args.divert_to,
    )
    await engine.set_referral(person, referral, _actor(args), starts)
    _print(_presence(engine, args.person))
    return 0


async def cmd_presence_plan(args: argparse.Namespace, engine: Engine) -> int:
    """``presence set`` with ``--from`` required: a plan beside the current status."""
    return await cmd_presence_set(args, engine)


async def cmd_presence_cancel(args: argparse.Namespace, engine: Engine) -> int:
    from switchboard.cli.plans import cmd_presence_cancel as run

    return await run(args, engine, _actor(args))


async def cmd_presence_available(args: argparse.Namespace, engine: Engine) -> int:
    person = engine.find(args.person)
    now = engine.clock.now()
    until = parse_instant(args.until, now, engine.settings.zone, roll_forward=True)
    await engine.set_available(person, _actor(args), until if args.until else None)
    _print(_presence(engine, args.person))
    return 0


async def cmd_presence_clear(args: argparse.Namespace, engine: Engine) -> int:
    await engine.clear(engine.find(args.person), _actor(args))
    _print(_presence(engine, args.person))
    return 0


async def cmd_presence_show(args: argparse.Namespace, engine: Engine) -> int:
    at = parse_instant(args.at, engine.clock.now(), engine.settings.zone) if args.at else None
    _print(_presence(engine, args.person, at))
    return 0


# -- templates ---------------------------------------------------------------------------
async def cmd_templates_add(args: argparse.Namespace, engine: Engine) -> int:
    person = engine.find(args.person)
    duration = parse_duration(args.duration) if args.duration else None
    kind = ReferralKind.OPEN if args.open else ReferralKind.CLOSED
    template = Template(args.name, Reason(args.reason), kind, duration, args.text)
    await engine.save_template(person, template, _actor(args))
    _print([template_dict(t) for t in engine.view.templates(person.person_id)])
    return 0


async def cmd_templates_list(args: argparse.Namespace, engine: Engine) -> int:
    person = engine.find(args.person)
    _print([template_dict(t) for t in engine.view.templates(person.person_id)])
    return 0


async def cmd_templates_remove(args: argparse.Namespace, engine: Engine) -> int:
    person = engine.find(args.person)
    await engine.delete_template(person, engine.template(person, args.name).name, _actor(args))
    _print([template_dict(t) for t in engine.view.templates(person.person_id)])
    return 0


# -- policy exceptions (R16) -------------------------------------------------------------
async def cmd_policy_grant(args: argparse.Namespace, engine: Engine) -> int:
    exc = await engine.grant_exception(
        args.person, PolicyRule(args.rule), args.reason, _actor(args)
    )
    print(f"granted {exc.rule.value} for {exc.subject}: {exc.reason}")
    return 0


async def cmd_policy_revoke(args: argparse.Namespace, engine: Engine) -> int:
    await engine.revoke_exception(
        args.person, PolicyRule(args.rule), _actor(args), getattr(args, "reason", None)
    )
    print(f"revoked {args.rule} for {args.person}")
    return 0


async def cmd_policy_list(args: argparse.Namespace, engine: Engine) -> int:
    zone = engine.settings.zone
    _print(
        [
            {
                "subject": e.subject,
                "rule": e.rule.value,
                "reason": e.reason,
                "granted_by": e.granted_by,
                "granted_at": instant(e.granted_at, zone),
            }
            for e in engine.view.exceptions
        ]
    )
    return 0


# -- routing -----------------------------------------------------------------------------
async def cmd_route(args: argparse.Namespace, engine: Engine) -> int:
    now = engine.clock.now()
    at = parse_instant(args.at, now, engine.settings.zone) if args.at else now
    decision = engine.route(Call(args.number, args.caller), at)
    _print(
        {"at": instant(at, engine.settings.zone), **decision_dict(decision, engine.settings.zone)}
    )
    return 0


async def cmd_present(args: argparse.Namespace, engine: Engine) -> int:
    person = engine.find(args.person)
    kind = OutboundKind.SMS if args.sms else OutboundKind.CALL
    _print(
        {"name": person.name, "kind": kind.value, **presentation_dict(engine.present(person, kind))}
    )
    return 0


async def cmd_audit(args: argparse.Namespace, engine: Engine) -> int:
    subject = None
    if args.person:
        person = engine.find(args.person)
        subject = person.person_id
    entries = await engine.store.audit(args.limit, subject)
    zone = engine.settings.zone
    for e in entries:
        origin = " ".join(
            part
            for part in (
                f"via {e.via}" if e.via else "",
                f"from {e.source}" if e.source else "",
                f"request {e.request_id}" if e.request_id else "",
                "" if e.decision is AuditDecision.ALLOWED else e.decision.value.upper(),
            )
            if part
        )
        line = f"{instant(e.at, zone)}  {e.actor:<20} {e.action:<22} {e.subject:<18} {e.detail}"
        print(f"{line}  [{origin}]" if origin else line)
        for change in e.changes:
            print(f"    {change.field}: {change.old or '-'} -> {change.new or '-'}")
    return 0


async def cmd_demo(args: argparse.Namespace, engine: Engine) -> int:
    from switchboard.cli.demo import run_demo  # the demo pulls in its data only when asked

    await run_demo(
        engine, args.data_dir, force=args.force, command=run_command(args), now_option=args.now
    )
    return 0


def run_command(args: argparse.Namespace) -> tuple[str, ...]:
    """How to run this switchboard again from any shell, for commands the demo prints
    (issue 16): the running script by its absolute path (a venv need not be on PATH),
    else this interpreter with ``-m switchboard``; with the options that chose this
    configuration and data directory when they are not the defaults (``--now`` is the
    demo's to add: its hint for a working day gives another)."""
    script = Path(sys.argv[0]) if sys.argv and sys.argv[0] else None
    beside = Path(sys.executable).with_name("switchboard")
    if script is not None and script.name == "switchboard" and script.is_file():
        words = [str(script.absolute())]
    elif beside.is_file() and os.access(beside, os.X_OK):
        words = [str(beside)]
    else:
        words = [str(Path(sys.executable).absolute()), "-m", "switchboard"]
    config = args.config or os.environ.get("SWITCHBOARD_CONFIG")
    if config:
        words += ["--config", str(Path(config).absolute())]
    if args.data_dir != default_data_dir():
        words += ["--data", str(Path(args.data_dir).absolute())]
    return tuple(words)


async def cmd_phones_password(args: argparse.Namespace, engine: Engine) -> int:
    from switchboard.cli.phones import cmd_phones_password as run

    return await run(args, engine, _actor(args))


async def cmd_phones_remove(args: argparse.Namespace, engine: Engine) -> int:
    from switchboard.cli.phones import cmd_phones_remove as run

    return await run(args, engine, _actor(args))


async def cmd_phones_pin(args: argparse.Namespace, engine: Engine) -> int:
    from switchboard.cli.phones import cmd_phones_pin as run

    return await run(args, engine, _actor(args))


async def cmd_phones_list(args: argparse.Namespace, engine: Engine) -> int:
    from switchboard.cli.phones import cmd_phones_list as run

    return await run(args, engine)


async def cmd_phones_registered(args: argparse.Namespace, engine: Engine) -> int:
    from switchboard.cli.phones import cmd_phones_registered as run

    return await run(args, engine)


async def cmd_users(args: argparse.Namespace, engine: Engine) -> int:
    from switchboard.cli.users import run

    return await run(args, engine, _actor(args) if hasattr(args, "by") else "")


async def cmd_calls(args: argparse.Namespace, engine: Engine) -> int:
    from switchboard.cli.calls import run

    return await run(args, engine)


CALLS_KEYS = ("calls requests", "calls approve", "calls reject")
USERS_KEYS = (
    "users add",
    "users list",
    "users role",
    "users disable",
    "users enable",
    "users password",
    "users token",
    "users tokens",
    "users revoke-token",
    "users unbind-sso",
)


def build_parser() -> argparse.ArgumentParser:
    from switchboard.cli.parser import build

    return build(MANUAL_REASONS, [r.value for r in PolicyRule], COMMANDS)


COMMANDS: dict[str, Handler] = {
    "directory import": cmd_directory_import,
    "directory list": cmd_directory_list,
    "directory show": cmd_directory_show,
    "presence set": cmd_presence_set,
    "presence available": cmd_presence_available,
    "presence clear": cmd_presence_clear,
    "presence show": cmd_presence_show,
    "presence plan": cmd_presence_plan,
    "presence plans": cmd_presence_plans,
    "presence cancel": cmd_presence_cancel,
    "templates add": cmd_templates_add,
    "templates list": cmd_templates_list,
    "templates remove": cmd_templates_remove,
    "policy grant": cmd_policy_grant,
    "policy revoke": cmd_policy_revoke,
    "policy list": cmd_policy_list,
    "route": cmd_route,
    "present": cmd_present,
    "audit": cmd_audit,
    "demo": cmd_demo,
    "phones password": cmd_phones_password,
    "phones remove": cmd_phones_remove,
    "phones list": cmd_phones_list,
    "phones pin": cmd_phones_pin,
    "phones registered": cmd_phones_registered,
    "calendar explain": cmd_calendar_explain,
    "calendar health": cmd_calendar_health,
    **dict.fromkeys(USERS_KEYS, cmd_users),
    **dict.fromkeys(CALLS_KEYS, cmd_calls),
}


def _settings(args: argparse.Namespace) -> Settings:
    path = args.config or os.environ.get("SWITCHBOARD_CONFIG")
    return load_settings(Path(path) if path else bundled("configs/sml.toml"))


async def _run(args: argparse.Namespace, settings: Settings, handler: Handler | None = None) -> int:
    handler = handler or COMMANDS[args.command_key]
    clock: Clock = SystemClock()
    if args.now:
        clock = FixedClock(parse_instant(args.now, clock.now(), settings.zone))
    # Every entry this command writes says it came from the command line (issue 17).
    origin = Origin("cli", "local", uuid.uuid4().hex[:16])
    with acting_from(origin):
        async with open_engine(settings, args.data_dir, clock) as engine:
            return await handler(args, engine)


def _serve(args: argparse.Namespace, settings: Settings) -> int:
    from switchboard.cli.serve import run_serve

    return run_serve(args, settings)


def _demo(args: argparse.Namespace, settings: Settings) -> int:
    """Seed the demo directory, then (unless ``--seed-only``) serve it and say how to
    reach it, the demo phone included (issues 5, 16)."""
    from switchboard.cli.demo import run_demo
    from switchboard.cli.demo_accounts import DemoPhone
    from switchboard.cli.serve import announce_demo, run_serve

    phones: list[DemoPhone] = []

    async def seed(args: argparse.Namespace, engine: Engine) -> int:
        command = run_command(args)
        phone = await run_demo(
            engine, args.data_dir, force=args.force, command=command, now_option=args.now
        )
        phones.append(phone)
        return 0

    code = asyncio.run(_run(args, settings, seed))
    if code or args.seed_only:
        return code
    return run_serve(args, settings, lambda addresses: announce_demo(addresses, phones[0]))


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "command_key", None):
        parser.print_help()
        return 2
    worker = getattr(args, "worker", None)
    console = os.environ.get("SWITCHBOARD_LOG_FORMAT") == "console"
    configure_logging(
        level=args.log_level,
        json=False if console else None,
        fields={"worker": int(worker.partition("/")[0])}
        if worker and worker.partition("/")[0].isdigit()
        else None,
    )
    args.argv = list(argv) if argv is not None else sys.argv[1:]
    data = args.data or os.environ.get("SWITCHBOARD_DATA")
    args.data_dir = Path(data) if data else default_data_dir()
    try:
        settings = _settings(args)
        if args.command_key == "serve":
            return _serve(args, settings)
        if args.command_key in ("backup", "restore"):
            from switchboard.cli.backup import run_backup, run_restore

            run = run_backup if args.command_key == "backup" else run_restore
            return run(args, settings)
        if args.command_key == "demo":
            return _demo(args, settings)
        if args.command_key == "config check":
            print(
                f"{settings.source}: ok ({len(settings.organisations)} organisations, "
                f"{len(settings.plan.series)} number series)"
            )
            return 0
        return asyncio.run(_run(args, settings))
    except (
        ConfigError,
        EngineError,
        StoreError,
        PresenceError,
        TimeError,
        CalendarError,
        AccountError,
    ) as exc:
        print(f"switchboard: error: {exc}", file=sys.stderr)
        return 1
    except BrokenPipeError:
        # The reader went away (`switchboard route ... | head`): not an error of ours.
        sys.stderr.close()
        return 0
    except DirectoryImportError as exc:
        print(
            f"switchboard: error: {exc.source}: {len(exc.errors)} problem(s); "
            "nothing was imported:",
            file=sys.stderr,
        )
        for e in exc.errors:
            print(e.format(exc.source), file=sys.stderr)
        return 1
