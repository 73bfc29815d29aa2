"""``switchboard backup`` and ``restore`` (issue 15): online, whole, and refusing rather than
guessing (a newer schema, a directory being served, a store already there, a file that is
not a backup)."""

from __future__ import annotations

import asyncio
import io
import json
import math
import os
import signal
import sqlite3
import struct
import subprocess
import sys
import tarfile
from collections.abc import Iterator
from contextlib import closing
from pathlib import Path

import pytest

from switchboard.app import open_runtime
from switchboard.settings.config import load_settings
from switchboard.store import backup as backups
from switchboard.store.schema import LATEST
from switchboard.voicemail.wav import Audio
from tests.cli.conftest import SML, Run

ANNA = "64123"


def _tone(seconds: float = 1.0) -> Audio:
    samples = (
        int(8000 * math.sin(2 * math.pi * 440 * n / 8000)) for n in range(int(8000 * seconds))
    )
    return Audio(8000, b"".join(struct.pack("<h", s) for s in samples))


def _leave_message(data: Path) -> str:
    """A voice message for Anna through the spool, as a caller's would be saved."""

    async def leave() -> str:
        async with open_runtime(load_settings(SML), data) as runtime:
            anna = runtime.engine.view.person_by_extension(ANNA)
            assert anna is not None
            message = await runtime.voicemail.spool.save_message(
                anna.person_id, _tone(), "+46701234567"
            )
            return message.message_id

    return asyncio.run(leave())


@pytest.fixture
def seeded(sb: Run, tmp_path: Path) -> Path:
    sb("--now", "2026-11-23T10:00", "demo", "--seed-only", "--force")
    sb("presence", "set", ANNA, "--reason", "training", "--until", "2026-12-24")
    _leave_message(tmp_path / "data")
    return tmp_path / "data"


@pytest.fixture
def serving(seeded: Path) -> Iterator[subprocess.Popen[str]]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SWITCHBOARD_")}
    command = [sys.executable, "-m", "switchboard", "--config", str(SML), "--data", str(seeded)]
    command += ["serve", "--sip-listen", "127.0.0.1:0", "--http-listen", "127.0.0.1:0"]
    process = subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, env=env
    )
    assert process.stdout is not None
    assert process.stdout.readline().startswith('{"ready"')
    try:
        yield process
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(20)
        process.stdout.close()


def _other(sb: Run, data: Path, *args: str, expect: int = 0) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SWITCHBOARD_")}
    command = [
        sys.executable,
        "-m",
        "switchboard",
        "--config",
        str(SML),
        "--data",
        str(data),
        *args,
    ]
    done = subprocess.run(command, capture_output=True, text=True, env=env, timeout=60, check=False)
    assert done.returncode == expect, done.stderr
    return done


def test_a_backup_made_while_serving_restores_whole_elsewhere(
    sb: Run, seeded: Path, serving: subprocess.Popen[str], tmp_path: Path
) -> None:
    target = tmp_path / "backups" / "nightly.tar.gz"
    made = sb("backup", str(target))
    assert "1 voice messages" in made.out
    assert target.is_file()
    assert serving.poll() is None  # serving went on

    elsewhere = tmp_path / "restored"
    restored = _other(sb, elsewhere, "restore", str(target))
    assert "restored" in restored.stdout
    original = json.loads(sb("directory", "list", "--json").out)
    again = json.loads(_other(sb, elsewhere, "directory", "list", "--json").stdout)
    assert again == original
    shown = json.loads(_other(sb, elsewhere, "presence", "show", ANNA).stdout)
    assert shown["referral"]["reason"] == "training"
    assert shown["referral"]["until"].startswith("2026-12-24")
    spool = {
        p.relative_to(seeded / "voicemail"): p.read_bytes()
        for p in (seeded / "voicemail").rglob("*.wav")
    }
    back = {
        p.relative_to(elsewhere / "voicemail"): p.read_bytes()
        for p in (elsewhere / "voicemail").rglob("*.wav")
    }
    assert back == spool
    assert len(back) == 1


def test_restore_refuses_a_directory_being_served(
    sb: Run, seeded: Path, serving: subprocess.Popen[str], tmp_path: Path
) -> None:
    target = tmp_path / "b.tar"
    sb("backup", str(target))
    before = (seeded / "switchboard.db").stat().st_mtime_ns
    refused = sb("restore", str(target), "--force", expect=1)
    assert "is serving this data directory" in refused.err
    assert (seeded / "switchboard.db").stat().st_mtime_ns == before


def test_restore_over_a_store_needs_force_and_sets_the_old_one_aside(
    sb: Run, seeded: Path, tmp_path: Path
) -> None:
    target = tmp_path / "b.tar"
    sb("backup", str(target))
    sb("presence", "clear", ANNA)  # a change after the backup, which the restore undoes
    refused = sb("restore", str(target), expect=1)
    assert "already holds a store" in refused.err
    assert "--force" in refused.err
    done = sb("restore", str(target), "--force")
    assert "pre-restore-" in done.out
    [aside] = list(seeded.glob("pre-restore-*"))
    assert (aside / "switchboard.db").is_file()
    assert (aside / "voicemail").is_dir()
    assert (
        "training" in sb("presence", "show", ANNA).out.lower()
        or "utbildning" in sb("presence", "show", ANNA).out.lower()
    )


def test_restore_refuses_a_backup_from_a_newer_release(
    sb: Run, seeded: Path, tmp_path: Path
) -> None:
    target = tmp_path / "b.tar"
    sb("backup", str(target))
    newer = tmp_path / "newer.tar"
    with tarfile.open(target) as source, tarfile.open(newer, "w") as out:
        for member in source.getmembers():
            data = source.extractfile(member)
            if member.name == "manifest.json":
                assert data is not None
                manifest = json.loads(data.read())
                manifest["schema"] = LATEST + 1
                blob = json.dumps(manifest).encode()
                member.size = len(blob)
                out.addfile(member, io.BytesIO(blob))
            else:
                out.addfile(member, data)
    fresh = tmp_path / "fresh"
    refused = _other(sb, fresh, "restore", str(newer), expect=1)
    assert f"schema version {LATEST + 1}" in refused.stderr
    assert f"only up to {LATEST}" in refused.stderr
    assert not (fresh / "switchboard.db").exists()


def test_restore_refuses_a_file_that_is_not_a_backup(sb: Run, tmp_path: Path) -> None:
    junk = tmp_path / "junk.tar.gz"
    junk.write_bytes(b"not a tar at all")
    refused = sb("restore", str(junk), expect=1)
    assert "not a switchboard backup" in refused.err
    missing = sb("restore", str(tmp_path / "nowhere.tar"), expect=1)
    assert "no such file" in missing.err


def test_a_message_deleted_during_the_backup_leaves_neither_row_nor_file(
    seeded: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    copy = backups._copy_database

    def copy_then_delete(source: Path, destination: Path) -> None:
        copy(source, destination)  # the row is in the copy...
        for wav in (seeded / "voicemail").rglob("messages/*.wav"):
            wav.unlink()  # ...and its audio goes before the spool is read

    monkeypatch.setattr(backups, "_copy_database", copy_then_delete)
    report = backups.backup(seeded, tmp_path / "b.tar")
    assert (report.voice_messages, report.dropped) == (0, 1)
    restored = tmp_path / "restored"
    backups.restore(tmp_path / "b.tar", restored)
    with closing(sqlite3.connect(restored / "switchboard.db")) as conn:
        assert conn.execute("SELECT COUNT(*) FROM voice_messages").fetchone()[0] == 0
