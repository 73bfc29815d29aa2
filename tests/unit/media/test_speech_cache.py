"""The speech cache: a bounded LRU in memory, whole files on disk, damage and sweeping."""

from __future__ import annotations

import os
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from structlog.testing import capture_logs

from switchboard.media.clips import tone
from switchboard.media.speech_cache import SpeechCache
from switchboard.voicemail.wav import Audio, to_wav

A, B, C = "a" * 64, "b" * 64, "c" * 64


def clip(ms: int, hz: float = 440.0) -> Audio:
    return tone(hz, ms)


def file_names(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.rglob("*") if p.is_file())


async def test_memory_keeps_the_most_recently_used_within_its_budget(
    executor: ThreadPoolExecutor,
) -> None:
    one_second = clip(1000)  # 16,000 bytes
    cache = SpeechCache(None, 40_000, executor)
    await cache.put(A, one_second)
    await cache.put(B, clip(1000, 500.0))
    assert cache.in_memory(A) == one_second  # A is now the most recent
    await cache.put(C, clip(1000, 600.0))  # 48,000 bytes: the least recent (B) goes
    assert cache.in_memory(B) is None
    assert cache.in_memory(A) == one_second
    assert cache.in_memory(C) is not None
    assert cache.memory_bytes == 32_000


async def test_a_clip_larger_than_the_budget_is_not_kept_in_memory(
    executor: ThreadPoolExecutor,
) -> None:
    cache = SpeechCache(None, 1_000, executor)
    await cache.put(A, clip(1000))
    assert cache.in_memory(A) is None
    assert cache.memory_bytes == 0


async def test_disk_survives_a_new_cache_and_leaves_no_temporary_files(
    tmp_path: Path, executor: ThreadPoolExecutor
) -> None:
    audio = clip(700)
    await SpeechCache(tmp_path, 1 << 20, executor).put(A, audio)
    path = tmp_path / A[:2] / f"{A}.wav"
    assert path.read_bytes() == to_wav(audio)
    assert file_names(tmp_path) == [path.name]
    fresh = SpeechCache(tmp_path, 1 << 20, executor)
    assert fresh.in_memory(A) is None
    assert await fresh.get(A) == audio
    assert fresh.in_memory(A) == audio  # read once, then served from memory


async def test_a_damaged_file_is_logged_removed_and_missed(
    tmp_path: Path, executor: ThreadPoolExecutor
) -> None:
    path = tmp_path / A[:2] / f"{A}.wav"
    path.parent.mkdir()
    path.write_bytes(b"RIFF\x00\x00")
    cache = SpeechCache(tmp_path, 1 << 20, executor)
    with capture_logs() as logs:
        assert await cache.get(A) is None
    assert [e["event"] for e in logs] == ["speech_cache_unreadable"]
    assert not path.exists()


async def test_a_disk_that_refuses_is_logged_and_memory_still_serves(
    tmp_path: Path, executor: ThreadPoolExecutor
) -> None:
    blocked = tmp_path / "not-a-folder"
    blocked.write_text("a file where the cache folder should be")
    cache = SpeechCache(blocked, 1 << 20, executor)
    with capture_logs() as logs:
        await cache.put(A, clip(300))
    assert [e["event"] for e in logs] == ["speech_cache_write_failed"]
    assert cache.in_memory(A) == clip(300)


async def test_sweep_removes_what_nobody_asked_for_and_a_hit_counts_as_asking(
    tmp_path: Path, executor: ThreadPoolExecutor
) -> None:
    cache = SpeechCache(tmp_path, 0, executor)  # no memory: every get reads the disk
    for key in (A, B):
        await cache.put(key, clip(200))
    month_ago = time.time() - 31 * 86400
    for key in (A, B):
        os.utime(tmp_path / key[:2] / f"{key}.wav", (month_ago, month_ago))
    stale_temp = tmp_path / "cc" / ".tmp-crashed.part"
    stale_temp.parent.mkdir()
    stale_temp.write_bytes(b"half")
    os.utime(stale_temp, (month_ago, month_ago))
    assert await cache.get(A) is not None  # asked for today
    assert await cache.sweep(30 * 86400) == 2
    assert (tmp_path / A[:2] / f"{A}.wav").exists()
    assert not (tmp_path / B[:2] / f"{B}.wav").exists()
    assert not stale_temp.exists()
