"""Offer/answer (RFC 3264) for one G.711 stream with RFC 4733 events."""

from __future__ import annotations

from typing import TypedDict

import pytest
from hypothesis import given

from switchboard.media.g711 import Codec
from switchboard.media.offer_answer import (
    DEFAULT_CODECS,
    Answer,
    Negotiated,
    NotAcceptableError,
    accept_answer,
    answer,
    offer,
)
from switchboard.media.sdp import Direction, RtpMap, SdpError, SessionDescription, serialise
from switchboard.media.sdp_parse import parse
from tests.unit.media.sdp_strategies import descriptions

HEAD = "v=0\r\no=- 7 7 IN IP4 192.0.2.10\r\ns=-\r\nc=IN IP4 192.0.2.10\r\nt=0 0\r\n"


class Ours(TypedDict):
    address: str
    port: int
    session_id: int
    version: int


OURS: Ours = {"address": "198.51.100.5", "port": 20000, "session_id": 42, "version": 1}


def offered(media: str, head: str = HEAD) -> SessionDescription:
    return parse(head + media)


def answered(
    media: str, head: str = HEAD, codecs: tuple[Codec, ...] = DEFAULT_CODECS
) -> tuple[SessionDescription, Negotiated]:
    result = answer(offered(media, head), **OURS, codecs=codecs)
    # What we send must be what a peer parses back.
    assert parse(serialise(result.description)) == result.description
    return result.description, result.negotiated


PHONE_AUDIO = (
    "m=audio 40000 RTP/AVP 8 0 18 101\r\n"
    "a=rtpmap:8 PCMA/8000\r\na=rtpmap:0 PCMU/8000\r\na=rtpmap:18 G729/8000\r\n"
    "a=rtpmap:101 telephone-event/8000\r\na=fmtp:101 0-16\r\na=ptime:20\r\n"
)


def test_a_phone_offer_is_answered_with_its_first_g711_codec_and_events() -> None:
    description, negotiated = answered(PHONE_AUDIO)
    assert negotiated == Negotiated(Codec.PCMA, 8, 101, "192.0.2.10", 40000, 20, Direction.SENDRECV)
    assert not negotiated.on_hold
    text = serialise(description).decode()
    assert text == (
        "v=0\r\n"
        "o=switchboard 42 1 IN IP4 198.51.100.5\r\n"
        "s=-\r\n"
        "c=IN IP4 198.51.100.5\r\n"
        "t=0 0\r\n"
        "m=audio 20000 RTP/AVP 8 101\r\n"
        "a=rtpmap:8 PCMA/8000\r\n"
        "a=rtpmap:101 telephone-event/8000\r\n"
        "a=fmtp:101 0-15\r\n"
        "a=ptime:20\r\n"
        "a=sendrecv\r\n"
    )


def test_our_codec_list_limits_the_choice_but_the_offer_orders_it() -> None:
    _, only_mu = answered(PHONE_AUDIO, codecs=(Codec.PCMU,))
    assert (only_mu.codec, only_mu.payload_type) == (Codec.PCMU, 0)
    _, reversed_pref = answered(PHONE_AUDIO, codecs=(Codec.PCMU, Codec.PCMA))
    assert reversed_pref.codec is Codec.PCMA  # the offer's order wins (RFC 3264 §6.1)


CODEC_CASES = [
    ("static without rtpmap", "m=audio 5004 RTP/AVP 0\r\n", Codec.PCMU, 0),
    ("static A-law", "m=audio 5004 RTP/AVP 18 8\r\n", Codec.PCMA, 8),
    ("dynamic PCMU", "m=audio 5004 RTP/AVP 96\r\na=rtpmap:96 pcmu/8000\r\n", Codec.PCMU, 96),
    ("mono stated", "m=audio 5004 RTP/AVP 97\r\na=rtpmap:97 PCMA/8000/1\r\n", Codec.PCMA, 97),
    (
        "remapped static skipped",
        "m=audio 5004 RTP/AVP 0 8\r\na=rtpmap:0 opus/48000/2\r\n",
        Codec.PCMA,
        8,
    ),
    (
        "wideband skipped",
        "m=audio 5004 RTP/AVP 96 0\r\na=rtpmap:96 PCMU/16000\r\n",
        Codec.PCMU,
        0,
    ),
]


@pytest.mark.parametrize(
    ("media", "codec", "payload_type"),
    [c[1:] for c in CODEC_CASES],
    ids=[c[0] for c in CODEC_CASES],
)
def test_codec_matching(media: str, codec: Codec, payload_type: int) -> None:
    description, negotiated = answered(media)
    assert (negotiated.codec, negotiated.payload_type) == (codec, payload_type)
    assert description.media[0].formats == (str(payload_type),)
    assert description.media[0].rtpmap(payload_type) == RtpMap(payload_type, codec.name, 8000)


EVENT_CASES = [
    ("no fmtp means 0-15", "", 101),
    ("0-15", "a=fmtp:101 0-15\r\n", 101),
    ("list with more", "a=fmtp:101 0-9,10,11-15,32-49\r\n", 101),
    ("missing digits", "a=fmtp:101 0-11\r\n", None),
    ("garbage", "a=fmtp:101 zero-fifteen\r\n", None),
    ("fullwidth", "a=fmtp:101 ０-15\r\n", None),
    ("wide range", "a=fmtp:101 0-999\r\n", 101),
    ("only above the digits", "a=fmtp:101 16-255\r\n", None),
    ("four digits", "a=fmtp:101 0-1000\r\n", None),
]


@pytest.mark.parametrize(
    ("fmtp", "dtmf"), [c[1:] for c in EVENT_CASES], ids=[c[0] for c in EVENT_CASES]
)
def test_telephone_events_are_kept_when_they_cover_the_digits(fmtp: str, dtmf: int | None) -> None:
    media = "m=audio 5004 RTP/AVP 0 101\r\na=rtpmap:101 telephone-event/8000\r\n" + fmtp
    description, negotiated = answered(media)
    assert negotiated.dtmf_payload_type == dtmf
    assert description.media[0].formats == (("0", "101") if dtmf else ("0",))


def test_telephone_events_at_another_rate_are_ignored() -> None:
    media = "m=audio 5004 RTP/AVP 0 100\r\na=rtpmap:100 telephone-event/48000\r\n"
    assert answered(media)[1].dtmf_payload_type is None


REFUSALS = [
    ("no common codec", "m=audio 5004 RTP/AVP 18 9\r\n", 305, "no PCMU/PCMA"),
    ("video only", "m=video 5006 RTP/AVP 31\r\n", 304, "no RTP/AVP audio"),
    ("secure audio only", "m=audio 5004 RTP/SAVP 0\r\n", 304, "no RTP/AVP audio"),
    ("audio declined by port 0", "m=audio 0 RTP/AVP 0\r\n", 304, "no RTP/AVP audio"),
]


@pytest.mark.parametrize(
    ("media", "code", "says"), [r[1:] for r in REFUSALS], ids=[r[0] for r in REFUSALS]
)
def test_refusals_say_why_and_carry_a_warning_code(media: str, code: int, says: str) -> None:
    with pytest.raises(NotAcceptableError, match=says) as caught:
        answer(offered(media), **OURS)
    assert caught.value.warning_code == code


def test_an_address_we_cannot_send_to_is_refused() -> None:
    v6 = HEAD.replace("c=IN IP4 192.0.2.10", "c=IN IP6 2001:db8::1")
    with pytest.raises(NotAcceptableError, match="not an IP4 address") as caught:
        answer(offered("m=audio 5004 RTP/AVP 0\r\n", v6), **OURS)
    assert caught.value.warning_code == 301
    named = HEAD.replace("c=IN IP4 192.0.2.10", "c=IN IP4 media.example.com")
    with pytest.raises(NotAcceptableError, match="domain name"):
        answer(offered("m=audio 5004 RTP/AVP 0\r\n", named), **OURS)


def test_ipv6_on_both_sides() -> None:
    v6 = HEAD.replace("c=IN IP4 192.0.2.10", "c=IN IP6 2001:db8::1")
    result = answer(
        offered("m=audio 5004 RTP/AVP 0\r\n", v6),
        address="2001:db8::5",
        port=20002,
        session_id=1,
        version=1,
    )
    assert result.negotiated.remote_address == "2001:db8::1"
    assert b"c=IN IP6 2001:db8::5\r\n" in serialise(result.description)
    assert b"o=switchboard 1 1 IN IP6 2001:db8::5\r\n" in serialise(result.description)


def test_other_streams_are_declined_with_port_zero_in_the_offers_order() -> None:
    media = (
        "m=video 5006 RTP/AVP 31 34\r\n"
        "m=audio 5002 RTP/AVP 18\r\n"  # audio, but nothing we speak
        "m=audio 5004 RTP/AVP 0\r\n"
        "m=audio 5008 RTP/AVP 8\r\n"  # a second usable one: we take one stream only
    )
    description, negotiated = answered(media)
    assert [(m.kind, m.port, m.formats) for m in description.media] == [
        ("video", 0, ("31", "34")),
        ("audio", 0, ("18",)),
        ("audio", 20000, ("0",)),
        ("audio", 0, ("8",)),
    ]
    assert (negotiated.remote_port, negotiated.codec) == (5004, Codec.PCMU)


DIRECTIONS = [
    ("sendrecv", Direction.SENDRECV, False),
    ("sendonly", Direction.RECVONLY, True),
    ("recvonly", Direction.SENDONLY, False),
    ("inactive", Direction.INACTIVE, True),
]


@pytest.mark.parametrize(("theirs", "ours", "hold"), DIRECTIONS, ids=[d[0] for d in DIRECTIONS])
def test_direction_is_mirrored(theirs: str, ours: Direction, hold: bool) -> None:
    description, negotiated = answered(f"m=audio 5004 RTP/AVP 0\r\na={theirs}\r\n")
    assert description.media[0].direction is ours
    assert negotiated.direction is ours
    assert negotiated.on_hold is hold


def test_session_level_direction_and_zero_address_mean_hold() -> None:
    head = HEAD.replace("192.0.2.10\r\nt", "0.0.0.0\r\nt") + "a=sendonly\r\n"
    _, negotiated = answered("m=audio 5004 RTP/AVP 0\r\n", head=head)
    assert negotiated.on_hold
    assert negotiated.direction is Direction.RECVONLY


def test_the_peers_ptime_is_reported() -> None:
    assert answered("m=audio 5004 RTP/AVP 0\r\na=ptime:30\r\n")[1].ptime == 30
    assert answered("m=audio 5004 RTP/AVP 0\r\n")[1].ptime == 20


@given(descriptions)
def test_any_offer_is_answered_by_rfc3264_rules_or_refused(sd: SessionDescription) -> None:
    result: Answer | NotAcceptableError
    try:
        result = answer(sd, **OURS)
    except NotAcceptableError as refused:
        result = refused
    if isinstance(result, NotAcceptableError):
        assert result.warning_code in (301, 304, 305)
        return
    ours = result.description
    assert [m.kind for m in ours.media] == [m.kind for m in sd.media]
    live = [i for i, m in enumerate(ours.media) if m.port != 0]
    assert len(live) == 1
    theirs = sd.media[live[0]]
    assert theirs.kind == "audio"
    assert theirs.port != 0
    assert str(result.negotiated.payload_type) in theirs.formats
    assert parse(serialise(ours)) == ours


# -- our own offer (late offer: INVITE without SDP) --------------------------------------


def test_our_offer_lists_codecs_in_our_order_with_events() -> None:
    sd = offer(**OURS, codecs=(Codec.PCMA, Codec.PCMU))
    text = serialise(sd).decode()
    assert "m=audio 20000 RTP/AVP 8 0 101\r\n" in text
    assert "a=fmtp:101 0-15\r\n" in text
    assert parse(text) == sd
    bare = offer(**OURS, dtmf_payload_type=None)
    assert bare.media[0].formats == ("0", "8")


def test_the_caller_answers_our_offer_in_the_ack() -> None:
    """The peer is played by our own ``answer``: each side must agree on what flows."""
    ours = offer(**OURS, codecs=(Codec.PCMA, Codec.PCMU))
    peer = answer(
        parse(serialise(ours)),
        address="192.0.2.10",
        port=40000,
        session_id=9,
        version=1,
        codecs=(Codec.PCMU,),
    )
    settled = accept_answer(ours, parse(serialise(peer.description)))
    assert settled == Negotiated(Codec.PCMU, 0, 101, "192.0.2.10", 40000, 20, Direction.SENDRECV)
    assert peer.negotiated.codec is settled.codec


def _answer_text(media: str) -> SessionDescription:
    return parse(HEAD + media)


ACCEPT_CASES: list[tuple[str, str, Negotiated | str]] = [
    (
        "answerer's payload numbers",
        "m=audio 40000 RTP/AVP 8 96\r\na=rtpmap:96 telephone-event/8000\r\na=recvonly\r\n",
        Negotiated(Codec.PCMA, 8, 96, "192.0.2.10", 40000, 20, Direction.SENDONLY),
    ),
    (
        "no events in the answer",
        "m=audio 40000 RTP/AVP 0\r\na=ptime:30\r\n",
        Negotiated(Codec.PCMU, 0, None, "192.0.2.10", 40000, 30, Direction.SENDRECV),
    ),
    ("declined", "m=audio 0 RTP/AVP 0\r\n", "declined the audio stream"),
    ("codec not offered", "m=audio 40000 RTP/AVP 18\r\n", "none of the codecs we offered"),
    ("two sections", "m=audio 4000 RTP/AVP 0\r\nm=video 0 RTP/AVP 31\r\n", "2 media sections"),
]


@pytest.mark.parametrize(
    ("media", "expected"), [c[1:] for c in ACCEPT_CASES], ids=[c[0] for c in ACCEPT_CASES]
)
def test_accepting_an_answer(media: str, expected: Negotiated | str) -> None:
    ours = offer(**OURS)
    if isinstance(expected, Negotiated):
        assert accept_answer(ours, _answer_text(media)) == expected
    else:
        with pytest.raises(SdpError, match=expected):
            accept_answer(ours, _answer_text(media))


def test_events_are_not_used_unless_we_offered_them() -> None:
    ours = offer(**OURS, dtmf_payload_type=None)
    media = "m=audio 40000 RTP/AVP 0 101\r\na=rtpmap:101 telephone-event/8000\r\n"
    assert accept_answer(ours, _answer_text(media)).dtmf_payload_type is None


def test_an_answer_without_an_address_is_refused() -> None:
    ours = offer(**OURS)
    head = HEAD.replace("c=IN IP4 192.0.2.10\r\n", "")
    with pytest.raises(SdpError, match="no c= address"):
        accept_answer(ours, parse(head + "m=audio 40000 RTP/AVP 0\r\n"))
