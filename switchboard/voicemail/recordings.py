"""What a person records for callers (R10-R12): the greeting and the name clip, made ready
to store, and what the spool tells about a stored one.

- The **greeting** (R11, R12) replaces the whole default greeting; it is kept as uploaded,
  at 8 kHz (``wav.prepare_greeting``): the owner chose its pauses and its level.
- The **name clip** ("Anna Berg", in her own voice) replaces only the synthesized name, in
  the referral (R10) and in the default greeting (``media/prompts.py``). It is heard
  between synthesized words, so it is made to fit them once, here, when it is stored, never
  per call: brought to the speech level of the synthesized speech (``clips.normalise``),
  then cut to its sound (``clips.trim``; the prompts put their own pause after it).
  0.5-5 s of sound: long enough for a first and a last name, short enough to be only that.
  Silence at either end does not count, so a recording started a moment early is fine.

Both are accepted in the same WAV formats, up to the same size (``wav.read_upload``).
"""

from __future__ import annotations

import os
import wave
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from switchboard.media.clips import normalise, trim
from switchboard.voicemail.model import Recording
from switchboard.voicemail.wav import (
    Audio,
    WavError,
    prepare_greeting,
    read_upload,
    resample,
)

MIN_NAME_SECONDS = 0.5
MAX_NAME_SECONDS = 5.0
"""The name clip's sound, without the silence around it."""


@dataclass(frozen=True, slots=True)
class StoredRecording:
    """A person's greeting or name clip as stored: 8 kHz 16-bit mono."""

    person_id: str
    recording: Recording
    duration_ms: int
    size: int
    updated_at: datetime


def prepare_name_clip(data: bytes) -> Audio:
    """An uploaded name made ready to store: at 8 kHz, at speech level, cut to its sound,
    0.5-5 s. WavError says what to change."""
    audio = trim(normalise(resample(read_upload(data))))
    seconds = audio.duration
    if not audio.frames:
        raise WavError("the recording is silent; say your first and last name", "audio_silent")
    if seconds < MIN_NAME_SECONDS:
        raise WavError(
            f"the name is {seconds:.1f} s long without the silence around it; "
            f"say your first and last name, at least {MIN_NAME_SECONDS:g} s",
            "audio_too_short",
            {"seconds": round(seconds, 1), "min": MIN_NAME_SECONDS},
        )
    if seconds > MAX_NAME_SECONDS:
        raise WavError(
            f"the name is {seconds:.1f} s long without the silence around it; "
            f"keep it under {MAX_NAME_SECONDS:g} s: only your first and last name",
            "audio_too_long",
            {"seconds": round(seconds, 1), "max": MAX_NAME_SECONDS},
        )
    return audio


def prepare(recording: Recording, data: bytes) -> Audio:
    """An upload of ``recording`` made ready to store (WavError says what is wrong)."""
    match recording:
        case Recording.GREETING:
            return prepare_greeting(data)
        case Recording.NAME_CLIP:
            return prepare_name_clip(data)


def read_stored(person_id: str, recording: Recording, path: Path) -> StoredRecording | None:
    """What the file at ``path`` holds (length, size, last change); None when there is none."""
    try:
        with path.open("rb") as file:
            stat = os.fstat(file.fileno())
            with wave.open(file, "rb") as reader:
                frames, rate = reader.getnframes(), reader.getframerate()
    except FileNotFoundError:
        return None
    updated = datetime.fromtimestamp(stat.st_mtime, UTC)
    return StoredRecording(person_id, recording, round(frames * 1000 / rate), stat.st_size, updated)
