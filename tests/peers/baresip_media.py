"""What a baresip 1.0 peer leaves behind about media: its call recordings and the
message-waiting summaries it was notified of.

``sndfile`` writes ``dump-YYYY-MM-DD-HH-MM-SS-dec.wav`` (what the phone received, after
the decoder: what its user would hear) and ``...-enc.wav`` (what it sent, before the
encoder: its microphone) into ``snd_path``, each named by the second it was opened (the
two may differ by one); two calls that start in one second overwrite each other, so give
each phone its own directory and let a second pass between its calls. The WAV header
gets its sizes when the call's audio is destroyed, just after ``CALL_CLOSED``.
"""

from __future__ import annotations

import asyncio
import re
import struct
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

DTMF_KEYS = frozenset("0123456789*#ABCD")
"""What ``sndcode`` sends as RFC 4733 events (baresip 1.0 telev: events 0-15)."""
_STAMP = "%Y-%m-%d-%H-%M-%S"
_DUMP = re.compile(r"^dump-(\d{4}-\d{2}-\d{2}-\d{2}-\d{2}-\d{2})-(dec|enc)\.wav$")
_SUMMARY_LINE = re.compile(r"^\s*([A-Za-z-]+)\s*:\s*(.*?)\s*$")
_COUNTS = re.compile(r"^(\d+)/(\d+)")


@dataclass(frozen=True)
class CallRecording:
    """Both directions of one call as baresip's sndfile wrote them."""

    received: Path
    """``...-dec.wav``: the decoded audio from the far end, what the user heard."""
    sent: Path
    """``...-enc.wav``: the microphone, before encoding."""
    started: str
    """``YYYY-MM-DD-HH-MM-SS`` from the file names (local time, one-second resolution)."""


PAIRED_WITHIN = timedelta(seconds=2)
"""How far apart one call's two files may be named: sndfile stamps each file when it
opens it, and the encoder's and the decoder's filters open one after the other, so on a
busy machine they can fall in two different seconds."""


def recordings(directory: Path) -> list[CallRecording]:
    """Every complete (both files) recording in ``directory``, oldest first, named by its
    earlier file's second."""
    found: dict[str, list[tuple[datetime, Path]]] = {"dec": [], "enc": []}
    for path in directory.glob("dump-*.wav"):
        match = _DUMP.match(path.name)
        if match:
            # Local wall time, only ever compared with its own kind: no zone needed.
            at = datetime.strptime(match.group(1), _STAMP).replace(tzinfo=UTC)
            found[match.group(2)].append((at, path))
    encoders = sorted(found["enc"])
    paired: list[CallRecording] = []
    for at, received in sorted(found["dec"]):
        near = [each for each in encoders if abs(each[0] - at) <= PAIRED_WITHIN]
        if near:
            sent_at, sent = min(near, key=lambda each: abs(each[0] - at))
            encoders.remove((sent_at, sent))
            started = min(at, sent_at).strftime(_STAMP)
            paired.append(CallRecording(received=received, sent=sent, started=started))
    return paired


def dump_names(directory: Path) -> list[str]:
    """Every sndfile dump in ``directory`` by name, for a message that says what is there."""
    return sorted(path.name for path in directory.glob("dump-*.wav"))


def wav_is_closed(path: Path) -> bool:
    """True once libsndfile wrote the final sizes: the RIFF size is the file size - 8."""
    try:
        with path.open("rb") as handle:
            head = handle.read(8)
            size = path.stat().st_size
    except OSError:
        return False
    return len(head) == 8 and head[:4] == b"RIFF" and struct.unpack("<I", head[4:])[0] == size - 8


async def wait_closed_recording(
    directory: Path,
    timeout: float,  # noqa: ASYNC109 - a bounded poll of the file system
    after: str = "",
) -> CallRecording:
    """The newest recording started at or after ``after`` (``YYYY-MM-DD-HH-MM-SS``) whose
    two files are closed."""
    deadline = time.monotonic() + timeout
    while True:
        candidates = [each for each in recordings(directory) if each.started >= after]
        if (
            candidates
            and wav_is_closed(candidates[-1].received)
            and wav_is_closed(candidates[-1].sent)
        ):
            return candidates[-1]
        if time.monotonic() >= deadline:
            names = dump_names(directory)
            raise TimeoutError(
                f"no closed sndfile recording since {after or 'start'} in {directory} "
                f"(its files: {names})"
            )
        await asyncio.sleep(0.05)


@dataclass(frozen=True)
class MessageSummary:
    """An RFC 3842 (5.2) application/simple-message-summary body, as baresip relays it in
    its ``MWI_NOTIFY`` event."""

    waiting: bool
    account: str | None
    voice_new: int | None
    voice_old: int | None
    body: str

    @classmethod
    def parse(cls, body: str) -> MessageSummary:
        fields: dict[str, str] = {}
        for line in body.splitlines():
            match = _SUMMARY_LINE.match(line)
            if match:
                fields.setdefault(match.group(1).lower(), match.group(2))
        counts = _COUNTS.match(fields.get("voice-message", ""))
        return cls(
            waiting=fields.get("messages-waiting", "").lower() == "yes",
            account=fields.get("message-account"),
            voice_new=int(counts.group(1)) if counts else None,
            voice_old=int(counts.group(2)) if counts else None,
            body=body,
        )
