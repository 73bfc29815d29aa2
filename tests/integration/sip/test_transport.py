"""``SipTransport`` over real loopback sockets, in-process (RFC 3261 §18, RFC 5626 §4.4.1).

Each test starts a transport on port 0 and talks to it with plain sockets and asyncio
streams, so what is checked is what a phone on the wire would see: which messages reach
the receiver, with which ``Flow``, and when the transport hangs up.
"""

from __future__ import annotations

import asyncio
import itertools
import socket
from collections.abc import AsyncIterator, Callable
from contextlib import suppress
from dataclasses import dataclass, field

import pytest

from switchboard.sip.flow import Flow
from switchboard.sip.ratelimit import SourceRateLimiter
from switchboard.sip.transport import Admit, SipTransport, TransportLimits
from tests.peers.tools import LOOPBACK, port_in_use

OTHER_LOOPBACK = "127.0.0.2"
"""A second source address (Linux routes all of 127/8 to lo): admission is per host."""
SLACK = 1.5
"""The watchdog looks once a second, so a limit takes effect up to a second late."""


def message(call_id: str, body: bytes = b"") -> bytes:
    """A well-formed OPTIONS with Content-Length: what the framer cuts on."""
    lines = [
        f"OPTIONS sip:{LOOPBACK} SIP/2.0",
        f"Via: SIP/2.0/TCP {LOOPBACK}:5999;branch=z9hG4bK{call_id}",
        "Max-Forwards: 70",
        f"From: <sip:caller@{LOOPBACK}>;tag=t{call_id}",
        f"To: <sip:{LOOPBACK}>",
        f"Call-ID: {call_id}",
        "CSeq: 1 OPTIONS",
        f"Content-Length: {len(body)}",
        "",
        "",
    ]
    return "\r\n".join(lines).encode() + body


def admit_all(host: str, now: float, data: bytes) -> bool:
    return True


@dataclass(frozen=True, slots=True)
class Received:
    data: bytes
    flow: Flow
    at: float


@dataclass
class Inbox:
    """The transport's receiver: keeps every message it is handed."""

    items: list[Received] = field(default_factory=list)

    def __call__(self, data: bytes, flow: Flow, now: float) -> None:
        self.items.append(Received(data, flow, now))

    @property
    def data(self) -> list[bytes]:
        return [item.data for item in self.items]


async def eventually(check: Callable[[], bool], within: float = 2.0) -> bool:
    """Poll ``check`` until it holds or ``within`` seconds pass; the final answer."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within
    while not check():
        if loop.time() > deadline:
            return False
        await asyncio.sleep(0.01)
    return True


async def closed_by_peer(reader: asyncio.StreamReader, within: float) -> bool:
    """True once the transport hangs up (EOF or reset) within ``within`` seconds."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within
    try:
        while await asyncio.wait_for(reader.read(65536), max(0.0, deadline - loop.time())):
            pass
    except ConnectionResetError:
        return True
    except TimeoutError:
        return False
    return True


class Harness:
    """Starts transports and client connections, and closes whatever is left at the end."""

    def __init__(self) -> None:
        self.inbox = Inbox()
        self.transports: list[SipTransport] = []
        self.writers: list[asyncio.StreamWriter] = []
        self.sockets: list[socket.socket] = []
        self.address: tuple[str, int] = ("", 0)

    async def start(
        self, limits: TransportLimits | None = None, admit: Admit = admit_all, port: int = 0
    ) -> SipTransport:
        transport = SipTransport(self.inbox, limits, admit)
        self.address = await transport.start(LOOPBACK, port)
        self.transports.append(transport)
        return transport

    async def close_transport(self, transport: SipTransport) -> None:
        self.transports.remove(transport)
        await transport.close()

    async def connect(self) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
        reader, writer = await asyncio.open_connection(*self.address)
        self.writers.append(writer)
        return reader, writer

    def udp(self, host: str = LOOPBACK) -> socket.socket:
        sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sockets.append(sock)
        sock.setblocking(False)
        sock.bind((host, 0))
        return sock

    async def close(self) -> None:
        for writer in self.writers:
            writer.close()
            with suppress(ConnectionError):
                await writer.wait_closed()
        for sock in self.sockets:
            sock.close()
        for transport in self.transports:
            await transport.close()


@pytest.fixture
async def harness() -> AsyncIterator[Harness]:
    h = Harness()
    yield h
    await h.close()


def local(writer: asyncio.StreamWriter) -> Flow:
    host, port = writer.get_extra_info("sockname")[:2]
    return Flow("tcp", str(host), int(port))


# -- UDP ---------------------------------------------------------------------------------


async def test_udp_datagrams_reach_the_receiver_with_their_flow_and_replies_go_back(
    harness: Harness,
) -> None:
    transport = await harness.start()
    client = harness.udp()
    client.sendto(message("u1"), harness.address)

    assert await eventually(lambda: len(harness.inbox.items) == 1)
    got = harness.inbox.items[0]
    flow = Flow("udp", LOOPBACK, client.getsockname()[1])
    assert (got.data, got.flow) == (message("u1"), flow)
    assert got.at <= asyncio.get_running_loop().time()

    assert transport.send(b"SIP/2.0 200 OK\r\n\r\n", flow) is True
    loop = asyncio.get_running_loop()
    data, source = await asyncio.wait_for(loop.sock_recvfrom(client, 65535), 2.0)
    assert (data, source) == (b"SIP/2.0 200 OK\r\n\r\n", harness.address)


async def test_nothing_is_read_between_bind_and_serve_and_nothing_is_lost(
    harness: Harness,
) -> None:
    """The server binds, builds what handling a message needs (it may need the bound
    address), then serves. A datagram that comes in between waits in the kernel, and a
    connection is refused (the phone retries) instead of reaching a half-built server,
    where a request was lost: its transaction began, its answer never did."""
    transport = SipTransport(harness.inbox)
    harness.transports.append(transport)
    address = await transport.bind(LOOPBACK, 0)
    client = harness.udp()
    client.sendto(message("early"), address)
    with pytest.raises(ConnectionRefusedError):
        await asyncio.open_connection(*address)
    assert not await eventually(lambda: bool(harness.inbox.items), within=0.3)
    await transport.serve()
    assert await eventually(lambda: harness.inbox.data == [message("early")])
    harness.address = address
    _, writer = await harness.connect()
    writer.write(message("later-tcp"))
    assert await eventually(lambda: message("later-tcp") in harness.inbox.data)


async def test_a_refused_source_is_dropped_while_others_pass(harness: Harness) -> None:
    asked: list[str] = []

    def admit(host: str, now: float, data: bytes) -> bool:
        asked.append(host)
        return host != OTHER_LOOPBACK

    await harness.start(admit=admit)
    refused, allowed = harness.udp(OTHER_LOOPBACK), harness.udp(LOOPBACK)
    # Loopback delivers in send order into the one socket, so once the allowed datagram
    # is in, the refused one has been read and judged too.
    refused.sendto(message("r1"), harness.address)
    allowed.sendto(message("a1"), harness.address)

    assert await eventually(lambda: len(harness.inbox.items) >= 1)
    assert harness.inbox.data == [message("a1")]
    assert harness.inbox.items[0].flow.host == LOOPBACK
    assert asked == [OTHER_LOOPBACK, LOOPBACK]


# -- TCP framing -------------------------------------------------------------------------


async def test_a_message_split_over_several_writes_arrives_whole_once_complete(
    harness: Harness,
) -> None:
    await harness.start()
    _, writer = await harness.connect()
    whole = message("s1", b"v=0\r\n")
    cuts = [0, 10, len(whole) - 20, len(whole) - 2, len(whole)]
    for start, end in itertools.pairwise(cuts):
        writer.write(whole[start:end])
        await writer.drain()
        if end < len(whole):
            assert not await eventually(lambda: bool(harness.inbox.items), within=0.1)

    assert await eventually(lambda: len(harness.inbox.items) == 1)
    assert harness.inbox.items[0].data == whole
    assert harness.inbox.items[0].flow == local(writer)


async def test_two_messages_in_one_write_arrive_as_two(harness: Harness) -> None:
    await harness.start()
    _, writer = await harness.connect()
    writer.write(message("m1", b"one") + message("m2", b"two"))
    await writer.drain()

    assert await eventually(lambda: len(harness.inbox.items) == 2)
    assert harness.inbox.data == [message("m1", b"one"), message("m2", b"two")]


async def test_a_crlf_keep_alive_is_not_a_message(harness: Harness) -> None:
    await harness.start()
    reader, writer = await harness.connect()
    writer.write(b"\r\n\r\n")  # RFC 5626 §4.4.1 ping
    writer.write(message("k1") + b"\r\n")  # and a pong after a message
    writer.write(message("k2"))
    await writer.drain()

    assert await eventually(lambda: len(harness.inbox.items) == 2)
    assert harness.inbox.data == [message("k1"), message("k2")]
    assert not await closed_by_peer(reader, 0.2)


async def test_a_response_to_a_tcp_flow_reuses_its_connection(harness: Harness) -> None:
    transport = await harness.start()
    reader, writer = await harness.connect()
    writer.write(message("t1"))
    await writer.drain()
    assert await eventually(lambda: len(harness.inbox.items) == 1)
    flow = harness.inbox.items[0].flow
    assert flow == local(writer)

    assert transport.send(b"SIP/2.0 200 OK\r\nContent-Length: 0\r\n\r\n", flow) is True
    reply = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 2.0)
    assert reply == b"SIP/2.0 200 OK\r\nContent-Length: 0\r\n\r\n"
    # Without an open connection there is nothing to reuse (no connecting back to a phone).
    assert transport.send(b"x", Flow("tcp", LOOPBACK, 1)) is False


@pytest.mark.parametrize(
    "garbage",
    [
        b"OPTIONS sip:x SIP/2.0\r\nSubject: " + b"a" * 70_000,
        b"OPTIONS sip:x SIP/2.0\r\nVia: SIP/2.0/TCP 127.0.0.1:5999\r\n\r\n",
        b"OPTIONS sip:x SIP/2.0\r\nContent-Length: ten\r\n\r\n",
    ],
    ids=["header-block-over-limit", "no-content-length", "content-length-not-a-number"],
)
async def test_a_framing_error_closes_the_connection(harness: Harness, garbage: bytes) -> None:
    await harness.start()
    reader, writer = await harness.connect()
    writer.write(garbage)
    with suppress(ConnectionError):
        await writer.drain()

    assert await closed_by_peer(reader, 2.0)
    assert harness.inbox.items == []


# -- TCP timers --------------------------------------------------------------------------


async def test_an_incomplete_header_block_is_closed_after_the_header_timeout(
    harness: Harness,
) -> None:
    limit = 1.5
    await harness.start(TransportLimits(tcp_idle=60.0, tcp_header_timeout=limit))
    reader, writer = await harness.connect()
    loop = asyncio.get_running_loop()
    sent = loop.time()
    writer.write(message("h1")[:30])
    await writer.drain()

    assert await closed_by_peer(reader, limit + SLACK)
    assert loop.time() - sent >= limit
    assert harness.inbox.items == []


async def test_the_header_timeout_restarts_with_each_completed_message(harness: Harness) -> None:
    """A busy stream whose writes never end on a message boundary is not stuck: each
    message completes well within the limit, so the connection stays open."""
    limit = 1.5
    await harness.start(TransportLimits(tcp_idle=60.0, tcp_header_timeout=limit))
    reader, writer = await harness.connect()
    loop = asyncio.get_running_loop()
    parts = [message(f"b{i}") for i in range(4)]
    halves = [(m[: len(m) // 2], m[len(m) // 2 :]) for m in parts]
    writes = [halves[0][0]]
    writes += [halves[i][1] + halves[i + 1][0] for i in range(3)]
    writes += [halves[3][1]]
    start = loop.time()
    for index, chunk in enumerate(writes):
        # Paced against absolute deadlines: the timing is the input under test.
        await asyncio.sleep(max(0.0, start + index * 0.9 - loop.time()))
        writer.write(chunk)
        await writer.drain()

    assert await eventually(lambda: len(harness.inbox.items) == 4)
    assert harness.inbox.data == parts
    assert not await closed_by_peer(reader, 0.1)


def test_silent_connections_close_within_a_minute_by_default() -> None:
    assert TransportLimits().tcp_idle <= 60.0


async def test_keep_alives_do_not_hold_a_connection_nobody_registered_on(
    harness: Harness,
) -> None:
    """CRLF keep-alives carry nothing: on a connection without a registration they do
    not reset the idle limit (else anyone holds sockets for the price of four bytes)."""
    limit = 1.5
    await harness.start(TransportLimits(tcp_idle=limit, tcp_header_timeout=60.0))
    reader, writer = await harness.connect()
    loop = asyncio.get_running_loop()
    sent = loop.time()
    writer.write(message("k0"))

    async def keep_alive() -> None:
        with suppress(ConnectionError):
            for _ in range(8):
                writer.write(b"\r\n\r\n")
                await writer.drain()
                await asyncio.sleep(0.4)

    pinging = asyncio.create_task(keep_alive())

    assert await closed_by_peer(reader, limit + SLACK)
    assert loop.time() - sent < limit + SLACK + 0.5
    await pinging


async def test_a_connection_a_registration_lasts_on_outlives_tcp_idle(harness: Harness) -> None:
    """A phone's connection is its way in: kept open, however quiet, while the
    registration made over it lasts; its keep-alive pings get pongs (RFC 5626 §4.4.1)."""
    limit = 1.0
    transport = await harness.start(TransportLimits(tcp_idle=limit, tcp_header_timeout=60.0))
    reader, writer = await harness.connect()
    writer.write(message("r1"))
    await writer.drain()
    assert await eventually(lambda: len(harness.inbox.items) == 1)
    loop = asyncio.get_running_loop()
    kept_until = loop.time() + limit + 2.0
    transport.keep(harness.inbox.items[0].flow, kept_until)
    writer.write(b"\r\n\r\n")
    await writer.drain()
    assert await asyncio.wait_for(reader.readexactly(2), 2.0) == b"\r\n"

    assert not await closed_by_peer(reader, limit + 1.5)  # past tcp_idle, still open
    assert await closed_by_peer(reader, 2.0 + SLACK)  # the registration over: closed
    assert loop.time() >= kept_until


async def test_an_idle_connection_is_closed_after_tcp_idle(harness: Harness) -> None:
    limit = 1.5
    await harness.start(TransportLimits(tcp_idle=limit, tcp_header_timeout=60.0))
    reader, writer = await harness.connect()
    loop = asyncio.get_running_loop()
    sent = loop.time()
    writer.write(message("i1"))
    await writer.drain()
    assert await eventually(lambda: len(harness.inbox.items) == 1)

    assert await closed_by_peer(reader, limit + SLACK)
    assert loop.time() - sent >= limit


# -- TCP admission and limits ------------------------------------------------------------


async def test_admission_is_asked_per_message_and_a_refused_one_is_dropped_whole(
    harness: Harness,
) -> None:
    """A refused message is dropped whole, and the next message on the connection still
    arrives intact; chunks that complete no message are not asked about at all."""
    asked: list[bytes] = []
    allow = [False]

    def admit(host: str, now: float, data: bytes) -> bool:
        asked.append(data)
        return allow[0]

    await harness.start(admit=admit)
    _, writer = await harness.connect()
    first = message("c1")
    for start, end in itertools.pairwise([0, 40, 90, len(first)]):
        writer.write(first[start:end])
        await writer.drain()
        await asyncio.sleep(0.05)
    assert await eventually(lambda: asked == [first])
    allow[0] = True
    writer.write(message("c2"))
    await writer.drain()

    assert await eventually(lambda: len(harness.inbox.items) >= 1)
    assert harness.inbox.data == [message("c2")]
    assert asked == [first, message("c2")]


async def test_many_slow_connections_do_not_use_up_their_sources_rate(
    harness: Harness,
) -> None:
    """Issue 17: connections that each dribble part of a header are no requests, so they
    cost their source nothing of its rate, and that source's next real request (from a
    phone behind the same address) is read at once."""
    limiter = SourceRateLimiter(rate=5.0, burst=10.0)

    def admit(host: str, now: float, data: bytes) -> bool:
        return limiter.allow(host, now)

    await harness.start(TransportLimits(tcp_header_timeout=30.0), admit=admit)
    writers = []
    for _ in range(40):
        _, writer = await asyncio.open_connection(*harness.address, local_addr=(OTHER_LOOPBACK, 0))
        harness.writers.append(writer)
        writers.append(writer)
    whole = message("slow")
    for start in range(0, 90, 30):  # three chunks each, none of them a whole message
        for writer in writers:
            writer.write(whole[start : start + 30])
        await asyncio.gather(*(writer.drain() for writer in writers))
    await asyncio.sleep(0.1)
    _, writer = await asyncio.open_connection(*harness.address, local_addr=(OTHER_LOOPBACK, 0))
    harness.writers.append(writer)
    writer.write(message("real"))
    await writer.drain()

    assert await eventually(lambda: harness.inbox.data == [message("real")], within=1.0)


async def test_connections_beyond_the_cap_are_refused(harness: Harness) -> None:
    await harness.start(TransportLimits(max_tcp_connections=1))
    first_reader, first = await harness.connect()
    first.write(message("x1"))
    await first.drain()
    assert await eventually(lambda: len(harness.inbox.items) == 1)

    second_reader, _ = await harness.connect()
    assert await closed_by_peer(second_reader, 2.0)

    first.write(message("x2"))
    await first.drain()
    assert await eventually(lambda: len(harness.inbox.items) == 2)
    assert harness.inbox.data == [message("x1"), message("x2")]
    assert not await closed_by_peer(first_reader, 0.1)


# -- lifecycle ---------------------------------------------------------------------------


async def test_port_0_puts_udp_and_tcp_on_the_same_port(harness: Harness) -> None:
    await harness.start()
    host, port = harness.address
    assert (host, port != 0) == (LOOPBACK, True)

    client = harness.udp()
    client.sendto(message("p1"), (host, port))
    _, writer = await harness.connect()
    writer.write(message("p2"))
    await writer.drain()

    assert await eventually(lambda: len(harness.inbox.items) == 2)
    by_transport = {item.flow.transport: item.data for item in harness.inbox.items}
    assert by_transport == {"udp": message("p1"), "tcp": message("p2")}


async def test_close_hangs_up_every_connection_and_frees_the_port(harness: Harness) -> None:
    transport = await harness.start()
    port = harness.address[1]
    readers = [(await harness.connect())[0] for _ in range(2)]

    await harness.close_transport(transport)

    for reader in readers:
        assert await closed_by_peer(reader, 2.0)
    # The UDP socket is gone; the TCP listener too, or the restart below could not bind
    # (SO_REUSEADDR only passes over the server side's TIME_WAIT, never a live listener).
    assert not port_in_use(port, "udp")
    again = await harness.start(port=port)
    assert harness.address == (LOOPBACK, port)
    await harness.close_transport(again)
