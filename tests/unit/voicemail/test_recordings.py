"""The name clip made ready to store (a table of uploads and what becomes of them): at
8 kHz, at the speech level of the synthesized speech around it, cut to its sound, 0.5-5 s.
The greeting next to it is kept as it was uploaded."""

from __future__ import annotations

import pytest

from switchboard.media.clips import (
    PEAK_CEILING_DBFS,
    SPEECH_LEVEL_DBFS,
    peak_dbfs,
    speech_level_dbfs,
)
from switchboard.voicemail.model import RECORDING_ACTIONS, Recording
from switchboard.voicemail.recordings import prepare, prepare_name_clip
from switchboard.voicemail.wav import TARGET_RATE, WavError, read_wav
from tests.unit.voicemail.sounds import mulaw, spoken, wav

KEEP_S = 0.04
"""``clips.trim`` keeps up to 40 ms of silence before and after the sound."""


@pytest.mark.parametrize(
    ("seconds", "before", "after", "rate", "peak"),
    [
        pytest.param(1.2, 0.8, 1.5, 16000, 800, id="quiet, silence around"),
        pytest.param(0.5, 0.0, 0.0, 48000, 800, id="the shortest, 48 kHz"),
        pytest.param(4.9, 0.0, 3.0, 16000, 800, id="the longest, silence after"),
        pytest.param(2.0, 0.5, 0.5, 8000, 30000, id="loud, 8 kHz"),
    ],
)
def test_a_name_is_cut_to_its_sound_at_speech_level(
    seconds: float, before: float, after: float, rate: int, peak: int
) -> None:
    clip = prepare_name_clip(spoken(seconds, before=before, after=after, rate=rate, peak=peak))
    assert clip.rate == TARGET_RATE
    kept = min(before, KEEP_S) + min(after, KEEP_S)
    assert clip.duration == pytest.approx(seconds + kept, abs=0.01)
    assert speech_level_dbfs(clip) == pytest.approx(SPEECH_LEVEL_DBFS, abs=0.5)
    assert peak_dbfs(clip) <= PEAK_CEILING_DBFS


@pytest.mark.parametrize(
    ("data", "problem"),
    [
        pytest.param(spoken(0.3, before=2.0, after=2.0), "at least 0.5 s", id="too short"),
        pytest.param(spoken(6.0), "keep it under 5 s", id="too long"),
        pytest.param(spoken(0, before=3.0), "silent", id="silence only"),
        pytest.param(wav(2.0, channels=2), "stereo; record in mono", id="stereo"),
        pytest.param(wav(2.0, rate=12000), "12 kHz", id="odd rate"),
        pytest.param(mulaw(2.0), "µ-law", id="mu-law"),
        pytest.param(b"OggS" + bytes(100), "not a WAV", id="ogg"),
    ],
)
def test_a_name_that_cannot_be_used_says_why(data: bytes, problem: str) -> None:
    with pytest.raises(WavError, match=problem):
        prepare_name_clip(data)


def test_the_greeting_is_kept_as_uploaded_the_name_is_not() -> None:
    upload = wav(2.0, 8000)
    assert prepare(Recording.GREETING, upload) == read_wav(upload)
    assert prepare(Recording.NAME_CLIP, upload) != read_wav(upload)


def test_each_recording_has_its_own_file_and_audit_actions() -> None:
    assert [r.file_name for r in Recording] == ["greeting.wav", "name_clip.wav"]
    assert {
        "greeting_set",
        "greeting_deleted",
        "name_clip_set",
        "name_clip_deleted",
    } == RECORDING_ACTIONS
