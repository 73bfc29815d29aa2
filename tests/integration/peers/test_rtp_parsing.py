"""The RTP judges (tests/peers/rtp.py) on packets built by hand from RFC 3550 and
RFC 4733, so a capture that fails later is the peer's fault, not the parser's."""

from __future__ import annotations

import struct

import numpy as np
import pytest

from tests.peers import audio
from tests.peers.rtp import (
    PCMU,
    RtpError,
    RtpPacket,
    TelephoneEvent,
    decode_audio,
    dtmf_digits,
    dtmf_events,
)


def rtp(
    payload: bytes,
    *,
    payload_type: int = PCMU,
    sequence: int = 1,
    timestamp: int = 0,
    marker: bool = False,
    ssrc: int = 0x1234,
    csrcs: int = 0,
    extension: bytes | None = None,
    padding: int = 0,
) -> bytes:
    first = 0x80 | csrcs | (0x10 if extension is not None else 0) | (0x20 if padding else 0)
    second = payload_type | (0x80 if marker else 0)
    data = struct.pack("!BBHII", first, second, sequence, timestamp, ssrc)
    data += b"\x00\x00\x00\x01" * csrcs
    if extension is not None:
        data += struct.pack("!HH", 0xBEDE, len(extension) // 4) + extension
    data += payload
    if padding:
        data += b"\x00" * (padding - 1) + bytes([padding])
    return data


def event(digit: int, duration: int, end: bool = False) -> bytes:
    return struct.pack("!BBH", digit, (0x80 if end else 0) | 10, duration)


def test_parse_skips_csrcs_extension_and_padding() -> None:
    data = rtp(b"abcd", csrcs=2, extension=b"\x01\x02\x03\x04", padding=3, marker=True)

    packet = RtpPacket.parse(data)

    assert packet.payload == b"abcd"
    assert (packet.payload_type, packet.marker, packet.ssrc) == (PCMU, True, 0x1234)


@pytest.mark.parametrize(
    "data", [b"", b"\x80\x00", b"\x40" + bytes(11)], ids=["empty", "short", "v1"]
)
def test_parse_refuses_what_is_not_rtp_v2(data: bytes) -> None:
    with pytest.raises(RtpError):
        RtpPacket.parse(data)


def test_telephone_event_fields() -> None:
    parsed = TelephoneEvent.parse(event(11, 1440, end=True))

    assert (parsed.digit, parsed.end, parsed.volume, parsed.duration) == ("#", True, 10, 1440)


def test_one_key_press_is_one_event_however_many_packets() -> None:
    press = [
        RtpPacket.parse(rtp(event(1, 160 * n), payload_type=101, timestamp=800, marker=n == 1))
        for n in range(1, 6)
    ]
    ends = [RtpPacket.parse(rtp(event(1, 800, end=True), payload_type=101, timestamp=800))] * 3
    unfinished = [RtpPacket.parse(rtp(event(0, 160), payload_type=101, timestamp=2400))]

    [first, second] = dtmf_events(press + ends + unfinished)

    assert (first.digit, first.packets, first.end_packets, first.marker) == ("1", 8, 3, True)
    assert first.duration == 800
    assert (second.digit, second.ended) == ("0", False)
    assert dtmf_digits(press + ends + unfinished) == "1", "an event without E bit is not a key"


@pytest.mark.parametrize("base", [1000, 2**32 - 200], ids=["plain", "timestamp-wraps"])
def test_decode_audio_places_packets_by_timestamp(base: int) -> None:
    speech = audio.tone(0.06, 1000)
    frames = [speech[i : i + 160] for i in (0, 160, 320)]
    packets = [
        RtpPacket.parse(
            rtp(audio.ulaw_encode(frame), sequence=n, timestamp=(base + 160 * n) % 2**32)
        )
        for n, frame in enumerate(frames)
    ]

    lost_middle = decode_audio([packets[2], packets[0]])  # reordered, one lost

    assert len(lost_middle) == 480
    assert audio.best_correlation(lost_middle[:160], frames[0]).peak > 0.99
    assert np.all(lost_middle[160:320] == 0), "a lost packet leaves silence"
    assert audio.best_correlation(lost_middle[320:], frames[2]).peak > 0.99
