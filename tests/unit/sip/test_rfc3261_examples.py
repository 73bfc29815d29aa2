"""RFC 3261 §24 example messages, parsed and checked field by field."""

from __future__ import annotations

import pytest

from switchboard.sip.message import CSeq, NameAddr, Param, Request, Response, SipUri, Via
from switchboard.sip.parse import (
    call_id,
    contacts,
    cseq,
    expires,
    from_,
    max_forwards,
    parse_message,
    serialise,
    to,
    top_via,
    vias,
)
from tests.unit.sip import rfc3261_examples as ex


def test_register_field_by_field() -> None:
    msg = parse_message(ex.REGISTER)
    assert isinstance(msg, Request)
    assert msg.method == "REGISTER"
    assert msg.uri == SipUri(host="registrar.biloxi.com")
    assert top_via(msg) == Via(
        "UDP", "bobspc.biloxi.com", 5060, (Param("branch", "z9hG4bKnashds7"),)
    )
    assert max_forwards(msg) == 70
    assert to(msg) == NameAddr(SipUri("biloxi.com", "bob"), "Bob")
    assert from_(msg) == NameAddr(SipUri("biloxi.com", "bob"), "Bob", (Param("tag", "456248"),))
    assert from_(msg).tag == "456248"
    assert to(msg).tag is None
    assert call_id(msg) == "843817637684230@998sdasdh09"
    assert cseq(msg) == CSeq(1826, "REGISTER")
    assert contacts(msg) == (NameAddr(SipUri("192.0.2.4", "bob")),)
    assert expires(msg) == 7200
    assert msg.headers.get("Content-Length") == "0"
    assert msg.body == b""


def test_register_200() -> None:
    msg = parse_message(ex.REGISTER_200)
    assert isinstance(msg, Response)
    assert (msg.status, msg.reason) == (200, "OK")
    assert top_via(msg).param("received") == "192.0.2.4"
    assert to(msg).tag == "2493k59kd"
    assert max_forwards(msg) is None


def test_invite_with_two_vias_and_sdp() -> None:
    msg = parse_message(ex.INVITE)
    assert isinstance(msg, Request)
    assert msg.method == "INVITE"
    assert msg.uri == SipUri("biloxi.com", "bob")
    assert [v.host for v in vias(msg)] == ["bigbox3.site3.atlanta.com", "pc33.atlanta.com"]
    assert top_via(msg).branch == "z9hG4bK77ef4c2312983.1"
    assert vias(msg)[1].param("received") == "192.0.2.1"
    assert max_forwards(msg) == 69
    assert from_(msg).display == "Alice"
    assert cseq(msg) == CSeq(314159, "INVITE")
    assert msg.headers.get("content-type") == "application/sdp"
    assert msg.body == ex.ALICE_SDP


def test_ringing_keeps_three_vias_in_order() -> None:
    msg = parse_message(ex.RINGING)
    assert isinstance(msg, Response)
    assert (msg.status, msg.reason) == (180, "Ringing")
    assert [v.branch for v in vias(msg)] == [
        "z9hG4bK4b43c2ff8.1",
        "z9hG4bK77ef4c2312983.1",
        "z9hG4bKnashds8",
    ]
    assert to(msg).tag == "a6c85cf"


def test_200_carries_bob_sdp() -> None:
    msg = parse_message(ex.OK_200)
    assert isinstance(msg, Response)
    assert msg.status == 200
    assert contacts(msg) == (NameAddr(SipUri("192.0.2.4", "bob")),)
    assert msg.body == ex.BOB_SDP


def test_ack_and_bye() -> None:
    ack = parse_message(ex.ACK)
    bye = parse_message(ex.BYE)
    assert isinstance(ack, Request)
    assert isinstance(bye, Request)
    assert (ack.method, ack.uri) == ("ACK", SipUri("192.0.2.4", "bob"))
    assert cseq(ack) == CSeq(314159, "ACK")
    assert (bye.method, cseq(bye)) == ("BYE", CSeq(231, "BYE"))
    assert from_(bye).tag == "a6c85cf"
    assert to(bye) == NameAddr(
        SipUri("atlanta.com", "alice"), "Alice", (Param("tag", "1928301774"),)
    )


@pytest.mark.parametrize("data", list(ex.ALL.values()), ids=list(ex.ALL))
def test_examples_serialise_byte_for_byte(data: bytes) -> None:
    """Our serialiser writes exactly what the RFC prints (one field per line)."""
    assert serialise(parse_message(data)) == data
