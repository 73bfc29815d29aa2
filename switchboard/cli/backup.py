"""``switchboard backup FILE`` and ``switchboard restore FILE``: the store and the voicemail
spool in one file, online (issue 15; ``switchboard.store.backup`` says how)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from switchboard.settings.config import Settings
from switchboard.settings.store import Backend
from switchboard.store.backup import backup, restore


def add_arguments(top: Any, leaf: Any) -> None:
    p = leaf(
        top,
        "backup",
        "backup",
        "write the store and the voicemail spool to FILE (while serve runs, too)",
    )
    p.add_argument("file", metavar="FILE", help="a .tar, or .tar.gz to compress")
    p = leaf(top, "restore", "restore", "replace the data directory's store and spool with FILE")
    p.add_argument("file", metavar="FILE")
    p.add_argument(
        "--force",
        action="store_true",
        help="restore over an existing store (it is set aside in pre-restore-TIMESTAMP/)",
    )


def run_backup(args: argparse.Namespace, settings: Settings) -> int:
    if settings.store.backend is not Backend.SQLITE:
        return _not_embedded(settings, "backup")
    report = backup(args.data_dir, Path(args.file))
    print(
        f"{report.path}: {report.people} people, {report.voice_messages} voice messages, "
        f"{report.files} audio files (schema {report.schema})"
    )
    if report.dropped:
        print(f"  {report.dropped} messages deleted while the backup ran are not in it")
    return 0


def run_restore(args: argparse.Namespace, settings: Settings) -> int:
    if settings.store.backend is not Backend.SQLITE:
        return _not_embedded(settings, "restore")
    report = restore(Path(args.file), args.data_dir, force=args.force)
    migrated = report.schema_now != report.schema_in_backup
    print(
        f"{args.data_dir}: restored {report.people} people, {report.voice_messages} voice "
        f"messages, {report.files} audio files (schema {report.schema_in_backup}"
        + (f", migrated to {report.schema_now})" if migrated else ")")
    )
    if report.set_aside is not None:
        print(f"  the previous store and spool are in {report.set_aside}")
    return 0


def _not_embedded(settings: Settings, what: str) -> int:
    print(
        f"switchboard: error: {settings.source}: the store is Redis ([store] backend); "
        f"{what} covers the embedded SQLite store only: back up Redis itself "
        "(docs/operations.md, docs/redis.md)",
        file=sys.stderr,
    )
    return 1
