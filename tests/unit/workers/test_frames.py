"""The frames workers pass each other (issue 14): every value survives the trip, and bytes
that are no frame say so."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from switchboard.workers.frames import (
    AuthCleared,
    AuthFailed,
    CalendarReport,
    FlowFrame,
    FrameError,
    Hello,
    Kind,
    LineChanged,
    LineCounts,
    NonceUsed,
    Note,
    NoteFrame,
    PinTried,
    SignInStarted,
    SignInTaken,
    SignInTried,
    Ticked,
    decode,
    flow_frame,
    keep_frame,
    note_frame,
    pack,
    unpack,
)

INVITE = b"INVITE sip:51234@127.0.0.1 SIP/2.0\r\nCall-ID: a@b\r\n\r\n"


@pytest.mark.parametrize(
    ("kind", "transport", "host"),
    [
        (Kind.MESSAGE, "udp", "127.0.0.1"),
        (Kind.MESSAGE, "tcp", "2001:db8::7"),
        (Kind.SEND, "tcp", "198.51.100.20"),
    ],
    ids=["message-udp", "message-tcp-ipv6", "send-tcp"],
)
def test_a_flow_frame_carries_its_flow_and_the_message_byte_for_byte(
    kind: Kind, transport: str, host: str
) -> None:
    frame = decode(flow_frame(kind, 3, transport, host, 5062, INVITE))
    assert frame == FlowFrame(kind, 3, transport, host, 5062, INVITE)


def test_a_message_of_64_kib_crosses_whole() -> None:
    body = bytes(range(256)) * 256
    frame = decode(flow_frame(Kind.MESSAGE, 0, "udp", "127.0.0.1", 1, body))
    assert isinstance(frame, FlowFrame)
    assert frame.payload == body


def test_a_keep_frame_carries_seconds() -> None:
    frame = decode(keep_frame(1, "tcp", "127.0.0.1", 40000, 3599.5))
    assert isinstance(frame, FlowFrame)
    assert (frame.kind, frame.seconds) == (Kind.KEEP, 3599.5)


@pytest.mark.parametrize(
    "note",
    [
        LineChanged("p-anna", True),
        LineChanged("p-anna", False),
        Hello(),
        LineCounts((("p-anna", 2), ("p-johan", 1))),
        LineCounts(()),
        AuthFailed("203.0.113.9"),
        AuthCleared("2001:db8::9"),
        NonceUsed("MTIzNDU2Nzg5MA.abcdef", 3),
        Ticked("p-anna", datetime(2026, 11, 23, 9, 45, tzinfo=UTC)),
        CalendarReport(({"source": "hr", "ok": True, "events": 12},)),
        SignInStarted(
            "st",
            "no",
            "ve",
            "br",
            "https://sb.example/signin/oidc/callback",
            datetime(2026, 11, 23, 9, 0, tzinfo=UTC),
            "/reception",
        ),
        SignInTaken("st"),
        SignInTried("anna", "203.0.113.9", True),
        PinTried("p-anna", False),
    ],
    ids=lambda n: type(n).__name__,
)
def test_every_note_survives_the_trip(note: Note) -> None:
    assert decode(note_frame(2, note)) == NoteFrame(2, note)


@pytest.mark.parametrize(
    "data",
    [
        b"",
        b"\x01\x00",
        bytes([9, 0, 0, 0, 0, 0]),
        bytes([Kind.MESSAGE, 0, 7, 0, 1, 0]),
        bytes([Kind.MESSAGE, 0, 0, 0, 1, 200]) + b"short",
        bytes([Kind.KEEP, 0, 1, 0, 1, 0]) + b"\x00",
        bytes([Kind.NOTE, 0, 0, 0, 0, 0]) + b"{not json",
        bytes([Kind.NOTE, 0, 0, 0, 0, 0]) + b'{"note": "unheard of"}',
        bytes([Kind.NOTE, 0, 0, 0, 0, 0])
        + b'{"note": "ticked", "person_id": "p", "at": "2026-11-23T09:00"}',
    ],
    ids=[
        "empty",
        "cut-header",
        "unknown-kind",
        "unknown-transport",
        "cut-host",
        "keep-without-seconds",
        "broken-json",
        "unknown-note",
        "naive-tick",
    ],
)
def test_bytes_that_are_no_frame_raise_frame_error(data: bytes) -> None:
    with pytest.raises(FrameError):
        decode(data)


def test_a_flow_over_another_transport_is_refused_when_written() -> None:
    with pytest.raises(FrameError, match="sctp"):
        flow_frame(Kind.MESSAGE, 0, "sctp", "127.0.0.1", 5060, b"")


def test_several_frames_share_a_datagram_in_order() -> None:
    frames = [flow_frame(Kind.MESSAGE, 0, "udp", "127.0.0.1", n, INVITE) for n in range(5)]
    frames.append(note_frame(0, Hello()))
    assert unpack(pack(frames)) == frames
    assert unpack(b"") == []


@pytest.mark.parametrize(
    "data", [b"\x00\x00", b"\x00\x00\x00\x09short"], ids=["cut-length", "cut-frame"]
)
def test_a_cut_datagram_raises_frame_error(data: bytes) -> None:
    with pytest.raises(FrameError):
        unpack(data)
