"""Audio analysis for media tests: judge what a peer heard or stored without listening.

Everything here works on 8 kHz mono samples as float64 in 16-bit units (-32768..32767),
the telephone band the switchboard speaks in (G.711, RFC 3551 4.5.14). ``read_wav``
brings any 8/16/44.1/48 kHz mono or stereo 16-bit WAV (or a G.711 WAV from sox) to that
form; ``speech_seconds`` says how much of it is not silence; ``best_correlation`` says
whether, and where, a known reference (the rendered announcement, the caller's message)
appears in a recording, after G.711 coding and small level changes.

``speak`` renders text with espeak-ng and sox (both checked with ``require_tool``).
"""

from __future__ import annotations

import struct
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt

from tests.peers.tools import require_tool

RATE = 8000
"""Samples per second everywhere in this module (G.711's clock, RFC 3551 4.5.14)."""
WINDOW_SECONDS = 0.02
"""20 ms: one RTP packet of G.711 at the usual ptime, and the RMS window for speech."""
SILENCE_DBFS = -40.0
"""RMS below this (dB relative to full scale, 32768) counts as silence."""

Samples = npt.NDArray[np.float64]

_PCM = 1
_ALAW = 6
_ULAW = 7
_EXTENSIBLE = 0xFFFE


class AudioError(Exception):
    """A WAV this module cannot read, or a tool that failed to render audio."""


@dataclass(frozen=True)
class Correlation:
    """Where a reference best matches a recording, and how well.

    ``peak`` is the normalised cross-correlation at ``lag_seconds`` (0..1; a G.711 copy
    scores above 0.9, unrelated speech or noise below 0.3); ``lag_seconds`` is where the
    reference starts in the recording.
    """

    peak: float
    lag_seconds: float


# -- reading and writing --------------------------------------------------------------


def read_wav(path: Path) -> Samples:
    """The WAV at ``path`` as 8 kHz mono samples.

    Reads 16-bit PCM (plain or WAVE_FORMAT_EXTENSIBLE), 8-bit mu-law and A-law, at any
    rate, mono or stereo (channels are averaged); resamples to 8 kHz. That covers what
    baresip's sndfile writes (8 kHz mono 16-bit), espeak-ng (22,050 Hz) and sox.
    """
    data = path.read_bytes()
    if data[:4] != b"RIFF" or data[8:12] != b"WAVE":
        raise AudioError(f"{path} is not a RIFF/WAVE file")
    fmt: tuple[int, int, int, int] | None = None
    pcm: bytes | None = None
    offset = 12
    while offset + 8 <= len(data):
        chunk, size = (
            data[offset : offset + 4],
            struct.unpack("<I", data[offset + 4 : offset + 8])[0],
        )
        body = data[offset + 8 : offset + 8 + size]
        if chunk == b"fmt ":
            tag, channels, rate = struct.unpack("<HHI", body[:8])
            bits = struct.unpack("<H", body[14:16])[0]
            if tag == _EXTENSIBLE and len(body) >= 26:
                tag = struct.unpack("<H", body[24:26])[0]
            fmt = (tag, channels, rate, bits)
        elif chunk == b"data":
            pcm = body
        offset += 8 + size + (size & 1)
    if fmt is None or pcm is None:
        raise AudioError(f"{path} has no fmt or data chunk")
    tag, channels, rate, bits = fmt
    if tag == _PCM and bits == 16:
        samples = np.frombuffer(pcm[: len(pcm) // 2 * 2], dtype="<i2").astype(np.float64)
    elif tag == _ULAW and bits == 8:
        samples = ulaw_decode(pcm)
    elif tag == _ALAW and bits == 8:
        samples = alaw_decode(pcm)
    else:
        raise AudioError(f"{path}: format {tag} with {bits} bits is not supported")
    if channels > 1:
        frames = len(samples) // channels
        samples = samples[: frames * channels].reshape(frames, channels).mean(axis=1)
    return resample(samples, rate, RATE)


def write_wav(path: Path, samples: Samples, rate: int = RATE) -> Path:
    """Write mono 16-bit PCM (what baresip's aufile plays as a microphone)."""
    pcm = np.clip(np.round(samples), -32768, 32767).astype("<i2").tobytes()
    header = struct.pack(
        "<4sI4s4sIHHIIHH4sI",
        b"RIFF",
        36 + len(pcm),
        b"WAVE",
        b"fmt ",
        16,
        _PCM,
        1,
        rate,
        rate * 2,
        2,
        16,
        b"data",
        len(pcm),
    )
    path.write_bytes(header + pcm)
    return path


def resample(samples: Samples, rate: int, target: int = RATE) -> Samples:
    """Band-limited resampling through the spectrum (rfft, cut or pad, irfft).

    Good enough for analysis (it treats the signal as periodic, so the first and last
    milliseconds may ring); not for listening.
    """
    if rate == target or len(samples) == 0:
        return samples.astype(np.float64)
    count = round(len(samples) * target / rate)
    spectrum = np.fft.rfft(samples)
    bins = count // 2 + 1
    if bins <= len(spectrum):
        spectrum = spectrum[:bins]
    else:
        spectrum = np.concatenate([spectrum, np.zeros(bins - len(spectrum), dtype=complex)])
    return np.fft.irfft(spectrum, n=count) * (count / len(samples))


def silence(seconds: float) -> Samples:
    return np.zeros(round(seconds * RATE), dtype=np.float64)


def tone(seconds: float, hz: float = 440.0, level: float = 8000.0) -> Samples:
    times = np.arange(round(seconds * RATE)) / RATE
    return level * np.sin(2 * np.pi * hz * times)


def duration(samples: Samples) -> float:
    return len(samples) / RATE


# -- G.711 (ITU-T G.711; the segment tables as in RFC 3551 4.5.14) -------------------

_BIAS = 0x84


def ulaw_encode(samples: Samples) -> bytes:
    """16-bit samples to mu-law bytes (PCMU, RTP payload type 0), on the 14-bit scale of
    the reference coder (Sun's g711.c, the same codes as Python's old ``audioop``)."""
    values = np.clip(np.round(samples), -32768, 32767).astype(np.int32) >> 2
    mask = np.where(values < 0, 0x7F, 0xFF)
    magnitude = np.minimum(np.where(values < 0, -values, values), 8159) + (_BIAS >> 2)
    segment = np.maximum(np.floor(np.log2(magnitude)).astype(np.int32) - 5, 0)
    code = (np.minimum(segment, 7) << 4) | ((magnitude >> (segment + 1)) & 0x0F)
    code = np.where(segment > 7, 0x7F, code)
    return ((code ^ mask) & 0xFF).astype(np.uint8).tobytes()


def ulaw_decode(data: bytes) -> Samples:
    """mu-law bytes to 16-bit samples."""
    codes = ~np.frombuffer(data, dtype=np.uint8).astype(np.int32) & 0xFF
    exponent = (codes >> 4) & 0x07
    mantissa = codes & 0x0F
    magnitude = (((mantissa << 3) + _BIAS) << exponent) - _BIAS
    return np.where(codes & 0x80, -magnitude, magnitude).astype(np.float64)


def alaw_encode(samples: Samples) -> bytes:
    """16-bit samples to A-law bytes (PCMA, RTP payload type 8)."""
    values = np.clip(np.round(samples), -32768, 32767).astype(np.int32) >> 3
    sign = np.where(values >= 0, 0x80, 0)
    magnitude = np.where(values >= 0, values, -values - 1)
    magnitude = np.minimum(magnitude, 0x0FFF)
    segment = np.floor(np.log2(np.maximum(magnitude, 1))).astype(np.int32) - 4
    exponent = np.where(magnitude < 32, 0, segment)
    mantissa = np.where(exponent < 2, magnitude >> 1, magnitude >> exponent) & 0x0F
    codes: npt.NDArray[np.uint8] = ((sign | (exponent << 4) | mantissa) ^ 0x55).astype(np.uint8)
    return codes.tobytes()


def alaw_decode(data: bytes) -> Samples:
    """A-law bytes to 16-bit samples."""
    codes = np.frombuffer(data, dtype=np.uint8).astype(np.int32) ^ 0x55
    exponent = (codes >> 4) & 0x07
    mantissa = codes & 0x0F
    magnitude = np.where(
        exponent == 0,
        (mantissa << 4) + 8,
        ((mantissa << 4) + 0x108) << np.maximum(exponent - 1, 0),
    )
    return np.where(codes & 0x80, magnitude, -magnitude).astype(np.float64)


# -- judging ----------------------------------------------------------------------------


def window_rms(samples: Samples, window: float = WINDOW_SECONDS) -> Samples:
    """RMS of consecutive windows (the last partial window is dropped)."""
    size = round(window * RATE)
    count = len(samples) // size
    if count == 0:
        return np.zeros(0, dtype=np.float64)
    frames = samples[: count * size].reshape(count, size)
    rms: Samples = np.sqrt(np.mean(frames**2, axis=1))
    return rms


def _loud(samples: Samples, threshold_dbfs: float) -> npt.NDArray[np.bool_]:
    threshold = 32768.0 * 10 ** (threshold_dbfs / 20)
    loud: npt.NDArray[np.bool_] = window_rms(samples) > threshold
    return loud


def speech_seconds(samples: Samples, threshold_dbfs: float = SILENCE_DBFS) -> float:
    """Seconds of audio louder than ``threshold_dbfs`` (RMS over 20 ms windows).

    Silence, comfort-noise-free gaps and G.711's idle pattern count nothing; the pauses
    between words of a sentence do not count either, so compare a recording with its
    reference rendered the same way, not with the wall clock.
    """
    return float(np.count_nonzero(_loud(samples, threshold_dbfs))) * WINDOW_SECONDS


def speech_span(samples: Samples, threshold_dbfs: float = SILENCE_DBFS) -> tuple[float, float]:
    """(start, end) in seconds of the first and last loud window; (0, 0) if all silence."""
    loud = np.flatnonzero(_loud(samples, threshold_dbfs))
    if len(loud) == 0:
        return (0.0, 0.0)
    return (float(loud[0]) * WINDOW_SECONDS, float(loud[-1] + 1) * WINDOW_SECONDS)


def best_correlation(recording: Samples, reference: Samples) -> Correlation:
    """Peak normalised cross-correlation of ``reference`` sliding over ``recording``.

    At each lag the dot product is divided by the norms of the reference and of the
    recording under it, so the score says how alike the shapes are, whatever the level
    (0..1; the sign is ignored, a G.711 copy scores above 0.9, silence and noise low).
    The reference must lie wholly inside the recording; a recording shorter than the
    reference is padded with silence, so a half-recorded message scores about 0.7.
    The recording's energy under the window is floored at 1e-3 of the reference's, so
    near-silent stretches cannot divide by almost zero. FFT-based: seconds of audio at
    8 kHz take milliseconds.
    """
    reference = reference - np.mean(reference) if len(reference) else reference
    ref_energy = float(np.dot(reference, reference))
    if len(reference) == 0 or ref_energy == 0.0:
        raise AudioError("the reference is empty or silent: nothing to look for")
    recording = recording - np.mean(recording) if len(recording) else recording
    if len(recording) < len(reference):
        recording = np.concatenate([recording, np.zeros(len(reference) - len(recording))])
    size = len(recording) + len(reference) - 1
    fft_size = 1 << (size - 1).bit_length()
    product = np.fft.rfft(recording, fft_size) * np.conj(np.fft.rfft(reference, fft_size))
    lags = len(recording) - len(reference) + 1
    dots = np.fft.irfft(product, fft_size)[:lags]
    squares = np.concatenate([[0.0], np.cumsum(recording**2)])
    under = squares[len(reference) : len(reference) + lags] - squares[:lags]
    under = np.maximum(under, 1e-3 * ref_energy)
    scores = np.abs(dots) / np.sqrt(ref_energy * under)
    best = int(np.argmax(scores))
    return Correlation(peak=float(min(scores[best], 1.0)), lag_seconds=best / RATE)


# -- rendering speech ---------------------------------------------------------------------


def speak(text: str, path: Path, voice: str = "sv") -> Path:
    """Render ``text`` with espeak-ng and sox as an 8 kHz mono 16-bit WAV at ``path``.

    espeak-ng writes 22,050 Hz (PEERS.md); sox resamples. Deterministic for one
    espeak-ng version, so a test can render the reference the server renders.
    """
    espeak = require_tool("espeak-ng", "the Debian package espeak-ng")
    sox = require_tool("sox", "the Debian package sox")
    with tempfile.TemporaryDirectory(prefix="speak-") as scratch:
        raw = Path(scratch) / "espeak.wav"
        _run([espeak, "-v", voice, "-w", str(raw), text])
        _run(
            [
                sox,
                str(raw),
                "-r",
                str(RATE),
                "-c",
                "1",
                "-e",
                "signed-integer",
                "-b",
                "16",
                str(path),
            ]
        )
    return path


def _run(command: list[str]) -> None:
    result = subprocess.run(command, capture_output=True, check=False, timeout=30)
    if result.returncode != 0:
        raise AudioError(f"{command[0]} failed ({result.returncode}): {result.stderr[-500:]!r}")
