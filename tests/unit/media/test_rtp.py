"""RTP packets, telephone events and the DTMF detector."""

from __future__ import annotations

import struct

import pytest
from hypothesis import given
from hypothesis import strategies as st

from switchboard.media.rtp import (
    Digit,
    DtmfDetector,
    RtpError,
    RtpPacket,
    TelephoneEvent,
    event_packets,
    parse,
    parse_event,
    serialise,
    serialise_event,
)

EVENT_PT = 101


def test_a_packet_on_the_wire() -> None:
    packet = RtpPacket(8, 0x1234, 0x56789ABC, 0xDEADBEEF, b"\xd5" * 4, marker=True)
    data = serialise(packet)
    assert data == bytes.fromhex("8088 1234 56789abc deadbeef d5d5d5d5".replace(" ", ""))
    assert parse(data) == packet


_packets = st.builds(
    RtpPacket,
    st.integers(0, 127),
    st.integers(0, 0xFFFF),
    st.integers(0, 0xFFFFFFFF),
    st.integers(0, 0xFFFFFFFF),
    st.binary(max_size=400),
    st.booleans(),
    st.lists(st.integers(0, 0xFFFFFFFF), max_size=15).map(tuple),
)


@given(_packets)
def test_parse_inverts_serialise(packet: RtpPacket) -> None:
    assert parse(serialise(packet)) == packet


def _header(*, padding: bool = False, extension: bool = False, csrcs: int = 0) -> bytes:
    first = 0x80 | (0x20 if padding else 0) | (0x10 if extension else 0) | csrcs
    return struct.pack("!BBHII", first, 0, 1, 2, 3)


def test_padding_is_removed() -> None:
    data = _header(padding=True) + b"abcd" + b"\x00\x00\x03"
    assert parse(data).payload == b"abcd"


def test_a_header_extension_is_skipped() -> None:
    extension = struct.pack("!HH", 0xBEDE, 2) + b"12345678"
    packet = parse(_header(extension=True, csrcs=1) + b"\x00\x00\x00\x07" + extension + b"pay")
    assert packet.csrcs == (7,)
    assert packet.payload == b"pay"


BAD = [
    ("short", b"\x80\x00\x00\x01", "shorter than the 12-byte"),
    ("version 1", b"\x40" + bytes(11), "version 1, not 2"),
    ("version 0 (STUN-like)", bytes(20), "version 0"),
    ("csrcs cut off", _header(csrcs=3) + bytes(8), "lists 3 CSRCs"),
    ("extension cut off", _header(extension=True) + b"\x00", "extension is cut off"),
    (
        "extension too long",
        _header(extension=True) + struct.pack("!HH", 0, 9) + bytes(8),
        "extension is longer",
    ),
    ("zero padding", _header(padding=True) + b"ab\x00", "padding count of 0"),
    ("too much padding", _header(padding=True) + b"ab\x09", "padding count of 9"),
]


@pytest.mark.parametrize(("data", "says"), [b[1:] for b in BAD], ids=[b[0] for b in BAD])
def test_malformed_packets_are_refused_with_a_reason(data: bytes, says: str) -> None:
    with pytest.raises(RtpError, match=says):
        parse(data)


@given(st.binary(max_size=100))
def test_any_datagram_parses_or_raises_rtp_error(data: bytes) -> None:
    try:
        packet = parse(data)
    except RtpError:
        return
    assert len(packet.payload) + 12 + 4 * len(packet.csrcs) <= len(data)
    assert 0 <= packet.payload_type <= 127


# -- telephone events --------------------------------------------------------------------


def test_an_event_payload_on_the_wire() -> None:
    event = TelephoneEvent(5, True, 10, 800)
    assert serialise_event(event) == bytes.fromhex("058a0320")
    assert parse_event(bytes.fromhex("058a0320")) == event
    assert parse_event(bytes.fromhex("0b4a0320")) == TelephoneEvent(11, False, 10, 800)  # R bit


@pytest.mark.parametrize(
    ("code", "digit"),
    [(0, "0"), (9, "9"), (10, "*"), (11, "#"), (12, "A"), (15, "D"), (16, None), (255, None)],
)
def test_event_codes_to_digits(code: int, digit: str | None) -> None:
    assert TelephoneEvent(code, False, 0, 0).digit == digit


def test_a_short_event_payload_is_refused() -> None:
    with pytest.raises(RtpError, match="needs 4 bytes"):
        parse_event(b"\x01\x02\x03")


def test_a_key_press_as_a_phone_sends_it() -> None:
    packets = event_packets("#", payload_type=EVENT_PT, ssrc=7, sequence=0xFFFE, timestamp=99)
    events = [parse_event(p.payload) for p in packets]
    assert [p.marker for p in packets] == [True, False, False, False]
    assert [p.sequence for p in packets] == [0xFFFE, 0xFFFF, 0, 1]
    assert {p.timestamp for p in packets} == {99}
    assert [(e.event, e.end, e.duration) for e in events] == [
        (11, False, 400),
        (11, True, 800),
        (11, True, 800),
        (11, True, 800),
    ]
    with pytest.raises(ValueError, match="not a DTMF digit"):
        event_packets("E", payload_type=EVENT_PT, ssrc=7, sequence=0, timestamp=0)


# -- the detector ------------------------------------------------------------------------


def press(digit: str, timestamp: int, *, ssrc: int = 7, duration: int = 1600) -> list[RtpPacket]:
    return event_packets(
        digit,
        payload_type=EVENT_PT,
        ssrc=ssrc,
        sequence=timestamp // 160,
        timestamp=timestamp,
        duration=duration,
    )


def run(
    detector: DtmfDetector, packets: list[RtpPacket], start: float = 0.0, step: float = 0.05
) -> list[Digit]:
    out: list[Digit] = []
    for i, packet in enumerate(packets):
        out.extend(detector.feed(packet, start + i * step))
    return out


def test_one_press_is_one_digit_at_its_first_end_packet() -> None:
    detector = DtmfDetector()
    packets = press("5", 8000)
    out = [detector.feed(p, i * 0.05) for i, p in enumerate(packets)]
    assert out == [(), (), (), (Digit("5", 8000, 1600, True),), (), ()]
    assert detector.poll(100.0) is None


def test_every_packet_twice_is_still_one_digit() -> None:
    packets = [p for p in press("7", 8000) for _ in range(2)]
    assert [d.digit for d in run(DtmfDetector(), packets)] == ["7"]


def test_the_same_key_twice_is_two_digits() -> None:
    packets = press("1", 8000) + press("1", 16000) + press("2", 24000)
    assert [d.digit for d in run(DtmfDetector(), packets)] == ["1", "1", "2"]


def test_a_press_whose_end_packets_were_lost_times_out() -> None:
    detector = DtmfDetector(timeout=0.2)
    updates = [p for p in press("9", 8000) if not parse_event(p.payload).end]
    assert run(detector, updates) == []  # last update arrives at t = 0.10
    assert detector.deadline == pytest.approx(0.3)
    assert detector.poll(0.299) is None
    assert detector.poll(0.301) == Digit("9", 8000, 1200, False)
    assert detector.poll(0.50) is None
    assert detector.deadline is None
    assert run(detector, press("9", 8000)[-1:], start=0.6) == []  # a late end: reported already


def test_a_press_without_end_is_reported_when_the_next_starts() -> None:
    first = [p for p in press("3", 8000) if not parse_event(p.payload).end]
    out = run(DtmfDetector(), first + press("4", 16000))
    assert [(d.digit, d.ended) for d in out] == [("3", False), ("4", True)]


def test_stragglers_of_an_older_event_are_ignored() -> None:
    old, new = press("1", 8000), press("2", 16000)
    out = run(DtmfDetector(), old[:1] + new[:1] + old[1:2] + new[1:])
    assert [(d.digit, d.ended) for d in out] == [("1", False), ("2", True)]


def test_other_events_are_not_digits() -> None:
    flash = RtpPacket(EVENT_PT, 1, 8000, 7, serialise_event(TelephoneEvent(16, True, 10, 800)))
    assert run(DtmfDetector(), [flash, flash]) == []


def test_sources_are_kept_apart() -> None:
    packets = press("1", 8000, ssrc=1) + press("2", 8000, ssrc=2)
    assert [d.digit for d in run(DtmfDetector(), packets)] == ["1", "2"]


def test_timestamps_wrap() -> None:
    packets = press("1", 0xFFFFFF00) + press("2", 0x40)
    assert [d.digit for d in run(DtmfDetector(), packets)] == ["1", "2"]


_presses = st.lists(
    st.tuples(
        st.sampled_from("0123456789*#ABCD"),
        st.integers(400, 4000),  # duration in samples
        st.floats(0.06, 1.5),  # pause after the press, seconds
        st.lists(st.sampled_from(["keep", "drop", "twice"]), min_size=12, max_size=12),
    ),
    min_size=1,
    max_size=8,
)


@given(_presses, st.integers(0, 0xFFFFFFFF))
def test_lost_and_repeated_packets_still_give_each_press_once(
    presses: list[tuple[str, int, float, list[str]]], start: int
) -> None:
    """Whatever is lost or repeated, as long as some packet of a press arrives."""
    detector = DtmfDetector()
    out: list[Digit] = []
    now, timestamp = 0.0, start
    for digit, duration, pause, fates in presses:
        packets = press(digit, timestamp & 0xFFFFFFFF, duration=duration)
        fates = ["keep", *fates[1:]]  # the first packet arrives, the rest take their chances
        for packet, fate in zip(packets, fates + ["keep"] * len(packets), strict=False):
            for _ in range({"keep": 1, "drop": 0, "twice": 2}[fate]):
                out.extend(detector.feed(packet, now))
                now += 0.05
            if (late := detector.poll(now)) is not None:
                out.append(late)
        now += pause
        if (late := detector.poll(now)) is not None:
            out.append(late)
        timestamp += duration + int(pause * 8000)
    if (late := detector.poll(now + 1.0)) is not None:
        out.append(late)
    assert [d.digit for d in out] == [p[0] for p in presses]
