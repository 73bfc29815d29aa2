"""SDP parsing and serialising: real offers, every refusal with its line, fuzzing."""

from __future__ import annotations

import contextlib
import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from switchboard.media.sdp import (
    Attribute,
    Connection,
    Direction,
    Origin,
    RtpMap,
    SdpError,
    SessionDescription,
    serialise,
)
from switchboard.media.sdp_parse import MAX_BYTES, MAX_LINES, MAX_MEDIA, parse
from tests.unit.media.sdp_strategies import descriptions

# RFC 4566 §5's example, as printed there.
RFC4566 = (
    "v=0\r\n"
    "o=jdoe 2890844526 2890842807 IN IP4 10.47.16.5\r\n"
    "s=SDP Seminar\r\n"
    "i=A Seminar on the session description protocol\r\n"
    "u=http://www.example.com/seminars/sdp.pdf\r\n"
    "e=j.doe@example.com (Jane Doe)\r\n"
    "c=IN IP4 224.2.17.12/127\r\n"
    "t=2873397496 2873404696\r\n"
    "a=recvonly\r\n"
    "m=audio 49170 RTP/AVP 0\r\n"
    "m=video 51372 RTP/AVP 99\r\n"
    "a=rtpmap:99 h263-1998/90000\r\n"
)

# What a desk phone offers: two laws, events, ptime, with bare LF line ends.
PHONE = (
    "v=0\n"
    "o=- 1234 5678 IN IP4 192.0.2.10\n"
    "s=call\n"
    "c=IN IP4 192.0.2.10\n"
    "t=0 0\n"
    "m=audio 40000 RTP/AVP 8 0 18 101\n"
    "a=rtpmap:8 PCMA/8000\n"
    "a=rtpmap:0 PCMU/8000\n"
    "a=rtpmap:18 G729/8000\n"
    "a=fmtp:18 annexb=no\n"
    "a=rtpmap:101 telephone-event/8000\n"
    "a=fmtp:101 0-16\n"
    "a=ptime:20\n"
    "a=sendrecv\n"
    "a=x-unknown-thing:with value\n"
)

IPV6_HOLD = (
    "v=0\r\n"
    "o=alice 1 2 IN IP6 2001:db8::1\r\n"
    "s=-\r\n"
    "t=0 0\r\n"
    "a=sendonly\r\n"
    "m=audio 5004 RTP/AVP 0\r\n"
    "c=IN IP6 2001:db8::1\r\n"
    "a=ptime:30.0\r\n"
)


def test_rfc4566_example() -> None:
    sd = parse(RFC4566)
    assert sd.origin == Origin("jdoe", 2890844526, 2890842807, "IP4", "10.47.16.5")
    assert sd.name == "SDP Seminar"
    assert sd.connection == Connection("IP4", "224.2.17.12")
    assert sd.timing == (2873397496, 2873404696)
    assert sd.direction is Direction.RECVONLY
    audio, video = sd.media
    assert (audio.kind, audio.port, audio.protocol, audio.formats) == (
        "audio",
        49170,
        "RTP/AVP",
        ("0",),
    )
    assert audio.rtpmap(0) is None  # static payload type, no rtpmap needed
    assert video.rtpmap(99) == RtpMap(99, "h263-1998", 90000)
    assert sd.direction_for(audio) is Direction.RECVONLY
    assert sd.connection_for(video) == sd.connection


def test_a_phone_offer_with_bare_line_feeds() -> None:
    sd = parse(PHONE.encode())
    (audio,) = sd.media
    assert audio.formats == ("8", "0", "18", "101")
    assert audio.rtpmap(101) == RtpMap(101, "telephone-event", 8000)
    assert audio.fmtp("101") == "0-16"
    assert audio.fmtp("18") == "annexb=no"
    assert audio.fmtp("0") is None
    assert audio.ptime == 20
    assert audio.direction is Direction.SENDRECV
    assert audio.attributes == (Attribute("x-unknown-thing", "with value"),)


def test_ipv6_media_level_connection_and_decimal_ptime() -> None:
    sd = parse(IPV6_HOLD)
    (audio,) = sd.media
    assert sd.connection is None
    assert sd.connection_for(audio) == Connection("IP6", "2001:db8::1")
    assert audio.ptime == 30
    assert sd.direction_for(audio) is Direction.SENDONLY


def test_hold_address() -> None:
    sd = parse(PHONE.replace("c=IN IP4 192.0.2.10", "c=IN IP4 0.0.0.0"))
    assert sd.connection is not None
    assert sd.connection.is_hold
    assert not Connection("IP4", "192.0.2.1").is_hold


def test_domain_names_and_port_counts() -> None:
    sd = parse(
        "v=0\r\no=- 1 1 IN IP4 host.example.com\r\ns=-\r\nc=IN IP4 media.example.com\r\n"
        "t=0 0\r\nm=audio 49170/2 RTP/AVP 0\r\nm=application 9 TCP/BFCP *\r\n"
    )
    assert sd.connection == Connection("IP4", "media.example.com")
    assert sd.media[0].port_count == 2
    assert sd.media[1].formats == ("*",)


def test_session_level_rtpmap_is_kept_as_a_plain_attribute() -> None:
    sd = parse(PHONE.replace("t=0 0\n", "t=0 0\na=rtpmap:0 PCMU/8000\na=ptime:20\n"))
    assert sd.attributes == (Attribute("rtpmap", "0 PCMU/8000"), Attribute("ptime", "20"))


def test_trailing_blank_lines_and_extra_t_lines() -> None:
    sd = parse(PHONE.replace("t=0 0\n", "t=0 0\nr=7d 1h 0 25h\nt=1 2\n") + "\n\r\n")
    assert sd.timing == (0, 0)


BAD: list[tuple[str, str, int | None, str]] = [
    ("empty", "", None, "empty"),
    ("not v first", "o=- 1 1 IN IP4 1.2.3.4\r\n", 1, "v=0"),
    ("version 1", RFC4566.replace("v=0", "v=1"), 1, "v=0"),
    ("no origin", "v=0\r\ns=-\r\n", 2, "o="),
    ("no name", "v=0\r\no=- 1 1 IN IP4 1.2.3.4\r\nt=0 0\r\n", 3, "s="),
    ("short origin", PHONE.replace("o=- 1234 5678 IN", "o=- 1234 IN"), 2, "6 fields"),
    ("fullwidth id", PHONE.replace("o=- 1234", "o=- １２３４"), 2, "decimal number"),
    ("double space", PHONE.replace("IN IP4 192.0.2.10\ns", "IN  IP4 192.0.2.10\ns"), 2, "single"),
    ("not IN", PHONE.replace("c=IN IP4", "c=ATM IP4"), 4, "not IN"),
    ("IP5", PHONE.replace("c=IN IP4", "c=IN IP5"), 4, "neither IP4 nor IP6"),
    ("bad ip4", PHONE.replace("c=IN IP4 192.0.2.10", "c=IN IP4 192.0.2.300"), 4, "not an IP4"),
    ("ip6 as ip4", PHONE.replace("c=IN IP4 192.0.2.10", "c=IN IP4 2001:db8::1"), 4, "IP4"),
    ("bad ip6", IPV6_HOLD.replace("c=IN IP6 2001:db8::1", "c=IN IP6 2001:db8:::1"), 7, "IP6"),
    ("no t", PHONE.replace("t=0 0\n", ""), 5, "no t="),
    ("unknown type", PHONE.replace("t=0 0\n", "t=0 0\ny=why\n"), 6, "unknown line y="),
    ("t in media", PHONE + "t=0 0\n", 16, "does not belong in a media section"),
    ("upper case", PHONE.replace("a=ptime:20", "A=ptime:20"), 13, "<type>=<value>"),
    ("no equals", PHONE.replace("a=ptime:20", "a ptime:20"), 13, "<type>=<value>"),
    ("two c", PHONE.replace("t=0 0\n", "c=IN IP4 1.2.3.4\nt=0 0\n"), 5, "second c="),
    ("big port", PHONE.replace("audio 40000", "audio 70000"), 6, "larger than 65535"),
    ("pt 128", PHONE.replace("RTP/AVP 8 0", "RTP/AVP 128 0"), 6, "payload type 128"),
    ("pt word", PHONE.replace("RTP/AVP 8 0", "RTP/AVP PCMA 0"), 6, "decimal number"),
    ("no formats", PHONE.replace("RTP/AVP 8 0 18 101", "RTP/AVP"), 6, "formats"),
    ("rtpmap no rate", PHONE.replace("PCMA/8000", "PCMA"), 7, "clock rate"),
    ("rtpmap twice", PHONE.replace("rtpmap:0 ", "rtpmap:8 "), 8, "second rtpmap"),
    ("direction value", PHONE.replace("a=sendrecv", "a=sendrecv:yes"), 14, "takes no value"),
    ("two directions", PHONE.replace("a=sendrecv", "a=sendrecv\na=inactive"), 15, "second"),
    ("ptime word", PHONE.replace("a=ptime:20", "a=ptime:twenty"), 13, "ptime"),
    ("empty info", PHONE.replace("t=0 0\n", "t=0 0\ni=\n"), 6, "i= is empty"),
    ("nul", PHONE.replace("s=call", "s=ca\0ll"), 3, "NUL"),
    ("cr inside", PHONE.replace("s=call", "s=ca\rll"), 3, "CR"),
    ("ttl word", RFC4566.replace("/127", "/ttl"), 7, "ttl"),
]


@pytest.mark.parametrize(("body", "line", "says"), [b[1:] for b in BAD], ids=[b[0] for b in BAD])
def test_refusals_name_the_line_and_the_fault(body: str, line: int | None, says: str) -> None:
    with pytest.raises(SdpError, match=says) as caught:
        parse(body)
    assert caught.value.line == line
    assert str(caught.value).startswith(f"SDP line {line}: " if line else "SDP: ")


def test_limits() -> None:
    with pytest.raises(SdpError, match="more than the"):
        parse(PHONE + "a=x:" + "y" * MAX_BYTES + "\n")
    with pytest.raises(SdpError, match=f"more than {MAX_LINES} lines"):
        parse(PHONE + "a=x\n" * MAX_LINES)
    with pytest.raises(SdpError, match=f"more than {MAX_MEDIA} media"):
        parse(PHONE + "m=audio 0 RTP/AVP 0\n" * MAX_MEDIA)
    with pytest.raises(SdpError, match="not UTF-8"):
        parse(PHONE.encode().replace(b"s=call", b"s=\xff"))


def test_serialise_writes_crlf_in_rfc_order() -> None:
    sd = parse(PHONE)
    text = serialise(sd).decode()
    assert text.endswith("\r\n")
    assert "\n" not in text.replace("\r\n", "")
    kinds = [line[0] for line in text.split("\r\n") if line]
    assert kinds[:5] == ["v", "o", "s", "c", "t"]
    assert parse(text) == sd


@pytest.mark.parametrize("body", [RFC4566, PHONE, IPV6_HOLD], ids=["rfc4566", "phone", "ipv6"])
def test_parse_serialise_parse_is_stable(body: str) -> None:
    once = parse(body)
    assert parse(serialise(once)) == once
    assert serialise(parse(serialise(once))) == serialise(once)


@given(descriptions)
def test_any_description_survives_serialise_then_parse(sd: SessionDescription) -> None:
    assert parse(serialise(sd)) == sd


@given(st.binary(max_size=600))
def test_random_bytes_raise_only_sdp_error(data: bytes) -> None:
    with contextlib.suppress(SdpError):
        parse(data)


_SPECIAL = ["\r\n", "\n", " ", "/", ":", "=", "-", "0", "９", "\0", "\ud7ff", "a=", "m="]


@given(st.integers(0, 2**32 - 1), st.sampled_from([RFC4566, PHONE, IPV6_HOLD]))
def test_mutated_offers_raise_only_sdp_error(seed: int, body: str) -> None:
    rng = random.Random(seed)  # noqa: S311 - reproducible mutations, not secrets
    text = list(body)
    for _ in range(rng.randint(1, 6)):
        where = rng.randrange(len(text) + 1)
        action = rng.randrange(3)
        if action == 0 and where < len(text):
            del text[where]
        elif action == 1:
            text.insert(where, rng.choice(_SPECIAL))
        else:
            text[where:where] = list(rng.choice(_SPECIAL) * rng.randint(1, 3))
    with contextlib.suppress(SdpError):
        parse("".join(text))


_LINE_TEXT = st.text(alphabet=" 0123456789./:-abcIPNMTUvxy*\u0660\uff10", max_size=30)
_LINE = st.tuples(st.sampled_from("acmtbiksvzx"), _LINE_TEXT).map(lambda t: f"{t[0]}={t[1]}")
_NAMED = st.sampled_from(
    ["a=rtpmap:", "a=fmtp:", "a=ptime:", "a=sendonly", "c=IN IP4 ", "c=IN IP6 ", "m=audio "]
)


@settings(max_examples=400)
@given(st.lists(st.one_of(_LINE, st.tuples(_NAMED, _LINE_TEXT).map("".join)), max_size=12))
def test_plausible_lines_raise_only_sdp_error(lines: list[str]) -> None:
    """Lines that look like SDP reach the deeper checks that random bytes never get past."""
    body = "v=0\r\no=- 1 1 IN IP4 192.0.2.1\r\ns=-\r\nt=0 0\r\n" + "\r\n".join(lines)
    with contextlib.suppress(SdpError):
        parse(body)
