"""WAV files for the voicemail tests, made with the stdlib ``wave`` module (and by hand for
the formats ``wave`` cannot write)."""

from __future__ import annotations

import io
import math
import struct
import wave


def tone(seconds: float, rate: int = 8000, hz: float = 440.0, peak: int = 8000) -> bytes:
    """16-bit mono frames of a sine tone (little-endian)."""
    n = round(seconds * rate)
    return b"".join(
        struct.pack("<h", round(peak * math.sin(2 * math.pi * hz * i / rate))) for i in range(n)
    )


def wav(
    seconds: float = 2.0, rate: int = 8000, channels: int = 1, width: int = 2, hz: float = 440.0
) -> bytes:
    frames = tone(seconds, rate, hz)
    if width != 2:
        frames = bytes(len(frames) // 2 * width)
    if channels != 1:
        frames = b"".join(frames[i : i + width] * channels for i in range(0, len(frames), width))
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as writer:
        writer.setnchannels(channels)
        writer.setsampwidth(width)
        writer.setframerate(rate)
        writer.writeframes(frames)
    return buffer.getvalue()


def spoken(
    seconds: float, *, before: float = 0.0, after: float = 0.0, rate: int = 16000, peak: int = 800
) -> bytes:
    """A WAV of a quiet tone between silences, as a name said into a laptop microphone a
    moment after pressing Record (a peak of 800 is about -32 dBFS)."""
    frames = tone(seconds, rate, peak=peak)
    frames = bytes(2 * round(before * rate)) + frames + bytes(2 * round(after * rate))
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as writer:
        writer.setnchannels(1)
        writer.setsampwidth(2)
        writer.setframerate(rate)
        writer.writeframes(frames)
    return buffer.getvalue()


def mulaw(seconds: float = 2.0, rate: int = 8000) -> bytes:
    """A µ-law WAV (format tag 7), as phones export them."""
    data = bytes([0xFF]) * round(seconds * rate)
    fmt = struct.pack("<HHIIHHH", 7, 1, rate, rate, 1, 8, 0)
    chunks = b"fmt " + struct.pack("<I", len(fmt)) + fmt
    chunks += b"data" + struct.pack("<I", len(data)) + data
    return b"RIFF" + struct.pack("<I", 4 + len(chunks)) + b"WAVE" + chunks


def frames_of(data: bytes) -> tuple[int, bytes]:
    """(rate, frames) of a WAV."""
    with wave.open(io.BytesIO(data), "rb") as reader:
        return reader.getframerate(), reader.readframes(reader.getnframes())
