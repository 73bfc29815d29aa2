"""Plans turned into what a caller hears, with the real espeak-ng (R10-R12)."""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

import pytest

from switchboard.directory.hours import WorkingHours
from switchboard.directory.model import Organisation, Person
from switchboard.media import prompts
from switchboard.media.clips import RATE, beep, silence, tone
from switchboard.media.prompts import Play, Say
from switchboard.media.tts import Speaker, SpeechSettings
from switchboard.presence.model import Reason, Referral
from switchboard.voicemail.wav import Audio
from tests.integration.media.engines import Script
from tests.unit.core_fakes import STOCKHOLM, at

SOTENAS = Organisation("sotenas", "Sotenäs kommun", WorkingHours.parse("mon-fri 08:00-16:30"))
ANNA = Person(
    "p-anna", "Anna Berg", "64123", None, None, "sotenas", unit="Socialtjänsten", language="sv"
)
NOW = at(2025, 11, 26, 11)
LUNCH = Referral(Reason.LUNCH, until=at(2025, 11, 26, 13))
NAME = tone(300.0, 600)


async def test_r12_the_default_greeting_is_speech_then_a_pause_then_the_beep(
    executor: ThreadPoolExecutor, espeak: str
) -> None:
    voice = Speaker(SpeechSettings(espeak=espeak), executor)
    segments = prompts.greeting(ANNA, SOTENAS)
    audio = await prompts.assemble(segments, voice)
    (said,) = prompts.texts(segments)
    speech = await voice.render(*said)
    assert audio.rate == RATE
    assert audio.frames == speech.frames + silence(300).frames + beep().frames
    assert audio.duration > 3.0


async def test_r10_a_recorded_name_plays_first_in_the_announcement(
    executor: ThreadPoolExecutor, espeak: str
) -> None:
    voice = Speaker(SpeechSettings(espeak=espeak), executor)
    built = prompts.announcement(
        ANNA,
        SOTENAS,
        LUNCH,
        now=NOW,
        zone=STOCKHOLM,
        leave_message=True,
        reception=False,
        name_clip=NAME,
    )
    audio = await prompts.assemble(built.announcement, voice)
    assert audio.frames.startswith(NAME.frames + silence(150).frames)
    rest, options = [await voice.render(t, lang) for t, lang in prompts.texts(built.announcement)]
    expected = NAME.duration + 0.15 + rest.duration + 0.4 + options.duration
    assert audio.duration == pytest.approx(expected, abs=0.001)


async def test_a_plan_rendered_ahead_costs_no_engine_run_when_the_call_comes(
    engine_script: Callable[[str], Script], executor: ThreadPoolExecutor, espeak: str
) -> None:
    engine = engine_script("speaks")
    voice = Speaker(
        SpeechSettings(espeak=espeak, command=(str(engine.path), "{lang}", "{out}")), executor
    )
    built = prompts.announcement(
        ANNA, SOTENAS, LUNCH, now=NOW, zone=STOCKHOLM, leave_message=True, reception=True
    )
    prompts.prerender(built.announcement + built.goodbye, voice)
    await prompts.assemble(built.announcement, voice)
    await prompts.assemble(built.goodbye, voice)
    assert engine.runs == 3  # the referral, the options and the goodbye, once each
    await prompts.assemble(built.announcement, voice)  # the second play
    assert engine.runs == 3


async def test_a_recorded_clip_at_another_rate_is_refused(
    executor: ThreadPoolExecutor, espeak: str
) -> None:
    voice = Speaker(SpeechSettings(espeak=espeak), executor)
    with pytest.raises(ValueError, match="recorded name is at 16000 Hz"):
        await prompts.assemble((Play(Audio(16000, bytes(3200)), "name"), Say("Hej", "sv")), voice)
