"""Offer/answer (RFC 3264) for the one audio stream the switchboard speaks and listens on.

The switchboard answers a call to play a prompt or record a message, so it takes exactly
one audio stream with one G.711 codec and, when offered, RFC 4733 telephone events for
the caller's key presses. Every other ``m=`` line is declined with port 0, which keeps
the answer's lines in the offer's order as RFC 3264 §6 requires.

The codec is the first one *in the offer's order* that we support (RFC 3264 §6.1: the
offer lists the offerer's preference, and honouring it costs us nothing since both laws
are a table look-up). The answer lists that one codec alone, so both ends know which one
flows: no mid-call codec switching to handle.

``NotAcceptableError`` says distinctly that the offer was understood but nothing in it
fits; the SIP edge turns it into ``488 Not Acceptable Here`` with a ``Warning`` carrying
``warning_code`` (RFC 3261 §20.43: 301 address format, 304 media type, 305 media format).
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass

from switchboard.media.g711 import SAMPLE_RATE, Codec
from switchboard.media.sdp import (
    HOLD_ADDRESSES,
    Connection,
    Direction,
    Fmtp,
    Media,
    Origin,
    RtpMap,
    SdpError,
    SessionDescription,
)

PROTOCOL = "RTP/AVP"
TELEPHONE_EVENT = "telephone-event"
DTMF_EVENTS = "0-15"
"""The sixteen DTMF events (RFC 4733 §3.2), all the switchboard listens for."""
DEFAULT_DTMF_PAYLOAD_TYPE = 101
PTIME = 20
"""Milliseconds of audio per packet we send (the pacer's grid) and announce."""
DEFAULT_CODECS = (Codec.PCMU, Codec.PCMA)


class NotAcceptableError(SdpError):
    """The offer (or answer) was valid SDP but nothing in it is a stream we can take."""

    def __init__(self, problem: str, warning_code: int) -> None:
        super().__init__(problem)
        self.warning_code = warning_code


@dataclass(frozen=True, slots=True)
class Negotiated:
    """What the media edge needs to run the stream, from the switchboard's side.

    ``payload_type`` and ``dtmf_payload_type`` are the numbers on the wire (the same in
    both directions, since the answer reuses the offer's numbers). ``direction`` is ours:
    ``direction.sends`` says whether we may send. ``ptime`` is the packet time the peer
    asked for (a hint, RFC 4566 §6); the pacer sends 20 ms, which every G.711 endpoint
    takes.
    """

    codec: Codec
    payload_type: int
    dtmf_payload_type: int | None
    remote_address: str
    remote_port: int
    ptime: int
    direction: Direction

    @property
    def on_hold(self) -> bool:
        """Nothing is to be sent: ``c=0.0.0.0`` (RFC 3264 §8.4) or a direction without send."""
        return self.remote_address in HOLD_ADDRESSES or not self.direction.sends


@dataclass(frozen=True, slots=True)
class Answer:
    """Our answer to an offer and what it settles."""

    description: SessionDescription
    negotiated: Negotiated


def address_type(address: str) -> str:
    """``IP6`` for an IPv6 literal, else ``IP4``: what our own ``o=`` and ``c=`` say."""
    return "IP6" if ":" in address else "IP4"


def _codec_of(media: Media, fmt: str, codecs: tuple[Codec, ...]) -> Codec | None:
    """The codec a format stands for, by its rtpmap or its static type (RFC 3551 §6)."""
    payload_type = int(fmt)  # the parser let only ASCII digits through for RTP formats
    rtpmap = media.rtpmap(payload_type)
    if rtpmap is None:
        codec = Codec(payload_type) if payload_type in (0, 8) else None
    elif rtpmap.clock_rate == SAMPLE_RATE and rtpmap.channels in (None, 1):
        codec = next((c for c in Codec if c.name == rtpmap.encoding.upper()), None)
    else:
        codec = None
    return codec if codec in codecs else None


def _covers_dtmf(parameters: str | None) -> bool:
    """Whether an events list (``0-15``, ``0-11,12-16,32``) includes 0-15.

    No fmtp at all is taken as 0-15: RFC 2833's default, which phones still rely on.
    Ranges are clipped to 0-15 before they are expanded, so a hostile ``0-999,...``
    costs nothing.
    """
    if parameters is None:
        return True
    wanted = set(range(16))
    for item in parameters.split(","):
        low, dash, high = item.strip().partition("-")
        high = high if dash else low
        if not all(t.isascii() and t.isdigit() and len(t) <= 3 for t in (low, high)):
            return False
        wanted.difference_update(range(int(low), min(int(high), 15) + 1))
    return not wanted


def _dtmf_of(media: Media) -> int | None:
    """The payload type of telephone events at 8 kHz covering the DTMF digits, if offered."""
    for fmt in media.formats:
        rtpmap = media.rtpmap(int(fmt))
        if (
            rtpmap is not None
            and rtpmap.encoding.lower() == TELEPHONE_EVENT
            and rtpmap.clock_rate == SAMPLE_RATE
            and _covers_dtmf(media.fmtp(fmt))
        ):
            return rtpmap.payload_type
    return None


def _audio_media(
    port: int, codec: Codec, payload_type: int, dtmf: int | None, direction: Direction
) -> Media:
    rtpmaps = [RtpMap(payload_type, codec.encoding_name, SAMPLE_RATE)]
    fmtps: list[Fmtp] = []
    if dtmf is not None:
        rtpmaps.append(RtpMap(dtmf, TELEPHONE_EVENT, SAMPLE_RATE))
        fmtps.append(Fmtp(str(dtmf), DTMF_EVENTS))
    formats = tuple(str(r.payload_type) for r in rtpmaps)
    return Media(
        "audio", port, PROTOCOL, formats, None, tuple(rtpmaps), tuple(fmtps), PTIME, direction
    )


def _session(
    address: str, session_id: int, version: int, media: tuple[Media, ...], username: str
) -> SessionDescription:
    kind = address_type(address)
    return SessionDescription(
        Origin(username, session_id, version, kind, address),
        "-",
        Connection(kind, address),
        media,
    )


def _usable_address(connection: Connection | None, ours: str) -> bool:
    if connection is None or connection.address_type != address_type(ours):
        return False
    try:
        ipaddress.ip_address(connection.address)
    except ValueError:
        return False  # a domain name: resolving it would block the event loop
    return True


def answer(
    offer: SessionDescription,
    *,
    address: str,
    port: int,
    session_id: int,
    version: int,
    codecs: tuple[Codec, ...] = DEFAULT_CODECS,
    username: str = "switchboard",
) -> Answer:
    """Answer ``offer`` with one audio stream on ``address``:``port``.

    ``codecs`` are the ones we accept; which of them is used follows the offer's order.
    Raises ``NotAcceptableError`` when no audio stream of the offer fits.
    """
    chosen: tuple[int, Codec, int] | None = None  # media index, codec, payload type
    found_audio = found_address = False
    for index, media in enumerate(offer.media):
        if media.kind != "audio" or media.port == 0 or media.protocol != PROTOCOL:
            continue
        found_audio = True
        if not _usable_address(offer.connection_for(media), address):
            continue
        found_address = True
        for fmt in media.formats:
            codec = _codec_of(media, fmt, codecs)
            if codec is not None:
                chosen = (index, codec, int(fmt))
                break
        if chosen is not None:
            break
    if chosen is None:
        if not found_audio:
            raise NotAcceptableError(f"the offer has no {PROTOCOL} audio stream", 304)
        if not found_address:
            raise NotAcceptableError(
                f"the offer's audio address is not an {address_type(address)} address "
                "we can send to (a domain name or the other IP version)",
                301,
            )
        wanted = "/".join(c.name for c in codecs)
        raise NotAcceptableError(f"the offer's audio stream has no {wanted} (G.711) codec", 305)
    index, codec, payload_type = chosen
    accepted = offer.media[index]
    connection = offer.connection_for(accepted)
    assert connection is not None  # noqa: S101 - _usable_address checked it
    dtmf = _dtmf_of(accepted)
    direction = offer.direction_for(accepted).reversed()
    sections = tuple(
        _audio_media(port, codec, payload_type, dtmf, direction)
        if i == index
        else Media(m.kind, 0, m.protocol, m.formats)  # declined (RFC 3264 §6)
        for i, m in enumerate(offer.media)
    )
    negotiated = Negotiated(
        codec,
        payload_type,
        dtmf,
        connection.address,
        accepted.port,
        accepted.ptime or PTIME,
        direction,
    )
    return Answer(_session(address, session_id, version, sections, username), negotiated)


def offer(
    *,
    address: str,
    port: int,
    session_id: int,
    version: int,
    codecs: tuple[Codec, ...] = DEFAULT_CODECS,
    dtmf_payload_type: int | None = DEFAULT_DTMF_PAYLOAD_TYPE,
    username: str = "switchboard",
) -> SessionDescription:
    """Our own offer (an INVITE without SDP is answered with an offer in the 200 OK, and
    the caller answers in the ACK: RFC 3261 §13.2.1): ``codecs`` in preference order."""
    if not codecs:
        raise ValueError("an offer needs at least one codec")
    rtpmaps = [RtpMap(c.value, c.encoding_name, SAMPLE_RATE) for c in codecs]
    fmtps: list[Fmtp] = []
    if dtmf_payload_type is not None:
        rtpmaps.append(RtpMap(dtmf_payload_type, TELEPHONE_EVENT, SAMPLE_RATE))
        fmtps.append(Fmtp(str(dtmf_payload_type), DTMF_EVENTS))
    media = Media(
        "audio",
        port,
        PROTOCOL,
        tuple(str(r.payload_type) for r in rtpmaps),
        None,
        tuple(rtpmaps),
        tuple(fmtps),
        PTIME,
        Direction.SENDRECV,
    )
    return _session(address, session_id, version, (media,), username)


def accept_answer(our_offer: SessionDescription, answer: SessionDescription) -> Negotiated:
    """What the peer's answer to ``our_offer`` settles (RFC 3264 §6, §7).

    We send with the answer's payload type numbers (they say what the answerer expects to
    receive) and the first of its codecs that we offered.
    """
    if len(answer.media) != len(our_offer.media):
        raise SdpError(
            f"the answer has {len(answer.media)} media sections for the offer's "
            f"{len(our_offer.media)} (RFC 3264 §6 wants one for each)"
        )
    index = next(
        (i for i, m in enumerate(our_offer.media) if m.kind == "audio" and m.port != 0), None
    )
    if index is None:
        raise ValueError("our offer has no audio stream")
    ours, theirs = our_offer.media[index], answer.media[index]
    if theirs.port == 0 or theirs.kind != "audio" or theirs.protocol != ours.protocol:
        raise NotAcceptableError("the answer declined the audio stream", 304)
    # ``is not None``, never truthiness: Codec.PCMU is the IntEnum 0.
    offered = tuple(
        c for f in ours.formats if (c := _codec_of(ours, f, DEFAULT_CODECS)) is not None
    )
    chosen = next(
        ((c, int(f)) for f in theirs.formats if (c := _codec_of(theirs, f, offered)) is not None),
        None,
    )
    if chosen is None:
        raise NotAcceptableError("the answer has none of the codecs we offered", 305)
    connection = answer.connection_for(theirs)
    if connection is None:
        raise SdpError("the answer gives no c= address for the audio stream (RFC 4566 §5.7)")
    own = our_offer.connection_for(ours)
    if own is not None and not _usable_address(connection, own.address):
        raise NotAcceptableError(
            f"the answer's address {connection.address!r} is not an {own.address_type} "
            "address we can send to",
            301,
        )
    dtmf = _dtmf_of(theirs) if _dtmf_of(ours) is not None else None
    return Negotiated(
        chosen[0],
        chosen[1],
        dtmf,
        connection.address,
        theirs.port,
        theirs.ptime or PTIME,
        answer.direction_for(theirs).reversed(),
    )
