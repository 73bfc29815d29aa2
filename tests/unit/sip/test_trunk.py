"""The trunk's targets (``TrunkAddresses``): looked up before serving and every minute,
the last answer kept through a DNS failure; and RFC 2782's SRV order. The resolver is
handed in here, to script its answers; the real ones (the system's, and DNS SRV from a
real name server) are exercised by ``tests/integration/sip/test_trunk_dns.py`` and
``tests/integration/sip/test_redirect_and_proxy.py``."""

from __future__ import annotations

import asyncio
import random
import socket
from collections import Counter

import pytest
from structlog.testing import capture_logs

from switchboard.settings.sip import HostPort
from switchboard.sip.trunk import TrunkAddresses
from switchboard.sip.trunk_dns import Target, srv_order

NAME = HostPort("sbc.operator.example", 5070)


class Answers:
    """A scripted resolver: each lookup takes the next answer (a list, or an error)."""

    def __init__(self, *answers: list[Target] | OSError) -> None:
        self.answers = list(answers)
        self.asked: list[tuple[HostPort, int]] = []

    async def __call__(self, trunk: HostPort, family: int) -> list[Target]:
        self.asked.append((trunk, family))
        answer = self.answers.pop(0)
        if isinstance(answer, OSError):
            raise answer
        return answer


A1, A2, A9 = ("192.0.2.1", 5070), ("192.0.2.2", 5070), ("192.0.2.9", 5080)


async def test_a_name_is_looked_up_and_each_change_is_told() -> None:
    told: list[tuple[Target, ...]] = []
    resolve = Answers([A1, A2, A1], [A1, A2], [A9])
    trunk = TrunkAddresses(NAME, family=socket.AF_INET, resolve=resolve, on_change=told.append)
    assert list(trunk.targets) == []  # nothing before the first answer
    assert await trunk.refresh()
    assert trunk.targets == (A1, A2)  # in order, once each
    assert trunk.addresses == ("192.0.2.1", "192.0.2.2")
    assert await trunk.refresh()  # the same targets: nothing to tell
    assert await trunk.refresh()
    assert told == [(A1, A2), (A9,)]
    assert resolve.asked == [(NAME, socket.AF_INET)] * 3


async def test_a_failed_lookup_keeps_the_last_answer_and_is_logged() -> None:
    told: list[tuple[Target, ...]] = []
    failure = socket.gaierror(-3, "Temporary failure in name resolution")
    trunk = TrunkAddresses(NAME, resolve=Answers([A1], failure, []), on_change=told.append)
    await trunk.refresh()
    with capture_logs() as logs:
        assert not await trunk.refresh()
        assert not await trunk.refresh()  # an empty answer is no better
    assert trunk.targets == (A1,)
    assert told == [(A1,)]
    assert [(e["event"], e["trunk"]) for e in logs] == [("trunk_unresolved", NAME.host)] * 2
    assert "Temporary failure" in logs[0]["error"]


async def test_a_lookup_that_hangs_fails_after_the_timeout_and_keeps_the_last_answer() -> None:
    answered = Answers([A1])

    async def hangs_after_the_first(trunk: HostPort, family: int) -> list[Target]:
        if not answered.answers:
            await asyncio.Event().wait()  # a name server that never answers
        return await answered(trunk, family)

    trunk = TrunkAddresses(NAME, resolve=hangs_after_the_first, lookup_timeout=0.05)
    assert await trunk.refresh()
    with capture_logs() as logs:
        assert not await trunk.refresh()
    assert trunk.targets == (A1,)
    assert [(e["event"], e["error"]) for e in logs] == [
        ("trunk_unresolved", "no answer within 0.05 s")
    ]


async def test_an_address_is_never_looked_up() -> None:
    resolve = Answers()
    trunk = TrunkAddresses(HostPort("2001:db8::5", 5060), resolve=resolve)
    assert trunk.fixed
    assert trunk.targets == (("2001:db8::5", 5060),)
    assert await trunk.refresh()
    await trunk.run()  # returns at once: nothing to refresh
    assert resolve.asked == []


async def test_run_looks_up_again_every_refresh_seconds() -> None:
    resolve = Answers([A1], [A2], [A9])
    slept: list[float] = []
    fourth = asyncio.Event()
    trunk = TrunkAddresses(NAME, resolve=resolve, refresh_seconds=60.0)

    async def sleep(seconds: float) -> None:
        slept.append(seconds)
        if len(slept) > 3:
            fourth.set()
            await asyncio.Event().wait()  # until cancelled

    task = asyncio.create_task(trunk.run(sleep))
    await fourth.wait()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert slept == [60.0] * 4
    assert trunk.targets == (A9,)


def test_srv_order_is_by_priority_then_weighted_at_random() -> None:
    records = [(20, 0, 5060, "backup.example"), (10, 60, 5060, "a.example"),
               (10, 30, 5062, "b.example"), (10, 10, 5064, "c.example"), (10, 0, 5066, "z.example"),
               (30, 5, 5060, ".")]  # fmt: skip
    firsts: Counter[str] = Counter()
    choose = random.Random(7)  # noqa: S311 - a seeded draw, to count
    for _ in range(3000):
        ordered = srv_order(records, choose)
        assert sorted(ordered[:3]) == [
            ("a.example", 5060),
            ("b.example", 5062),
            ("c.example", 5064),
        ]
        assert ordered[3:] == [("z.example", 5066), ("backup.example", 5060)]  # "." is left out
        firsts[ordered[0][0]] += 1
    # First by weight: 60 %, 30 %, 10 % of 3,000 draws, give or take.
    assert 1650 < firsts["a.example"] < 1950
    assert 750 < firsts["b.example"] < 1050
    assert 200 < firsts["c.example"] < 400
