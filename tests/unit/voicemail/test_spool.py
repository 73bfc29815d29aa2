"""The spool: atomic files (a failure or a kill half-way leaves the old file whole and no
temporary file for readers), rows only for whole files, delete and the orphan sweep."""

from __future__ import annotations

import io
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from switchboard.media.clips import SPEECH_LEVEL_DBFS, speech_level_dbfs
from switchboard.store.protocol import NotFoundError, StoreError
from switchboard.voicemail.files import TEMP_PREFIX, write_atomically
from switchboard.voicemail.model import SECRET, Recording, VoicemailError
from switchboard.voicemail.wav import Audio, WavError, read_wav
from tests.unit.voicemail.conftest import T0, Spooled
from tests.unit.voicemail.sounds import frames_of, spoken, tone, wav


class BreaksHalfway(io.RawIOBase):
    """A source that delivers ``good`` bytes, then fails like a dropped upload."""

    def __init__(self, good: bytes) -> None:
        self._left = good

    def readable(self) -> bool:
        return True

    def read(self, size: int = -1) -> bytes:
        if not self._left:
            raise ConnectionResetError("the upload broke off")
        n = len(self._left) if size < 0 else min(size, len(self._left))
        chunk, self._left = self._left[:n], self._left[n:]
        return chunk


def visible(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir())


def test_a_source_failing_halfway_leaves_the_old_file_and_no_temp(tmp_path: Path) -> None:
    target = tmp_path / "p" / "greeting.wav"
    write_atomically(target, io.BytesIO(b"old greeting"))
    with pytest.raises(ConnectionResetError):
        write_atomically(target, BreaksHalfway(b"x" * 200_000))  # type: ignore[arg-type]
    assert target.read_bytes() == b"old greeting"
    assert visible(target.parent) == ["greeting.wav"]


CHILD = """
import io, sys, time
from pathlib import Path
from switchboard.voicemail.files import write_atomically

class Slow(io.RawIOBase):
    def readable(self): return True
    def read(self, size=-1):
        time.sleep(0.05)  # the parent kills us while we write
        return b"n" * 1024

write_atomically(Path(sys.argv[1]), Slow())
"""


def test_a_writer_killed_halfway_leaves_the_old_file_whole(spooled: Spooled) -> None:
    folder = spooled.root / "anna"
    target = folder / "greeting.wav"
    write_atomically(target, io.BytesIO(b"old greeting"))
    child = subprocess.Popen([sys.executable, "-c", CHILD, str(target)], cwd=Path.cwd())
    try:
        deadline = time.monotonic() + 20
        while not any(p.name.startswith(TEMP_PREFIX) for p in folder.iterdir()):
            assert time.monotonic() < deadline, "the child never started writing"
            assert child.poll() is None, "the child ended before it was killed"
            time.sleep(0.01)
        temp = next(p for p in folder.iterdir() if p.name.startswith(TEMP_PREFIX))
        while temp.stat().st_size == 0:  # half-way: some bytes written, not renamed
            assert time.monotonic() < deadline
            time.sleep(0.01)
    finally:
        os.kill(child.pid, signal.SIGKILL)
        child.wait()
    assert target.read_bytes() == b"old greeting"
    assert len(visible(folder)) == 2  # the greeting and the dead writer's temporary file


async def test_the_sweep_removes_dead_temporaries_and_orphans(spooled: Spooled) -> None:
    kept = await spooled.spool.save_message("anna", read_wav(wav(2.0)), None)
    messages = spooled.root / "anna" / "messages"
    (messages / f"{TEMP_PREFIX}abc.part").write_bytes(b"torn")
    orphan = messages / f"{'0' * 32}.wav"
    orphan.write_bytes(wav(1.0))  # a delete that crashed after its row went
    write_atomically(spooled.root / "anna" / "greeting.wav", io.BytesIO(wav(1.0)))
    assert await spooled.spool.sweep() == 0  # young: perhaps a write in progress elsewhere
    assert len(visible(messages)) == 3
    assert await spooled.spool.sweep(older_than=-1.0) == 2
    assert visible(messages) == [f"{kept.message_id}.wav"]
    assert (spooled.root / "anna" / "greeting.wav").exists()
    assert await spooled.spool.sweep(older_than=-1.0) == 0


async def test_a_message_is_listed_with_its_file(spooled: Spooled) -> None:
    audio = Audio(16000, tone(3.0, 16000))
    saved = await spooled.spool.save_message("anna", audio, "+46311234567")
    assert saved.duration_ms == 3000
    assert saved.caller == "+46311234567"
    assert await spooled.spool.messages("anna") == [saved]
    rate, frames = frames_of(spooled.spool.message_path("anna", saved.message_id).read_bytes())
    assert rate == 8000
    assert len(frames) == 2 * 24000


async def test_a_secret_caller_is_stored_as_secret_only(spooled: Spooled) -> None:
    saved = await spooled.spool.save_message("anna", read_wav(wav(1.0)), "+46709876543")
    assert saved.caller == SECRET
    assert [m.caller for m in await spooled.store.voice_messages("anna")] == [SECRET]
    for path in spooled.root.parent.rglob("*"):  # the database, its WAL, the spool (R18)
        if path.is_file():
            assert b"9876543" not in path.read_bytes(), path


async def test_a_bad_caller_number_stores_nothing(spooled: Spooled) -> None:
    with pytest.raises(VoicemailError, match=r"E\.164"):
        await spooled.spool.save_message("anna", read_wav(wav(1.0)), "0701")
    assert not (spooled.root / "anna").exists()


async def test_no_row_means_no_file(spooled: Spooled) -> None:
    """The store refuses (unknown person): the file written first is removed again."""
    with pytest.raises(NotFoundError):
        await spooled.spool.save_message("nobody", read_wav(wav(1.0)), None)
    assert list((spooled.root / "nobody" / "messages").iterdir()) == []


async def test_mark_heard_and_delete(spooled: Spooled) -> None:
    saved = await spooled.spool.save_message("anna", read_wav(wav(1.0)), None)
    heard = await spooled.spool.mark_heard("anna", saved.message_id, "anna")
    assert heard.heard
    path = spooled.spool.message_path("anna", saved.message_id)
    await spooled.spool.delete("anna", saved.message_id, "anna")
    assert not path.exists()
    assert await spooled.spool.messages("anna") == []
    with pytest.raises(NotFoundError):
        await spooled.spool.delete("anna", saved.message_id, "anna")
    actions = [e.action for e in await spooled.store.audit(10, subject="anna")]
    assert actions[:3] == ["voicemail_deleted", "voicemail_heard", "voicemail_received"]


async def test_someone_elses_message_is_not_found(spooled: Spooled) -> None:
    saved = await spooled.spool.save_message("anna", read_wav(wav(1.0)), None)
    with pytest.raises(NotFoundError):
        await spooled.spool.delete("fatima", saved.message_id, "fatima")
    assert spooled.spool.message_path("anna", saved.message_id).exists()


GREETING, NAME = Recording.GREETING, Recording.NAME_CLIP


async def test_greeting_set_replaced_and_deleted(spooled: Spooled) -> None:
    spool = spooled.spool
    assert await spool.recording("anna", GREETING) is None
    first = await spool.set_recording("anna", GREETING, wav(2.0, 16000), "anna")
    assert first.duration_ms == 2000
    second = await spool.set_recording("anna", GREETING, wav(3.0, 8000), "anna")
    assert second.duration_ms == 3000
    assert spool.recording_path("anna", GREETING).read_bytes() == wav(3.0, 8000)
    with pytest.raises(WavError, match="stereo"):
        await spool.set_recording("anna", GREETING, wav(2.0, channels=2), "anna")
    assert spool.recording_path("anna", GREETING).read_bytes() == wav(3.0, 8000)
    assert await spool.delete_recording("anna", GREETING, "anna")
    assert not await spool.delete_recording("anna", GREETING, "anna")
    assert await spool.recording("anna", GREETING) is None
    actions = [e.action for e in await spooled.store.audit(10, subject="anna")]
    assert actions[:3] == ["greeting_deleted", "greeting_set", "greeting_set"]


async def test_the_name_clip_is_stored_beside_the_greeting_ready_to_play(
    spooled: Spooled,
) -> None:
    """Stored once at speech level and cut to its sound; the greeting is untouched by it."""
    spool = spooled.spool
    await spool.set_recording("anna", GREETING, wav(3.0, 8000), "anna")
    assert await spool.recording_audio("anna", NAME) is None
    stored = await spool.set_recording("anna", NAME, spoken(1.5, before=1.0, after=1.0), "anna")
    assert stored.recording is NAME
    assert stored.duration_ms == 1580  # 40 ms of silence kept on either side
    assert visible(spooled.root / "anna") == ["greeting.wav", "name_clip.wav"]
    clip = await spool.recording_audio("anna", NAME)
    assert clip is not None
    assert (clip.rate, clip.duration_ms) == (8000, 1580)
    assert speech_level_dbfs(clip) == pytest.approx(SPEECH_LEVEL_DBFS, abs=0.5)
    assert await spool.recording("anna", NAME) == stored

    with pytest.raises(WavError, match="keep it under 5 s"):
        await spool.set_recording("anna", NAME, spoken(8.0), "anna")
    assert await spool.recording_audio("anna", NAME) == clip  # the old one, whole

    assert await spool.delete_recording("anna", NAME, "anna")
    assert not await spool.delete_recording("anna", NAME, "anna")
    assert visible(spooled.root / "anna") == ["greeting.wav"]
    entries = await spooled.store.audit(10, subject="anna")
    assert [(e.action, e.actor) for e in entries[:2]] == [
        ("name_clip_deleted", "anna"),
        ("name_clip_set", "anna"),
    ]
    assert entries[1].detail == "name clip set (1580 ms)"


@pytest.mark.parametrize("person_id", ["..", "../etc", "a/b", "", "x" * 65])
@pytest.mark.parametrize("recording", list(Recording), ids=str)
async def test_path_tricks_are_refused(
    spooled: Spooled, person_id: str, recording: Recording
) -> None:
    with pytest.raises(VoicemailError, match="not a person id"):
        await spooled.spool.set_recording(person_id, recording, wav(2.0), "anna")


async def test_a_recording_audit_needs_a_recording_action(spooled: Spooled) -> None:
    with pytest.raises(StoreError, match="not a greeting or name clip action"):
        await spooled.store.audit_recording("anna", "person_removed", "x", "anna", T0)
