"""A recorded name replaces the synthesized one (issue 13), judged by what a real
softphone hears.

Anna Berg's name, recorded on her page, is stored through the spool before the server
starts (as ``test_mailbox_calls.py`` stores a message): a different voice saying "Anna
Berg", so it cannot be mistaken for the speech engine's. baresip calls her while she is at
lunch, with media on: the recording holds her name clip as the spool stored it (at speech
level, cut to its sound), and right after it the rest of the referral, "Sotenäs kommun,
..., är på lunch, tillbaka klockan ...", as the server's speech engine renders it. The
same for Sven Olsson's default greeting (he has no phone and no recorded greeting):
"Du har kommit till [his own voice] ..." and the rest.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from pathlib import Path

import numpy as np
import pytest

from switchboard.app import open_runtime
from switchboard.clock import FixedClock
from switchboard.media import prompts
from switchboard.media.tts import Speaker, SpeechSettings
from switchboard.routing.model import Announce, Call, CallerOption
from switchboard.settings.config import load_settings
from switchboard.voicemail.model import Recording
from switchboard.voicemail.wav import Audio
from tests.integration.sip.conftest import MONDAY_10, PASSWORDS, Switchboard, seed
from tests.peers import audio
from tests.peers.baresip import Account, Baresip
from tests.peers.tools import free_port_pair

Factory = Callable[..., Switchboard]
MD5_ONLY = 'digest_algorithms = ["MD5"]\n'
ANNA = "64123"
SVEN = "99555"
"""Sven Olsson has no phone to ring: the switchboard answers with his greeting."""


def _samples(clip: Audio) -> audio.Samples:
    return np.frombuffer(clip.frames, dtype="<i2").astype(np.float64)


def _after_the_name(segments: tuple[prompts.Segment, ...]) -> tuple[str, str]:
    """The sentence (and its language) that follows the recorded name in a plan."""
    at = next(i for i, s in enumerate(segments) if isinstance(s, prompts.Play))
    return next((s.text, s.language) for s in segments[at:] if isinstance(s, prompts.Say))


async def _store_name(config: Path, data: Path, extension: str, said: bytes) -> tuple[Audio, Audio]:
    """The name clip through the spool; (the clip as stored, the speech that follows it in
    what a caller hears, rendered as the server renders it)."""
    now = datetime.fromisoformat(MONDAY_10)
    async with open_runtime(load_settings(config), data, FixedClock(now)) as runtime:
        person = runtime.engine.view.person_by_extension(extension)
        assert person is not None
        spool = runtime.voicemail.spool
        await spool.set_recording(person.person_id, Recording.NAME_CLIP, said, "test")
        clip = await spool.recording_audio(person.person_id, Recording.NAME_CLIP)
        assert clip is not None
        organisation = runtime.engine.view.organisation(person.organisation)
        decision = runtime.engine.route(Call(extension))
        if isinstance(decision, Announce):
            segments = prompts.announcement(
                person,
                organisation,
                decision.referral,
                now=now,
                zone=runtime.engine.view.zone,
                leave_message=CallerOption.LEAVE_MESSAGE in decision.options,
                reception=CallerOption.RECEPTION in decision.options,
                name_clip=clip,
            ).announcement
        else:  # nobody answers: the default greeting
            segments = prompts.greeting(person, organisation, name_clip=clip)
    text, language = _after_the_name(segments)
    assert person.name not in text
    with ThreadPoolExecutor(1) as executor:
        speaker = Speaker(SpeechSettings(), executor)
        try:
            return clip, await speaker.render(text, language)
        finally:
            await speaker.aclose()


@pytest.mark.parametrize(
    ("extension", "name", "action"),
    [
        pytest.param(ANNA, "Anna Berg", "announce", id="Anna at lunch: the referral"),
        pytest.param(SVEN, "Sven Olsson", "ring", id="Sven, no phone: the default greeting"),
    ],
)
async def test_the_caller_hears_the_recorded_name_then_the_rest_of_the_sentence(
    switchboard_factory: Factory, tmp_path: Path, extension: str, name: str, action: str
) -> None:
    said = audio.speak(name, tmp_path / "name.wav", voice="en").read_bytes()
    first = free_port_pair("udp")
    (tmp_path / "seed").mkdir()
    config, data = await asyncio.to_thread(
        seed, tmp_path / "seed", MD5_ONLY, f'enabled = true\nrtp_ports = "{first}-{first + 3}"\n'
    )
    clip, rest = await _store_name(config, data, extension, said)
    server: Switchboard = await asyncio.to_thread(
        switchboard_factory, mode="redirect", config=config, data_dir=data
    )
    johan = Account("51234", PASSWORDS["51234"], server.address)
    async with Baresip(johan, directory=tmp_path / "johan") as caller:
        await caller.registered()
        await caller.dial(f"sip:{extension}@{server.address}")
        await caller.wait_event("CALL_ESTABLISHED", timeout=10)
        await asyncio.sleep(9.0)  # the name, then about six seconds of speech
        await caller.hangup()
        await caller.wait_event("CALL_CLOSED", timeout=5)
        heard = audio.read_wav((await caller.last_call_recording()).received)
    own = audio.best_correlation(heard, _samples(clip))
    after = audio.best_correlation(heard, _samples(rest))
    assert own.peak > 0.8
    assert after.peak > 0.8
    # The rest follows the name after the comma's pause (prompts.NAME_GAP_MS).
    gap = after.lag_seconds - (own.lag_seconds + clip.duration)
    assert abs(gap - prompts.NAME_GAP_MS / 1000) < 0.1, (own, after, clip.duration)
    calls = server.wait_logs("call")
    assert [(c["action"], c["extension"]) for c in calls] == [(action, extension)]
