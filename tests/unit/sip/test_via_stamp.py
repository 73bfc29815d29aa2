"""``stamp_arrival``: where a request came from, noted in its top Via (RFC 3261 §18.2.1,
RFC 3581 §4), and left alone when the Via already says it."""

from __future__ import annotations

import pytest

from switchboard.sip.core import stamp_arrival
from switchboard.sip.flow import Flow
from switchboard.sip.message import Headers, Request, SipUri

SOURCE = Flow("udp", "198.51.100.7", 40123)


def request(via: str) -> Request:
    headers = Headers((("Via", via), ("Via", "SIP/2.0/UDP 10.0.0.1;branch=z9hG4bKlower")))
    return Request("OPTIONS", SipUri("example.se"), headers)


@pytest.mark.parametrize(
    ("via", "stamped", "source"),
    [
        (
            "SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bKa",
            "SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bKa;received=198.51.100.7",
            SOURCE,
        ),
        (
            "SIP/2.0/UDP phone.example.se;branch=z9hG4bKa",
            "SIP/2.0/UDP phone.example.se;branch=z9hG4bKa;received=198.51.100.7",
            SOURCE,
        ),
        (
            "SIP/2.0/UDP 198.51.100.7:5060;rport;branch=z9hG4bKa",
            "SIP/2.0/UDP 198.51.100.7:5060;branch=z9hG4bKa;received=198.51.100.7;rport=40123",
            SOURCE,
        ),
        (
            "SIP/2.0/TCP 10.1.1.1:5060;branch=z9hG4bKa;RPORT;received=10.9.9.9",
            "SIP/2.0/TCP 10.1.1.1:5060;branch=z9hG4bKa;received=198.51.100.7;rport=40123",
            SOURCE,
        ),
        (
            "SIP/2.0/UDP [2001:db8::1]:5060;branch=z9hG4bKa;rport",
            "SIP/2.0/UDP [2001:db8::1]:5060;branch=z9hG4bKa;received=2001:db8::2;rport=5070",
            Flow("udp", "2001:db8::2", 5070),
        ),
    ],
    ids=["other-address", "host-name", "rport-asked", "rport-replaces-received", "ipv6"],
)
def test_the_top_via_notes_the_source(via: str, stamped: str, source: Flow) -> None:
    result = stamp_arrival(request(via), source)
    assert result.headers.get_all("Via") == (stamped, "SIP/2.0/UDP 10.0.0.1;branch=z9hG4bKlower")


@pytest.mark.parametrize(
    ("via", "source"),
    [
        ("SIP/2.0/UDP 198.51.100.7:5070;branch=z9hG4bKa", SOURCE),
        ("SIP/2.0/UDP 198.51.100.7;branch=z9hG4bKa", SOURCE),
        ("SIP/2.0/UDP [2001:db8:0::1]:5060;branch=z9hG4bKa", Flow("udp", "2001:db8::1", 5060)),
        ("SIP/2.0/UDP [198.51.100.7;branch=z9hG4bKa;rport", SOURCE),
    ],
    ids=["same-address", "no-port", "ipv6-written-long", "unreadable"],
)
def test_a_via_that_already_says_it_is_left_alone(via: str, source: Flow) -> None:
    original = request(via)
    assert stamp_arrival(original, source) is original
