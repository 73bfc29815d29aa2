"""RTP packets (RFC 3550 §5.1) and RFC 4733 telephone events, with a DTMF detector.

Packets are wire input: ``parse`` checks the version, the CSRC count, the header
extension's length and the padding count against the datagram's size, and raises only
``RtpError``. Header extensions are skipped (we negotiate none); padding is removed.

Key presses arrive as telephone events (RFC 4733 §2.3): one event is sent as several
packets sharing one RTP timestamp, each with a growing duration, and the final one (end
bit set) is sent three times (§2.5.1.4). ``DtmfDetector`` turns that into each digit
exactly once, keyed by SSRC and timestamp, and also accepts a digit whose end packets
were all lost once nothing more has arrived for it for ``timeout`` seconds. Time is
always passed in (arrival times from ``loop.time()``), so tests drive it without a clock.
"""

from __future__ import annotations

import struct
from collections import deque
from dataclasses import dataclass

from switchboard.media.errors import MediaError
from switchboard.values import quick_init

VERSION = 2
HEADER_SIZE = 12
_HEADER = struct.Struct("!BBHII")
_EVENT = struct.Struct("!BBH")
DTMF_EVENTS = "0123456789*#ABCD"
"""Event codes 0-15 in order (RFC 4733 §3.2, table 3)."""


class RtpError(MediaError):
    """A datagram that is not a well-formed RTP packet (or telephone event)."""


@quick_init
@dataclass(frozen=True, slots=True)
class RtpPacket:
    """One RTP data packet (RFC 3550 §5.1); ``csrcs`` are the contributing sources."""

    payload_type: int
    sequence: int
    timestamp: int
    ssrc: int
    payload: bytes
    marker: bool = False
    csrcs: tuple[int, ...] = ()


def parse(data: bytes) -> RtpPacket:
    """The packet in ``data``, or ``RtpError`` saying what is wrong with it."""
    size = len(data)
    if size < HEADER_SIZE:
        raise RtpError(f"{size} bytes is shorter than the 12-byte RTP header")
    first, second, sequence, timestamp, ssrc = _HEADER.unpack_from(data)
    if first >> 6 != VERSION:
        raise RtpError(f"RTP version {first >> 6}, not 2")
    offset = HEADER_SIZE + 4 * (first & 0x0F)
    if offset > size:
        raise RtpError(f"the header lists {first & 0x0F} CSRCs but the packet is {size} bytes")
    csrcs = struct.unpack_from(f"!{first & 0x0F}I", data, HEADER_SIZE) if first & 0x0F else ()
    if first & 0x10:  # header extension: 16-bit profile, 16-bit length in words (§5.3.1)
        if offset + 4 > size:
            raise RtpError("the header extension is cut off")
        offset += 4 + 4 * int.from_bytes(data[offset + 2 : offset + 4], "big")
        if offset > size:
            raise RtpError("the header extension is longer than the packet")
    end = size
    if first & 0x20:  # padding: the last byte counts the padding bytes, itself included
        padding = data[-1]
        if padding == 0 or offset + padding > size:
            raise RtpError(f"a padding count of {padding} does not fit the packet")
        end -= padding
    return RtpPacket(
        second & 0x7F,
        sequence,
        timestamp,
        ssrc,
        bytes(data[offset:end]),
        bool(second & 0x80),
        csrcs,
    )


def serialise(packet: RtpPacket) -> bytes:
    """The packet as sent: no padding, no extension."""
    csrcs = packet.csrcs
    head = _HEADER.pack(
        VERSION << 6 | len(csrcs),
        packet.payload_type | (0x80 if packet.marker else 0),
        packet.sequence,
        packet.timestamp,
        packet.ssrc,
    )
    if csrcs:
        head += struct.pack(f"!{len(csrcs)}I", *csrcs)
    return head + packet.payload


# -- telephone events (RFC 4733) ---------------------------------------------------------


@dataclass(frozen=True, slots=True)
class TelephoneEvent:
    """An event payload (RFC 4733 §2.3): ``duration`` in timestamp units (1/8000 s)."""

    event: int
    end: bool
    volume: int
    duration: int

    @property
    def digit(self) -> str | None:
        """'0'-'9', '*', '#', 'A'-'D' for events 0-15; None for any other event."""
        return DTMF_EVENTS[self.event] if self.event < len(DTMF_EVENTS) else None


def parse_event(payload: bytes) -> TelephoneEvent:
    """The first event in a telephone-event payload (RFC 4733 §2.3)."""
    if len(payload) < _EVENT.size:
        raise RtpError(f"a telephone event needs 4 bytes, this payload has {len(payload)}")
    event, flags, duration = _EVENT.unpack_from(payload)
    return TelephoneEvent(event, bool(flags & 0x80), flags & 0x3F, duration)


def serialise_event(event: TelephoneEvent) -> bytes:
    return _EVENT.pack(event.event, (0x80 if event.end else 0) | event.volume, event.duration)


def event_packets(
    digit: str,
    *,
    payload_type: int,
    ssrc: int,
    sequence: int,
    timestamp: int,
    duration: int = 800,
    interval: int = 400,
    volume: int = 10,
) -> list[RtpPacket]:
    """The packets a phone sends for one key press (RFC 4733 §2.5.1).

    All share ``timestamp`` (the event's start); the first has the marker bit; an update
    every ``interval`` samples (400: 50 ms) carries the duration so far; the final one,
    with the end bit, goes out three times. Sequence numbers go up by one per packet.
    """
    if digit not in DTMF_EVENTS or len(digit) != 1:
        raise ValueError(f"{digit!r} is not a DTMF digit (0-9, *, #, A-D)")
    code = DTMF_EVENTS.index(digit)
    durations = [*range(interval, duration, interval), duration]
    events = [TelephoneEvent(code, False, volume, d) for d in durations[:-1]]
    events += [TelephoneEvent(code, True, volume, duration)] * 3
    return [
        RtpPacket(
            payload_type,
            (sequence + i) & 0xFFFF,
            timestamp,
            ssrc,
            serialise_event(event),
            i == 0,
        )
        for i, event in enumerate(events)
    ]


@dataclass(frozen=True, slots=True)
class Digit:
    """A key press: ``ended`` is False when its end packets never came (timed out)."""

    digit: str
    timestamp: int
    duration: int
    ended: bool


class _Pending:
    __slots__ = ("duration", "event", "key", "last_seen")

    def __init__(self, key: tuple[int, int], event: int, now: float) -> None:
        self.key = key
        self.event = event
        self.duration = 0
        self.last_seen = now


class DtmfDetector:
    """Telephone-event packets in, each key press out exactly once (RFC 4733 §2.5.2).

    An event is identified by (SSRC, RTP timestamp). It is reported when its first end
    packet arrives, when a newer event starts, or when ``poll`` finds that nothing has
    arrived for it for ``timeout`` seconds. Packets of an event already reported (the
    repeated end packets, late updates) and packets of events older than the one in
    progress are ignored.

    A key held longer than 65535 samples (8 s) is sent as segments with new timestamps
    (RFC 4733 §2.5.1.3) and would count as several presses; no caller holds a key that
    long on purpose.
    """

    def __init__(self, *, timeout: float = 0.2) -> None:
        self.timeout = timeout
        self._current: _Pending | None = None
        self._reported: deque[tuple[int, int]] = deque(maxlen=16)

    def feed(self, packet: RtpPacket, now: float) -> tuple[Digit, ...]:
        """Take one telephone-event packet that arrived at ``now``; the digits it completes."""
        event = parse_event(packet.payload)
        key = (packet.ssrc, packet.timestamp)
        if key in self._reported:
            return ()
        done: list[Digit] = []
        current = self._current
        if current is not None and current.key != key:
            if current.key[0] == key[0] and (key[1] - current.key[1]) & 0x80000000:
                return ()  # an older event than the one in progress: a straggler
            done.append(self._finish(current, ended=False))
            current = None
        if event.digit is None:
            return tuple(done)
        if current is None:
            current = self._current = _Pending(key, event.event, now)
        current.duration = max(current.duration, event.duration)
        current.last_seen = now
        if event.end:
            done.append(self._finish(current, ended=True))
        return tuple(done)

    @property
    def deadline(self) -> float | None:
        """When ``poll`` will stop waiting for the event in progress; None if there is none."""
        current = self._current
        return None if current is None else current.last_seen + self.timeout

    def poll(self, now: float) -> Digit | None:
        """The digit in progress, if its packets stopped ``timeout`` seconds ago without end."""
        current = self._current
        if current is not None and now - current.last_seen >= self.timeout:
            return self._finish(current, ended=False)
        return None

    def _finish(self, pending: _Pending, *, ended: bool) -> Digit:
        self._reported.append(pending.key)
        self._current = None
        return Digit(DTMF_EVENTS[pending.event], pending.key[1], pending.duration, ended)
