"""The RTP endpoint over real UDP sockets on 127.0.0.1, and its receive path driven directly."""

from __future__ import annotations

import asyncio
import gc
import struct
import weakref
from collections.abc import AsyncIterator, Callable
from typing import cast

import pytest

from switchboard.media.g711 import Codec, decode, encode
from switchboard.media.offer_answer import Negotiated
from switchboard.media.ports import PortPool
from switchboard.media.rtp import Digit, RtpPacket, event_packets, parse, serialise
from switchboard.media.sdp import Direction
from switchboard.media.stream import RtpEndpoint
from tests.unit.media.udp import HOST, free_range

WAIT = 2.0  # seconds any single expected packet or callback may take on a loaded machine


class Peer(asyncio.DatagramProtocol):
    """A plain UDP socket playing the far end: what it receives lands in a queue."""

    def __init__(self) -> None:
        self.queue: asyncio.Queue[tuple[bytes, tuple[str, int]]] = asyncio.Queue()
        self.transport: asyncio.DatagramTransport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # The selector loop's datagram transport does not subclass DatagramTransport.
        self.transport = cast(asyncio.DatagramTransport, transport)

    def datagram_received(self, data: bytes, addr: tuple[str, int]) -> None:
        self.queue.put_nowait((data, addr))

    @property
    def port(self) -> int:
        assert self.transport is not None
        return int(self.transport.get_extra_info("sockname")[1])

    def send(self, packet: RtpPacket, port: int) -> None:
        assert self.transport is not None
        self.transport.sendto(serialise(packet), (HOST, port))

    async def packet(self) -> RtpPacket:
        data, _ = await asyncio.wait_for(self.queue.get(), WAIT)
        return parse(data)


async def peer() -> Peer:
    loop = asyncio.get_running_loop()
    _, protocol = await loop.create_datagram_endpoint(Peer, local_addr=(HOST, 0))
    return protocol


@pytest.fixture
async def pool() -> AsyncIterator[PortPool]:
    first = free_range(8)
    pool = PortPool(HOST, first, first + 15)
    yield pool
    assert pool.in_use == 0, "a test left a port allocated"


@pytest.fixture
async def far() -> AsyncIterator[Peer]:
    p = await peer()
    yield p
    assert p.transport is not None
    p.transport.close()


def towards(port: int, **changes: object) -> Negotiated:
    fields: dict[str, object] = {
        "codec": Codec.PCMU,
        "payload_type": 0,
        "dtmf_payload_type": 101,
        "remote_address": HOST,
        "remote_port": port,
        "ptime": 20,
        "direction": Direction.SENDRECV,
    }
    fields.update(changes)
    return Negotiated(**fields)  # type: ignore[arg-type]


def tone(n: int) -> bytes:
    """A distinct 20 ms frame of PCM for frame ``n``."""
    return struct.pack("<160h", *[(n * 997 + i * 131) % 20000 - 10000 for i in range(160)])


def audio(sequence: int, ssrc: int = 9, n: int = 0) -> RtpPacket:
    return RtpPacket(0, sequence & 0xFFFF, sequence * 160, ssrc, encode(tone(n), Codec.PCMU))


async def test_two_endpoints_exchange_audio(pool: PortPool) -> None:
    a_port, b_port = pool.allocate(), pool.allocate()
    heard: list[bytes] = []
    all_heard = asyncio.Event()

    def on_audio(pcm: bytes) -> None:
        heard.append(pcm)
        if len(heard) == 5:
            all_heard.set()

    a = await RtpEndpoint.open(pool, a_port, towards(b_port.port))
    b = await RtpEndpoint.open(pool, b_port, towards(a_port.port), on_audio=on_audio)
    try:
        now = asyncio.get_running_loop().time()
        for n in range(5):
            a.send_frame(encode(tone(n), Codec.PCMU), n, now + n * 0.02)
        await asyncio.wait_for(all_heard.wait(), WAIT)
        assert heard == [decode(encode(tone(n), Codec.PCMU), Codec.PCMU) for n in range(5)]
        assert (a.sent, b.received, b.latched) == (5, 5, (HOST, a_port.port))
    finally:
        a.close()
        b.close()


async def test_packets_on_the_wire(pool: PortPool, far: Peer) -> None:
    endpoint = await RtpEndpoint.open(pool, pool.allocate(), towards(far.port))
    try:
        sent_at = {0: 10.00, 1: 10.02, 2: 10.04, 5: 10.10}
        for frame, now in sent_at.items():
            endpoint.send_frame(b"\xff" * 160, frame, now)
        endpoint.send_frame(b"\xff" * 160, 0, 11.10)  # a new prompt: frames count from 0
        packets = [await far.packet() for _ in range(5)]
    finally:
        endpoint.close()
    first = packets[0]
    assert [p.marker for p in packets] == [True, False, False, True, True]
    assert [(p.sequence - first.sequence) % 0x10000 for p in packets] == [0, 1, 2, 3, 4]
    assert [(p.timestamp - first.timestamp) % 2**32 for p in packets] == [
        0,
        160,
        320,
        800,
        800 + 50 * 160,  # one second after frame 5
    ]
    assert {p.ssrc for p in packets} == {endpoint.ssrc}
    assert {p.payload_type for p in packets} == {0}


class Collector:
    """The endpoint's callbacks, with a way to wait until enough has arrived."""

    def __init__(self) -> None:
        self.audio: list[bytes] = []
        self.digits: list[Digit] = []
        self.timeouts = 0
        self._changed = asyncio.Event()

    def on_audio(self, pcm: bytes) -> None:
        self.audio.append(pcm)
        self._changed.set()

    def on_digit(self, digit: Digit) -> None:
        self.digits.append(digit)
        self._changed.set()

    def on_timeout(self) -> None:
        self.timeouts += 1
        self._changed.set()

    async def until(self, condition: Callable[[Collector], bool]) -> None:
        async with asyncio.timeout(WAIT):
            while not condition(self):
                self._changed.clear()
                await self._changed.wait()


async def test_symmetric_rtp_answers_where_packets_come_from(pool: PortPool, far: Peer) -> None:
    sdp_said = await peer()  # the address in the caller's SDP: private, behind NAT
    stranger = await peer()
    got = Collector()
    endpoint = await RtpEndpoint.open(
        pool, pool.allocate(), towards(sdp_said.port), on_audio=got.on_audio
    )
    try:
        endpoint.send_frame(b"\xff" * 160, 0, 1.0)
        assert (await sdp_said.packet()).ssrc == endpoint.ssrc  # nothing heard yet: SDP
        far.send(audio(1), endpoint.port.port)
        await got.until(lambda c: len(c.audio) == 1)
        assert endpoint.latched == (HOST, far.port)
        endpoint.send_frame(b"\xff" * 160, 1, 1.02)
        assert (await far.packet()).ssrc == endpoint.ssrc
        # A third party cannot take over. Loopback keeps the order of these two sends, so
        # the stranger's packet has been dealt with once the far end's has been heard.
        stranger.send(audio(2, n=666), endpoint.port.port)
        far.send(audio(2, n=2), endpoint.port.port)
        await got.until(lambda c: len(c.audio) == 2)
        assert got.audio[1] == decode(encode(tone(2), Codec.PCMU), Codec.PCMU)
        assert endpoint.foreign == 1
        endpoint.send_frame(b"\xff" * 160, 2, 1.04)
        assert (await far.packet()).ssrc == endpoint.ssrc
        assert sdp_said.queue.empty()
        assert stranger.queue.empty()
    finally:
        endpoint.close()
        for p in (sdp_said, stranger):
            assert p.transport is not None
            p.transport.close()


async def test_without_symmetric_rtp_the_sdp_address_is_kept(pool: PortPool, far: Peer) -> None:
    sdp_said = await peer()
    got = Collector()
    endpoint = await RtpEndpoint.open(
        pool, pool.allocate(), towards(sdp_said.port), on_audio=got.on_audio, symmetric=False
    )
    try:
        far.send(audio(1), endpoint.port.port)
        await got.until(lambda c: len(c.audio) == 1)
        endpoint.send_frame(b"\xff" * 160, 0, 1.0)
        assert (await sdp_said.packet()).ssrc == endpoint.ssrc
        assert endpoint.latched is None
    finally:
        endpoint.close()
        assert sdp_said.transport is not None
        sdp_said.transport.close()


async def test_key_presses_arrive_once_and_leave_no_hole_in_the_audio(
    pool: PortPool, far: Peer
) -> None:
    got = Collector()
    endpoint = await RtpEndpoint.open(
        pool,
        pool.allocate(),
        towards(far.port),
        on_audio=got.on_audio,
        on_digit=got.on_digit,
    )
    try:
        # Audio 100-101, then the key press's packets take sequence numbers 102-105 of the
        # same stream, then audio again from 106.
        packets = [audio(100, n=0), audio(101, n=1)]
        packets += event_packets("#", payload_type=101, ssrc=9, sequence=102, timestamp=16320)
        packets += [audio(106, n=2), audio(107, n=3)]
        for packet in packets:
            far.send(packet, endpoint.port.port)
        await got.until(lambda c: len(c.audio) == 4 and len(c.digits) == 1)
        assert [d.digit for d in got.digits] == ["#"]
        assert got.digits[0].ended
        assert got.audio == [decode(encode(tone(n), Codec.PCMU), Codec.PCMU) for n in range(4)]
    finally:
        endpoint.close()


async def test_a_key_press_without_end_packets_is_reported_by_the_timer(
    pool: PortPool, far: Peer
) -> None:
    got = Collector()
    endpoint = await RtpEndpoint.open(
        pool, pool.allocate(), towards(far.port), on_digit=got.on_digit
    )
    try:
        press = event_packets("7", payload_type=101, ssrc=9, sequence=1, timestamp=8000)
        far.send(press[0], endpoint.port.port)  # the first update only; the rest are lost
        await got.until(lambda c: len(c.digits) == 1)
        assert got.digits == [Digit("7", 8000, 400, False)]
    finally:
        endpoint.close()


async def test_silence_on_the_line_times_out_once(pool: PortPool, far: Peer) -> None:
    got = Collector()
    loop = asyncio.get_running_loop()
    started = loop.time()
    endpoint = await RtpEndpoint.open(
        pool, pool.allocate(), towards(far.port), on_timeout=got.on_timeout, silence_timeout=0.05
    )
    try:
        await got.until(lambda c: c.timeouts == 1)
        assert loop.time() - started >= 0.05
        endpoint.check(loop.time() + 100.0)
        assert got.timeouts == 1
    finally:
        endpoint.close()


# -- the receive path and the timers, driven with explicit times ------------------------


async def direct(pool: PortPool, negotiated: Negotiated, got: Collector) -> RtpEndpoint:
    """An endpoint without a transport: ``datagram`` and ``check`` are called by hand."""
    return RtpEndpoint(
        pool,
        pool.allocate(),
        negotiated,
        loop=asyncio.get_running_loop(),
        on_audio=got.on_audio,
        on_digit=got.on_digit,
        on_timeout=got.on_timeout,
        silence_timeout=10.0,
    )


FAR = (HOST, 40000)


async def test_every_packet_keeps_the_line_alive(pool: PortPool) -> None:
    got = Collector()
    endpoint = await direct(pool, towards(40000), got)
    try:
        start = endpoint.loop.time()
        for i in range(30):
            endpoint.datagram(serialise(audio(i)), FAR, start + 9.0 * i)
            endpoint.check(start + 9.0 * i + 8.9)
        assert got.timeouts == 0
        endpoint.check(start + 9.0 * 29 + 10.0)
        assert got.timeouts == 1
    finally:
        endpoint.close()


@pytest.mark.parametrize(
    "changes",
    [
        {"remote_address": "0.0.0.0"},  # noqa: S104 - an SDP hold address, never bound
        {"direction": Direction.SENDONLY},  # the far end was told not to send
        {"direction": Direction.INACTIVE},
    ],
    ids=["c=0.0.0.0", "we send only", "inactive"],
)
async def test_no_timeout_while_on_hold(pool: PortPool, changes: dict[str, object]) -> None:
    got = Collector()
    endpoint = await direct(pool, towards(40000, **changes), got)
    try:
        endpoint.check(endpoint.loop.time() + 1000.0)
        assert got.timeouts == 0
    finally:
        endpoint.close()


@pytest.mark.parametrize(
    "changes",
    [
        {"remote_address": "0.0.0.0"},  # noqa: S104 - an SDP hold address, never bound
        {"direction": Direction.RECVONLY},
        {"direction": Direction.INACTIVE},
    ],
    ids=["c=0.0.0.0", "we receive only", "inactive"],
)
async def test_nothing_is_sent_on_hold(pool: PortPool, changes: dict[str, object]) -> None:
    endpoint = await RtpEndpoint.open(pool, pool.allocate(), towards(40000, **changes))
    try:
        endpoint.send_frame(b"\xff" * 160, 0, 1.0)
        assert (endpoint.sent, endpoint.not_sent) == (0, 1)
    finally:
        endpoint.close()


async def test_junk_and_unagreed_payloads_are_counted_and_dropped(pool: PortPool) -> None:
    got = Collector()
    endpoint = await direct(pool, towards(40000), got)
    try:
        now = endpoint.loop.time()
        endpoint.datagram(b"\x00\x01", FAR, now)
        endpoint.datagram(serialise(RtpPacket(13, 1, 0, 9, b"\x40")), FAR, now)  # comfort noise
        endpoint.datagram(serialise(RtpPacket(101, 2, 0, 9, b"\x01")), FAR, now)  # short event
        assert (endpoint.malformed, endpoint.ignored, endpoint.received) == (2, 1, 1)
        assert endpoint.latched == FAR  # the short event was of an agreed type
        assert got.audio == []
    finally:
        endpoint.close()


async def test_close_flushes_the_recording_and_returns_the_port(pool: PortPool) -> None:
    got = Collector()
    endpoint = await direct(pool, towards(40000), got)
    now = endpoint.loop.time()
    endpoint.datagram(serialise(audio(1, n=1)), FAR, now)
    endpoint.datagram(serialise(audio(3, n=3)), FAR, now)  # 2 is missing: 3 waits
    assert len(got.audio) == 1
    assert pool.in_use == 1
    endpoint.close()
    endpoint.close()
    assert pool.in_use == 0
    silence = bytes(320)
    assert got.audio[1:] == [silence, decode(encode(tone(3), Codec.PCMU), Codec.PCMU)]
    endpoint.datagram(serialise(audio(4)), FAR, now)  # after close: nothing happens
    assert len(got.audio) == 3


async def test_a_reinvite_moving_the_media_latches_afresh(pool: PortPool) -> None:
    got = Collector()
    endpoint = await direct(pool, towards(40000), got)
    try:
        now = endpoint.loop.time()
        endpoint.datagram(serialise(audio(1)), FAR, now)
        endpoint.update(towards(40000, direction=Direction.SENDONLY), now)  # hold
        assert endpoint.latched == FAR
        endpoint.update(towards(40002), now)  # moved
        assert endpoint.latched is None
        assert endpoint.destination == (HOST, 40002)
    finally:
        endpoint.close()


async def test_a_callback_may_close_the_endpoint(pool: PortPool) -> None:
    """The recorder hangs up on '#': nothing is delivered after, and nothing breaks."""
    got = Collector()
    endpoint = await direct(pool, towards(40000), got)

    def hang_up(digit: Digit) -> None:
        got.on_digit(digit)
        endpoint.close()

    endpoint.on_digit = hang_up
    now = endpoint.loop.time()
    endpoint.datagram(serialise(audio(1)), FAR, now)
    for packet in event_packets("#", payload_type=101, ssrc=9, sequence=2, timestamp=320):
        endpoint.datagram(serialise(packet), FAR, now)
    endpoint.datagram(serialise(audio(6)), FAR, now)
    assert [d.digit for d in got.digits] == ["#"]
    assert len(got.audio) == 1
    assert pool.in_use == 0


class Owner:
    """What owns an endpoint in the switchboard (a channel, a call's controls): its
    callbacks are its own bound methods, so it and the endpoint refer to each other."""

    def __init__(self) -> None:
        self.endpoint: RtpEndpoint | None = None
        self.heard = 0

    def on_audio(self, pcm: bytes) -> None:
        self.heard += 1

    def on_digit(self, digit: Digit) -> None:
        self.heard += 1

    def on_timeout(self) -> None:
        self.heard += 1


async def test_a_closed_endpoint_leaves_nothing_for_the_cyclic_collector(pool: PortPool) -> None:
    """Issue 13's benchmark: every finished call was a reference cycle through the
    endpoint's callbacks, so calls were freed only by the collector, thousands at a time
    (a young collection of 200,000 objects held the event loop for 150 ms). Once closed,
    an endpoint lets its owner go by reference counting alone."""
    owner = Owner()
    endpoint = await RtpEndpoint.open(
        pool,
        pool.allocate(),
        towards(9),
        on_audio=owner.on_audio,
        on_digit=owner.on_digit,
        on_timeout=owner.on_timeout,
    )
    owner.endpoint = endpoint
    gone = weakref.ref(owner)
    gc.disable()
    try:
        endpoint.close()
        for _ in range(3):  # the transport lets go of its protocol on a later turn
            await asyncio.sleep(0)
        del owner, endpoint
        assert gone() is None, gc.get_referrers(gone())
    finally:
        gc.enable()
