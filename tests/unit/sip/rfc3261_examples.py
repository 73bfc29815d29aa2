"""The RFC 3261 §24 example messages (registration §24.1, session setup §24.2).

Written out by hand as the RFC prints them, with real SDP where the RFC elides it
so Content-Length is exact.
"""

from __future__ import annotations

ALICE_SDP = (
    b"v=0\r\n"
    b"o=alice 2890844526 2890844526 IN IP4 pc33.atlanta.com\r\n"
    b"s=-\r\n"
    b"c=IN IP4 pc33.atlanta.com\r\n"
    b"t=0 0\r\n"
    b"m=audio 49172 RTP/AVP 0\r\n"
    b"a=rtpmap:0 PCMU/8000\r\n"
)
BOB_SDP = (
    b"v=0\r\n"
    b"o=bob 2890844527 2890844527 IN IP4 client.biloxi.example.com\r\n"
    b"s=-\r\n"
    b"c=IN IP4 192.0.2.4\r\n"
    b"t=0 0\r\n"
    b"m=audio 3456 RTP/AVP 0\r\n"
    b"a=rtpmap:0 PCMU/8000\r\n"
)


def message(lines: list[str], body: bytes = b"") -> bytes:
    """CRLF-joined header lines, Content-Length appended, then the body."""
    return "\r\n".join([*lines, f"Content-Length: {len(body)}", "", ""]).encode() + body


REGISTER = message(
    [
        "REGISTER sip:registrar.biloxi.com SIP/2.0",
        "Via: SIP/2.0/UDP bobspc.biloxi.com:5060;branch=z9hG4bKnashds7",
        "Max-Forwards: 70",
        "To: Bob <sip:bob@biloxi.com>",
        "From: Bob <sip:bob@biloxi.com>;tag=456248",
        "Call-ID: 843817637684230@998sdasdh09",
        "CSeq: 1826 REGISTER",
        "Contact: <sip:bob@192.0.2.4>",
        "Expires: 7200",
    ]
)
REGISTER_200 = message(
    [
        "SIP/2.0 200 OK",
        "Via: SIP/2.0/UDP bobspc.biloxi.com:5060;branch=z9hG4bKnashds7;received=192.0.2.4",
        "To: Bob <sip:bob@biloxi.com>;tag=2493k59kd",
        "From: Bob <sip:bob@biloxi.com>;tag=456248",
        "Call-ID: 843817637684230@998sdasdh09",
        "CSeq: 1826 REGISTER",
        "Contact: <sip:bob@192.0.2.4>",
        "Expires: 7200",
    ]
)
INVITE = message(
    [
        "INVITE sip:bob@biloxi.com SIP/2.0",
        "Via: SIP/2.0/UDP bigbox3.site3.atlanta.com;branch=z9hG4bK77ef4c2312983.1",
        "Via: SIP/2.0/UDP pc33.atlanta.com;branch=z9hG4bKnashds8;received=192.0.2.1",
        "Max-Forwards: 69",
        "To: Bob <sip:bob@biloxi.com>",
        "From: Alice <sip:alice@atlanta.com>;tag=1928301774",
        "Call-ID: a84b4c76e66710",
        "CSeq: 314159 INVITE",
        "Contact: <sip:alice@pc33.atlanta.com>",
        "Content-Type: application/sdp",
    ],
    ALICE_SDP,
)
RINGING = message(
    [
        "SIP/2.0 180 Ringing",
        "Via: SIP/2.0/UDP server10.biloxi.com;branch=z9hG4bK4b43c2ff8.1;received=192.0.2.3",
        "Via: SIP/2.0/UDP bigbox3.site3.atlanta.com;branch=z9hG4bK77ef4c2312983.1"
        ";received=192.0.2.2",
        "Via: SIP/2.0/UDP pc33.atlanta.com;branch=z9hG4bKnashds8;received=192.0.2.1",
        "To: Bob <sip:bob@biloxi.com>;tag=a6c85cf",
        "From: Alice <sip:alice@atlanta.com>;tag=1928301774",
        "Call-ID: a84b4c76e66710",
        "Contact: <sip:bob@192.0.2.4>",
        "CSeq: 314159 INVITE",
    ]
)
OK_200 = message(
    [
        "SIP/2.0 200 OK",
        "Via: SIP/2.0/UDP server10.biloxi.com;branch=z9hG4bK4b43c2ff8.1;received=192.0.2.3",
        "Via: SIP/2.0/UDP bigbox3.site3.atlanta.com;branch=z9hG4bK77ef4c2312983.1"
        ";received=192.0.2.2",
        "Via: SIP/2.0/UDP pc33.atlanta.com;branch=z9hG4bKnashds8;received=192.0.2.1",
        "To: Bob <sip:bob@biloxi.com>;tag=a6c85cf",
        "From: Alice <sip:alice@atlanta.com>;tag=1928301774",
        "Call-ID: a84b4c76e66710",
        "CSeq: 314159 INVITE",
        "Contact: <sip:bob@192.0.2.4>",
        "Content-Type: application/sdp",
    ],
    BOB_SDP,
)
ACK = message(
    [
        "ACK sip:bob@192.0.2.4 SIP/2.0",
        "Via: SIP/2.0/UDP pc33.atlanta.com;branch=z9hG4bKnashds9",
        "Max-Forwards: 70",
        "To: Bob <sip:bob@biloxi.com>;tag=a6c85cf",
        "From: Alice <sip:alice@atlanta.com>;tag=1928301774",
        "Call-ID: a84b4c76e66710",
        "CSeq: 314159 ACK",
    ]
)
BYE = message(
    [
        "BYE sip:alice@pc33.atlanta.com SIP/2.0",
        "Via: SIP/2.0/UDP 192.0.2.4;branch=z9hG4bKnashds10",
        "Max-Forwards: 70",
        "From: Bob <sip:bob@biloxi.com>;tag=a6c85cf",
        "To: Alice <sip:alice@atlanta.com>;tag=1928301774",
        "Call-ID: a84b4c76e66710",
        "CSeq: 231 BYE",
    ]
)
ALL = {
    "register": REGISTER,
    "register-200": REGISTER_200,
    "invite": INVITE,
    "180": RINGING,
    "200": OK_200,
    "ack": ACK,
    "bye": BYE,
}
