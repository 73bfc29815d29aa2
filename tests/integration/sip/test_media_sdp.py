"""Offer and answer with real callers (RFC 3264), and the unanswered ring (R11).

SIPp callers from a trusted address (so no digest) with an RtpSink as their audio port:
a late offer (INVITE without SDP) is answered with our offer and its answer is read from
the ACK; an offer without G.711 gets 488; and in proxy mode a mobile that never answers
sends the caller to voicemail when the ring timeout expires, instead of a 480.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path

from tests.integration.sip.conftest import Switchboard
from tests.integration.sip.rawsip import RawClient
from tests.peers import audio
from tests.peers.rtp import RtpSink, decode_audio
from tests.peers.sipp import SippServer, run_async, scenario
from tests.peers.sipp_media import media_call
from tests.peers.tools import free_port_pair

Factory = Callable[..., Switchboard]
TRUSTED = ("127.0.0.1/32",)


def _media_on() -> str:
    first = free_port_pair("udp")
    return f'enabled = true\nrtp_ports = "{first}-{first + 3}"\n'


def _calls(server: Switchboard) -> list[tuple[str, str, int, str | None]]:
    lines = server.wait_logs("call")
    return [(c["action"], c["extension"], c["outcome"], c["detail"]) for c in lines]


async def _start(factory: Factory, **kwargs: object) -> Switchboard:
    return await asyncio.to_thread(factory, media_lines=_media_on(), trusted=TRUSTED, **kwargs)


async def test_a_late_offer_is_answered_and_the_referral_heard(
    switchboard_factory: Factory, tmp_path: Path
) -> None:
    """INVITE without SDP: our offer goes in the 200, the caller's answer (PCMU to its
    port) comes in the ACK, and the referral arrives there as speech."""
    server = await _start(switchboard_factory, mode="redirect")
    async with RtpSink() as sink:
        spec = media_call(
            "uac_invite_late_offer",
            server.address,
            tmp_path / "caller",
            service="64123",
            rtp_port=sink.port,
            listen=3.0,
        )
        result = await run_async(spec, tmp_path / "caller")
    assert result.ok, result.describe()
    heard = decode_audio(sink.of_type(0))
    assert audio.speech_seconds(heard) > 1.5
    assert _calls(server) == [("announce", "64123", 200, "answered")]


async def test_an_offer_without_g711_gets_488(switchboard_factory: Factory) -> None:
    """RFC 3264 §6: nothing in the offer we can take (G.729 only) is 488, never a 200."""
    server = await _start(switchboard_factory, mode="proxy")
    sdp = (
        b"v=0\r\no=x 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n"
        b"m=audio 40000 RTP/AVP 18\r\na=rtpmap:18 G729/8000\r\n"
    )
    client = RawClient.udp(server.host, server.port)
    try:
        client.send(
            client.request(
                "INVITE", "64123", headers=(("Content-Type", "application/sdp"),), body=sdp
            )
        )
        final = client.final()
        assert final is not None
        client.ack(final, "64123")
    finally:
        client.close()
    assert final.status == 488
    assert "G.711" in (final.headers.get("Reason") or "")
    [(action, extension, status, detail)] = _calls(server)
    assert (action, extension, status) == ("announce", "64123", 488)
    assert "G.711" in (detail or "")


async def test_an_unanswered_mobile_goes_to_voicemail_in_proxy_mode(
    switchboard_factory: Factory, tmp_path: Path
) -> None:
    """Johan's mobile rings through the trunk and nobody answers; after the ring timeout
    (5 s here) the trunk leg is cancelled and the switchboard answers. Johan has an open
    referral (a training course): an open referral rings first and is spoken only when
    nobody answers, so the caller hears that sentence, as the speech engine rendered it."""
    with SippServer(scenario("uas_never_answer"), trace_dir=tmp_path / "trunk") as trunk:
        server = await _start(switchboard_factory, mode="proxy", trunk=trunk.address)
        async with RtpSink() as sink:
            spec = media_call(
                "uac_invite_late_offer",
                server.address,
                tmp_path / "caller",
                service="51234",
                rtp_port=sink.port,
                listen=9.0,
                timeout=30,
            )
            result = await run_async(spec, tmp_path / "caller")
        cancelled = trunk.stop()
    assert result.ok, result.describe()
    assert cancelled.stats.successful == 1, cancelled.describe()  # CANCEL, 487, ACK
    heard = decode_audio(sink.of_type(0))
    rendered = [audio.read_wav(p) for p in (server.data_dir / "speech").rglob("*.wav")]
    referral = max(rendered, key=len)  # "Johan Ek, ... är på utbildning, tillbaka ..."
    assert audio.best_correlation(heard, referral).peak > 0.8
    assert _calls(server) == [("ring", "51234", 200, "no answer")]
