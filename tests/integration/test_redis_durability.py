"""Redis killed (SIGKILL) during a burst of availability changes (issue 14).

With ``appendfsync always`` Redis writes each ``EXEC`` to its append-only file and fsyncs
it before answering, so a change the store acknowledged must be there after a crash: a new
redis-server on the same directory replays the file. Four writers change four people's
referrals as fast as they can; Redis is killed in the middle; every change that returned
a version must be in the restarted store (the latest of each person, and every one in the
audit trail, whose entries commit in the same ``EXEC``), and the versions must run on
without a gap.
"""

from __future__ import annotations

import asyncio
import os
import signal
from dataclasses import replace
from pathlib import Path

from switchboard.presence.model import ManualStatus
from switchboard.store.bus import EventBus
from switchboard.store.protocol import StoreError
from switchboard.store.redis_store import RedisStore
from tests.contract.values import ADMIN, T0, lunch_referral, person
from tests.peers.redis_server import RedisServer

WRITERS = 4
KILL_AFTER = 0.4
"""Seconds into the burst at which Redis is killed."""


def _status(n: int) -> ManualStatus:
    """The n-th change of a writer: a referral whose note carries n (in the audit trail)."""
    base = lunch_referral()
    assert base.referral is not None
    return replace(base, referral=replace(base.referral, text=f"burst {n}"))


async def test_every_acknowledged_change_survives_a_sigkill(tmp_path: Path) -> None:
    server = RedisServer(tmp_path / "redis", appendfsync="always").start()
    try:
        store = await RedisStore.open(server.url, "durability", EventBus())
        people = [person(n) for n in range(1, WRITERS + 1)]
        await store.import_people(people, ADMIN, T0)
        acknowledged: dict[str, list[tuple[int, int]]] = {p.person_id: [] for p in people}
        failures: list[StoreError] = []

        async def writer(person_id: str) -> None:
            n = 0
            while True:
                n += 1
                try:
                    version = await store.set_manual(person_id, _status(n), ADMIN, T0)
                except StoreError as exc:
                    failures.append(exc)
                    return
                acknowledged[person_id].append((n, version))

        assert server.process is not None
        pid = server.process.pid
        asyncio.get_running_loop().call_later(KILL_AFTER, os.kill, pid, signal.SIGKILL)
        await asyncio.wait_for(asyncio.gather(*(writer(p.person_id) for p in people)), timeout=30)
        server.process.wait(10)
        await store.close()
        assert len(failures) == WRITERS  # each writer stopped at the crash, none hung
        assert all("Redis" in str(exc) for exc in failures), [str(e) for e in failures]
        count = sum(len(a) for a in acknowledged.values())
        assert count > 20, f"only {count} changes before the kill: no burst to speak of"
        print(f"{count} acknowledged changes before the kill")

        server.start()  # the same directory: it replays the append-only file
        again = await RedisStore.open(server.url, "durability", EventBus())
        state = await again.load()
        entries = await again.audit(limit=100_000)
        await again.close()
    finally:
        server.stop()

    newest = max(v for acks in acknowledged.values() for _, v in acks)
    assert state.version >= newest
    for person_id, acks in acknowledged.items():
        last_n = acks[-1][0]
        kept = state.manual[person_id].referral
        assert kept is not None
        # The latest acknowledged change, or one the crash cut off after committing.
        assert kept.text in {f"burst {last_n}", f"burst {last_n + 1}"}
        notes = {
            c.new
            for e in entries
            if e.subject == person_id and e.action == "manual_set"
            for c in e.changes
            if c.field == "note"
        }
        assert {f"burst {n}" for n, _ in acks} <= notes
    seqs = sorted(e.seq for e in entries)
    assert seqs == list(range(1, len(seqs) + 1))
