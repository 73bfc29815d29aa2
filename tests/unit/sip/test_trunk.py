"""The trunk's addresses (``TrunkAddresses``): looked up before serving and every minute,
the last answer kept through a DNS failure. The resolver is handed in here, to script
its answers; the system resolver itself is exercised end to end by
``tests/integration/sip/test_redirect_and_proxy.py`` (a trunk named ``localhost``)."""

from __future__ import annotations

import asyncio
import socket

import pytest
from structlog.testing import capture_logs

from switchboard.sip.trunk import TrunkAddresses
from switchboard.sip_settings import HostPort

NAME = HostPort("sbc.operator.example", 5070)


class Answers:
    """A scripted resolver: each lookup takes the next answer (a list, or an error)."""

    def __init__(self, *answers: list[str] | OSError) -> None:
        self.answers = list(answers)
        self.asked: list[tuple[str, int, int]] = []

    async def __call__(self, name: str, port: int, family: int) -> list[str]:
        self.asked.append((name, port, family))
        answer = self.answers.pop(0)
        if isinstance(answer, OSError):
            raise answer
        return answer


async def test_a_name_is_looked_up_and_each_change_is_told() -> None:
    told: list[tuple[str, ...]] = []
    resolve = Answers(
        ["192.0.2.1", "192.0.2.2", "192.0.2.1"], ["192.0.2.1", "192.0.2.2"], ["192.0.2.9"]
    )
    trunk = TrunkAddresses(NAME, family=socket.AF_INET, resolve=resolve, on_change=told.append)
    assert list(trunk.addresses) == []  # nothing before the first answer
    assert await trunk.refresh()
    assert trunk.addresses == ("192.0.2.1", "192.0.2.2")  # in order, once each
    assert await trunk.refresh()  # the same addresses: nothing to tell
    assert await trunk.refresh()
    assert told == [("192.0.2.1", "192.0.2.2"), ("192.0.2.9",)]
    assert resolve.asked == [("sbc.operator.example", 5070, socket.AF_INET)] * 3


async def test_a_failed_lookup_keeps_the_last_answer_and_is_logged() -> None:
    told: list[tuple[str, ...]] = []
    resolve = Answers(
        ["192.0.2.1"], socket.gaierror(-3, "Temporary failure in name resolution"), []
    )
    trunk = TrunkAddresses(NAME, resolve=resolve, on_change=told.append)
    await trunk.refresh()
    with capture_logs() as logs:
        assert not await trunk.refresh()
        assert not await trunk.refresh()  # an empty answer is no better
    assert trunk.addresses == ("192.0.2.1",)
    assert told == [("192.0.2.1",)]
    assert [(e["event"], e["trunk"]) for e in logs] == [("trunk_unresolved", NAME.host)] * 2
    assert "Temporary failure" in logs[0]["error"]


async def test_a_lookup_that_hangs_fails_after_the_timeout_and_keeps_the_last_answer() -> None:
    answered = Answers(["192.0.2.1"])

    async def hangs_after_the_first(name: str, port: int, family: int) -> list[str]:
        if not answered.answers:
            await asyncio.Event().wait()  # a name server that never answers
        return await answered(name, port, family)

    trunk = TrunkAddresses(NAME, resolve=hangs_after_the_first, lookup_timeout=0.05)
    assert await trunk.refresh()
    with capture_logs() as logs:
        assert not await trunk.refresh()
    assert trunk.addresses == ("192.0.2.1",)
    assert [(e["event"], e["error"]) for e in logs] == [
        ("trunk_unresolved", "no answer within 0.05 s")
    ]


async def test_an_address_is_never_looked_up() -> None:
    resolve = Answers()
    trunk = TrunkAddresses(HostPort("2001:db8::5", 5060), resolve=resolve)
    assert trunk.fixed
    assert trunk.addresses == ("2001:db8::5",)
    assert await trunk.refresh()
    await trunk.run()  # returns at once: nothing to refresh
    assert resolve.asked == []


async def test_run_looks_up_again_every_refresh_seconds() -> None:
    resolve = Answers(["192.0.2.1"], ["192.0.2.2"], ["192.0.2.3"])
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
    assert trunk.addresses == ("192.0.2.3",)
