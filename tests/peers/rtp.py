"""RTP seen from the outside: capture what a peer sends, parse it, judge it.

``RtpSink`` is a loopback UDP socket a test puts into an SDP (``m=audio PORT``) so the
far end sends its media there; ``RtpPacket`` parses RFC 3550 5.1 headers,
``TelephoneEvent`` the RFC 4733 2.3 payload; ``dtmf_events`` folds the packets of one
key press into one event; ``decode_audio`` turns PCMU/PCMA packets back into samples for
``tests.peers.audio``; ``read_pcap`` reads the RTP in SIPp's pcap files.
"""

from __future__ import annotations

import asyncio
import struct
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType

import numpy as np

from tests.peers.audio import Samples, alaw_decode, ulaw_decode
from tests.peers.tools import LOOPBACK

PCMU = 0
PCMA = 8
TELEPHONE_EVENT = 101
"""The dynamic PT baresip 1.0 offers and Debian's SIPp dtmf_2833_*.pcap files carry."""
EVENT_CODES = "0123456789*#ABCD"
"""RFC 4733 3.2: events 0-9 are the digits, 10 is *, 11 is #, 12-15 are A-D."""


class RtpError(Exception):
    """Bytes that are not RTP version 2, or a capture that never saw what was awaited."""


@dataclass(frozen=True)
class RtpPacket:
    """One RTP packet (RFC 3550 5.1); CSRCs and header extensions are skipped."""

    payload_type: int
    marker: bool
    sequence: int
    timestamp: int
    ssrc: int
    payload: bytes
    source: tuple[str, int] = (LOOPBACK, 0)
    arrived: float = 0.0
    """time.monotonic() when the sink got it (0 for packets read from a file)."""

    @classmethod
    def parse(
        cls, data: bytes, source: tuple[str, int] = (LOOPBACK, 0), arrived: float = 0.0
    ) -> RtpPacket:
        if len(data) < 12 or data[0] >> 6 != 2:
            raise RtpError(f"not RTP v2: {data[:12].hex()}")
        first, second, sequence, timestamp, ssrc = struct.unpack("!BBHII", data[:12])
        offset = 12 + 4 * (first & 0x0F)
        if first & 0x10:
            if len(data) < offset + 4:
                raise RtpError("truncated RTP header extension")
            offset += 4 + 4 * struct.unpack("!H", data[offset + 2 : offset + 4])[0]
        end = len(data)
        if first & 0x20 and end > offset:
            end -= data[-1]
        return cls(
            payload_type=second & 0x7F,
            marker=bool(second & 0x80),
            sequence=sequence,
            timestamp=timestamp,
            ssrc=ssrc,
            payload=data[offset:end],
            source=source,
            arrived=arrived,
        )


@dataclass(frozen=True)
class TelephoneEvent:
    """An RFC 4733 (2.3) telephone-event payload: event, E bit, volume, duration."""

    event: int
    end: bool
    volume: int
    duration: int
    """In timestamp units (1/8000 s for telephone-event/8000)."""

    @classmethod
    def parse(cls, payload: bytes) -> TelephoneEvent:
        if len(payload) < 4:
            raise RtpError(f"telephone-event payload too short: {payload.hex()}")
        event, flags, duration = struct.unpack("!BBH", payload[:4])
        return cls(event=event, end=bool(flags & 0x80), volume=flags & 0x3F, duration=duration)

    @property
    def digit(self) -> str:
        return EVENT_CODES[self.event] if self.event < len(EVENT_CODES) else f"<{self.event}>"


@dataclass(frozen=True)
class DtmfEvent:
    """All packets of one key press: one RTP timestamp of one SSRC (RFC 4733 2.5.1)."""

    digit: str
    timestamp: int
    packets: int
    ended: bool
    """Whether a packet with the E bit arrived (the sender finished the event)."""
    end_packets: int
    """How many packets carried the E bit (RFC 4733 2.5.1.4: three, for loss)."""
    duration: int
    """The largest duration seen, in timestamp units."""
    marker: bool
    """Whether the event's first packet had the M bit (RFC 4733 2.5.1.3)."""


def dtmf_events(
    packets: Iterable[RtpPacket], payload_type: int = TELEPHONE_EVENT
) -> list[DtmfEvent]:
    """The key presses among ``packets``, in the order they started."""
    grouped: dict[tuple[int, int], list[TelephoneEvent]] = {}
    markers: dict[tuple[int, int], bool] = {}
    for packet in packets:
        if packet.payload_type != payload_type:
            continue
        key = (packet.ssrc, packet.timestamp)
        grouped.setdefault(key, []).append(TelephoneEvent.parse(packet.payload))
        markers[key] = markers.get(key, False) or packet.marker
    events = []
    for key, parts in grouped.items():
        end_packets = sum(1 for part in parts if part.end)
        events.append(
            DtmfEvent(
                digit=parts[0].digit,
                timestamp=key[1],
                packets=len(parts),
                ended=end_packets > 0,
                end_packets=end_packets,
                duration=max(part.duration for part in parts),
                marker=markers[key],
            )
        )
    return events


def dtmf_digits(packets: Iterable[RtpPacket], payload_type: int = TELEPHONE_EVENT) -> str:
    """The digits of the completed (E bit seen) key presses, e.g. ``"10"``."""
    return "".join(event.digit for event in dtmf_events(packets, payload_type) if event.ended)


def decode_audio(packets: Sequence[RtpPacket], payload_type: int = PCMU) -> Samples:
    """PCMU or PCMA packets of the busiest SSRC as 8 kHz samples, placed by timestamp.

    Lost packets leave silence where they belonged; duplicates overwrite themselves.
    """
    decoder: Callable[[bytes], Samples]
    if payload_type == PCMU:
        decoder = ulaw_decode
    elif payload_type == PCMA:
        decoder = alaw_decode
    else:
        raise RtpError(f"payload type {payload_type} is not G.711 (0 or 8)")
    audio = [packet for packet in packets if packet.payload_type == payload_type]
    if not audio:
        return np.zeros(0, dtype=np.float64)
    counts: dict[int, int] = {}
    for packet in audio:
        counts[packet.ssrc] = counts.get(packet.ssrc, 0) + 1
    ssrc = max(counts, key=lambda each: counts[each])
    audio = [packet for packet in audio if packet.ssrc == ssrc]
    # Signed distance from the first packet to arrive, across a 32-bit wrap; the earliest
    # timestamp (maybe a packet that arrived late) is sample 0.
    first = audio[0].timestamp
    relative = [(packet.timestamp - first + 2**31) % 2**32 - 2**31 for packet in audio]
    start = min(relative)
    placed = [(each - start, packet) for each, packet in zip(relative, audio, strict=True)]
    length = max(offset + len(packet.payload) for offset, packet in placed)
    samples = np.zeros(length, dtype=np.float64)
    for offset, packet in placed:
        samples[offset : offset + len(packet.payload)] = decoder(packet.payload)
    return samples


class _Collector(asyncio.DatagramProtocol):
    def __init__(self, packets: list[RtpPacket], junk: list[bytes]) -> None:
        self.packets = packets
        self.junk = junk

    def datagram_received(self, data: bytes, addr: tuple[str | object, int]) -> None:
        source = (str(addr[0]), int(addr[1]))
        try:
            self.packets.append(RtpPacket.parse(data, source, time.monotonic()))
        except RtpError:
            self.junk.append(data)


class RtpSink:
    """A UDP socket on loopback that keeps every RTP packet sent to it.

    ``async with RtpSink() as sink:`` binds a free port (``sink.port``) to put into an
    SDP; ``await sink.wait_for(lambda packets: ..., timeout)`` polls what arrived against
    a deadline. It never answers: symmetric RTP peers see a silent far end.
    """

    def __init__(self) -> None:
        self.packets: list[RtpPacket] = []
        self.junk: list[bytes] = []
        """Datagrams that were not RTP v2 (RTCP would land on port + 1, not here)."""
        self.port = 0
        self._transport: asyncio.DatagramTransport | None = None

    async def start(self) -> RtpSink:
        loop = asyncio.get_running_loop()
        transport, _ = await loop.create_datagram_endpoint(
            lambda: _Collector(self.packets, self.junk), local_addr=(LOOPBACK, 0)
        )
        self._transport = transport
        self.port = int(transport.get_extra_info("sockname")[1])
        return self

    def close(self) -> None:
        if self._transport is not None:
            self._transport.close()
            self._transport = None

    async def __aenter__(self) -> RtpSink:
        return await self.start()

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def of_type(self, payload_type: int) -> list[RtpPacket]:
        return [packet for packet in self.packets if packet.payload_type == payload_type]

    async def wait_for(
        self,
        predicate: Callable[[list[RtpPacket]], bool],
        timeout: float = 5.0,  # noqa: ASYNC109 - every wait has a default deadline
        what: str = "RTP",
    ) -> None:
        """Poll ``predicate(packets)`` every 20 ms until true; RtpError after ``timeout``."""
        deadline = time.monotonic() + timeout
        while not predicate(self.packets):
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                types = sorted({packet.payload_type for packet in self.packets})
                raise RtpError(
                    f"no {what} on port {self.port} within {timeout:g}s: "
                    f"{len(self.packets)} packets of types {types}"
                )
            await asyncio.sleep(min(0.02, remaining))


# -- pcap files (libpcap classic format; SIPp's dtmf_2833_*.pcap, g711a.pcap) ------------

_LINK_HEADERS = {1: 14, 113: 16, 101: 0, 228: 0}
"""Ethernet, Linux cooked, raw IP, raw IPv4: bytes before the IP header."""


def read_pcap(path: Path) -> list[RtpPacket]:
    """The RTP packets in a classic pcap file of UDP over IPv4 (others are skipped)."""
    data = path.read_bytes()
    if len(data) < 24:
        raise RtpError(f"{path} is too short for a pcap file")
    magic = data[:4]
    if magic in (b"\xd4\xc3\xb2\xa1", b"\x4d\x3c\xb2\xa1"):
        order = "<"
    elif magic in (b"\xa1\xb2\xc3\xd4", b"\xa1\xb2\x3c\x4d"):
        order = ">"
    else:
        raise RtpError(f"{path} is not a classic pcap file (magic {magic.hex()})")
    link = struct.unpack(order + "I", data[20:24])[0]
    if link not in _LINK_HEADERS:
        raise RtpError(f"{path}: link type {link} is not supported")
    packets = []
    offset = 24
    while offset + 16 <= len(data):
        captured = struct.unpack(order + "I", data[offset + 8 : offset + 12])[0]
        frame = data[offset + 16 : offset + 16 + captured]
        offset += 16 + captured
        ip = frame[_LINK_HEADERS[link] :]
        if len(ip) < 20 or ip[0] >> 4 != 4 or ip[9] != 17:
            continue
        udp = ip[(ip[0] & 0x0F) * 4 :]
        source = ".".join(str(byte) for byte in ip[12:16])
        port = struct.unpack("!H", udp[:2])[0]
        try:
            packets.append(RtpPacket.parse(udp[8:], (source, port)))
        except RtpError:
            continue
    return packets
