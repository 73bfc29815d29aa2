"""``switchboard calls``: call-list requests (R19) for administrators without a browser.

``calls requests`` lists them; ``calls approve ID --as ADMIN --comment ...`` and ``calls
reject ...`` decide one. ``--as`` names the administrator's own web account: the same
``allowed()`` decision and the same rules as on the web apply (nobody decides on their own
request or their own calls), and the audit trail names that account. Downloading stays
on the web, for the manager who asked.
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

from switchboard.calls.model import CallsError
from switchboard.calls.requests import CallListService
from switchboard.http.render import instant
from switchboard.live.accounts import AccountService
from switchboard.live.engine import Engine


def add_arguments(group: Any, leaf: Any) -> None:
    leaf(group, "requests", "calls requests", "every call-list request, newest first (R19)")
    for verb in ("approve", "reject"):
        p = leaf(group, verb, f"calls {verb}", f"{verb} a call-list request (R19), with a comment")
        p.add_argument("request_id", metavar="ID", type=int)
        p.add_argument(
            "--as",
            dest="as_user",
            metavar="USERNAME",
            required=True,
            help="your administrator account (audited as the decider)",
        )
        p.add_argument("--comment", required=True, help="why (kept in the audit trail)")


def _service(engine: Engine) -> CallListService:
    return CallListService(
        engine.store, engine.clock, engine.view.person, secret_numbers=engine.secret_numbers
    )


async def run(args: argparse.Namespace, engine: Engine) -> int:
    service = _service(engine)
    zone = engine.settings.zone
    if args.command_key == "calls requests":
        for r in await engine.store.call_list_requests():
            person = engine.view.person(r.person_id)
            name = person.name if person else r.person_id
            print(
                f"#{r.request_id}  {r.status.value:<8}  {name}  "
                f"{instant(r.start, zone)} .. {instant(r.end, zone)}  by {r.requester}: {r.reason}"
            )
            if r.decided_by:
                print(f"    {r.status.value} by {r.decided_by}: {r.comment}")
        return 0
    account = await AccountService(engine.store, engine.clock).require(args.as_user)
    approve = args.command_key == "calls approve"
    try:
        decided = await service.decide(account, args.request_id, approve, args.comment)
    except CallsError as exc:
        print(f"switchboard: error: {exc}", file=sys.stderr)
        return 1
    print(f"#{decided.request_id} {decided.status.value} by {decided.decided_by}")
    return 0
