"""A large directory import in a process of its own (issue 15, ``live.import_apart``).

``serve`` imports a file of more than ``APART_AT`` rows the way the CLI does: a child
process writes the store, and the server takes the writes from the change feed. These
tests run the real child against a real SQLite store, as ``serve`` wires it: what the
caller gets back (counts, every row's problem, the audit's actor, instant and origin), that
the server's own view holds the import when the call returns, and that a cancelled import
leaves the directory as it was and no process behind.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from switchboard.app import Runtime, open_runtime
from switchboard.clock import FixedClock
from switchboard.directory.csv_import import DirectoryImportError
from switchboard.directory.import_preview import PREVIEW_ROWS, SHOWN_PROBLEMS
from switchboard.live.engine import APART_AT, EngineError
from switchboard.live.import_apart import ImportApart
from switchboard.settings.config import Settings, load_settings
from switchboard.store.origin import Origin, acting_from
from tests.fixtures.region import region_people
from tests.fixtures.region_serve import CONFIG, write_directory

NOW = datetime(2026, 12, 7, 9, 30, tzinfo=UTC)
SIZE = APART_AT + 500


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    config = tmp_path / "region.toml"
    config.write_text(CONFIG, encoding="utf-8")
    return load_settings(config)


@pytest.fixture
async def runtime(tmp_path: Path, settings: Settings) -> AsyncIterator[Runtime]:
    async with open_runtime(settings, tmp_path / "data", FixedClock(NOW)) as runtime:
        runtime.engine.import_apart = ImportApart(settings, tmp_path / "data", runtime.engine.store)
        yield runtime


def _file(tmp_path: Path, suffix: str = "") -> bytes:
    path = tmp_path / f"people{suffix.strip()}.csv"
    write_directory(path, suffix, people=region_people(SIZE))
    return path.read_bytes()


def _children() -> set[int]:
    """This process's children (Linux: every thread's ``children`` file)."""
    found: set[int] = set()
    for task in Path(f"/proc/{os.getpid()}/task").iterdir():
        found.update(int(pid) for pid in (task / "children").read_text().split())
    return found


async def test_a_large_file_is_imported_apart_and_the_view_holds_it_on_return(
    tmp_path: Path, runtime: Runtime
) -> None:
    engine = runtime.engine
    before = _children()  # a session's redis-server, say
    origin = Origin("token:upload", "192.0.2.7", "req-15")
    with acting_from(origin):
        outcome = await engine.import_directory(_file(tmp_path), "upload.csv", "admin")
    assert outcome.result is not None
    assert (outcome.people, outcome.result.created, outcome.result.updated) == (SIZE, SIZE, 0)
    assert outcome.parsed == (), "the people read stay in the child"
    # The child's writes reached this process's view through the feed before the return.
    assert engine.view.count() == SIZE
    somebody = region_people(SIZE)[-1]
    assert engine.view.find(somebody.email or "") is not None
    [entry] = await engine.store.audit(limit=1)
    assert (entry.actor, entry.at) == ("admin", NOW)
    assert (entry.via, entry.source, entry.request_id) == (
        "token:upload",
        "192.0.2.7",
        "req-15",
    )
    assert _children() == before

    again = await engine.import_directory(_file(tmp_path, " II"), "upload.csv", "admin")
    assert again.result is not None
    assert (again.result.created, again.result.updated) == (0, SIZE)
    titles = {p.title for p in engine.view.everyone()}
    assert all(t is None or t.endswith(" II") for t in titles)


async def test_a_dry_run_apart_counts_and_writes_nothing(tmp_path: Path, runtime: Runtime) -> None:
    engine = runtime.engine
    version = await engine.store.version()
    outcome = await engine.import_directory(_file(tmp_path), "upload.csv", "admin", dry_run=True)
    assert (outcome.people, outcome.result, outcome.encoding) == (SIZE, None, "utf-8")
    assert outcome.preview is not None  # made in the child, beside the parse
    assert (outcome.preview.created_count, outcome.preview.unchanged) == (SIZE, 0)
    assert len(outcome.preview.created) == PREVIEW_ROWS
    assert await engine.store.version() == version
    assert engine.view.count() == 0


async def test_every_problem_of_a_large_file_comes_back_with_its_line(
    tmp_path: Path, runtime: Runtime
) -> None:
    engine = runtime.engine
    bad = _file(tmp_path) + (
        b"Fel Nummer,010-60xx,,,,,,,,,,region\nFel Flagga,,,,,,,kanske,,,,region\n"
    )
    with pytest.raises(DirectoryImportError) as caught:
        await engine.import_directory(bad, "upload.csv", "admin")
    lines = sorted({e.line for e in caught.value.errors})
    assert lines == [SIZE + 2, SIZE + 3]
    assert caught.value.source == "upload.csv"
    assert all(e.code for e in caught.value.errors)
    assert engine.view.count() == 0
    assert await engine.store.audit(limit=1) == []


async def test_a_file_refused_on_every_row_brings_back_the_first_problems_and_the_count(
    tmp_path: Path, runtime: Runtime
) -> None:
    """A wrong column fails every row of a region's file: the child sends the first
    ``SHOWN_PROBLEMS`` and the count, not 100,000 problems to unpickle on the event loop."""
    lines = _file(tmp_path).decode().splitlines(keepends=True)
    bad = lines[0] + "".join(line.replace(",no,", ",kanske,", 1) for line in lines[1:])
    with pytest.raises(DirectoryImportError) as caught:
        await runtime.engine.import_directory(bad.encode(), "upload.csv", "admin")
    assert len(caught.value.errors) == SHOWN_PROBLEMS
    assert caught.value.total == SIZE
    assert f"{SIZE} problem(s)" in str(caught.value)


async def test_a_cancelled_import_leaves_the_directory_and_no_process(
    tmp_path: Path, runtime: Runtime
) -> None:
    engine = runtime.engine
    before = _children()
    importing = asyncio.create_task(engine.import_directory(_file(tmp_path), "upload.csv", "admin"))
    for _ in range(200):  # the child is started before the first await returns
        await asyncio.sleep(0.01)
        if _children() - before:
            break
    assert _children() - before, "the import never started a process of its own"
    importing.cancel()
    with pytest.raises(asyncio.CancelledError):
        await importing
    assert _children() == before
    await engine.store.catch_up()
    assert engine.view.count() == 0
    assert (await engine.store.load()).people == ()


async def test_a_child_that_cannot_answer_is_a_clear_error(
    tmp_path: Path, settings: Settings, runtime: Runtime
) -> None:
    """The data directory is a file: the child cannot open the store and says why."""
    blocked = tmp_path / "not-a-directory"
    blocked.write_text("", encoding="utf-8")
    engine = runtime.engine
    engine.import_apart = ImportApart(settings, blocked, engine.store)
    with pytest.raises(EngineError) as caught:
        await engine.import_directory(_file(tmp_path), "upload.csv", "admin")
    assert "not-a-directory" in str(caught.value)
    assert engine.view.count() == 0


async def test_a_small_file_is_imported_here(tmp_path: Path, runtime: Runtime) -> None:
    engine = runtime.engine
    path = tmp_path / "few.csv"
    write_directory(path, people=region_people(SIZE)[:10])
    outcome = await engine.import_directory(path.read_bytes(), "few.csv", "admin", keep_people=True)
    assert len(outcome.parsed) == outcome.people == 10
    assert engine.view.count() == 10
