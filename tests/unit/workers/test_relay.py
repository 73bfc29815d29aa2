"""Two workers' relays over a real socket pair (issue 14): frames arrive whole, in order,
at the right handler; a full buffer drops and counts instead of blocking the loop."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field

import pytest
from structlog.testing import capture_logs

from switchboard.workers.frames import FlowFrame, Hello, Kind, LineChanged
from switchboard.workers.relay import Relay
from switchboard.workers.spec import WorkerSpec


@dataclass
class Pair:
    a: Relay
    b: Relay
    frames: list[FlowFrame] = field(default_factory=list)


async def _until(check: Callable[[], bool], within: float = 2.0) -> None:
    deadline = asyncio.get_running_loop().time() + within
    while not check():
        assert asyncio.get_running_loop().time() < deadline, "nothing arrived in time"
        await asyncio.sleep(0.005)


@pytest.fixture
async def pair() -> AsyncIterator[Pair]:
    left, right = socket.socketpair(socket.AF_UNIX, socket.SOCK_DGRAM)
    a = Relay(WorkerSpec(0, 2, {1: left.detach()}))
    b = Relay(WorkerSpec(1, 2, {0: right.detach()}))
    found = Pair(a, b)
    b.on_flow(found.frames.append)
    a.start()
    b.start()
    yield found
    a.close()
    b.close()


async def test_a_forwarded_message_arrives_with_its_flow_and_sender(pair: Pair) -> None:
    messages = [f"OPTIONS sip:x SIP/2.0\r\nCall-ID: {n}\r\n\r\n".encode() for n in range(50)]
    for message in messages:
        pair.a.forward(1, message, "udp", "198.51.100.7", 5070)
    await _until(lambda: len(pair.frames) == 50)
    assert [f.payload for f in pair.frames] == messages  # in order
    assert {(f.kind, f.sender, f.transport, f.host, f.port) for f in pair.frames} == {
        (Kind.MESSAGE, 0, "udp", "198.51.100.7", 5070)
    }


async def test_tcp_sends_and_keeps_reach_the_holder(pair: Pair) -> None:
    pair.a.send_tcp(b"SIP/2.0 200 OK\r\n\r\n", "127.0.0.1", 40001, None)
    pair.a.keep_tcp("127.0.0.1", 40001, 600.0, 1)
    await _until(lambda: len(pair.frames) == 2)
    sent, kept = pair.frames
    assert (sent.kind, sent.transport, sent.payload) == (
        Kind.SEND,
        "tcp",
        b"SIP/2.0 200 OK\r\n\r\n",
    )
    assert (kept.kind, kept.seconds) == (Kind.KEEP, 600.0)


async def test_notes_go_to_their_listeners_and_one_failing_listener_spares_the_rest(
    pair: Pair,
) -> None:
    heard: list[tuple[object, int]] = []

    def broken(_note: LineChanged, _sender: int) -> None:
        raise RuntimeError("a listener's bug")

    pair.b.listen(LineChanged, broken)
    undo = pair.b.listen(LineChanged, lambda note, sender: heard.append((note, sender)))
    pair.b.listen(Hello, lambda note, sender: heard.append((note, sender)))
    with capture_logs() as logs:
        pair.a.note(LineChanged("p-anna", True))
        pair.a.note(Hello(), 1)
        await _until(lambda: len(heard) == 2)
    assert heard == [(LineChanged("p-anna", True), 0), (Hello(), 0)]
    assert [entry["event"] for entry in logs] == ["worker_frame_failed"]
    undo()
    pair.a.note(LineChanged("p-anna", False))
    pair.a.note(Hello())
    await _until(lambda: len(heard) == 3)
    assert heard[-1] == (Hello(), 0)  # the removed listener heard nothing more


async def test_a_peer_that_does_not_read_costs_drops_not_a_blocked_loop() -> None:
    left, right = socket.socketpair(socket.AF_UNIX, socket.SOCK_DGRAM)
    a = Relay(WorkerSpec(0, 2, {1: left.detach()}))
    a.start()
    try:
        with capture_logs() as logs:
            for _ in range(20_000):
                a.forward(1, b"x" * 1200, "udp", "127.0.0.1", 5060)
        assert a.dropped > 0
        assert logs[0]["event"] == "worker_frame_dropped"
        assert len(logs) < 25  # the first drop and every thousandth, not one line each
    finally:
        a.close()
        right.close()
