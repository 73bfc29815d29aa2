"""Two ``switchboard serve`` processes on one Redis: a write on one is the other's next
answer (issue 14).

A receptionist sets and clears Johan Ek's referral through the web API of one node; the
test asks the other node over SIP (a trunk INVITE: the meeting referral is a 480 that says
so) until it answers the new way, and both directions must take under 500 ms from the
moment the web answered. ``bench/feed_propagation.py`` measures the real distribution.

The nodes run on the real time (see ``Deployment.start_node``): a referral applies from
the instant it is set by the writing node's clock.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from functools import partial
from pathlib import Path

from tests.integration.redis_nodes import (
    clear_referral,
    deploy,
    in_meeting,
    put_referral,
    until,
)
from tests.integration.sip.conftest import Switchboard
from tests.peers.redis_server import RedisServer

PROPAGATION = 0.5
ROUNDS = 3


def out_of_meeting(node: Switchboard) -> bool:
    return not in_meeting(node)


def test_a_referral_set_on_one_node_is_the_next_answer_of_the_other(tmp_path: Path) -> None:
    later = (datetime.now(UTC) + timedelta(hours=3)).isoformat()
    with RedisServer(tmp_path / "redis") as redis:
        deployment = deploy(tmp_path, redis)
        a = deployment.start_node("a", now=None)
        b = deployment.start_node("b", now=None)
        try:
            assert not in_meeting(a)
            assert not in_meeting(b)
            for _ in range(ROUNDS):
                for writer, other in ((a, b), (b, a)):
                    set_ = put_referral(writer, deployment, until=later)
                    assert set_.status == 200, set_
                    took = until(partial(in_meeting, other), time.monotonic())
                    assert took < PROPAGATION, f"set: {took:.3f} s"
                    cleared = clear_referral(writer, deployment)
                    assert cleared.status == 200, cleared
                    took = until(partial(out_of_meeting, other), time.monotonic())
                    assert took < PROPAGATION, f"cleared: {took:.3f} s"
        finally:
            a.stop()
            b.stop()
    for node in (a, b):
        events = [line.get("event") for line in node.logs()]
        assert "feed_reloaded" not in events
        # The test's Redis keeps appendfsync everysec: loses at most a second, no warning.
        assert "store_may_lose_changes" not in events
