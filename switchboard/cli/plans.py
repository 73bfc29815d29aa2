"""`switchboard presence plans NUMBER` and `presence cancel NUMBER PLAN_ID` (issue 16).

Planned referrals beside the current status, so an administrator can list and cancel them
while ``serve`` runs: the write goes to the store, whose change feed brings it to the
running server. Plans are made with ``presence plan`` (or ``presence set --from``).
"""

from __future__ import annotations

import argparse
import json
from typing import Any

from switchboard.http.shapes import plan_json
from switchboard.live.engine import Engine


def plans_of(engine: Engine, key: str) -> list[dict[str, Any]]:
    """The person's plans that have not ended, as the API shows them."""
    person = engine.find(key)
    now = engine.clock.now()
    return [plan_json(p, engine, now) for p in engine.plans(person)]


async def cmd_presence_plans(args: argparse.Namespace, engine: Engine) -> int:
    print(json.dumps(plans_of(engine, args.person), ensure_ascii=False, indent=2))
    return 0


async def cmd_presence_cancel(args: argparse.Namespace, engine: Engine, actor: str) -> int:
    person = engine.find(args.person)
    plan = await engine.cancel_plan(person, args.plan_id, actor)
    print(f"cancelled plan {plan.plan_id} ({plan.referral.reason.value}) of {person.name}")
    print(json.dumps(plans_of(engine, args.person), ensure_ascii=False, indent=2))
    return 0
