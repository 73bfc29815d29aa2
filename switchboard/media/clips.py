"""Clips a caller hears, as 8 kHz 16-bit mono PCM (``Audio``): tones, silence, joins,
trimming and loudness (R10-R12).

Pure functions on ``voicemail.wav.Audio`` (the project's one PCM value), sample-exact so
tests can count samples. Levels are dBFS: 0 dBFS is a sample of 32767.

Loudness: a caller hears synthesized speech, a recorded name and a recorded greeting one
after the other, so each is brought to the same *speech level* (-20 dBFS, measured over
the 20 ms blocks that carry sound, as ITU-T P.56 measures an active speech level, in a
simplified form), never above a -1 dBFS peak (G.711 clips at full scale) and never
raised by more than 20 dB (a near-silent recording stays quiet rather than becoming
loud hiss). Pure Python costs about 1-2 ms per second of audio here: run it where the
work is done once (when a clip is made or cached), not per call.
"""

from __future__ import annotations

import math
import sys
from array import array
from collections.abc import Iterable

from switchboard.voicemail.wav import TARGET_RATE, Audio

RATE = TARGET_RATE
FULL_SCALE = 32767
BEEP_HZ = 1000.0
"""The record-after-the-tone beep: 1 kHz, mid-band for G.711 and not a DTMF frequency."""
BEEP_MS = 400
SPEECH_LEVEL_DBFS = -20.0
PEAK_CEILING_DBFS = -1.0
MAX_GAIN_DB = 20.0
BLOCK_MS = 20
ACTIVE_RANGE_DB = 30.0
"""A block counts as sound when it is within this many dB of the loudest block."""
SILENCE_DBFS = -40.0
"""Below this a sample is silence for ``trim`` (a quiet room, espeak-ng's pauses)."""


def _samples(audio: Audio) -> array[int]:
    samples = array("h", audio.frames[: len(audio.frames) - len(audio.frames) % 2])
    if sys.byteorder == "big":  # pragma: no cover - PCM here is little-endian
        samples.byteswap()
    return samples


def _audio(rate: int, samples: array[int]) -> Audio:
    if sys.byteorder == "big":  # pragma: no cover
        samples = array("h", samples)
        samples.byteswap()
    return Audio(rate, samples.tobytes())


def _amplitude(dbfs: float) -> float:
    return FULL_SCALE * 10 ** (dbfs / 20)


def _dbfs(amplitude: float) -> float:
    return 20 * math.log10(amplitude / FULL_SCALE) if amplitude > 0 else -math.inf


def silence(ms: int, rate: int = RATE) -> Audio:
    """``ms`` milliseconds of digital silence."""
    if ms < 0:
        raise ValueError(f"a pause cannot be negative ({ms} ms)")
    return Audio(rate, bytes(2 * (ms * rate // 1000)))


def tone(
    hz: float, ms: int, *, level_dbfs: float = -15.0, fade_ms: int = 10, rate: int = RATE
) -> Audio:
    """A sine at ``hz`` with a raised-cosine fade in and out (no click at either end)."""
    if not 0 < hz < rate / 2:
        raise ValueError(f"a {hz:g} Hz tone cannot be played at {rate} Hz")
    n = ms * rate // 1000
    fade = min(fade_ms * rate // 1000, n // 2)
    peak = _amplitude(level_dbfs)
    out = array("h", bytes(2 * n))
    for i in range(n):
        edge = min(i, n - 1 - i)
        gain = 0.5 - 0.5 * math.cos(math.pi * edge / fade) if edge < fade else 1.0
        out[i] = round(peak * gain * math.sin(2 * math.pi * hz * i / rate))
    return _audio(rate, out)


def beep() -> Audio:
    """The tone before recording a message (R11): 1 kHz for 0.4 s."""
    return tone(BEEP_HZ, BEEP_MS)


def concat(clips: Iterable[Audio], rate: int = RATE) -> Audio:
    """The clips one after the other; all must already be at ``rate``."""
    parts: list[bytes] = []
    for clip in clips:
        if clip.rate != rate:
            raise ValueError(f"a clip at {clip.rate} Hz cannot join clips at {rate} Hz")
        parts.append(clip.frames)
    return Audio(rate, b"".join(parts))


def peak_dbfs(audio: Audio) -> float:
    samples = _samples(audio)
    if not samples:
        return -math.inf
    return _dbfs(max(max(samples), -min(samples)))


def _block_powers(audio: Audio) -> list[float]:
    """Mean square of each ``BLOCK_MS`` block (the last one may be shorter)."""
    samples = _samples(audio)
    size = max(1, audio.rate * BLOCK_MS // 1000)
    powers: list[float] = []
    for start in range(0, len(samples), size):
        block = samples[start : start + size]
        powers.append(sum(x * x for x in block) / len(block))
    return powers


def speech_level_dbfs(audio: Audio) -> float:
    """The RMS level of the blocks that carry sound (pauses between words left out)."""
    powers = _block_powers(audio)
    loudest = max(powers, default=0.0)
    if loudest <= 0:
        return -math.inf
    floor = loudest * 10 ** (-ACTIVE_RANGE_DB / 10)
    active = [p for p in powers if p >= floor]
    return _dbfs(math.sqrt(sum(active) / len(active)))


def trim(audio: Audio, *, threshold_dbfs: float = SILENCE_DBFS, keep_ms: int = 40) -> Audio:
    """Without the silence before the first and after the last sound, keeping ``keep_ms``
    on each side so a soft onset is not cut. All silence gives an empty clip."""
    samples = _samples(audio)
    limit = _amplitude(threshold_dbfs)
    first = next((i for i, x in enumerate(samples) if abs(x) > limit), None)
    if first is None:
        return Audio(audio.rate, b"")
    last = next(i for i in range(len(samples) - 1, first - 1, -1) if abs(samples[i]) > limit)
    keep = keep_ms * audio.rate // 1000
    start, end = max(0, first - keep), min(len(samples), last + 1 + keep)
    return Audio(audio.rate, audio.frames[2 * start : 2 * end])


def normalise(
    audio: Audio,
    *,
    level_dbfs: float = SPEECH_LEVEL_DBFS,
    ceiling_dbfs: float = PEAK_CEILING_DBFS,
    max_gain_db: float = MAX_GAIN_DB,
) -> Audio:
    """``audio`` brought to ``level_dbfs`` speech level, its peak at most ``ceiling_dbfs``
    and raised by at most ``max_gain_db``; silence stays silence."""
    if ceiling_dbfs > 0:
        raise ValueError(f"a peak ceiling above full scale ({ceiling_dbfs:g} dBFS) would clip")
    level, peak = speech_level_dbfs(audio), peak_dbfs(audio)
    if level == -math.inf:
        return audio
    gain_db = min(level_dbfs - level, ceiling_dbfs - peak, max_gain_db)
    if abs(gain_db) < 0.05:
        return audio
    gain = 10 ** (gain_db / 20)
    # The ceiling bounds the gain, so no sample can leave the 16-bit range.
    return _audio(audio.rate, array("h", [round(x * gain) for x in _samples(audio)]))
