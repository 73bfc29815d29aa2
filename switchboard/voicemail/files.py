"""Files written whole or not at all (temp file, fsync, rename, fsync of the folder).

What a crash must never tear: voicemail greetings and messages (R11) and the speech cache.
A process that dies half-way leaves only a ``.tmp-`` file, which its owner sweeps.
"""

from __future__ import annotations

import os
import tempfile
from contextlib import suppress
from pathlib import Path
from typing import BinaryIO

TEMP_PREFIX = ".tmp-"
CHUNK = 64 * 1024


def fsync_dir(folder: Path) -> None:
    """Make a rename or unlink in ``folder`` durable (POSIX: the entry lives in the folder)."""
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def write_atomically(path: Path, source: BinaryIO) -> int:
    """Copy ``source`` to ``path`` so readers see the old file or the new one, whole.

    If ``source`` (or the disk) fails half-way, the temporary file is removed and ``path``
    is untouched; if the process dies half-way, the temporary file stays behind under a
    ``.tmp-`` name until ``sweep()``. Returns the number of bytes written.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, temp_name = tempfile.mkstemp(dir=path.parent, prefix=TEMP_PREFIX, suffix=".part")
    temp = Path(temp_name)
    written = 0
    try:
        with os.fdopen(fd, "wb") as out:
            while chunk := source.read(CHUNK):
                out.write(chunk)
                written += len(chunk)
            out.flush()
            os.fsync(out.fileno())
        temp.replace(path)
    except BaseException:
        with suppress(FileNotFoundError):
            temp.unlink()
        raise
    fsync_dir(path.parent)
    return written


def remove_file(path: Path) -> bool:
    """Unlink ``path`` durably; False when it was gone already."""
    try:
        path.unlink()
    except FileNotFoundError:
        return False
    fsync_dir(path.parent)
    return True
