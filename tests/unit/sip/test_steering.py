"""Steering (issue 14): the Call-ID read from raw bytes in every spelling, the owner the
same in every process, and our own Call-IDs owned by the worker that makes them."""

from __future__ import annotations

import asyncio
import socket
import zlib
from collections import Counter

import pytest
from hypothesis import given
from hypothesis import strategies as st

from switchboard.sip.core import SipCore
from switchboard.sip.flow import Flow
from switchboard.sip.parse import parse_message
from switchboard.sip.steering import Steering, call_id_of, owner_of
from switchboard.sip.transaction import TransactionLayer
from switchboard.workers.frames import FlowFrame, Kind
from switchboard.workers.relay import Relay
from switchboard.workers.spec import WorkerSpec


def _request(call_id_line: str, body: str = "") -> bytes:
    return (
        "INVITE sip:51234@127.0.0.1 SIP/2.0\r\n"
        "Via: SIP/2.0/UDP 127.0.0.1:5061;branch=z9hG4bK-1\r\n"
        "From: <sip:a@127.0.0.1>;tag=1\r\nTo: <sip:51234@127.0.0.1>\r\n"
        f"{call_id_line}\r\nCSeq: 1 INVITE\r\nContent-Length: {len(body)}\r\n\r\n{body}"
    ).encode()


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("Call-ID: 1-2345@127.0.0.1", b"1-2345@127.0.0.1"),
        ("call-id: 1-2345@127.0.0.1", b"1-2345@127.0.0.1"),
        ("CALL-ID:1-2345@127.0.0.1", b"1-2345@127.0.0.1"),
        ("i: 1-2345@127.0.0.1", b"1-2345@127.0.0.1"),
        ("I : 1-2345@127.0.0.1  ", b"1-2345@127.0.0.1"),
        ("Call-ID \t:\t1-2345@127.0.0.1", b"1-2345@127.0.0.1"),
    ],
    ids=["canonical", "lower", "upper-no-space", "compact", "compact-upper-spaces", "tabs"],
)
def test_the_call_id_is_read_in_every_spelling_the_parser_reads(line: str, expected: bytes) -> None:
    data = _request(line)
    assert call_id_of(data) == expected
    assert parse_message(data).headers.get("Call-ID") == expected.decode()


def test_a_message_without_a_call_id_has_none_even_when_its_body_names_one() -> None:
    data = _request("X-Note: none", body="Call-ID: not-a-header\r\n")
    assert call_id_of(data) is None
    assert call_id_of(b"\r\n\r\n") is None
    assert call_id_of(_request("Call-ID:   ")) is None


def test_the_owner_is_crc32_so_every_process_agrees() -> None:
    """Python's ``hash()`` differs per process (PYTHONHASHSEED): never that."""
    assert owner_of(b"1-2345@127.0.0.1", 2) == zlib.crc32(b"1-2345@127.0.0.1") % 2
    spread = Counter(owner_of(f"{n}-4242@127.0.0.1".encode(), 4) for n in range(4000))
    assert set(spread) == {0, 1, 2, 3}
    assert min(spread.values()) > 900  # SIPp's Call-IDs spread evenly


@given(st.binary(min_size=1, max_size=80).filter(lambda b: b.strip() == b and b"\n" not in b))
def test_any_call_id_value_is_found_and_owned_by_one_worker(value: bytes) -> None:
    data = b"OPTIONS sip:x SIP/2.0\r\nCall-ID: " + value + b"\r\n\r\n"
    assert call_id_of(data) == value
    assert 0 <= owner_of(value, 3) < 3


async def test_messages_another_worker_owns_are_passed_on_with_their_flow() -> None:
    left, right = socket.socketpair(socket.AF_UNIX, socket.SOCK_DGRAM)
    mine = Relay(WorkerSpec(0, 2, {1: left.detach()}))
    theirs = Relay(WorkerSpec(1, 2, {0: right.detach()}))
    arrived: list[FlowFrame] = []
    theirs.on_flow(arrived.append)
    mine.start()
    theirs.start()
    try:
        steering = Steering(mine)
        calls = [_request(f"Call-ID: {n}-77@127.0.0.1") for n in range(40)]
        passed = [c for c in calls if steering.pass_on(c, Flow("tcp", "127.0.0.1", 40123))]
        kept = [c for c in calls if c not in passed]
        assert passed
        assert kept
        assert all(steering.owner(c) == 1 for c in passed)
        assert all(steering.owner(c) == 0 for c in kept)
        for _ in range(200):
            if len(arrived) == len(passed):
                break
            await asyncio.sleep(0.005)
        assert [f.payload for f in arrived] == passed
        # The owner remembers who holds the TCP connection, and sends back through it.
        other = Steering(theirs)
        assert other.arrived(arrived[0]) == Flow("tcp", "127.0.0.1", 40123)
        got: list[FlowFrame] = []
        mine.on_flow(got.append)
        other.send(b"SIP/2.0 100 Trying\r\n\r\n", Flow("tcp", "127.0.0.1", 40123))
        for _ in range(200):
            if got:
                break
            await asyncio.sleep(0.005)
        assert [(f.kind, f.sender, f.payload) for f in got] == [
            (Kind.SEND, 1, b"SIP/2.0 100 Trying\r\n\r\n")
        ]
    finally:
        mine.close()
        theirs.close()


async def test_call_ids_we_make_are_owned_by_this_worker() -> None:
    for index in range(3):
        steering_owns = lambda call_id, i=index: owner_of(call_id.encode(), 3) == i  # noqa: E731
        core = SipCore(TransactionLayer(), None, ("127.0.0.1", 5060), lambda: None, steering_owns)  # type: ignore[arg-type]
        made = [core.new_call_id() for _ in range(50)]
        assert {owner_of(c.encode(), 3) for c in made} == {index}
        assert len(set(made)) == 50
    single = SipCore(TransactionLayer(), None, ("::1", 5060), lambda: None)  # type: ignore[arg-type]
    assert single.new_call_id().endswith("@[::1]")


async def test_a_register_is_handled_where_it_is_read() -> None:
    """It makes no dialog; its bindings reach the other workers through the feed."""
    left, right = socket.socketpair(socket.AF_UNIX, socket.SOCK_DGRAM)
    relays = [
        Relay(WorkerSpec(0, 2, {1: left.detach()})),
        Relay(WorkerSpec(1, 2, {0: right.detach()})),
    ]
    try:
        for relay in relays:
            register = _request("Call-ID: reg-1@phone").replace(b"INVITE", b"REGISTER", 1)
            assert Steering(relay).owner(register) == relay.index
    finally:
        for relay in relays:
            relay.close()
