"""Tones, silence, joins, trimming and loudness, checked sample by sample (R10-R12)."""

from __future__ import annotations

import itertools
import math
from array import array

import pytest
from hypothesis import given
from hypothesis import strategies as st

from switchboard.media.clips import (
    BEEP_HZ,
    BEEP_MS,
    RATE,
    beep,
    concat,
    normalise,
    peak_dbfs,
    silence,
    speech_level_dbfs,
    tone,
    trim,
)
from switchboard.voicemail.wav import Audio


def samples(audio: Audio) -> list[int]:
    return list(array("h", audio.frames))


def crossings(values: list[int]) -> int:
    """Sign changes from negative to non-negative: one per period of a sine."""
    return sum(1 for a, b in itertools.pairwise(values) if a < 0 <= b)


def test_silence_is_that_many_milliseconds_of_zeros() -> None:
    pause = silence(250)
    assert (pause.rate, pause.samples, pause.duration_ms) == (RATE, 2000, 250)
    assert set(pause.frames) == {0}


def test_a_negative_pause_is_a_mistake() -> None:
    with pytest.raises(ValueError, match="negative"):
        silence(-1)


def test_the_beep_is_a_1_khz_tone_of_400_ms() -> None:
    clip = beep()
    assert clip.duration_ms == BEEP_MS
    # 1 kHz for 0.4 s: 400 periods, give or take the one the fades soften.
    assert abs(crossings(samples(clip)) - BEEP_HZ * BEEP_MS / 1000) <= 1
    assert peak_dbfs(clip) == pytest.approx(-15.0, abs=0.1)


@pytest.mark.parametrize("hz", [425.0, 1000.0, 1400.0, 3000.0])
def test_a_tone_has_its_frequency(hz: float) -> None:
    clip = tone(hz, 1000)
    assert abs(crossings(samples(clip)) - hz) <= 1


def test_a_tone_fades_in_and_out_so_it_does_not_click() -> None:
    values = samples(tone(1000.0, 300, level_dbfs=0.0, fade_ms=10))
    assert values[0] == 0
    assert abs(values[-1]) < 200
    # Within the first millisecond the tone is still far below full scale.
    assert max(abs(v) for v in values[:8]) < 2000
    assert max(abs(v) for v in values[100:200]) > 32000


def test_a_tone_above_the_nyquist_frequency_is_refused() -> None:
    with pytest.raises(ValueError, match="5000 Hz tone"):
        tone(5000.0, 100)


def test_concat_joins_in_order_and_refuses_another_rate() -> None:
    joined = concat([beep(), silence(100), beep()])
    assert joined.frames == beep().frames + silence(100).frames + beep().frames
    assert concat([]).frames == b""
    with pytest.raises(ValueError, match="22050 Hz"):
        concat([beep(), Audio(22050, bytes(100))])


def test_trim_cuts_silence_on_both_sides_but_keeps_a_margin() -> None:
    sound = tone(440.0, 500, level_dbfs=-10.0, fade_ms=0)
    padded = concat([silence(700), sound, silence(900)])
    trimmed = trim(padded, keep_ms=40)
    assert trimmed.duration_ms == pytest.approx(500 + 2 * 40, abs=2)
    assert sound.frames in trimmed.frames


def test_trim_of_silence_is_empty_and_of_sound_is_unchanged() -> None:
    assert trim(silence(500)).frames == b""
    sound = tone(440.0, 500, level_dbfs=-10.0, fade_ms=0)
    assert trim(sound).frames == sound.frames


def test_the_speech_level_leaves_pauses_out() -> None:
    sound = tone(440.0, 500, level_dbfs=-10.0)
    with_pauses = concat([sound, silence(2000), sound])
    # A sine's RMS is 3 dB under its peak, pauses or not.
    assert speech_level_dbfs(sound) == pytest.approx(-13.0, abs=0.2)
    assert speech_level_dbfs(with_pauses) == pytest.approx(-13.0, abs=0.2)
    assert speech_level_dbfs(silence(100)) == -math.inf


def test_normalise_brings_quiet_and_loud_speech_to_one_level() -> None:
    quiet = tone(440.0, 1000, level_dbfs=-32.0)
    loud = tone(440.0, 1000, level_dbfs=-6.0)
    for clip in (quiet, loud):
        assert speech_level_dbfs(normalise(clip)) == pytest.approx(-20.0, abs=0.1)


def test_normalise_keeps_peaks_under_the_ceiling() -> None:
    # A click on a quiet bed: raising the bed to -20 dBFS would clip the click.
    bed = tone(440.0, 1000, level_dbfs=-30.0)
    click = Audio(RATE, array("h", [-32000, 32000] * 4).tobytes())
    out = normalise(concat([bed, click, bed]))
    assert peak_dbfs(out) == pytest.approx(-1.0, abs=0.05)


def test_normalise_does_not_turn_hiss_into_a_roar() -> None:
    hiss = tone(440.0, 1000, level_dbfs=-70.0)
    assert speech_level_dbfs(normalise(hiss)) == pytest.approx(-73.0 + 20.0, abs=0.2)
    assert normalise(silence(300)) == silence(300)


def test_normalise_refuses_a_ceiling_above_full_scale() -> None:
    with pytest.raises(ValueError, match="would clip"):
        normalise(beep(), ceiling_dbfs=1.0)


@given(st.lists(st.integers(-32768, 32767), min_size=1, max_size=800))
def test_normalise_never_leaves_the_16_bit_range_or_changes_the_length(values: list[int]) -> None:
    clip = Audio(RATE, array("h", values).tobytes())
    out = normalise(clip)
    assert out.samples == clip.samples
    assert peak_dbfs(out) <= max(-1.0, peak_dbfs(clip)) + 0.01
