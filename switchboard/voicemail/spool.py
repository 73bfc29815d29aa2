"""The voicemail spool: greetings and messages as WAV files, their metadata in the store.

Layout under the data folder (ARCHITECTURE: "voicemail audio is files")::

    voicemail/<person_id>/greeting.wav
    voicemail/<person_id>/name_clip.wav
    voicemail/<person_id>/messages/<message_id>.wav

A crash leaves a file whole or absent, never torn: every file is written to a temporary
file in the same folder (a name starting with ``.tmp-``, which no reader opens), flushed
and fsynced, renamed over the real name (atomic on POSIX), and the folder is fsynced so
the rename itself survives a power cut.

Files and rows stay in step by order, not by a distributed transaction:
- a message's file is written before its row, and its row is deleted before its file; so
  every row has its file, and a crash in between leaves at most an orphan file that no
  list shows; ``sweep()`` (at start-up) removes orphans and stale temporary files that
  are older than a quarter of an hour (younger ones may be a write in progress elsewhere);
- a greeting or a name clip (``recordings.py``) is a file only (its audit entry is written
  after the rename).

Blocking work (file writes with fsync, resampling) runs in the executor app.py owns, so
the event loop keeps answering calls.
"""

from __future__ import annotations

import asyncio
import io
import time
import uuid
from collections.abc import Callable
from concurrent.futures import Executor
from datetime import datetime
from pathlib import Path
from typing import TypeVar

import structlog

from switchboard.clock import Clock
from switchboard.store import audit_phrases
from switchboard.store.protocol import VoicemailStore
from switchboard.voicemail.files import TEMP_PREFIX, remove_file, write_atomically
from switchboard.voicemail.model import (
    Recording,
    VoiceMessage,
    check_message_id,
    check_person_id,
    stored_caller,
)
from switchboard.voicemail.recordings import StoredRecording, prepare, read_stored
from switchboard.voicemail.wav import Audio, read_wav, resample, to_wav

log = structlog.get_logger("switchboard.voicemail")

SPOOL_NAME = "voicemail"
MESSAGES = "messages"
SWEEP_AGE_SECONDS = 15 * 60.0
"""A write takes well under a second; a file this old without a row is an orphan."""
T = TypeVar("T")


def _read_audio(path: Path) -> Audio | None:
    try:
        return read_wav(path.read_bytes())
    except FileNotFoundError:
        return None


class Voicemail:
    """Greetings, name clips and recorded messages of everyone, on one spool folder and
    one store."""

    def __init__(
        self,
        root: Path,
        store: VoicemailStore,
        clock: Clock,
        executor: Executor,
        is_secret: Callable[[str], bool],
    ) -> None:
        """``is_secret``: whether an E.164 number is one of our secret mobiles (the
        directory's answer): the spool asks it for every caller it stores (R18)."""
        self._root = root
        self._store = store
        self._clock = clock
        self._executor = executor
        self._is_secret = is_secret

    @property
    def root(self) -> Path:
        return self._root

    async def _blocking(self, work: Callable[[], T]) -> T:
        return await asyncio.get_running_loop().run_in_executor(self._executor, work)

    def _folder(self, person_id: str) -> Path:
        return self._root / check_person_id(person_id)

    def recording_path(self, person_id: str, recording: Recording) -> Path:
        """Where a greeting or name clip is (it may not exist)."""
        return self._folder(person_id) / recording.file_name

    def message_path(self, person_id: str, message_id: str) -> Path:
        return self._folder(person_id) / MESSAGES / f"{check_message_id(message_id)}.wav"

    # -- greetings and name clips ------------------------------------------------------------
    async def recording(self, person_id: str, recording: Recording) -> StoredRecording | None:
        path = self.recording_path(person_id, recording)
        return await self._blocking(lambda: read_stored(person_id, recording, path))

    async def recording_audio(self, person_id: str, recording: Recording) -> Audio | None:
        """The greeting's or name clip's audio for playing to a caller; None without one."""
        path = self.recording_path(person_id, recording)
        return await self._blocking(lambda: _read_audio(path))

    async def set_recording(
        self, person_id: str, recording: Recording, data: bytes, actor: str
    ) -> StoredRecording:
        """Check the upload (``recordings.prepare``: WavError says what is wrong), store
        it at 8 kHz, replacing the old one atomically, and audit it."""
        path = self.recording_path(person_id, recording)

        def work() -> StoredRecording:
            audio = prepare(recording, data)
            write_atomically(path, io.BytesIO(to_wav(audio)))
            found = read_stored(person_id, recording, path)
            if found is None:  # pragma: no cover - written a moment ago
                raise FileNotFoundError(path)
            return found

        stored = await self._blocking(work)
        action = recording.set_action
        detail = audit_phrases.recording(recording.value, True, stored.duration_ms)
        await self._store.audit_recording(person_id, action, detail, actor, self._clock.now())
        log.info(action, person=person_id, duration_ms=stored.duration_ms)
        return stored

    async def delete_recording(self, person_id: str, recording: Recording, actor: str) -> bool:
        """False when there was none (nothing audited then)."""
        path = self.recording_path(person_id, recording)
        if not await self._blocking(lambda: remove_file(path)):
            return False
        action, detail = recording.deleted_action, audit_phrases.recording(recording.value, False)
        await self._store.audit_recording(person_id, action, detail, actor, self._clock.now())
        log.info(action, person=person_id)
        return True

    # -- messages --------------------------------------------------------------------------
    async def save_message(
        self,
        person_id: str,
        audio: Audio,
        caller: str | None,
        *,
        withheld: bool = False,
        received_at: datetime | None = None,
        actor: str = "voicemail",
    ) -> VoiceMessage:
        """Store a message a caller left (the media edge calls this after the recording).

        ``caller`` is the caller's E.164 number or None. Only ``secret`` is stored when the
        directory says the number is one of our secret mobiles (decided here, so no caller
        of this method can forget it, R18), or when the caller asked for privacy
        (``withheld``). The file is whole before the row exists; if the row cannot be
        written, the file is removed again.
        """
        secret = withheld or (caller is not None and self._is_secret(caller))
        message = VoiceMessage(
            uuid.uuid4().hex,
            check_person_id(person_id),
            received_at or self._clock.now(),
            stored_caller(caller, secret=secret),
            0,
        )
        path = self.message_path(person_id, message.message_id)

        def work() -> int:
            stored = resample(audio)
            write_atomically(path, io.BytesIO(to_wav(stored)))
            return stored.duration_ms

        duration_ms = await self._blocking(work)
        message = VoiceMessage(
            message.message_id, person_id, message.received_at, message.caller, duration_ms
        )
        try:
            await self._store.add_voice_message(message, actor)
        except BaseException:
            await self._blocking(lambda: remove_file(path))
            raise
        log.info("voicemail_saved", person=person_id, duration_ms=duration_ms)
        return message

    async def messages(self, person_id: str) -> list[VoiceMessage]:
        return await self._store.voice_messages(check_person_id(person_id))

    async def message(self, person_id: str, message_id: str) -> VoiceMessage | None:
        check_person_id(person_id)
        check_message_id(message_id)
        return await self._store.voice_message(person_id, message_id)

    async def message_audio(self, person_id: str, message_id: str) -> Audio | None:
        """A message's audio for playing to its owner by phone; None when it is gone."""
        path = self.message_path(person_id, message_id)
        return await self._blocking(lambda: _read_audio(path))

    async def mark_heard(
        self, person_id: str, message_id: str, actor: str, *, heard: bool = True
    ) -> VoiceMessage:
        """NotFoundError when the person has no such message."""
        check_message_id(message_id)
        return await self._store.mark_voice_message(
            check_person_id(person_id), message_id, heard, actor, self._clock.now()
        )

    async def delete(self, person_id: str, message_id: str, actor: str) -> None:
        """Row first, then file: a crash between leaves an orphan file for ``sweep()``."""
        path = self.message_path(person_id, message_id)
        await self._store.delete_voice_message(person_id, message_id, actor, self._clock.now())
        await self._blocking(lambda: remove_file(path))
        log.info("voicemail_deleted", person=person_id)

    # -- recovery --------------------------------------------------------------------------
    async def sweep(self, older_than: float = SWEEP_AGE_SECONDS) -> int:
        """Remove temporary files and message files without a row, if last written more
        than ``older_than`` seconds ago; how many were removed.

        The age keeps the sweep off writes in progress: another process (a second node on
        shared storage, a ``switchboard`` command next to ``serve``) may be between writing
        a message's file and adding its row. File ages are wall-clock (the file system's
        mtime), not the injected Clock.
        """
        keep = await self._store.voice_message_ids()
        cutoff = time.time() - older_than
        removed = await self._blocking(lambda: _sweep(self._root, keep, cutoff))
        if removed:
            log.info("voicemail_swept", removed=removed)
        return removed


def _sweep(root: Path, keep: set[str], cutoff: float) -> int:
    removed = 0
    if not root.is_dir():
        return 0
    for path in sorted(root.rglob("*")):
        if not path.is_file():
            continue
        stale_temp = path.name.startswith(TEMP_PREFIX)
        orphan = path.parent.name == MESSAGES and path.suffix == ".wav" and path.stem not in keep
        if (stale_temp or orphan) and path.stat().st_mtime < cutoff and remove_file(path):
            removed += 1
    return removed
