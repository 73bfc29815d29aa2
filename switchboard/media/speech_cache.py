"""Rendered speech kept by content: in memory (a bounded LRU) and on disk (R10).

A referral sentence is rendered once, when it is set, and every caller after that hears
the cached clip; the disk copy means a restart does not render it again. The key is a
hash of everything that shapes the sound (engine command, voice, language, text and the
processing after it), so a changed voice or text is simply another file.

Disk layout: ``<folder>/<key[:2]>/<key>.wav``, 8 kHz 16-bit mono WAV. Files are written
as the voicemail spool writes them (temporary file, fsync, rename, fsync of the folder):
a crash leaves a clip whole or absent. A hit touches the file's mtime, so ``sweep()``
removes what nobody has asked for in a while (referral sentences name return times, so
old ones are never asked for again).

Media sits below the store in the import graph (ARCHITECTURE: imports point down), so it
cannot import ``voicemail.spool`` (which imports the store); ``_write_atomically`` is the
same few lines for bytes.

Disk I/O runs in the executor the owner passes in; the memory side never blocks.
"""

from __future__ import annotations

import asyncio
import io
import os
import time
from collections import OrderedDict
from collections.abc import Callable
from concurrent.futures import Executor
from contextlib import suppress
from pathlib import Path
from typing import TypeVar

import structlog

from switchboard.voicemail.files import TEMP_PREFIX, write_atomically
from switchboard.voicemail.wav import Audio, WavError, read_wav, to_wav

log = structlog.get_logger("switchboard.media")

STALE_TEMP_SECONDS = 15 * 60.0
T = TypeVar("T")


def _read(path: Path) -> Audio | None:
    """The clip at ``path`` (its mtime touched), None when absent; raises when damaged."""
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        return None
    audio = read_wav(data)
    with suppress(OSError):
        os.utime(path)
    return audio


def _sweep(folder: Path, older_than: float, now: float) -> int:
    removed = 0
    for path in folder.glob("*/*"):
        try:
            age = now - path.stat().st_mtime
        except FileNotFoundError:
            continue
        temp = path.name.startswith(TEMP_PREFIX)
        if (temp and age > STALE_TEMP_SECONDS) or (not temp and age > older_than):
            with suppress(FileNotFoundError):
                path.unlink()
                removed += 1
    return removed


class SpeechCache:
    """Clips by key: ``memory_bytes`` of the most recently used in memory, all on disk
    under ``folder`` (None: memory only)."""

    def __init__(self, folder: Path | None, memory_bytes: int, executor: Executor) -> None:
        self._folder = folder
        self._limit = memory_bytes
        self._executor = executor
        self._memory: OrderedDict[str, Audio] = OrderedDict()
        self._bytes = 0

    @property
    def memory_bytes(self) -> int:
        """The PCM bytes held in memory now (at most the limit)."""
        return self._bytes

    async def _blocking(self, work: Callable[[], T]) -> T:
        return await asyncio.get_running_loop().run_in_executor(self._executor, work)

    def path(self, key: str) -> Path | None:
        return None if self._folder is None else self._folder / key[:2] / f"{key}.wav"

    def in_memory(self, key: str) -> Audio | None:
        audio = self._memory.get(key)
        if audio is not None:
            self._memory.move_to_end(key)
        return audio

    def _remember(self, key: str, audio: Audio) -> None:
        size = len(audio.frames)
        if size > self._limit:
            return  # larger than the whole budget: the disk keeps it
        old = self._memory.pop(key, None)
        if old is not None:
            self._bytes -= len(old.frames)
        self._memory[key] = audio
        self._bytes += size
        while self._bytes > self._limit:
            _, evicted = self._memory.popitem(last=False)
            self._bytes -= len(evicted.frames)

    async def get(self, key: str) -> Audio | None:
        """From memory, else from disk (then kept in memory too), else None. A damaged
        file is logged and removed: the caller renders the clip again."""
        found = self.in_memory(key)
        path = self.path(key)
        if found is not None or path is None:
            return found
        try:
            found = await self._blocking(lambda: _read(path))
        except (OSError, WavError) as exc:
            log.warning("speech_cache_unreadable", key=key[:12], error=str(exc))
            with suppress(OSError):
                await self._blocking(path.unlink)
            return None
        if found is not None:
            self._remember(key, found)
        return found

    async def put(self, key: str, audio: Audio) -> None:
        """Keep ``audio`` in memory and on disk. A disk that refuses (full, read-only) is
        logged, not raised: the caller still hears the clip, and memory still has it."""
        self._remember(key, audio)
        path = self.path(key)
        if path is None:
            return
        data = to_wav(audio)
        try:
            await self._blocking(lambda: write_atomically(path, io.BytesIO(data)))
        except OSError as exc:
            log.warning("speech_cache_write_failed", key=key[:12], error=str(exc))

    async def sweep(self, older_than: float) -> int:
        """Remove clips nobody asked for in ``older_than`` seconds, and temporary files a
        crash left behind; the number removed."""
        folder = self._folder
        if folder is None or not folder.exists():
            return 0
        now = time.time()
        removed = await self._blocking(lambda: _sweep(folder, older_than, now))
        if removed:
            log.info("speech_cache_swept", removed=removed)
        return removed
