"""Odd-but-valid and invalid messages in the spirit of RFC 4475 (and RFC 5118 for IPv6).

The messages are our own; each names the RFC 4475 case it imitates where there is one.
"""

from __future__ import annotations

import pytest

from switchboard.sip.message import Param, Request, Response, SipUri
from switchboard.sip.parse import (
    Limits,
    ParseError,
    contacts,
    cseq,
    from_,
    parse_message,
    serialise,
    to,
    top_via,
    vias,
)

HEAD = [
    "Via: SIP/2.0/UDP 192.0.2.1;branch=z9hG4bK-t1",
    "To: <sip:64123@example.se>",
    "From: <sip:caller@example.com>;tag=f1",
    "Call-ID: torture-1@192.0.2.1",
    "CSeq: 1 INVITE",
    "Max-Forwards: 70",
]


def raw(*lines: str, body: bytes = b"", length: int | None = None) -> bytes:
    """Lines joined by CRLF, Content-Length (real unless given), blank line, body."""
    size = len(body) if length is None else length
    return "\r\n".join([*lines, f"Content-Length: {size}", "", ""]).encode() + body


def invite(*extra: str, start: str = "INVITE sip:64123@example.se SIP/2.0") -> bytes:
    return raw(start, *HEAD, *extra)


def test_wide_whitespace_and_folding_rfc4475_wsinv() -> None:
    data = (
        b"INVITE sip:vivekg@chair-dnrc.example.com;unknownparam SIP/2.0\r\n"
        b"TO :\r\n sip:vivekg@chair-dnrc.example.com ;   tag    = 1918181833n\r\n"
        b'from   : "J Rosenberg \\\\\\""       <sip:jdrosen@example.com>\r\n'
        b"  ;\r\n  tag = 98asjd8\r\n"
        b"MaX-fOrWaRdS: 0068\r\n"
        b"Call-ID: wsinv.ndaksdj@192.0.2.1\r\n"
        b"Content-Length   : 0\r\n"
        b"cseq: 0009\r\n  INVITE\r\n"
        b"Via  : SIP  /   2.0\r\n /UDP\r\n    192.0.2.2;rport;branch=390skdjuw\r\n"
        b"s :\r\n"
        b"NewFangledHeader:   newfangled value\r\n continued newfangled value\r\n"
        b"UnknownHeaderWithUnusualValue: ;;,,;;,;\r\n"
        b"\r\n"
    )
    msg = parse_message(data)
    assert isinstance(msg, Request)
    assert msg.uri.params == (Param("unknownparam"),)
    assert to(msg).tag == "1918181833n"
    assert from_(msg).display == 'J Rosenberg \\"'
    assert from_(msg).tag == "98asjd8"
    assert msg.headers.get("Max-Forwards") == "0068"
    assert cseq(msg).number == 9
    assert top_via(msg).host == "192.0.2.2"
    assert top_via(msg).branch == "390skdjuw"
    assert msg.headers.get("Subject") == ""
    assert msg.headers.get("newfangledheader") == "newfangled value continued newfangled value"
    assert msg.headers.get("UnknownHeaderWithUnusualValue") == ";;,,;;,;"
    names = [name for name, _ in msg.headers.items]
    assert names[:4] == ["To", "From", "Max-Forwards", "Call-ID"]
    assert parse_message(serialise(msg)) == msg


def test_compact_forms_expand() -> None:
    data = raw(
        "OPTIONS sip:64123@example.se SIP/2.0",
        "v: SIP/2.0/UDP 192.0.2.1;branch=z9hG4bK-c",
        "t: <sip:64123@example.se>",
        "f: <sip:a@example.com>;tag=1",
        "i: compact@x",
        "CSeq: 7 OPTIONS",
        "m: <sip:a@192.0.2.1>",
        "k: timer",
        "c: text/plain",
        "e: gzip",
        "s: hello",
        "o: presence",
        "r: <sip:b@example.se>",
        "b: <sip:c@example.se>",
        "u: talk, hold",
        "x: 1800",
    )
    msg = parse_message(data)
    assert [name for name, _ in msg.headers.items] == [
        "Via", "To", "From", "Call-ID", "CSeq", "Contact", "Supported", "Content-Type",
        "Content-Encoding", "Subject", "Event", "Refer-To", "Referred-By", "Allow-Events",
        "Allow-Events", "Session-Expires", "Content-Length",
    ]  # fmt: skip


def test_comma_separated_vias_and_contacts() -> None:
    msg = parse_message(
        invite(
            "Via: SIP/2.0/UDP a.example.com;branch=z9hG4bK-2, SIP/2.0/TCP [2001:db8::1]:5060"
            ";branch=z9hG4bK-3 ,SIP/2.0/UDP c.example.com;branch=z9hG4bK-4",
            'Contact: "Doe, John" <sip:jd@a.example.com>;x="a,<b>";q=0.5, <sip:jd@b>',
            "Allow: INVITE,ACK ,  BYE",
            'Warning: 307 isi.edu "Session parameter \'foo\' not understood", 301 isi.edu "x"',
            'WWW-Authenticate: Digest realm="r", nonce="n", algorithm=MD5',
            "Date: Sat, 13 Nov 2010 23:29:00 GMT",
            "X-Unknown: a, b",
        )
    )
    assert [v.branch for v in vias(msg)] == [f"z9hG4bK-{n}" for n in ("t1", "2", "3", "4")]
    assert vias(msg)[2].host == "[2001:db8::1]"
    found = contacts(msg)
    assert found != "*"
    assert [c.display for c in found] == ["Doe, John", None]
    assert msg.headers.get_all("Allow") == ("INVITE", "ACK", "BYE")
    assert len(msg.headers.get_all("Warning")) == 2
    assert len(msg.headers.get_all("WWW-Authenticate")) == 1
    assert msg.headers.get("Date") == "Sat, 13 Nov 2010 23:29:00 GMT"
    assert msg.headers.get("X-Unknown") == "a, b"
    assert parse_message(serialise(msg)) == msg


def test_escaped_uri_and_long_values() -> None:
    long_token = "a" * 4000
    msg = parse_message(
        invite(
            f"X-Long: {long_token}",
            f"Subject: {'€' * 500}",
            start=f"INVITE sip:%22caller%22@example.se;p={long_token} SIP/2.0",
        )
    )
    assert isinstance(msg, Request)
    assert msg.uri.user == "%22caller%22"
    assert msg.uri.param("p") == long_token
    assert msg.headers.get("Subject") == "€" * 500


def test_unknown_scheme_in_header_is_lazy() -> None:
    msg = parse_message(invite("Contact: <http://www.example.com/home>"))
    with pytest.raises(ParseError) as caught:
        contacts(msg)
    assert caught.value.status == 416


def test_ipv6_request_uri_rfc5118() -> None:
    msg = parse_message(invite(start="INVITE sip:[2001:db8::10]:5070 SIP/2.0"))
    assert isinstance(msg, Request)
    assert msg.uri == SipUri("[2001:db8::10]", port=5070)


def test_unknown_method_is_not_a_parse_error() -> None:
    data = raw(
        "NEWMETHOD sip:64123@example.se SIP/2.0",
        *[h.replace("1 INVITE", "1 NEWMETHOD") for h in HEAD],
    )
    msg = parse_message(data)
    assert isinstance(msg, Request)
    assert msg.method == "NEWMETHOD"


def test_utf8_reason_phrase_and_leading_crlf() -> None:
    data = b"\r\n\r\n" + raw("SIP/2.0 486 Upptagen – försök igen", *HEAD)
    msg = parse_message(data)
    assert isinstance(msg, Response)
    assert (msg.status, msg.reason) == (486, "Upptagen – försök igen")


def test_udp_trailing_bytes_discarded_and_no_length_means_rest() -> None:
    data = raw("MESSAGE sip:a@b SIP/2.0", *HEAD, length=5).replace(b"1 INVITE", b"1 MESSAGE")
    msg = parse_message(data + b"hello, and more")
    assert msg.body == b"hello"
    no_length = "\r\n".join(["MESSAGE sip:a@b SIP/2.0", *HEAD, "", "hi there"])
    msg = parse_message(no_length.replace("1 INVITE", "1 MESSAGE").encode())
    assert msg.body == b"hi there"
    assert "Content-Length" not in msg.headers


def test_content_length_value_normalised() -> None:
    msg = parse_message(raw("INVITE sip:a@b SIP/2.0", *HEAD, length=0).replace(b": 0", b": 000"))
    assert msg.headers.get("Content-Length") == "0"


def with_cseq(value: str) -> bytes:
    return raw("INVITE sip:a@b SIP/2.0", *HEAD[:4], f"CSeq: {value}", *HEAD[5:])


def without(*names: str) -> bytes:
    kept = [line for line in HEAD if line.partition(":")[0] not in names]
    return raw("INVITE sip:64123@example.se SIP/2.0", *kept)


# Invalid messages: (id, data, status, problem fragment, addressable). Addressable: the
# top Via reads, so a response can go back and be matched by its branch (RFC 4475 insuf).
INVALID = [
    (
        "content-length-too-big",
        raw("INVITE sip:a@b SIP/2.0", *HEAD, length=10),
        400,
        "Content-Length: 10",
        True,
    ),
    (
        "content-length-negative",
        raw("INVITE sip:a@b SIP/2.0", *HEAD, length=-1),
        400,
        "Content-Length: not",
        True,
    ),
    (
        "content-length-twice",
        invite("Content-Length: 0"),
        400,
        "Content-Length: appears more",
        True,
    ),
    (
        "missing-call-id",
        raw("INVITE sip:a@b SIP/2.0", *HEAD[:3], *HEAD[4:]),
        400,
        "missing mandatory header Call-ID",
        True,
    ),
    (
        "missing-via",
        raw("INVITE sip:a@b SIP/2.0", *HEAD[1:]),
        400,
        "missing mandatory header Via",
        False,
    ),
    (
        "cseq-method-mismatch",
        invite(start="OPTIONS sip:a@b SIP/2.0"),
        400,
        "CSeq: method 'INVITE' is not 'OPTIONS'",
        True,
    ),
    (
        "cseq-not-number",
        raw("INVITE sip:a@b SIP/2.0", *HEAD[:4], "CSeq: abc INVITE", *HEAD[5:]),
        400,
        "CSeq: not a number",
        True,
    ),
    (
        "version-7",
        invite(start="INVITE sip:a@b SIP/7.0"),
        505,
        "unsupported version 'SIP/7.0'",
        True,
    ),
    ("response-version-7", raw("SIP/7.0 200 OK", *HEAD), 505, "unsupported version", False),
    ("bad-request-uri", invite(start="INVITE sip:a@b@c:x SIP/2.0"), 400, "Request-URI: ", True),
    (
        "request-uri-unknown-scheme",
        invite(start="INVITE http://example.com/ SIP/2.0"),
        416,
        "Request-URI: unsupported URI scheme",
        True,
    ),
    (
        "extra-spaces-in-request-line",
        invite(start="INVITE  sip:a@b SIP/2.0"),
        400,
        "Request-URI: whitespace around",
        True,
    ),
    (
        "lowercase-sip-but-no-version",
        invite(start="INVITE sip:a@b HTTP/1.1"),
        400,
        "bad request line",
        False,
    ),
    (
        "unterminated-quote-in-from",
        raw("INVITE sip:a@b SIP/2.0", *HEAD[:2], 'From: "Bob <sip:b@c>;tag=1', *HEAD[3:]),
        400,
        "From: unterminated quoted string",
        True,
    ),
    (
        "header-without-colon",
        invite("This line has no colon"),
        400,
        "header line without colon",
        True,
    ),
    ("bad-header-name", invite("Bad Name: x"), 400, "bad header name", True),
    (
        "continuation-first",
        raw("INVITE sip:a@b SIP/2.0", " folded", *HEAD),
        400,
        "continuation line",
        True,
    ),
    ("status-code-bad", raw("SIP/2.0 2000 OK", *HEAD), 400, "bad status line", False),
    *[
        (f"cseq-{name}", with_cseq(value), 400, fragment, True)
        for name, value, fragment in [
            ("over-2**31", "2147483648 INVITE", "below 2**31"),
            ("ten-digits-over", "4294967296 INVITE", "below 2**31"),
            ("scalar02", "36893488147419103232 INVITE", "below 2**31"),
            ("negative", "-1 INVITE", "below 2**31"),
            ("no-method", "1", "expected 'number METHOD'"),
            ("only-method", "INVITE", "expected 'number METHOD'"),
            ("empty", "", "expected 'number METHOD'"),
            # int() reads these as 12 and 1; the wire allows ASCII digits only.
            ("fullwidth-digits", "\uff11\uff12 INVITE", "below 2**31"),
            ("arabic-indic-digit", "\u0661 INVITE", "below 2**31"),
            ("superscript-digit", "\u00b9 INVITE", "below 2**31"),
            ("underscore", "1_0 INVITE", "below 2**31"),
        ]
    ],
    (
        "lwsruri",
        invite(start="INVITE sip:64123@exa mple.se SIP/2.0"),
        400,
        "whitespace inside the Request-URI",
        True,
    ),
    (
        "lwsruri-user",
        invite(start="INVITE sip:641 23@example.se;user=phone SIP/2.0"),
        400,
        "whitespace inside the Request-URI",
        True,
    ),
    (
        "trailing-space-in-request-line",
        invite(start="INVITE sip:64123@example.se SIP/2.0 "),
        400,
        "whitespace around",
        True,
    ),
    (
        "badvers-via-same-version",
        raw(
            "OPTIONS sip:64123@example.se SIP/7.0",
            "Via: SIP/7.0/UDP 192.0.2.1;branch=z9hG4bK-t1",
            *HEAD[1:4],
            "CSeq: 1 OPTIONS",
        ),
        505,
        "unsupported version 'SIP/7.0'",
        True,
    ),
    (
        "badvers-via-other-version",
        raw(
            "OPTIONS sip:64123@example.se SIP/7.0",
            "Via: SIP/8.0/UDP 192.0.2.1;branch=z9hG4bK-t1",
            *HEAD[1:4],
            "CSeq: 1 OPTIONS",
        ),
        505,
        "unsupported version 'SIP/7.0'",
        False,
    ),
    ("insuf-no-from", without("From"), 400, "missing mandatory header From", True),
    ("insuf-no-to", without("To"), 400, "missing mandatory header To", True),
    (
        "insuf-rfc4475",
        without("From", "To", "Call-ID"),
        400,
        "missing mandatory header From, To, Call-ID",
        True,
    ),
    ("insuf-no-cseq", without("CSeq"), 400, "missing mandatory header CSeq", True),
    (
        "empty-call-id",
        raw("INVITE sip:a@b SIP/2.0", *HEAD[:3], "Call-ID:", *HEAD[4:]),
        400,
        "Call-ID: bad value ''",
        True,
    ),
    (
        "space-in-call-id",
        raw("INVITE sip:a@b SIP/2.0", *HEAD[:3], "Call-ID: a b", *HEAD[4:]),
        400,
        "Call-ID: bad value 'a b'",
        True,
    ),
    (
        "rfc2543-via-without-branch-and-headers",
        raw("OPTIONS sip:a@b SIP/2.0", "Via: SIP/2.0/UDP 192.0.2.1", "CSeq: x OPTIONS"),
        400,
        "missing mandatory header From, To, Call-ID",
        False,
    ),
    (
        "space-in-header-name",
        invite().replace(b"From:", b"Fr om:"),
        400,
        "bad header name 'Fr om'",
        True,
    ),
    (
        "space-in-call-id-name",
        invite().replace(b"Call-ID:", b"Call ID:"),
        400,
        "bad header name 'Call ID'",
        True,
    ),
    (
        "quotbal-to",
        invite().replace(b"To: <", b'To: "Anna Berg <'),
        400,
        "To: unterminated quoted string",
        True,
    ),
    (
        "quotbal-from-escaped-close",
        invite().replace(b"From: <", b'From: "Bob \\" <'),
        400,
        "From: unterminated quoted string",
        True,
    ),
    (
        "to-unterminated-uri",
        invite().replace(b"To: <sip:64123@example.se>", b"To: <sip:64123@example.se"),
        400,
        "To: unterminated <URI>",
        True,
    ),
    ("status-code-low", raw("SIP/2.0 099 Odd", *HEAD), 400, "bad status line", False),
    ("no-blank-line", b"INVITE sip:a@b SIP/2.0\r\nVia: SIP/2.0/UDP h", 400, "no empty line", False),
    ("bare-lf", invite("X-A: a\nInjected: b"), 400, "bare CR or LF", False),
    ("two-from", invite("From: <sip:x@y>;tag=2"), 400, "From: appears more than once", True),
    (
        "too-many-headers",
        invite(*[f"X-H{n}: v" for n in range(100)]),
        400,
        "more than 100 header fields",
        True,
    ),
]


def parse_and_read_from(data: bytes) -> None:
    """Some errors sit in values typed lazily (From): the reader must catch those."""
    from_(parse_message(data))


@pytest.mark.parametrize(
    ("data", "status", "fragment", "addressable"),
    [row[1:] for row in INVALID],
    ids=[row[0] for row in INVALID],
)
def test_invalid(data: bytes, status: int, fragment: str, addressable: bool) -> None:
    with pytest.raises(ParseError) as caught:
        parse_and_read_from(data)
    error = caught.value
    assert error.status == status
    assert fragment in error.problem
    assert (error.request_head is not None) == addressable
    if error.request_head is not None:
        assert (error.request_head.headers.get("Via") or "").endswith(";branch=z9hG4bK-t1")
        assert error.request_head.uri.host in {"", "b", "example.se"}


def test_not_utf8_is_rejected() -> None:
    with pytest.raises(ParseError, match="not UTF-8") as caught:
        parse_message(invite().replace(b"Max-Forwards", b"Max-Forw\xffards"))
    assert caught.value.request_head is None


def test_oversized_message_is_513_and_still_addressable() -> None:
    data = invite(f"X-Pad: {'p' * 70000}")
    with pytest.raises(ParseError) as caught:
        parse_message(data)
    assert caught.value.status == 513
    assert caught.value.request_head is not None
    small = Limits(max_message_bytes=400)
    with pytest.raises(ParseError) as caught:
        parse_message(invite(f"X-Pad: {'p' * 200}"), small)
    assert caught.value.status == 513


def test_long_header_line_is_513() -> None:
    with pytest.raises(ParseError, match="header line over 100") as caught:
        parse_message(invite(f"X-Pad: {'p' * 100}"), Limits(max_header_line=100))
    assert caught.value.status == 513


def test_version_505_request_head_keeps_what_was_read() -> None:
    with pytest.raises(ParseError) as caught:
        parse_message(invite(start="INVITE sip:64123@example.se SIP/7.0"))
    head = caught.value.request_head
    assert head is not None
    assert head.method == "INVITE"
    assert head.uri == SipUri("example.se", "64123")
    assert head.version == "SIP/7.0"
    assert top_via(head).branch == "z9hG4bK-t1"


def test_keepalive_only_datagram_is_dropped() -> None:
    with pytest.raises(ParseError) as caught:
        parse_message(b"\r\n\r\n")
    assert caught.value.request_head is None
