"""The switchboard answers and speaks (issue 13): a real softphone hears the referral.

baresip (Debian 1.0, headless) calls Anna Berg, who is at lunch, with media on: the call
is answered (200 with SDP), the referral plays over RTP, and baresip's ``sndfile`` keeps
what it heard. The recording holds speech, not silence, in redirect and proxy mode.
"""

from __future__ import annotations

import asyncio
import wave
from array import array
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from tests.integration.sip.conftest import PASSWORDS, Switchboard
from tests.peers import audio
from tests.peers.baresip import Account, Baresip
from tests.peers.tools import free_port_pair

Factory = Callable[..., Switchboard]
MD5_ONLY = 'digest_algorithms = ["MD5"]\n'


def _media_on(ports: int = 4) -> str:
    first = free_port_pair("udp")
    return f'enabled = true\nrtp_ports = "{first}-{first + ports - 1}"\n'


def _speech_seconds(path: Path) -> float:
    """Seconds of 20 ms windows louder than about -40 dBFS in a 16-bit WAV."""
    with wave.open(str(path), "rb") as reader:
        rate, channels = reader.getframerate(), reader.getnchannels()
        samples = array("h", reader.readframes(reader.getnframes()))
    window = rate * channels // 50
    loud = 0
    for start in range(0, len(samples) - window, window):
        chunk = samples[start : start + window]
        if (sum(s * s for s in chunk) / window) ** 0.5 > 300:
            loud += 1
    return loud / 50


def _calls(server: Switchboard) -> list[tuple[str, str, int]]:
    lines = server.wait_logs("call")
    return [(c["action"], c["extension"], c["outcome"]) for c in lines]


@pytest.mark.parametrize("mode", ["redirect", "proxy"])
async def test_a_caller_hears_the_referral_spoken(
    switchboard_factory: Factory, tmp_path: Path, mode: str
) -> None:
    """R10: Johan calls Anna at lunch and hears "Anna Berg, Sotenäs kommun, ... är på
    lunch, tillbaka klockan ...": the recording holds the very sentence the speech engine
    rendered (the server's speech cache), not silence or noise."""
    server: Switchboard = await asyncio.to_thread(
        switchboard_factory, mode=mode, sip_lines=MD5_ONLY, media_lines=_media_on()
    )
    phone = Account("51234", PASSWORDS["51234"], server.address)
    async with Baresip(phone, directory=tmp_path / "johan") as caller:
        await caller.registered()
        await caller.dial(f"sip:64123@{server.address}")
        await caller.wait_event("CALL_ESTABLISHED", timeout=10)
        await asyncio.sleep(8.0)  # the referral sentence is about six seconds long
        await caller.hangup()
        await caller.wait_event("CALL_CLOSED", timeout=5)
        heard = audio.read_wav((await caller.last_call_recording()).received)
    rendered = [audio.read_wav(p) for p in (server.data_dir / "speech").rglob("*.wav")]
    referral = max(rendered, key=len)  # the longest clip is the referral sentence
    assert audio.duration(referral) > 4.0
    assert audio.best_correlation(heard, referral).peak > 0.8
    assert audio.speech_seconds(heard) > 0.8 * audio.speech_seconds(referral)
    assert _calls(server) == [("announce", "64123", 200)]
    closed: list[dict[str, Any]] = server.wait_logs("media_call_closed")
    assert [c["why"] for c in closed] == ["caller hung up"]


async def test_a_caller_leaves_a_message_that_is_stored_whole(
    switchboard_factory: Factory, tmp_path: Path
) -> None:
    """R11: Sven Olsson has no phone to ring, so the switchboard answers with his
    greeting; baresip's microphone (a 440 Hz tone) after the beep becomes the message,
    which is stored when the caller hangs up, and its file is a whole WAV."""
    server: Switchboard = await asyncio.to_thread(
        switchboard_factory, mode="redirect", sip_lines=MD5_ONLY, media_lines=_media_on()
    )
    phone = Account("51234", PASSWORDS["51234"], server.address)
    directory = tmp_path / "johan"
    async with Baresip(phone, directory=directory, source_seconds=30) as caller:
        await caller.registered()
        await caller.dial(f"sip:99555@{server.address}")
        await caller.wait_event("CALL_ESTABLISHED", timeout=10)
        await asyncio.sleep(10.0)  # the default greeting (6 s), the beep, then a message
        await caller.hangup()
        await caller.wait_event("CALL_CLOSED", timeout=5)
    saved = server.wait_logs("voicemail_saved", timeout=5)
    assert len(saved) == 1, server.log_text()[-2000:]
    assert saved[0]["duration_ms"] >= 1000
    files = sorted((server.data_dir / "voicemail").rglob("*.wav"))
    assert len(files) == 1
    assert 1.0 <= _speech_seconds(files[0]) <= 9.0
    assert _calls(server) == [("ring", "99555", 200)]


@pytest.mark.parametrize("mode", ["redirect", "proxy"])
async def test_pressing_1_leaves_a_message_and_lights_the_owners_phone(
    switchboard_factory: Factory, tmp_path: Path, mode: str
) -> None:
    """R10-R12 end to end: Johan hears Anna's referral, presses 1 (RFC 4733), speaks after
    the beep; the stored message is his words (correlation, duration within 10 %), and
    Anna's registered phone gets the message-waiting NOTIFY (RFC 3842)."""
    said = audio.speak("Hej Anna, det är Johan. Ring mig när du är tillbaka.", tmp_path / "s.wav")
    message = audio.read_wav(said)
    # baresip hangs up the moment its microphone file ends, before its last few hundred
    # milliseconds leave: a second of quiet after the words, as a caller pauses too.
    spoken = audio.write_wav(tmp_path / "m.wav", np.concatenate([message, audio.silence(1.0)]))
    server: Switchboard = await asyncio.to_thread(
        switchboard_factory, mode=mode, sip_lines=MD5_ONLY, media_lines=_media_on()
    )
    anna = Account("64123", PASSWORDS["64123"], server.address, mwi=True)
    johan = Account("51234", PASSWORDS["51234"], server.address)
    quiet = audio.write_wav(tmp_path / "quiet.wav", audio.silence(60.0))
    async with (
        Baresip(anna, directory=tmp_path / "anna") as desk,
        Baresip(johan, directory=tmp_path / "johan", source=quiet) as caller,
    ):
        await desk.registered()
        idle = await desk.wait_mwi(waiting=False, timeout=10)
        assert (idle.voice_new, idle.voice_old) == (0, 0)
        await caller.registered()
        await caller.dial(f"sip:64123@{server.address}")
        await caller.wait_event("CALL_ESTABLISHED", timeout=10)
        await asyncio.sleep(1.0)
        await caller.send_dtmf("1")
        await asyncio.sleep(4.0)  # "leave a message after the tone", and the tone
        await caller.play(spoken)  # baresip hangs up when the file ends
        assert await caller.wait_closed(timeout=15) == "end of file"
        lit = await desk.wait_mwi(waiting=True, timeout=10)
    assert (lit.voice_new, lit.voice_old) == (1, 0)
    files = sorted((server.data_dir / "voicemail").rglob("*.wav"))
    assert len(files) == 1
    stored = audio.read_wav(files[0])
    assert audio.best_correlation(stored, message).peak > 0.6
    assert abs(audio.speech_seconds(stored) - audio.speech_seconds(message)) <= 0.1 * (
        audio.speech_seconds(message)
    )


@pytest.mark.parametrize("mode", ["redirect", "proxy"])
async def test_pressing_0_connects_the_caller_to_the_reception(
    switchboard_factory: Factory, tmp_path: Path, mode: str
) -> None:
    """R10: after Anna's referral, 0 rings the reception (its registered phone answers)
    and the two hear each other through the switchboard; the caller's hang-up ends the
    reception's leg too."""
    johan_words = audio.speak("Hej, jag söker Anna Berg.", tmp_path / "johan-said.wav")
    desk_words = audio.speak("Växeln, Sotenäs kommun, det är Lisa.", tmp_path / "desk-said.wav")
    johan_mic = audio.write_wav(
        tmp_path / "johan.wav",
        np.concatenate([audio.silence(6.0), audio.read_wav(johan_words), audio.silence(30.0)]),
    )
    desk_mic = audio.write_wav(
        tmp_path / "desk.wav",
        np.concatenate([audio.silence(1.0), audio.read_wav(desk_words), audio.silence(30.0)]),
    )
    server: Switchboard = await asyncio.to_thread(
        switchboard_factory, mode=mode, sip_lines=MD5_ONLY, media_lines=_media_on(6)
    )
    desk = Account("64000", PASSWORDS["64000"], server.address, answermode="auto")
    johan = Account("51234", PASSWORDS["51234"], server.address)
    async with (
        Baresip(desk, directory=tmp_path / "desk", source=desk_mic) as reception,
        Baresip(johan, directory=tmp_path / "johan", source=johan_mic) as caller,
    ):
        await reception.registered()
        await caller.registered()
        await caller.dial(f"sip:64123@{server.address}")
        await caller.wait_event("CALL_ESTABLISHED", timeout=10)
        await asyncio.sleep(1.0)
        await caller.send_dtmf("0")
        await reception.wait_event("CALL_ESTABLISHED", timeout=15)
        await asyncio.sleep(8.0)  # both say their piece through the bridge
        await caller.hangup()
        await caller.wait_event("CALL_CLOSED", timeout=5)
        assert await reception.wait_closed(timeout=5) == "Connection reset by peer"
        heard_by_desk = audio.read_wav((await reception.last_call_recording()).received)
        heard_by_johan = audio.read_wav((await caller.last_call_recording()).received)
    assert audio.best_correlation(heard_by_desk, audio.read_wav(johan_words)).peak > 0.6
    assert audio.best_correlation(heard_by_johan, audio.read_wav(desk_words)).peak > 0.6
    transferred = server.wait_logs("call_transferred")
    assert [t["extension"] for t in transferred] == ["64000"]
