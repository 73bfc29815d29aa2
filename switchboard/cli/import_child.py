"""The child process of a large import in ``serve`` (``live.import_apart``): run as
``python -m switchboard.cli.import_child``, it reads the request pickled on stdin and the
file after it, opens the store as the CLI does, imports, and answers on stdout."""

from __future__ import annotations

import asyncio
import pickle
import sys
from typing import BinaryIO

from switchboard.app import open_engine
from switchboard.clock import FixedClock
from switchboard.directory.csv_import import DirectoryImportError
from switchboard.directory.import_preview import SHOWN_PROBLEMS
from switchboard.live.engine import EngineError
from switchboard.live.import_apart import (
    ImportProblems,
    ImportRefused,
    ImportReply,
    ImportRequest,
)
from switchboard.logs import configure_logging
from switchboard.store.origin import acting_from
from switchboard.store.protocol import StoreError


async def _import(request: ImportRequest, data: bytes) -> ImportReply:
    try:
        settings = pickle.loads(request.settings)  # noqa: S301 - from serve, our parent
        clock = FixedClock(request.at)
        with acting_from(request.origin):
            async with open_engine(settings, request.data_dir, clock) as engine:
                return await engine.import_directory(
                    data, request.source, request.actor, dry_run=request.dry_run
                )
    except DirectoryImportError as exc:
        return ImportProblems(exc.source, exc.errors[:SHOWN_PROBLEMS], exc.total)
    except (EngineError, StoreError) as exc:
        return ImportRefused(str(exc))


def main(stdin: BinaryIO, stdout: BinaryIO) -> int:
    request = pickle.load(stdin)  # noqa: S301 - from serve, our parent, on its own pipe
    if not isinstance(request, ImportRequest):
        print(f"import_child: expected a request, got {type(request).__name__}", file=sys.stderr)
        return 2
    data = stdin.read()  # the file, after the request
    configure_logging(level=request.log_level)
    reply = asyncio.run(_import(request, data))
    stdout.write(pickle.dumps(reply, protocol=pickle.HIGHEST_PROTOCOL))
    stdout.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.stdin.buffer, sys.stdout.buffer))
