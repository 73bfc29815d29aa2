"""What the speaker runs and caches by, without running anything: settings, text, keys."""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

import pytest

from switchboard.media.tts import Engine, Speaker, SpeechError, SpeechSettings, clean_text

PIPER = ("piper", "--model", "{voice}", "--output_file", "{out}")


@pytest.mark.parametrize(
    ("settings", "problem"),
    [
        (lambda: SpeechSettings(command=("tts", "{txt}")), r"unknown placeholders \['txt'\]"),
        (lambda: SpeechSettings(command=PIPER), "no command_voices"),
        (lambda: SpeechSettings(timeout=0), "must be positive"),
        (lambda: SpeechSettings(espeak_speed=20), "outside 80-450"),
    ],
    ids=["unknown placeholder", "voice without voices", "no timeout", "too slow"],
)
def test_settings_that_cannot_work_are_refused_with_a_reason(
    settings: Callable[[], SpeechSettings], problem: str
) -> None:
    with pytest.raises(SpeechError, match=problem):
        settings()


CLEAN = [
    ("whitespace", "  Anna Berg\n\tär på   lunch. ", "Anna Berg är på lunch."),
    ("leading dashes", "--help me", "help me"),
    ("an en dash", "– Anna", "Anna"),
    ("control characters", "Anna\x00Berg\x1b[1m", "Anna Berg [1m"),
    ("inner dashes stay", "Sotenäs - kommun", "Sotenäs - kommun"),
]


@pytest.mark.parametrize(("text", "expected"), [c[1:] for c in CLEAN], ids=[c[0] for c in CLEAN])
def test_text_is_one_clean_line(text: str, expected: str) -> None:
    assert clean_text(text, 100) == expected


def test_empty_and_overlong_texts_are_refused() -> None:
    with pytest.raises(SpeechError, match="no text"):
        clean_text(" - \n ", 100)
    with pytest.raises(SpeechError, match="601 characters long; at most 600"):
        clean_text("a" * 601, 600)


def test_espeak_reads_the_text_on_stdin_in_the_language_s_voice(
    executor: ThreadPoolExecutor,
) -> None:
    speaker = Speaker(SpeechSettings(espeak_voices={"sv": "sv", "nb": "no"}), executor)
    (espeak,) = speaker.engines("nb")
    assert espeak.argv == (
        "espeak-ng", "-v", "no", "-s", "160", "-b", "1", "--stdout", "--stdin",
    )  # fmt: skip
    with pytest.raises(SpeechError, match="no voice for language 'en'; known: nb, sv"):
        speaker.engines("en")


def test_the_command_speaks_the_languages_it_has_a_voice_for(
    executor: ThreadPoolExecutor,
) -> None:
    settings = SpeechSettings(command=PIPER, command_voices={"sv": "/opt/voices/sv.onnx"})
    speaker = Speaker(settings, executor)
    command, espeak = speaker.engines("sv")
    assert command == Engine(
        "piper", ("piper", "--model", "/opt/voices/sv.onnx", "--output_file", "{out}")
    )
    assert espeak.name == "espeak-ng"
    assert [e.name for e in speaker.engines("en")] == ["espeak-ng"]


def test_the_cache_key_changes_with_everything_that_shapes_the_sound() -> None:
    engine = Engine("espeak-ng", ("espeak-ng", "-v", "sv"))
    key = engine.key("Hej", "sv")
    assert key == Engine("espeak-ng", ("espeak-ng", "-v", "sv")).key("Hej", "sv")
    others = {
        engine.key("Hej!", "sv"),
        engine.key("Hej", "nb"),
        Engine("espeak-ng", ("espeak-ng", "-v", "nb")).key("Hej", "sv"),
        Engine("espeak-ng", ("espeak-ng", "-v", "sv", "-s", "175")).key("Hej", "sv"),
    }
    assert key not in others
    assert len(others) == 4
