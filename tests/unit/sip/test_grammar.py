"""URI, name-addr, Via and CSeq readers and writers (RFC 3261 §25, RFC 5118)."""

from __future__ import annotations

import pytest

from switchboard.sip.core import flow_of_via
from switchboard.sip.message import CSeq, NameAddr, Param, SipUri, Via
from switchboard.sip.parse import (
    Limits,
    ParseError,
    format_name_addr,
    format_uri,
    format_via,
    parse_cseq,
    parse_name_addr,
    parse_uri,
    parse_via,
    wire_number,
)

URIS = [
    ("plain", "sip:alice@atlanta.com", SipUri("atlanta.com", "alice")),
    ("no-user", "sip:atlanta.com", SipUri("atlanta.com")),
    (
        "sips-port",
        "sips:bob@biloxi.com:5061",
        SipUri("biloxi.com", "bob", port=5061, scheme="sips"),
    ),
    (
        "password-params-headers",
        "sip:alice:secretword@atlanta.com;transport=tcp;lr?subject=project%20x&priority=urgent",
        SipUri(
            "atlanta.com",
            "alice",
            "secretword",
            None,
            (Param("transport", "tcp"), Param("lr")),
            (("subject", "project%20x"), ("priority", "urgent")),
        ),
    ),
    (
        "phone-user-with-semicolon",
        "sip:+1-212-555-1212:1234@gateway.com;user=phone",
        SipUri("gateway.com", "+1-212-555-1212", "1234", None, (Param("user", "phone"),)),
    ),
    (
        "user-with-semicolon-param",
        "sip:alice;day=tuesday@atlanta.com",
        SipUri("atlanta.com", "alice;day=tuesday"),
    ),
    ("escaped-user", "sip:%61lice@atlanta.com", SipUri("atlanta.com", "%61lice")),
    ("escaped-null", "sip:null-%00-null@example.com", SipUri("example.com", "null-%00-null")),
    ("ipv4-port", "sip:192.0.2.4:5070", SipUri("192.0.2.4", port=5070)),
    ("ipv6", "sip:[2001:db8::10]", SipUri("[2001:db8::10]")),
    ("ipv6-port", "sip:alice@[2001:db8::10]:5070", SipUri("[2001:db8::10]", "alice", port=5070)),
    ("ipv6-v4-tail", "sip:[2001:db8::192.0.2.1]", SipUri("[2001:db8::192.0.2.1]")),
    ("uppercase-scheme", "SIP:bob@biloxi.com", SipUri("biloxi.com", "bob")),
    (
        "tel",
        "tel:+46-523-664123;phone-context=example.se",
        SipUri("", "+46-523-664123", params=(Param("phone-context", "example.se"),), scheme="tel"),
    ),
    ("maddr-ttl", "sip:h.example.com;maddr=239.255.255.1;ttl=15", None),
]


@pytest.mark.parametrize(("text", "expected"), [u[1:] for u in URIS], ids=[u[0] for u in URIS])
def test_parse_uri(text: str, expected: SipUri | None) -> None:
    uri = parse_uri(text)
    if expected is not None:
        assert uri == expected
    assert parse_uri(format_uri(uri)) == uri


BAD_URIS = [
    ("no-scheme", "alice@atlanta.com", 400),
    ("unknown-scheme", "http://www.example.com", 416),
    ("bad-scheme-chars", "s<p:alice@x", 400),
    ("empty-user", "sip:@atlanta.com", 400),
    ("space-in-user", "sip:al ice@atlanta.com", 400),
    ("empty-host", "sip:alice@", 400),
    ("empty-port", "sip:alice@atlanta.com:", 400),
    ("big-port", "sip:alice@atlanta.com:65536", 400),
    ("ipv6-unbracketed", "sip:2001:db8::10", 400),
    ("ipv6-bad", "sip:[2001:db8:::192.0.2.1]", 400),
    ("ipv6-unterminated", "sip:[2001:db8::1", 400),
    ("bad-escape", "sip:a%4@atlanta.com", 400),
    ("bad-escape-end", "sip:a@atlanta.com;x=%", 400),
    ("empty-param", "sip:a@atlanta.com;;lr", 400),
    ("angle-in-host", "sip:a@atl<anta.com", 400),
]


@pytest.mark.parametrize(
    ("text", "status"), [u[1:] for u in BAD_URIS], ids=[u[0] for u in BAD_URIS]
)
def test_bad_uri(text: str, status: int) -> None:
    with pytest.raises(ParseError) as caught:
        parse_uri(text, where="Request-URI")
    assert caught.value.status == status
    assert caught.value.problem.startswith("Request-URI: ")


def test_too_many_uri_params() -> None:
    text = "sip:a@b" + ";p" * 5
    assert len(parse_uri(text, limits=Limits(max_params=5)).params) == 5
    with pytest.raises(ParseError, match="more than 4 parameters"):
        parse_uri(text, limits=Limits(max_params=4))


NAME_ADDRS = [
    (
        "quoted-display",
        '"Alice Liddell" <sip:alice@atlanta.com>;tag=88',
        NameAddr(SipUri("atlanta.com", "alice"), "Alice Liddell", (Param("tag", "88"),)),
    ),
    (
        "token-display",
        "Bob  <sip:bob@biloxi.com>",
        NameAddr(SipUri("biloxi.com", "bob"), "Bob"),
    ),
    ("no-display", "<sip:bob@biloxi.com>", NameAddr(SipUri("biloxi.com", "bob"))),
    (
        "addr-spec-params-belong-to-header",
        "sip:bob@biloxi.com;tag=1;user=phone",
        NameAddr(SipUri("biloxi.com", "bob"), None, (Param("tag", "1"), Param("user", "phone"))),
    ),
    (
        "uri-params-inside-angles",
        "<sip:bob@biloxi.com;user=phone>;tag=1",
        NameAddr(
            SipUri("biloxi.com", "bob", params=(Param("user", "phone"),)),
            None,
            (Param("tag", "1"),),
        ),
    ),
    (
        "escaped-quote-in-display",
        r'"Anna \"the boss\" \\ A" <sip:anna@example.se>',
        NameAddr(SipUri("example.se", "anna"), 'Anna "the boss" \\ A'),
    ),
    (
        "utf8-display",
        '"Åsa Öberg" <sip:asa@example.se>',
        NameAddr(SipUri("example.se", "asa"), "Åsa Öberg"),
    ),
    (
        "whitespace-everywhere",
        '  "A"   <sip:a@b>  ;  tag = x1 ; lr  ',
        NameAddr(SipUri("b", "a"), "A", (Param("tag", "x1"), Param("lr"))),
    ),
    (
        "quoted-param-with-angles-and-semicolons",
        '<sip:a@b>;+sip.instance="<urn:uuid:f81d;4fae>";expires=60',
        NameAddr(
            SipUri("b", "a"),
            None,
            (Param("+sip.instance", '"<urn:uuid:f81d;4fae>"'), Param("expires", "60")),
        ),
    ),
    (
        "tel",
        "<tel:+46523664123>;tag=9",
        NameAddr(SipUri("", "+46523664123", scheme="tel"), None, (Param("tag", "9"),)),
    ),
    ("empty-display", '"" <sip:a@b>', NameAddr(SipUri("b", "a"), "")),
]


@pytest.mark.parametrize(
    ("text", "expected"), [n[1:] for n in NAME_ADDRS], ids=[n[0] for n in NAME_ADDRS]
)
def test_parse_name_addr(text: str, expected: NameAddr) -> None:
    value = parse_name_addr(text)
    assert value == expected
    assert parse_name_addr(format_name_addr(value)) == value


BAD_NAME_ADDRS = [
    ("unterminated-quote", '"Alice <sip:alice@atlanta.com>'),
    ("unterminated-angle", "<sip:alice@atlanta.com"),
    ("display-needs-quotes", "Alice, Bob <sip:a@b>"),
    ("text-after-angle", "<sip:a@b> junk"),
    ("quote-without-angle", '"Alice" sip:alice@atlanta.com'),
    ("empty", "   "),
    ("bad-param-name", "<sip:a@b>;=1"),
    ("unterminated-quoted-param", '<sip:a@b>;x="abc'),
    ("bare-uri-with-comma", "sip:a,b@c"),
]


@pytest.mark.parametrize("text", [n[1] for n in BAD_NAME_ADDRS], ids=[n[0] for n in BAD_NAME_ADDRS])
def test_bad_name_addr_names_the_header(text: str) -> None:
    with pytest.raises(ParseError) as caught:
        parse_name_addr(text, where="From")
    assert caught.value.status == 400
    assert caught.value.problem.startswith("From: ")


VIAS = [
    (
        "plain",
        "SIP/2.0/UDP pc33.atlanta.com;branch=z9hG4bK776asdhds",
        Via("UDP", "pc33.atlanta.com", None, (Param("branch", "z9hG4bK776asdhds"),)),
    ),
    (
        "rport-received",
        "SIP/2.0/TCP 192.0.2.1:5070;rport;branch=z9hG4bKx;received=192.0.2.9",
        Via(
            "TCP",
            "192.0.2.1",
            5070,
            (Param("rport"), Param("branch", "z9hG4bKx"), Param("received", "192.0.2.9")),
        ),
    ),
    (
        "rfc4475-wide-whitespace",
        "SIP  /   2.0 /UDP    192.0.2.2;rport;branch=390skdjuw",
        Via("UDP", "192.0.2.2", None, (Param("rport"), Param("branch", "390skdjuw"))),
    ),
    (
        "lowercase-transport",
        "sip/2.0/tls h.example.com : 5061 ; branch = z9hG4bK1",
        Via("TLS", "h.example.com", 5061, (Param("branch", "z9hG4bK1"),)),
    ),
    (
        "ipv6-received",
        "SIP/2.0/UDP [2001:db8::9:1]:5060;branch=z9hG4bKas3;received=2001:db8::9:255",
        Via(
            "UDP",
            "[2001:db8::9:1]",
            5060,
            (Param("branch", "z9hG4bKas3"), Param("received", "2001:db8::9:255")),
        ),
    ),
    ("no-branch", "SIP/2.0/UDP h", Via("UDP", "h")),
]


@pytest.mark.parametrize(("text", "expected"), [v[1:] for v in VIAS], ids=[v[0] for v in VIAS])
def test_parse_via(text: str, expected: Via) -> None:
    via = parse_via(text)
    assert via == expected
    assert parse_via(format_via(via)) == via


@pytest.mark.parametrize(
    "text",
    [
        "SIP/2.0 UDP host",
        "SIP/3.0/UDP host",
        "SIP/2.0/UDP",
        "SIP/2.0/UDP host;",
        "SIP/2.0/UDP host:port",
        "SIP/2.0/UDP host;branch=a b",
        "SIP/2.0/U<P host",
    ],
)
def test_bad_via(text: str) -> None:
    with pytest.raises(ParseError, match=r"^SIP parse error 400: Via: "):
        parse_via(text)


def test_cseq() -> None:
    assert parse_cseq("4711 INVITE") == CSeq(4711, "INVITE")
    assert parse_cseq("  0\t  OPTIONS ") == CSeq(0, "OPTIONS")
    for bad in (
        "abc INVITE",
        "1",
        "1 INVITE x",
        "2147483648 INVITE",
        "-1 BYE",
        "1 IN<VITE",
        "١ BYE",
    ):
        with pytest.raises(ParseError) as caught:
            parse_cseq(bad)
        assert caught.value.problem.startswith("CSeq: ")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("0", 0),
        ("5060", 5060),
        ("007", 7),
        ("", None),
        ("123456", None),  # over max_digits
        ("\uff11\uff12", None),  # fullwidth: int() reads 12
        ("\u0661", None),  # Arabic-Indic: int() reads 1
        ("\u00b2", None),  # superscript: isdigit() says yes, int() raises
        ("1_0", None),  # int() reads 10
        ("+7", None),
        (" 7", None),
        ("-1", None),
    ],
    ids=repr,
)
def test_wire_number_takes_ascii_digits_only(text: str, expected: int | None) -> None:
    assert wire_number(text, 5) == expected


@pytest.mark.parametrize(
    ("via", "port"),
    [
        ("SIP/2.0/UDP 192.0.2.1:5070;rport=6000;received=198.51.100.1", 6000),
        ("SIP/2.0/UDP 192.0.2.1:5070;rport=1_0", 5070),
        ("SIP/2.0/UDP 192.0.2.1:5070;rport=70000", 5070),
        ("SIP/2.0/UDP 192.0.2.1;rport", 5060),
    ],
    ids=["rport", "underscore", "out-of-range", "empty"],
)
def test_responses_follow_rport_only_when_it_is_a_port(via: str, port: int) -> None:
    assert flow_of_via(via).port == port
