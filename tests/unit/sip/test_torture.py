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


# Invalid messages: (id, data, status, problem fragment, addressable)
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
        False,
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
        False,
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
        "bad request line",
        False,
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
        "content",
        False,
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
    if fragment != "content":
        assert fragment in error.problem
    assert (error.request_head is not None) == addressable
    if error.request_head is not None:
        assert error.request_head.headers.get("Call-ID") == "torture-1@192.0.2.1"


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
