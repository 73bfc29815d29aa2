"""A request whose handling fails half-way is answered and leaves no transaction behind.

In-process (the failure is injected into the call handler), on the seeded demo store.
Before, the server transaction began and never got an answer: the sender's
retransmissions were absorbed by it, silently, for as long as the process ran.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from switchboard.sip.flow import Flow
from switchboard.sip.server import SipServer
from tests.integration.sip.conftest import Sent, inprocess_sip, seed

CALLER = Flow("udp", "127.0.0.1", 5070)


def invite(branch: str, from_value: str = '"bench" <sip:bench@127.0.0.1:5070>;tag=1') -> bytes:
    return (
        "INVITE sip:51234@127.0.0.1:5060 SIP/2.0\r\n"
        f"Via: SIP/2.0/UDP 127.0.0.1:5070;branch=z9hG4bK{branch}\r\n"
        f"From: {from_value}\r\n"
        "To: <sip:51234@127.0.0.1:5060>\r\n"
        f"Call-ID: {branch}@bench\r\n"
        "CSeq: 1 INVITE\r\n"
        "Max-Forwards: 70\r\n"
        "Content-Length: 0\r\n\r\n"
    ).encode()


@pytest.fixture(scope="module")
def seeded(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    extra = 'trunk = "127.0.0.1:5999"\ntrusted = ["127.0.0.1/32"]\n'
    return seed(tmp_path_factory.mktemp("failures"), extra)


@pytest.fixture
async def server(seeded: tuple[Path, Path]) -> AsyncIterator[tuple[SipServer, Sent]]:
    async with inprocess_sip(*seeded) as running:
        yield running


def status_of(data: bytes) -> int:
    return int(data.split(b" ", 2)[1])


async def test_a_failing_handler_answers_500_and_a_retransmission_is_handled_afresh(
    server: tuple[SipServer, Sent], monkeypatch: pytest.MonkeyPatch
) -> None:
    sip, sent = server
    tried: list[str] = []

    def broken(*args: object) -> None:
        tried.append("invite")
        raise RuntimeError("a bug in call handling")

    monkeypatch.setattr(sip.calls, "invite", broken)
    now = asyncio.get_running_loop().time()
    sip.receive(invite("fail1"), CALLER, now)
    assert [status_of(d) for d in sent.payloads] == [500]
    assert sip.layer.servers == {}
    sip.receive(invite("fail1"), CALLER, now + 0.5)  # the caller's retransmission
    assert tried == ["invite", "invite"]
    assert [status_of(d) for d in sent.payloads] == [500, 500]

    monkeypatch.undo()
    sip.receive(invite("fine"), CALLER, now + 1)  # the server goes on answering
    assert status_of(sent.payloads[-1]) == 302  # Johan Ek's mobile, on the trunk


async def test_a_malformed_header_found_late_answers_400_and_leaves_nothing(
    server: tuple[SipServer, Sent],
) -> None:
    sip, sent = server
    now = asyncio.get_running_loop().time()
    sip.receive(invite("bad-from", from_value="garbage <sip:@>;tag=1"), CALLER, now)
    assert [status_of(d) for d in sent.payloads] == [400]
    assert sip.layer.servers == {}
