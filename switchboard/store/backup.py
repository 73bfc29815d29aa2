"""Backups of an embedded store: the SQLite database and the voicemail spool, in one file
(issue 15).

``backup`` works while ``serve`` runs. It copies the database with SQLite's online backup
API, from its own connection, so the copy is one consistent committed state and serving
goes on. Then it adds the spool: greetings and name clips as they are, and each message
file whose row is in the copy. A message left after the copy is not in the backup, whole;
a message deleted between the copy and its file is taken out of the copy too, so the
backup never has a row without its audio. The result is a tar file (compressed when its
name ends in ``.gz``), written to a temporary name and renamed, so a backup that fails
half-way leaves no file that looks whole.

``restore`` refuses rather than guesses:
- a backup from a newer release (a schema this one does not know),
- a data directory a serving switchboard holds (every ``serve`` process holds a shared
  lock on ``serving.lock``; restore needs it exclusively),
- a data directory that already has a store, unless told to replace it (``force``),
- a file that is not a whole switchboard backup (no manifest, a database that fails
  SQLite's integrity check, or a member that would land outside the data directory).
It unpacks beside the data, checks, and only then moves the old database and spool aside
into ``pre-restore-TIMESTAMP/`` and the restored ones in: nothing is lost, even by a restore
regretted afterwards. The restored database is migrated to this release's schema at once.
"""

from __future__ import annotations

import fcntl
import io
import json
import os
import sqlite3
import tarfile
import tempfile
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, closing, contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from switchboard.store.protocol import StoreError
from switchboard.store.schema import LATEST, migrate, user_version

DATABASE = "switchboard.db"
SPOOL = "voicemail"
MANIFEST = "manifest.json"
LOCK = "serving.lock"
FORMAT = "switchboard-backup"
FORMAT_VERSION = 1


class BackupError(StoreError):
    """A backup or restore was refused or failed; the data directory is as it was."""


@dataclass(frozen=True, slots=True)
class BackupReport:
    path: Path
    schema: int
    people: int
    voice_messages: int
    files: int
    dropped: int
    """Messages deleted while the backup ran: out of the copy, since their audio was gone."""


@dataclass(frozen=True, slots=True)
class RestoreReport:
    schema_in_backup: int
    schema_now: int
    people: int
    voice_messages: int
    files: int
    set_aside: Path | None
    """Where the data directory's previous database and spool went (None: it had none)."""


# -- the serving lock ----------------------------------------------------------------------


@asynccontextmanager
async def serving(data_dir: Path) -> AsyncIterator[None]:
    """Held by every serving process for its whole life (a shared lock: many workers may
    hold it at once). Taking it waits only while a restore runs. ``data_dir`` exists
    (``serve`` makes it before it starts)."""
    with (data_dir / LOCK).open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_SH)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


@contextmanager
def _nobody_serving(data_dir: Path) -> Iterator[None]:
    with (data_dir / LOCK).open("a") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise BackupError(
                f"{data_dir}: a switchboard is serving this data directory; stop it "
                "(every worker) before restoring, then start it again"
            ) from None
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


# -- backup --------------------------------------------------------------------------------


def backup(data_dir: Path, target: Path, now: datetime | None = None) -> BackupReport:
    """Write a backup of ``data_dir`` to ``target`` (see the module docstring)."""
    database = data_dir / DATABASE
    if not database.is_file():
        raise BackupError(f"{database}: no store to back up (nothing was ever written here)")
    target = target.resolve()
    target.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix=".backup-", dir=target.parent) as work:
        copy = Path(work) / DATABASE
        _copy_database(database, copy)
        with closing(sqlite3.connect(copy)) as conn:
            schema = user_version(conn)
            messages = {
                (r[0], r[1])
                for r in conn.execute("SELECT person_id, message_id FROM voice_messages")
            }
            spool = data_dir / SPOOL
            files = _spool_files(spool, messages)
            present = {(p.parts[0], p.stem) for p in files if p.parts[1:2] == ("messages",)}
            gone = messages - present
            conn.executemany(
                "DELETE FROM voice_messages WHERE person_id = ? AND message_id = ?", sorted(gone)
            )
            conn.commit()
            people = int(conn.execute("SELECT COUNT(*) FROM people").fetchone()[0])
            kept = len(messages) - len(gone)
            conn.execute("VACUUM")  # one file, no WAL beside it
        manifest = {
            "format": FORMAT,
            "format_version": FORMAT_VERSION,
            "schema": schema,
            "created_at": (now or datetime.now(UTC)).isoformat(),
            "people": people,
            "voice_messages": kept,
            "files": len(files),
        }
        partial = Path(work) / "partial"
        mode = "w:gz" if target.name.endswith(".gz") else "w"
        with tarfile.open(partial, mode) as archive:  # type: ignore[call-overload]
            _add_bytes(archive, MANIFEST, json.dumps(manifest, indent=2).encode())
            archive.add(copy, DATABASE)
            for relative in files:
                archive.add(spool / relative, f"{SPOOL}/{relative.as_posix()}")
        with partial.open("rb") as handle:
            os.fsync(handle.fileno())
        os.replace(partial, target)
    return BackupReport(target, schema, people, kept, len(files), len(gone))


def _copy_database(source: Path, destination: Path) -> None:
    try:
        with (
            closing(sqlite3.connect(f"file:{source}?mode=ro", uri=True, timeout=5)) as src,
            closing(sqlite3.connect(destination)) as dst,
        ):
            src.backup(dst)
    except sqlite3.Error as exc:
        raise BackupError(f"{source}: cannot copy the database: {exc}") from exc


def _spool_files(spool: Path, messages: set[tuple[str, str]]) -> list[Path]:
    """Spool files (relative to the spool) that belong in the backup: every greeting and
    name clip, and the messages whose rows the copy has; never a temporary file."""
    if not spool.is_dir():
        return []
    found: list[Path] = []
    for path in sorted(spool.rglob("*.wav")):
        relative = path.relative_to(spool)
        parts = relative.parts
        if len(parts) == 3 and parts[1] == "messages":
            if (parts[0], relative.stem) in messages:
                found.append(relative)
        elif len(parts) == 2:
            found.append(relative)
    return found


def _add_bytes(archive: tarfile.TarFile, name: str, data: bytes) -> None:
    info = tarfile.TarInfo(name)
    info.size = len(data)
    info.mtime = int(datetime.now(UTC).timestamp())
    info.mode = 0o600
    archive.addfile(info, io.BytesIO(data))


# -- restore -------------------------------------------------------------------------------


def read_manifest(source: Path) -> dict[str, object]:
    """The backup's manifest; BackupError naming the file when it is not a backup."""
    try:
        with tarfile.open(source) as archive:
            member = archive.extractfile(MANIFEST)
            if member is None:
                raise KeyError(MANIFEST)
            manifest = json.loads(member.read())
    except FileNotFoundError:
        raise BackupError(f"{source}: no such file") from None
    except (tarfile.TarError, KeyError, ValueError, OSError) as exc:
        raise BackupError(f"{source}: not a switchboard backup ({exc})") from None
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise BackupError(f"{source}: not a switchboard backup (its manifest says otherwise)")
    return manifest


def restore(source: Path, data_dir: Path, *, force: bool = False) -> RestoreReport:
    """Replace ``data_dir``'s store and spool with the backup's (module docstring)."""
    manifest = read_manifest(source)
    schema = manifest.get("schema")
    if not isinstance(schema, int) or manifest.get("format_version") != FORMAT_VERSION:
        raise BackupError(f"{source}: the manifest has no readable schema or format version")
    if schema > LATEST:
        raise BackupError(
            f"{source}: the backup has schema version {schema}, but this switchboard knows "
            f"only up to {LATEST}: it was made by a newer release. Restore it with that "
            "release (or a newer one); nothing was changed"
        )
    data_dir.mkdir(parents=True, exist_ok=True)
    with _nobody_serving(data_dir):
        database = data_dir / DATABASE
        existing = _people_in(database)
        if existing is not None and not force:
            raise BackupError(
                f"{data_dir}: already holds a store ({existing} people); add --force to set "
                "it aside and restore over it; nothing was changed"
            )
        with tempfile.TemporaryDirectory(prefix=".restore-", dir=data_dir) as work:
            unpacked = Path(work)
            _unpack(source, unpacked)
            restored = unpacked / DATABASE
            _check(source, restored)
            set_aside = (
                _set_aside(data_dir)
                if existing is not None or (data_dir / SPOOL).exists()
                else None
            )
            os.replace(restored, database)
            if (unpacked / SPOOL).is_dir():
                os.replace(unpacked / SPOOL, data_dir / SPOOL)
        with closing(sqlite3.connect(database)) as conn:
            now = migrate(conn, database)
            people = int(conn.execute("SELECT COUNT(*) FROM people").fetchone()[0])
            messages = int(conn.execute("SELECT COUNT(*) FROM voice_messages").fetchone()[0])
    files = sum(1 for _ in (data_dir / SPOOL).rglob("*.wav")) if (data_dir / SPOOL).is_dir() else 0
    return RestoreReport(schema, now, people, messages, files, set_aside)


def _people_in(database: Path) -> int | None:
    if not database.exists():
        return None
    try:
        with closing(sqlite3.connect(f"file:{database}?mode=ro", uri=True)) as conn:
            return int(conn.execute("SELECT COUNT(*) FROM people").fetchone()[0])
    except sqlite3.Error:
        return 0  # a database we cannot read still is one: never overwrite it silently


def _unpack(source: Path, into: Path) -> None:
    try:
        with tarfile.open(source) as archive:
            # The "data" filter refuses absolute paths, "..", links out of the folder and
            # device files: a backup cannot write anywhere but here.
            archive.extractall(into, filter="data")
    except (tarfile.TarError, OSError) as exc:
        raise BackupError(
            f"{source}: cannot unpack the backup: {exc}; nothing was changed"
        ) from None


def _check(source: Path, database: Path) -> None:
    if not database.is_file():
        raise BackupError(f"{source}: the backup has no {DATABASE}; nothing was changed")
    try:
        with closing(sqlite3.connect(database)) as conn:
            verdict = conn.execute("PRAGMA integrity_check").fetchone()[0]
    except sqlite3.Error as exc:
        raise BackupError(
            f"{source}: its database is unreadable: {exc}; nothing was changed"
        ) from None
    if verdict != "ok":
        raise BackupError(
            f"{source}: its database fails SQLite's integrity check ({verdict}); "
            "nothing was changed"
        )


def _set_aside(data_dir: Path) -> Path:
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    aside = data_dir / f"pre-restore-{stamp}"
    aside.mkdir()
    for name in (DATABASE, f"{DATABASE}-wal", f"{DATABASE}-shm", SPOOL):
        if (data_dir / name).exists():
            os.replace(data_dir / name, aside / name)
    return aside
