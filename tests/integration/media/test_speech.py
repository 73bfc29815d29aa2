"""Speech with the real espeak-ng: plausible audio, the cache, fallback, sharing (R10, R12)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from structlog.testing import capture_logs

from switchboard.media.clips import RATE, peak_dbfs, speech_level_dbfs
from switchboard.media.tts import Speaker, SpeechError, SpeechSettings
from tests.integration.media.engines import Script
from tests.peers.tools import wait_for_async

SENTENCES = {
    "sv": "Anna Berg, Sotenäs kommun, Socialtjänsten, är på lunch, tillbaka klockan 13.",
    "nb": "Anna Berg, Sotenäs kommune, Sosialtjenesten, er på lunsj, tilbake klokken 13.",
    "en": "Anna Berg, Sotenäs municipality, social services, is at lunch, back at 1 pm.",
}
SOON = 15.0
"""Seconds within which a stopped engine must be gone (it would hang for 60)."""


def speaker(executor: ThreadPoolExecutor, espeak: str, **changes: Any) -> Speaker:
    return Speaker(replace(SpeechSettings(espeak=espeak), **changes), executor)


def process_gone(pid: int) -> bool:
    """No such process, or a zombie waiting for a parent that is not us."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return True
    return stat.rsplit(")", 1)[1].split()[0] == "Z"


@pytest.mark.parametrize("language", ["sv", "nb", "en"])
async def test_r10_a_sentence_is_speech_at_8_khz_in_each_language(
    language: str, executor: ThreadPoolExecutor, espeak: str
) -> None:
    voice = speaker(executor, espeak)
    audio = await voice.render(SENTENCES[language], language)
    word = await voice.render("Hej", language)
    assert audio.rate == RATE
    # About fifteen words at 160 a minute: several seconds, not a blip and not a minute.
    assert 2.5 < audio.duration < 10.0, audio.duration
    assert audio.duration > 4 * word.duration
    # Speech, well above silence: brought to the speech level unless its peaks reached
    # the ceiling first (espeak-ng's peaks are high for its level), and never clipping.
    level, peak = speech_level_dbfs(audio), peak_dbfs(audio)
    assert level > -26.0
    assert level == pytest.approx(-20.0, abs=0.1) or peak == pytest.approx(-1.0, abs=0.1)
    assert peak <= -0.9


async def test_languages_sound_different(executor: ThreadPoolExecutor, espeak: str) -> None:
    voice = speaker(executor, espeak)
    swedish = await voice.render("Tack för samtalet.", "sv")
    english = await voice.render("Tack för samtalet.", "en")
    assert swedish.frames != english.frames


async def test_the_cache_answers_with_identical_bytes_and_no_second_run(
    engine_script: Callable[[str], Script], executor: ThreadPoolExecutor, espeak: str
) -> None:
    engine = engine_script("speaks")
    voice = speaker(executor, espeak, command=(str(engine.path), "{lang}", "{out}"))
    first = await voice.render(SENTENCES["sv"], "sv")
    again = await voice.render(SENTENCES["sv"], "sv")
    assert engine.runs == 1
    assert again == first
    await voice.render("Tack för samtalet. Hej då.", "sv")
    assert engine.runs == 2


async def test_concurrent_renders_of_one_text_share_one_run(
    engine_script: Callable[[str], Script], executor: ThreadPoolExecutor, espeak: str
) -> None:
    engine = engine_script("speaks")
    voice = speaker(executor, espeak, command=(str(engine.path), "{lang}", "{out}"))
    results = await asyncio.gather(*(voice.render(SENTENCES["nb"], "nb") for _ in range(5)))
    assert engine.runs == 1
    assert all(r == results[0] for r in results)


async def test_the_disk_cache_survives_a_new_speaker(
    tmp_path: Path,
    engine_script: Callable[[str], Script],
    executor: ThreadPoolExecutor,
    espeak: str,
) -> None:
    engine = engine_script("speaks")
    command = (str(engine.path), "{lang}", "{out}")
    cache = tmp_path / "speech"
    first = await speaker(executor, espeak, command=command, cache_dir=cache).render(
        SENTENCES["en"], "en"
    )
    restarted = speaker(executor, espeak, command=command, cache_dir=cache)
    assert await restarted.render(SENTENCES["en"], "en") == first
    assert engine.runs == 1


@pytest.mark.parametrize("kind", ["fails", "garbage", "silent", "hangs", "missing"])
async def test_a_failing_command_falls_back_to_espeak_and_then_rests(
    kind: str,
    tmp_path: Path,
    engine_script: Callable[[str], Script],
    executor: ThreadPoolExecutor,
    espeak: str,
) -> None:
    engine = engine_script("hangs" if kind == "missing" else kind)
    program = str(tmp_path / "no-such-engine") if kind == "missing" else str(engine.path)
    voice = speaker(executor, espeak, command=(program, "{lang}", "{out}"), timeout=1.0)
    # Bounded: a stuck engine whose child kept the pipes open would hold the render for 60 s.
    async with asyncio.timeout(SOON):
        with capture_logs() as logs:
            audio = await voice.render(SENTENCES["sv"], "sv")
    espeak_only = await speaker(executor, espeak).render(SENTENCES["sv"], "sv")
    assert audio == espeak_only
    failed = [e for e in logs if e["event"] == "speech_engine_failed"]
    assert len(failed) == 1
    assert failed[0]["fallback"] == "espeak-ng"
    assert failed[0]["log_level"] == "warning"
    runs = engine.runs
    assert runs == (0 if kind == "missing" else 1)
    # The command rests: the next text goes straight to espeak-ng.
    await voice.render("Tack för samtalet.", "sv")
    assert engine.runs == runs
    if kind == "hangs":
        child = int((engine.path.parent / "child").read_text())
        assert process_gone(child), "the stuck engine's child must be killed with it"


async def test_a_rested_command_is_tried_again(
    engine_script: Callable[[str], Script], executor: ThreadPoolExecutor, espeak: str
) -> None:
    engine = engine_script("fails")
    voice = speaker(
        executor, espeak, command=(str(engine.path), "{lang}", "{out}"), retry_after=0.0
    )
    await voice.render("Ett.", "sv")
    await voice.render("Två.", "sv")
    assert engine.runs == 2


async def test_text_given_as_an_argument_is_never_an_option_or_a_placeholder(
    engine_script: Callable[[str], Script], executor: ThreadPoolExecutor, espeak: str
) -> None:
    engine = engine_script("argument")
    voice = speaker(executor, espeak, command=(str(engine.path), "{text}"))
    audio = await voice.render("--version {out} Anna\nBerg", "en")
    assert (engine.path.parent / "argument").read_text() == "version {out} Anna Berg"
    assert audio.duration > 1.0


async def test_a_text_starting_with_dashes_is_spoken_by_espeak(
    executor: ThreadPoolExecutor, espeak: str
) -> None:
    audio = await speaker(executor, espeak).render("-v xx --help", "en")
    assert audio.duration > 0.5


async def test_prerender_renders_ahead_and_the_call_then_waits_for_nothing(
    engine_script: Callable[[str], Script], executor: ThreadPoolExecutor, espeak: str
) -> None:
    engine = engine_script("speaks")
    voice = speaker(executor, espeak, command=(str(engine.path), "{lang}", "{out}"))
    ahead = voice.prerender(SENTENCES["sv"], "sv")
    during = await voice.render(SENTENCES["sv"], "sv")  # joins the render under way
    assert await ahead == during
    after = voice.prerender(SENTENCES["sv"], "sv")
    assert after.done()  # from memory, at once
    assert await after == during
    assert engine.runs == 1


async def test_a_prerender_that_fails_is_logged(executor: ThreadPoolExecutor, espeak: str) -> None:
    voice = speaker(executor, espeak, espeak_voices={"sv": "zz"})
    with capture_logs() as logs:
        ahead = voice.prerender("Hej", "sv")
        with pytest.raises(SpeechError, match=r"exit status 1: .*voice does not exist"):
            await ahead
        await asyncio.sleep(0)  # done callbacks run on the next loop iteration
    assert [e["event"] for e in logs] == ["speech_prerender_failed"]


async def test_aclose_stops_a_render_under_way_and_its_engine(
    engine_script: Callable[[str], Script], executor: ThreadPoolExecutor, espeak: str
) -> None:
    engine = engine_script("hangs")
    voice = speaker(executor, espeak, command=(str(engine.path), "{lang}", "{out}"), timeout=60)
    ahead = voice.prerender("Hej", "sv")
    child_file = engine.path.parent / "child"

    async def started() -> bool:
        return child_file.exists() and child_file.read_text().strip() != ""

    await wait_for_async(started, what="the engine to start")
    async with asyncio.timeout(SOON):
        await voice.aclose()
    assert ahead.cancelled()
    assert process_gone(int(child_file.read_text()))


async def test_without_espeak_the_error_says_how_to_install_it(
    tmp_path: Path, executor: ThreadPoolExecutor
) -> None:
    voice = Speaker(SpeechSettings(espeak=str(tmp_path / "espeak-ng")), executor)
    with pytest.raises(SpeechError, match="apt-get install espeak-ng"):
        await voice.render("Hej", "sv")


async def test_an_unknown_language_is_refused_before_anything_runs(
    executor: ThreadPoolExecutor, espeak: str
) -> None:
    with pytest.raises(SpeechError, match="no voice for language 'de'"):
        await speaker(executor, espeak).render("Hallo", "de")
