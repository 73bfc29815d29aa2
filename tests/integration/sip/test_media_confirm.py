"""Call confirmation on mobile legs in proxy mode (issue 13): "press 1 to take the call".

Maria's baresip calls Johan (available: his mobile rings through the operator trunk).
The mobile that presses 1 gets the call: the switchboard answers Maria and bridges the
two, who hear each other. A mobile that answers without pressing 1 (the operator's
voicemail; a SIPp UAS here) does not: it is sent BYE and Maria reaches Johan's own
voicemail instead.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path

import numpy as np

from tests.integration.sip.conftest import PASSWORDS, Switchboard
from tests.peers import audio
from tests.peers.baresip import Account, Baresip
from tests.peers.sipp import SippRun, SippServer, run, scenario
from tests.peers.sipp_media import dtmf_pcap, free_media_port
from tests.peers.tools import free_port_pair

Factory = Callable[..., Switchboard]
MD5_ONLY = 'digest_algorithms = ["MD5"]\n'
JOHAN_MOBILE = "+46701740638"
"""The account of the baresip playing Johan's mobile: the trunk's INVITE names it."""


def _media_on() -> str:
    first = free_port_pair("udp")
    return f'enabled = true\nrtp_ports = "{first}-{first + 7}"\n'


def _mobile(tmp_path: Path, *, presses: bool) -> SippServer:
    """The trunk: answers, echoes the audio it gets, and (if ``presses``) presses 1."""
    media = free_media_port()
    keys = {"rtp_port": str(media)}
    if presses:
        keys |= {"dtmf_pcap": str(dtmf_pcap("1")), "press_after_ms": "1500"}
    name = "uas_answer_confirm" if presses else "uas_answer_media"
    return SippServer(
        scenario(name),
        keys=keys,
        trace_dir=tmp_path / "trunk",
        max_calls=1,
        extra_args=["-mp", str(media), "-rtp_echo"],
    )


def _calls(server: Switchboard) -> list[tuple[str, str, int, str | None]]:
    lines = server.wait_logs("call")
    return [(c["action"], c["extension"], c["outcome"], c["detail"]) for c in lines]


async def test_a_mobile_that_presses_1_gets_the_call(
    switchboard_factory: Factory, tmp_path: Path
) -> None:
    """Johan's mobile is a baresip phone behind the trunk address: it answers, hears the
    prompt, presses 1 from its own RTP socket, and then Maria and Johan hear each other."""
    maria_words = audio.speak("Hej Johan, det är Maria.", tmp_path / "maria-said.wav")
    johan_words = audio.speak("Johan Ek, hej.", tmp_path / "johan-said.wav")
    maria_mic = audio.write_wav(
        tmp_path / "maria.wav",
        np.concatenate([audio.silence(2.0), audio.read_wav(maria_words), audio.silence(30.0)]),
    )
    johan_mic = audio.write_wav(
        tmp_path / "johan.wav",
        np.concatenate([audio.silence(6.0), audio.read_wav(johan_words), audio.silence(30.0)]),
    )
    mobile_account = Account(JOHAN_MOBILE, answermode="auto")
    async with Baresip(mobile_account, directory=tmp_path / "mobile", source=johan_mic) as mobile:
        server: Switchboard = await asyncio.to_thread(
            switchboard_factory,
            mode="proxy",
            trunk=f"127.0.0.1:{mobile.sip_port}",
            sip_lines=MD5_ONLY,
            media_lines=_media_on(),
        )
        maria = Account("18007", PASSWORDS["18007"], server.address)
        async with Baresip(maria, directory=tmp_path / "maria", source=maria_mic) as caller:
            await caller.registered()
            await caller.dial(f"sip:51234@{server.address}")
            await mobile.wait_event("CALL_ESTABLISHED", timeout=15)
            await asyncio.sleep(1.0)  # the prompt begins
            await mobile.send_dtmf("1")
            await caller.wait_event("CALL_ESTABLISHED", timeout=10)
            await asyncio.sleep(9.0)  # each says their piece through the bridge
            await caller.hangup()
            await caller.wait_event("CALL_CLOSED", timeout=5)
            assert await mobile.wait_closed(timeout=5) == "Connection reset by peer"
            heard_by_maria = audio.read_wav((await caller.last_call_recording()).received)
            heard_by_johan = audio.read_wav((await mobile.last_call_recording()).received)
    assert audio.best_correlation(heard_by_johan, audio.read_wav(maria_words)).peak > 0.6
    assert audio.best_correlation(heard_by_maria, audio.read_wav(johan_words)).peak > 0.6
    assert _calls(server) == [("proxy", "51234", 200, "mobile confirmed")]


async def test_a_mobile_that_answers_without_pressing_1_does_not(
    switchboard_factory: Factory, tmp_path: Path
) -> None:
    """The operator's voicemail answers Johan's mobile and never presses 1: after the
    prompt has played twice the leg is ended and Maria hears Johan's own voicemail."""
    with _mobile(tmp_path, presses=False) as trunk:
        server: Switchboard = await asyncio.to_thread(
            switchboard_factory,
            mode="proxy",
            trunk=trunk.address,
            sip_lines=MD5_ONLY,
            media_lines=_media_on(),
        )
        maria = Account("18007", PASSWORDS["18007"], server.address)
        async with Baresip(maria, directory=tmp_path / "maria") as caller:
            await caller.registered()
            await caller.dial(f"sip:51234@{server.address}")
            await caller.wait_event("CALL_ESTABLISHED", timeout=25)
            mobile = await asyncio.to_thread(trunk.wait, 5)
            await asyncio.sleep(2.0)
            await caller.hangup()
            await caller.wait_event("CALL_CLOSED", timeout=5)
            heard = audio.read_wav((await caller.last_call_recording()).received)
    assert mobile.stats.successful == 1, mobile.describe()  # answered, then sent BYE
    assert audio.speech_seconds(heard) > 1.0  # the greeting
    assert _calls(server) == [("ring", "51234", 200, "no answer")]
    assert server.wait_logs("mobile_not_confirmed")


def test_a_caller_who_gives_up_stops_the_confirmed_mobile_leg(
    switchboard_factory: Factory, tmp_path: Path
) -> None:
    """CANCEL while Johan's mobile rings (a leg of the switchboard's own, to be
    confirmed): the caller gets 487 and the mobile leg is CANCELled too."""
    with SippServer(scenario("uas_never_answer"), trace_dir=tmp_path / "trunk") as trunk:
        server = switchboard_factory(
            mode="proxy",
            trunk=trunk.address,
            trusted=("127.0.0.1/32",),
            media_lines=_media_on(),
        )
        result = run(
            SippRun(scenario("uac_invite_cancel"), server.address, service="51234"),
            tmp_path / "caller",
        )
        cancelled = trunk.stop()
    assert result.ok, result.describe()
    assert cancelled.stats.successful == 1, cancelled.describe()  # CANCEL, 487, ACK
    assert _calls(server) == [("proxy", "51234", 487, "cancelled")]
