"""Redis stopped, then killed, under a running ``switchboard serve`` (issue 14).

The test stops Redis for the issue's 20 s (SIGSTOP: it still accepts connections, as a
hung server does, and answers nothing), asking the node for a routing decision every
second of it: routing goes on from memory (a trunk INVITE still gets its answer), a
write through the CLI exits non-zero saying Redis does not answer, one through the web
gets 503, and once Redis answers again a write made in another process reaches the
running server without a restart. Then Redis is killed (SIGKILL) and started again on
its append-only file: the server reconnects by itself, the same way.
"""

from __future__ import annotations

import time
from pathlib import Path

from tests.integration.redis_nodes import (
    clear,
    deploy,
    invite_status,
    put_referral,
    set_meeting,
    until,
)
from tests.peers.redis_server import RedisServer

OUTAGE = 20.0
"""Seconds Redis is stopped for (the issue's 20 s)."""
PROPAGATION = 0.5
"""Seconds from a write's commit to the other process's routing (the issue's target)."""


def test_routing_goes_on_writes_are_refused_and_all_recovers(tmp_path: Path) -> None:
    with RedisServer(tmp_path / "redis", appendfsync="always") as redis:
        deployment = deploy(tmp_path, redis)
        node = deployment.start_node("node")
        try:
            assert invite_status(node) == 302

            redis.pause()
            stopped = time.monotonic()
            asked = time.monotonic()
            assert invite_status(node) == 302  # from memory
            assert time.monotonic() - asked < 0.5
            refused = set_meeting(deployment)
            assert refused.returncode != 0
            assert "Redis does not answer" in refused.stderr, refused.stderr
            web = put_referral(node, deployment)
            assert web.status == 503, web
            assert web.headers.get("Retry-After") == "5"
            assert "cannot reach its store" in web.body
            assert invite_status(node) == 302  # nothing half-written came through
            while time.monotonic() - stopped < OUTAGE:
                assert invite_status(node) == 302  # routing goes on, all along
                time.sleep(1.0)
            outage = time.monotonic() - stopped
            redis.resume()

            written = set_meeting(deployment)
            assert written.returncode == 0, written.stderr
            took = until(lambda: invite_status(node) == 480, time.monotonic())
            assert took < PROPAGATION, f"{took:.3f} s after {outage:.1f} s of outage"
            print(f"outage {outage:.1f} s; caught up in {took * 1000:.0f} ms")
            assert put_referral(node, deployment).status == 200  # the web writes again

            redis.kill()
            assert invite_status(node) == 480  # the referral the web just set, from memory
            down = clear(deployment)
            assert down.returncode != 0
            assert "Redis does not answer" in down.stderr, down.stderr
            assert invite_status(node) == 480  # still the last state
            redis.start()  # the same directory and port: the append-only file replays

            cleared = clear(deployment)
            assert cleared.returncode == 0, cleared.stderr
            took = until(lambda: invite_status(node) == 302, time.monotonic())
            assert took < PROPAGATION, f"{took:.3f} s after a restart of Redis"
        finally:
            node.stop()
    events = [line.get("event") for line in node.logs()]
    assert "feed_unreachable" in events
    assert "feed_reachable_again" in events
    assert "feed_reloaded" not in events  # it caught up from the feed, no reload needed
    assert "store_may_lose_changes" not in events  # appendfsync always: nothing to warn
