"""A large directory import in a process of its own (issue 15).

In ``serve``, an administrator's upload of a region (100,000 rows) was parsed in a thread
and written on the store's writer thread. Off the event loop, but not off the interpreter
lock: for the 8-10 s of the import the loop waited for the lock at every syscall, and SIP
answers were 50-250 ms late. The CLI's import of the same file, a process beside
``serve``, held the loop 5-10 ms. So ``serve`` imports a large file the CLI's way: a child
process (``python -m switchboard.cli.import_child``) opens the same store, reads and
writes the file as the CLI does, and ``serve`` takes the result from the store's change
feed as it takes every other process's writes.

The child gets its request (settings, data directory, actor, instant, origin) pickled on
stdin, the file after it, and answers on stdout: the outcome, the file's problems
(``DirectoryImportError`` with every row's), or a refusal's message. Its log lines go to
``serve``'s stderr. The store's import is one transaction: a child killed halfway
(``serve`` stopping, the request cancelled) leaves the directory as it was.
"""

from __future__ import annotations

import asyncio
import logging
import pickle
import sys
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from switchboard.directory.csv_import import DirectoryImportError, RowError
from switchboard.live.engine import EngineError, ImportOutcome
from switchboard.settings.config import Settings
from switchboard.store.origin import Origin, current_origin
from switchboard.store.protocol import Store, follow_to_end

CHILD = "switchboard.cli.import_child"
"""The child's module (``python -m``): it opens the store as the CLI does."""


@dataclass(frozen=True, slots=True)
class ImportRequest:
    """What the child is told, pickled; the file's bytes follow it on the pipe as they
    are, not pickled."""

    settings: bytes
    """``Settings``, pickled once when ``serve`` starts: the first pickling of its many
    classes took 20 ms."""
    data_dir: Path
    source: str
    actor: str
    dry_run: bool
    at: datetime
    """The instant the import is recorded at: ``serve``'s clock (``--now`` included)."""
    origin: Origin
    """Where the import came from (the request's), for the audit trail."""
    log_level: str


@dataclass(frozen=True, slots=True)
class ImportProblems:
    """The file cannot be imported: ``DirectoryImportError`` (which does not pickle), with
    its first ``SHOWN_PROBLEMS`` problems (a region's file with a wrong column has one on
    every row: 100,000 read back on the event loop would hold it)."""

    source: str
    errors: tuple[RowError, ...]
    total: int


@dataclass(frozen=True, slots=True)
class ImportRefused:
    message: str


ImportReply = ImportOutcome | ImportProblems | ImportRefused


class ImportApart:
    """``Engine.import_apart`` for ``serve``: each call runs one import in a child process,
    then brings ``store`` up to what it wrote before returning."""

    def __init__(self, settings: Settings, data_dir: Path, store: Store) -> None:
        self._settings = pickle.dumps(settings, protocol=pickle.HIGHEST_PROTOCOL)
        self._data_dir = data_dir
        self._store = store

    async def __call__(
        self, data: bytes, source: str, actor: str, dry_run: bool, at: datetime
    ) -> ImportOutcome:
        level = logging.getLevelName(logging.getLogger().getEffectiveLevel())
        request = ImportRequest(
            self._settings,
            self._data_dir,
            source,
            actor,
            dry_run,
            at,
            current_origin(),
            level,
        )
        told = pickle.dumps(request, protocol=pickle.HIGHEST_PROTOCOL)
        reply = await _run_child(told + data, source)
        if isinstance(reply, ImportProblems):
            raise DirectoryImportError(reply.source, reply.errors, reply.total)
        if isinstance(reply, ImportRefused):
            raise EngineError(reply.message)
        if reply.result is not None:
            await follow_to_end(self._store)
        return reply


async def _run_child(request: bytes, source: str) -> ImportReply:
    child = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        CHILD,
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
    )
    try:
        out, _ = await child.communicate(request)
    except BaseException:  # cancelled (serve stopping, the request gone): the child too
        if child.returncode is None:
            child.kill()
            await child.wait()
        raise
    if child.returncode != 0 or not out:
        raise EngineError(
            f"{source}: the import's process ended with exit code {child.returncode} before "
            "it answered (see the log); the import is all or nothing, so the directory is "
            "as it was unless the log says it was imported"
        )
    reply = pickle.loads(out)  # noqa: S301 - our own child's answer, on its own pipe
    if not isinstance(reply, ImportOutcome | ImportProblems | ImportRefused):
        raise EngineError(f"{source}: the import's process answered {type(reply).__name__}")
    return reply
