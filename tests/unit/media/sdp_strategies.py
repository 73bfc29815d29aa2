"""Hypothesis strategies for SDP values, shared by the SDP and offer/answer tests."""

from __future__ import annotations

from hypothesis import strategies as st

from switchboard.media.sdp import (
    Attribute,
    Connection,
    Direction,
    Fmtp,
    Media,
    Origin,
    RtpMap,
    SessionDescription,
)

_tokens = st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789-.", min_size=1, max_size=8)
_DIRECTION_NAMES = {d.value for d in Direction}
_session_attributes = st.builds(
    Attribute, _tokens.filter(lambda t: t not in _DIRECTION_NAMES), st.none() | _tokens
)
_media_attributes = st.builds(
    Attribute,
    _tokens.filter(lambda t: t not in _DIRECTION_NAMES | {"rtpmap", "fmtp", "ptime"}),
    st.none() | _tokens,
)
_ip4 = st.tuples(*[st.integers(0, 255)] * 4).map(lambda t: ".".join(map(str, t)))
_connections = st.builds(Connection, st.just("IP4"), _ip4)
_rtpmaps = st.builds(
    RtpMap,
    st.integers(0, 127),
    st.sampled_from(["PCMU", "PCMA", "telephone-event", "opus"]),
    st.sampled_from([8000, 48000]),
    st.none() | st.integers(1, 2),
)


@st.composite
def _media(draw: st.DrawFn) -> Media:
    rtpmaps = tuple({r.payload_type: r for r in draw(st.lists(_rtpmaps, max_size=4))}.values())
    formats = tuple(str(r.payload_type) for r in rtpmaps) or ("0",)
    return Media(
        draw(st.sampled_from(["audio", "video"])),
        draw(st.integers(0, 65535)),
        "RTP/AVP",
        formats,
        draw(st.none() | _connections),
        rtpmaps,
        tuple(Fmtp(f, "0-15") for f in formats[: draw(st.integers(0, 1))]),
        draw(st.none() | st.integers(10, 60)),
        draw(st.none() | st.sampled_from(list(Direction))),
        tuple(draw(st.lists(_media_attributes, max_size=3))),
        draw(st.none() | st.integers(1, 4)),
    )


descriptions = st.builds(
    SessionDescription,
    st.builds(
        Origin,
        _tokens,
        st.integers(0, 2**64 - 1),
        st.integers(0, 2**64 - 1),
        st.just("IP4"),
        _ip4,
    ),
    _tokens,
    st.none() | _connections,
    st.lists(_media(), max_size=4).map(tuple),
    st.tuples(st.integers(0, 2**40), st.integers(0, 2**40)),
    st.none() | st.sampled_from(list(Direction)),
    st.lists(_session_attributes, max_size=3).map(tuple),
)
