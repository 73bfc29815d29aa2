"""WAV in and out (pure): check an upload, resample it to the telephone rate, write it back.

What is accepted, and why:
- RIFF/WAVE, linear PCM, 16-bit, mono. That is what the page's recorder produces (the
  browser's MediaRecorder gives webm/ogg; the page decodes it and writes 16-bit PCM at the
  browser's rate) and what every sound editor saves.
- 8 kHz is kept as is; 16, 11.025, 22.05, 24, 32, 44.1 and 48 kHz are resampled to 8 kHz,
  the rate of G.711, which is what a caller hears anyway (R11). One stored format means the
  media edge never converts at call time.
- Refused with a message saying what to do: stereo, 8/24/32-bit or float samples, µ-law
  and A-law WAVs (save as 16-bit PCM), other rates, truncated files, anything not a WAV.

Resampling is pure Python (``audioop`` is gone in 3.13): a moving average over one input
period of the output rate (a crude low-pass against aliasing), then linear interpolation.
Good enough for speech heard through a G.711 phone line; not a studio resampler.
"""

from __future__ import annotations

import io
import itertools
import struct
import sys
import wave
from array import array
from collections.abc import Mapping
from dataclasses import dataclass

from switchboard.voicemail.model import VoicemailError

TARGET_RATE = 8000
"""Every stored greeting and message: 8 kHz, 16-bit, mono PCM (G.711's rate)."""
RESAMPLED_RATES = frozenset({11025, 16000, 22050, 24000, 32000, 44100, 48000})
MIN_GREETING_SECONDS = 1.0
MAX_GREETING_SECONDS = 60.0
MAX_UPLOAD_BYTES = 2 * 1024 * 1024
"""A greeting or name clip upload above this is refused before it is read (413); a 60 s
greeting at 16 kHz fits."""

_FORMATS = {
    0x0001: "PCM",
    0x0003: "32-bit float",
    0x0006: "A-law",
    0x0007: "µ-law",
    0xFFFE: "extensible",
}


class WavError(VoicemailError):
    """The audio is not a WAV we accept; the message says what to change.

    ``code`` (``audio_...``) and ``params`` let the pages say the same in the reader's
    language (issue 16); the message is the English sentence for API clients."""

    def __init__(
        self,
        message: str,
        code: str = "bad_audio",
        params: Mapping[str, str | int | float] | None = None,
    ) -> None:
        super().__init__(message)
        self.code = code
        self.params: Mapping[str, str | int | float] = dict(params or {})


@dataclass(frozen=True, slots=True)
class Audio:
    """Mono 16-bit linear PCM, little-endian, at ``rate`` samples per second."""

    rate: int
    frames: bytes

    @property
    def samples(self) -> int:
        return len(self.frames) // 2

    @property
    def duration(self) -> float:
        return self.samples / self.rate

    @property
    def duration_ms(self) -> int:
        return round(self.samples * 1000 / self.rate)


def _format_tag(data: bytes) -> int | None:
    """The ``fmt `` chunk's format tag, found by walking the RIFF chunks (None if absent)."""
    offset = 12
    while offset + 8 <= len(data):
        name, size = struct.unpack_from("<4sI", data, offset)
        if name == b"fmt " and offset + 10 <= len(data):
            return int(struct.unpack_from("<H", data, offset + 8)[0])
        offset += 8 + size + (size & 1)
    return None


def read_wav(data: bytes) -> Audio:
    """Parse and check ``data``; the audio as it is (any rate we know how to handle)."""
    if len(data) < 12 or data[:4] != b"RIFF" or data[8:12] != b"WAVE":
        raise WavError(
            "this is not a WAV file (no RIFF/WAVE header); save the audio as WAV", "audio_not_wav"
        )
    tag = _format_tag(data)
    if tag is None:
        raise WavError(
            "the WAV has no format chunk: the file is truncated or damaged", "audio_damaged"
        )
    if tag != 0x0001:
        kind = _FORMATS.get(tag, f"format {tag:#06x}")
        raise WavError(
            f"the WAV is {kind}; save it as 16-bit PCM (signed integer) instead",
            "audio_not_pcm",
            {"kind": kind},
        )
    try:
        with wave.open(io.BytesIO(data), "rb") as reader:
            channels = reader.getnchannels()
            width = reader.getsampwidth()
            rate = reader.getframerate()
            promised = reader.getnframes()
            frames = reader.readframes(promised)
    except (wave.Error, EOFError, struct.error) as exc:
        raise WavError(
            f"the WAV cannot be read ({exc}); the file is truncated or damaged", "audio_damaged"
        ) from None
    if channels != 1:
        name = "stereo" if channels == 2 else f"{channels} channels"
        raise WavError(f"the WAV is {name}; record in mono", "audio_not_mono")
    if width != 2:
        raise WavError(
            f"the WAV has {8 * width}-bit samples; save it as 16-bit PCM",
            "audio_not_16bit",
            {"bits": 8 * width},
        )
    if rate != TARGET_RATE and rate not in RESAMPLED_RATES:
        raise WavError(
            f"{rate / 1000:g} kHz: use 8 or 16 kHz (or 22.05, 44.1 or 48 kHz)",
            "audio_bad_rate",
            {"khz": rate / 1000},
        )
    if len(frames) < promised * 2:
        raise WavError(
            f"the WAV is truncated: its header promises {promised / rate:.1f} s "
            f"but only {len(frames) / 2 / rate:.1f} s of audio arrived",
            "audio_damaged",
        )
    return Audio(rate, frames)


def seal_streamed_wav(data: bytes) -> bytes:
    """``data`` with its RIFF and ``data`` sizes set to the bytes that actually arrived.

    A WAV written to a pipe (``espeak-ng --stdout``, ``sox ... -t wav -``) cannot seek back
    to fill in its sizes, so it carries placeholders (``0x7FFFF000``, ``0xFFFFFFFF``) that
    ``read_wav`` would rightly call a truncated file. Only for output we asked a program
    to stream: an upload keeps its sizes, so truncation is still caught there. Chunks
    before ``data`` are kept; a ``data`` size that fits is kept too; an odd last byte (half
    a sample) is dropped.
    """
    if len(data) < 12 or data[:4] != b"RIFF" or data[8:12] != b"WAVE":
        return data  # not a WAV: read_wav says so
    offset = 12
    while offset + 8 <= len(data):
        name, size = struct.unpack_from("<4sI", data, offset)
        start = offset + 8
        if name == b"data":
            present = len(data) - start
            size = min(size, present - present % 2)
            body = data[start : start + size]
            head = bytearray(data[:start])
            struct.pack_into("<I", head, 4, len(head) + size - 8)
            struct.pack_into("<I", head, offset + 4, size)
            return bytes(head) + body
        offset = start + size + (size & 1)
    return data


def resample(audio: Audio, rate: int = TARGET_RATE) -> Audio:
    """``audio`` at ``rate`` (downsampling only): moving average, then linear interpolation.

    The output has ``floor(samples * rate / audio.rate)`` samples, so the duration changes
    by less than one output sample.
    """
    if audio.rate == rate:
        return audio
    if audio.rate < rate:
        raise WavError(f"cannot resample up from {audio.rate} Hz to {rate} Hz")
    source = array("h", audio.frames)
    if sys.byteorder == "big":  # pragma: no cover - WAV is little-endian
        source.byteswap()
    n_in = len(source)
    n_out = n_in * rate // audio.rate
    step = audio.rate / rate
    width = max(1, int(step))
    # prefix[k] = sum(source[:k]); the mean of a window is one subtraction.
    prefix = list(itertools.accumulate(source, initial=0))
    last = n_in - 1

    def smoothed(k: int) -> float:
        lo = max(0, k - width // 2)
        hi = min(n_in, lo + width)
        return (prefix[hi] - prefix[lo]) / (hi - lo)

    out = array("h", bytes(2 * n_out))
    for i in range(n_out):
        position = i * step
        k = int(position)
        frac = position - k
        value = smoothed(k)
        if frac and k < last:
            value += (smoothed(k + 1) - value) * frac
        out[i] = max(-32768, min(32767, round(value)))
    if sys.byteorder == "big":  # pragma: no cover
        out.byteswap()
    return Audio(rate, out.tobytes())


def check_greeting(audio: Audio) -> None:
    """A greeting is 1-60 s long (R12: long enough to say who and where, short enough)."""
    seconds = audio.duration
    if seconds < MIN_GREETING_SECONDS:
        raise WavError(
            f"the greeting is {seconds:.1f} s long; record at least "
            f"{MIN_GREETING_SECONDS:g} s saying who you are and where the caller has reached",
            "audio_too_short",
            {"seconds": round(seconds, 1), "min": MIN_GREETING_SECONDS},
        )
    if seconds > MAX_GREETING_SECONDS:
        raise WavError(
            f"the greeting is {seconds:.1f} s long; keep it under {MAX_GREETING_SECONDS:g} s",
            "audio_too_long",
            {"seconds": round(seconds, 1), "max": MAX_GREETING_SECONDS},
        )


def read_upload(data: bytes) -> Audio:
    """An uploaded greeting or name clip, checked (``read_wav``), at its own rate: check
    its length before resampling, which costs more the longer it is."""
    if len(data) > MAX_UPLOAD_BYTES:
        raise WavError(
            f"the WAV is larger than {MAX_UPLOAD_BYTES // (1024 * 1024)} MB",
            "audio_too_big",
            {"mb": MAX_UPLOAD_BYTES // (1024 * 1024)},
        )
    return read_wav(data)


def prepare_greeting(data: bytes) -> Audio:
    """An upload made ready to store: checked, 1-60 s, at 8 kHz."""
    audio = read_upload(data)
    check_greeting(audio)
    return resample(audio)


def to_wav(audio: Audio) -> bytes:
    """The canonical file: a 44-byte header and the frames (what the spool stores)."""
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as writer:
        writer.setnchannels(1)
        writer.setsampwidth(2)
        writer.setframerate(audio.rate)
        writer.writeframes(audio.frames)
    return buffer.getvalue()
