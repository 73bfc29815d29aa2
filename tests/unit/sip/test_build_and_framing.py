"""response_to (RFC 3261 §8.2.6) and StreamFramer (RFC 3261 §18.3, RFC 5626 §4.4.1)."""

from __future__ import annotations

import pytest

from switchboard.sip.build import response_to
from switchboard.sip.message import Request
from switchboard.sip.parse import Limits, ParseError, StreamFramer, parse_message, serialise, to
from tests.unit.sip import rfc3261_examples as ex


def _invite() -> Request:
    msg = parse_message(ex.INVITE)
    assert isinstance(msg, Request)
    return msg.with_headers(msg.headers.append("Record-Route", "<sip:p.example.com;lr>"))


def test_response_copies_the_addressing_headers_in_order() -> None:
    request = _invite()
    response = response_to(
        request, 302, "Moved Temporarily", to_tag="zz9", headers=(("Contact", "<sip:a@b>"),)
    )
    assert response.headers.items == (
        *((name, value) for name, value in request.headers.items if name == "Via"),
        ("From", request.headers.get("From")),
        ("To", "Bob <sip:bob@biloxi.com>;tag=zz9"),
        ("Call-ID", "a84b4c76e66710"),
        ("CSeq", "314159 INVITE"),
        ("Contact", "<sip:a@b>"),
    )
    wire = serialise(response)
    assert wire.startswith(b"SIP/2.0 302 Moved Temporarily\r\n")
    assert wire.endswith(b"Content-Length: 0\r\n\r\n")
    assert parse_message(wire) == response.with_headers(
        response.headers.append("Content-Length", "0")
    )


def test_existing_to_tag_is_kept_and_100_gets_none() -> None:
    request = _invite()
    tagged = request.with_headers(request.headers.set("To", "<sip:bob@biloxi.com>;TAG=mine"))
    assert to(response_to(tagged, 200, "OK", to_tag="new")).tag == "mine"
    trying = response_to(request, 100, "Trying", to_tag="new")
    assert to(trying).tag is None


def test_record_route_copied_only_into_dialog_creating_answers() -> None:
    request = _invite()
    assert response_to(request, 180, "Ringing").headers.get("Record-Route") is not None
    assert response_to(request, 486, "Busy Here").headers.get("Record-Route") is None


def test_unreadable_to_still_gets_a_tag() -> None:
    request = _invite()
    broken = request.with_headers(request.headers.set("To", '"unterminated <sip:x@y>'))
    response = response_to(broken, 400, "Bad To", to_tag="t1")
    assert response.headers.get("To") == '"unterminated <sip:x@y>;tag=t1'


def test_framer_cuts_messages_and_skips_keepalives() -> None:
    framer = StreamFramer()
    stream = b"\r\n\r\n" + ex.INVITE + b"\r\n" + ex.BYE + ex.ACK[:30]
    assert framer.feed(stream) == [ex.INVITE, ex.BYE]
    assert framer.pings == 1
    assert framer.has_partial
    assert framer.pending == 30
    assert framer.feed(ex.ACK[30:]) == [ex.ACK]
    assert not framer.has_partial
    assert framer.pending == 0


def test_framer_byte_by_byte() -> None:
    framer = StreamFramer()
    out: list[bytes] = []
    for byte in ex.INVITE + ex.OK_200:
        out += framer.feed(bytes([byte]))
    assert out == [ex.INVITE, ex.OK_200]


def test_framer_requires_content_length() -> None:
    with pytest.raises(ParseError, match="Content-Length: missing"):
        StreamFramer().feed(b"OPTIONS sip:a@b SIP/2.0\r\nVia: x\r\n\r\n")
    with pytest.raises(ParseError, match="not a number"):
        StreamFramer().feed(b"OPTIONS sip:a@b SIP/2.0\r\nl: -4\r\n\r\n")


def test_framer_compact_content_length() -> None:
    data = b"MESSAGE sip:a@b SIP/2.0\r\nl : 2\r\n\r\nhi"
    assert StreamFramer().feed(data) == [data]


def test_framer_limits() -> None:
    framer = StreamFramer(Limits(max_message_bytes=1000))
    with pytest.raises(ParseError) as caught:
        framer.feed(b"INVITE sip:a@b SIP/2.0\r\n" + b"X: " + b"y" * 1000)
    assert caught.value.status == 513
    with pytest.raises(ParseError) as caught:
        StreamFramer(Limits(max_message_bytes=1000)).feed(
            b"INVITE sip:a@b SIP/2.0\r\nContent-Length: 5000\r\n\r\n"
        )
    assert caught.value.status == 513
