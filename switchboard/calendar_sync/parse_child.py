"""The child of ``parse_process.ParseProcess``: ``python -m
switchboard.calendar_sync.parse_child`` parses the feeds its parent sends until its stdin
closes.

A module of its own so that the child imports the parser and the standard library's
pickle and nothing more: no event loop, no HTTP client (21 MB instead of 41). Each feed
comes as a length and a pickle of ``(data, start, end, zone)``; each answer goes back the
same way: ``("ok", FeedResult)``, ``("calendar", source, problem)`` or ``("failed", text)``.
"""

from __future__ import annotations

import pickle
import struct
import sys
import traceback
from typing import BinaryIO

from switchboard.calendar_sync.errors import CalendarError
from switchboard.calendar_sync.ics import parse_feed

LENGTH = struct.Struct("!I")
"""Each message's length, before it."""


def serve_parses(stdin: BinaryIO, stdout: BinaryIO) -> int:
    """Parse feeds from ``stdin`` until it closes."""
    while True:
        head = stdin.read(LENGTH.size)
        if len(head) < LENGTH.size:
            return 0
        (length,) = LENGTH.unpack(head)
        data, start, end, zone = pickle.loads(stdin.read(length))  # noqa: S301 - our parent
        reply: tuple[object, ...]
        try:
            reply = ("ok", parse_feed(data, window_start=start, window_end=end, default_zone=zone))
        except CalendarError as exc:
            reply = ("calendar", exc.source, exc.problem)
        except Exception:  # noqa: BLE001 - told to the parent, which raises it there
            reply = ("failed", traceback.format_exc())
        out = pickle.dumps(reply, protocol=pickle.HIGHEST_PROTOCOL)
        stdout.write(LENGTH.pack(len(out)) + out)
        stdout.flush()


if __name__ == "__main__":
    # As the package's module, not ``__main__``: the results pickle by their module's name.
    from switchboard.calendar_sync import parse_child

    sys.exit(parse_child.serve_parses(sys.stdin.buffer, sys.stdout.buffer))
