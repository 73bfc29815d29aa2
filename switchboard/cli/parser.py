"""The argument parser of the `switchboard` command (kept apart so ``cli/__init__`` stays short)."""

from __future__ import annotations

import argparse
from collections.abc import Mapping, Sequence
from typing import Any

from switchboard.cli.calendar import add_arguments as calendar_arguments
from switchboard.cli.serve import add_arguments as serve_arguments
from switchboard.cli.serve import add_worker_arguments as worker_arguments


def _by(p: argparse.ArgumentParser) -> None:
    p.add_argument("--by", metavar="WHO", help="who makes the change (audited); default cli:USER")


def _person(p: argparse.ArgumentParser) -> None:
    p.add_argument("person", metavar="NUMBER", help="extension, any form of a number, or e-mail")


def build(
    reasons: Sequence[str], rules: Sequence[str], commands: Mapping[str, Any]
) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="switchboard",
        description="Telephony switchboard and presence engine.",
    )
    parser.add_argument("--config", metavar="FILE", help="TOML config (env SWITCHBOARD_CONFIG)")
    parser.add_argument("--data", metavar="DIR", help="data directory (env SWITCHBOARD_DATA)")
    parser.add_argument("--log-level", default="WARNING", help="DEBUG, INFO, WARNING (default)")
    parser.add_argument(
        "--now", metavar="ISO8601", help="pretend it is this instant (for trying things out)"
    )
    top = parser.add_subparsers(title="commands", metavar="COMMAND")

    def leaf(sub: Any, name: str, key: str, help_text: str) -> argparse.ArgumentParser:
        if key not in commands and key not in {"config check", "serve", "backup", "restore"}:
            raise KeyError(key)
        p: argparse.ArgumentParser = sub.add_parser(name, help=help_text, description=help_text)
        p.set_defaults(command_key=key)
        return p

    def group(name: str, help_text: str) -> Any:
        g = top.add_parser(name, help=help_text, description=help_text)
        return g.add_subparsers(title="commands", metavar="COMMAND")

    d = group("directory", "the people: import, list, show")
    p = leaf(d, "import", "directory import", "import people from a CSV file (all or nothing)")
    p.add_argument("file", metavar="FILE.csv")
    p.add_argument("--dry-run", action="store_true", help="validate only; change nothing")
    _by(p)
    p = leaf(d, "list", "directory list", "list everyone with their availability now")
    p.add_argument("--json", action="store_true")
    p = leaf(d, "show", "directory show", "one person's directory entry")
    _person(p)

    pr = group("presence", "availability: set, plan, clear or show a referral")
    for name, help_text in (
        ("set", "deactivate the extension with a referral (R6); --from plans it ahead"),
        ("plan", "plan a referral beside the current status (issue 16)"),
    ):
        p = leaf(pr, name, f"presence {name}", help_text)
        _person(p)
        p.add_argument("--reason", choices=reasons)
        p.add_argument("--template", metavar="NAME", help="use one of the person's templates")
        p.add_argument("--until", metavar="TIME", help="return time: HH:MM, YYYY-MM-DD or ISO 8601")
        p.add_argument("--for", dest="duration", metavar="DURATION", help="e.g. 45m, 1h30m, 2d")
        p.add_argument(
            "--from",
            dest="start",
            metavar="TIME",
            required=name == "plan",
            help="start later: a plan beside the current status",
        )
        p.add_argument("--open", action="store_true", help="open referral: ring first, then refer")
        p.add_argument("--text", help="free text (required for reason 'other')")
        p.add_argument("--divert-to", metavar="NUMBER", help="send callers to this number instead")
        _by(p)
    p = leaf(pr, "plans", "presence plans", "the person's planned referrals (issue 16)")
    _person(p)
    p = leaf(pr, "cancel", "presence cancel", "cancel one planned referral by its id")
    _person(p)
    p.add_argument("plan_id", metavar="PLAN_ID", help="as `presence plans` shows it")
    _by(p)
    p = leaf(
        pr, "available", "presence available", "activate the extension, overriding the calendar"
    )
    _person(p)
    p.add_argument("--until", metavar="TIME")
    _by(p)
    p = leaf(pr, "clear", "presence clear", "remove the manual referral; calendar and hours resume")
    _person(p)
    _by(p)
    p = leaf(pr, "show", "presence show", "the effective availability and why")
    _person(p)
    p.add_argument("--at", metavar="TIME", help="at this instant instead of now")

    t = group("templates", "a person's referral templates (R6)")
    p = leaf(t, "add", "templates add", "save a template (replaces one of the same name)")
    _person(p)
    p.add_argument("--name", required=True)
    p.add_argument("--reason", required=True, choices=reasons)
    p.add_argument("--for", dest="duration", metavar="DURATION")
    p.add_argument("--open", action="store_true")
    p.add_argument("--text")
    _by(p)
    p = leaf(t, "list", "templates list", "a person's templates")
    _person(p)
    p = leaf(t, "remove", "templates remove", "delete a template")
    _person(p)
    p.add_argument("--name", required=True)
    _by(p)

    pol = group("policy", "administrator exceptions to the number-hiding rules (R16)")
    p = leaf(pol, "grant", "policy grant", "grant an exception, with a reason that is kept")
    _person(p)
    p.add_argument("--rule", required=True, choices=rules)
    p.add_argument("--reason", required=True)
    _by(p)
    p = leaf(pol, "revoke", "policy revoke", "revoke an exception")
    _person(p)
    p.add_argument("--rule", required=True, choices=rules)
    p.add_argument("--reason", help="why the exception ends (kept in the audit)")
    _by(p)
    leaf(pol, "list", "policy list", "all exceptions")

    p = leaf(top, "route", "route", "what a call to NUMBER would do, as JSON")
    p.add_argument("number", metavar="NUMBER")
    p.add_argument("--at", metavar="TIME", help="at this instant instead of now")
    p.add_argument("--from", dest="caller", metavar="NUMBER", help="the caller's number")

    p = leaf(top, "present", "present", "the number shown when this person calls or texts out")
    _person(p)
    p.add_argument("--sms", action="store_true", help="for an SMS instead of a call (R15)")

    p = leaf(top, "audit", "audit", "who changed what, newest first")
    p.add_argument("--limit", type=int, default=50)
    p.add_argument("--person", metavar="NUMBER")

    p = leaf(top, "demo", "demo", "seed the demo directory, show what callers get, and serve it")
    p.add_argument("--force", action="store_true", help="seed even if other people exist")
    p.add_argument("--seed-only", action="store_true", help="seed and exit; do not serve")
    serve_arguments(p)

    p = leaf(top, "serve", "serve", "run the switchboard: SIP and the web until SIGTERM")
    serve_arguments(p)
    worker_arguments(p)

    cal = group("calendar", "calendar feeds (R7)")
    p = leaf(cal, "explain", "calendar explain", "what a calendar feed gives now or --at, as JSON")
    calendar_arguments(p)
    leaf(cal, "health", "calendar health", "each calendar source's health as JSON (1: failing)")

    from switchboard.cli.phones import add_arguments as phones_arguments

    phones_arguments(group("phones", "SIP passwords for phones; voicemail PINs"), leaf, _by)

    from switchboard.cli.users import add_arguments as users_arguments

    users_arguments(group("users", "web accounts, roles and API tokens (issue 5)"), leaf, _by)

    from switchboard.cli.calls import add_arguments as calls_arguments

    calls_arguments(group("calls", "call-list requests: list, approve, reject (R19)"), leaf)

    from switchboard.cli.backup import add_arguments as backup_arguments

    backup_arguments(top, leaf)

    c = group("config", "configuration")
    leaf(c, "check", "config check", "validate the config file and exit")
    return parser
