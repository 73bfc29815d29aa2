"""WAV checks (a table of uploads and what becomes of them) and the resampler's duration."""

from __future__ import annotations

import itertools

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from switchboard.voicemail.wav import (
    MAX_UPLOAD_BYTES,
    TARGET_RATE,
    Audio,
    WavError,
    prepare_greeting,
    read_wav,
    resample,
    seal_streamed_wav,
    to_wav,
)
from tests.unit.voicemail.sounds import frames_of, mulaw, tone, wav

GOOD = [
    pytest.param(wav(2.0, 8000), 2.0, id="8 kHz kept"),
    pytest.param(wav(1.0, 16000), 1.0, id="16 kHz resampled, exactly 1 s"),
    pytest.param(wav(3.0, 22050), 3.0, id="22.05 kHz resampled"),
    pytest.param(wav(2.5, 44100), 2.5, id="44.1 kHz resampled"),
    pytest.param(wav(10.0, 48000), 10.0, id="48 kHz browser recording"),
    pytest.param(wav(60.0, 16000), 60.0, id="60 s at 16 kHz, the longest"),
]


@pytest.mark.parametrize(("data", "seconds"), GOOD)
def test_good_greetings_are_stored_at_8_khz(data: bytes, seconds: float) -> None:
    audio = prepare_greeting(data)
    assert audio.rate == TARGET_RATE
    assert audio.duration == pytest.approx(seconds, rel=0.01)
    rate, frames = frames_of(to_wav(audio))
    assert (rate, frames) == (TARGET_RATE, audio.frames)


def test_an_8_khz_greeting_keeps_its_samples() -> None:
    data = wav(2.0, 8000)
    assert to_wav(prepare_greeting(data)) == data


def _truncated() -> bytes:
    data = wav(2.0)
    return data[: len(data) // 2]


BAD = [
    pytest.param(wav(2.0, channels=2), "stereo; record in mono", id="stereo"),
    pytest.param(wav(2.0, channels=3), "3 channels", id="three channels"),
    pytest.param(wav(2.0, rate=12000), "12 kHz: use 8 or 16 kHz", id="odd rate"),
    pytest.param(wav(2.0, rate=96000), "96 kHz", id="96 kHz"),
    pytest.param(wav(2.0, width=1), "8-bit samples", id="8-bit"),
    pytest.param(wav(2.0, width=3), "24-bit samples", id="24-bit"),
    pytest.param(mulaw(2.0), "µ-law; save it as 16-bit PCM", id="mu-law"),
    pytest.param(wav(61.0, 8000), "61.0 s long; keep it under 60 s", id="too long"),
    pytest.param(wav(0.5, 8000), "0.5 s long; record at least 1 s", id="too short"),
    pytest.param(b"", "not a WAV file", id="empty"),
    pytest.param(b"ID3\x04" + bytes(100), "not a WAV file", id="an mp3"),
    pytest.param(b"OggS" + bytes(100), "not a WAV file", id="an ogg from MediaRecorder"),
    pytest.param(_truncated(), "truncated", id="truncated data"),
    pytest.param(wav(2.0)[:30], "truncated", id="truncated header"),
    pytest.param(
        b"RIFF" + bytes(4) + b"WAVE" + bytes(MAX_UPLOAD_BYTES), "larger than 2 MB", id="too big"
    ),
]


@pytest.mark.parametrize(("data", "problem"), BAD)
def test_bad_uploads_are_refused_with_a_reason(data: bytes, problem: str) -> None:
    with pytest.raises(WavError, match=problem):
        prepare_greeting(data)


def _streamed(data: bytes, placeholder: int, cut: int = 0) -> bytes:
    """``data`` as a program writing to a pipe sends it: placeholder sizes, maybe cut short."""
    header = bytearray(data[:44])
    header[4:8] = placeholder.to_bytes(4, "little")
    header[40:44] = placeholder.to_bytes(4, "little")
    return bytes(header) + data[44 : len(data) - cut]


@pytest.mark.parametrize("placeholder", [0x7FFFF000, 0xFFFFFFFF], ids=["espeak-ng", "sox"])
def test_a_streamed_wav_is_refused_as_it_is_and_read_once_sealed(placeholder: int) -> None:
    data = wav(1.5, 22050)
    streamed = _streamed(data, placeholder)
    with pytest.raises(WavError, match="truncated"):
        read_wav(streamed)
    assert seal_streamed_wav(streamed) == data
    assert read_wav(seal_streamed_wav(streamed)) == read_wav(data)


def test_sealing_drops_half_a_sample_and_keeps_sizes_that_fit() -> None:
    data = wav(1.0, 8000)
    odd = _streamed(data, 0xFFFFFFFF, cut=1)
    assert read_wav(seal_streamed_wav(odd)).samples == read_wav(data).samples - 1
    assert seal_streamed_wav(data) == data
    assert seal_streamed_wav(b"OggS" + bytes(40)) == b"OggS" + bytes(40)


def test_read_wav_keeps_the_rate_it_found() -> None:
    assert read_wav(wav(1.5, 44100)).rate == 44100


def test_resampling_keeps_a_tone_recognisable() -> None:
    """A 440 Hz tone at 48 kHz, resampled, still crosses zero 880 times a second."""
    audio = resample(Audio(48000, tone(1.0, 48000, 440.0)))
    samples = [
        int.from_bytes(audio.frames[i : i + 2], "little", signed=True)
        for i in range(0, len(audio.frames), 2)
    ]
    crossings = sum(1 for a, b in itertools.pairwise(samples) if (a < 0) != (b < 0))
    assert 870 <= crossings <= 890


def test_resampling_up_is_refused() -> None:
    with pytest.raises(WavError, match="cannot resample up"):
        resample(Audio(8000, tone(1.0)), 16000)


@settings(max_examples=40, deadline=None)
@given(
    rate=st.sampled_from([11025, 16000, 22050, 24000, 32000, 44100, 48000]),
    samples=st.integers(min_value=1000, max_value=60_000),
)
def test_resampling_keeps_the_duration_within_one_percent(rate: int, samples: int) -> None:
    before = Audio(rate, bytes(2 * samples))
    after = resample(before)
    assert after.rate == TARGET_RATE
    assert after.duration == pytest.approx(before.duration, rel=0.01)
