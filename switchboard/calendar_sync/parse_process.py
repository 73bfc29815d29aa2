"""The process calendar feeds are parsed in (issue 15).

Parsing an iCalendar feed is pure Python: about 20 ms for a working month of meetings.
On a thread of ``serve`` it was off the event loop but not off the interpreter lock: in a
round of 1,000 feeds the loop waited for the lock at every syscall, and SIP answers were
68-110 ms late at 100,000 people. In a process of its own the parse takes a core, not the
lock: only the feed's bytes go there and its items come back.

The child is ``python -m switchboard.calendar_sync.parse_child``, started on the first
parse and stopped after a minute without one (``stop_when_idle``); it imports the parser
and nothing else of the switchboard (no event loop, no HTTP client: about 21 MB). One
feed at a time travels on its stdin and stdout as a length and a pickle: ``(data, start,
end, zone)`` there, ``("ok", FeedResult)``, ``("calendar", source, problem)`` (a
``CalendarError``) or ``("failed", text)`` back. When the child dies (killed, out of
memory) the parse it had fails as a read of its feed, which the worker reports and tries
again next round, and the next parse starts a new child. A parse cancelled halfway
(``serve`` stopping) stops the child too: its answer would otherwise be read as the next
feed's.

(``multiprocessing`` was the first try: its ``spawn`` start imports the parent's main
module again in the child, which under ``serve`` meant the whole switchboard, 113 MB.)
"""

from __future__ import annotations

import asyncio
import contextlib
import pickle
import sys
from datetime import datetime
from zoneinfo import ZoneInfo

from switchboard.calendar_sync import parse_child
from switchboard.calendar_sync.errors import CalendarError
from switchboard.calendar_sync.ics import FeedResult
from switchboard.calendar_sync.parse_child import LENGTH as _LENGTH

STOP_SECONDS = 2.0
"""How long ``close`` waits for the child to exit after its stdin closes, before a kill."""
IDLE_SECONDS = 60.0
"""A child that parsed nothing for this long is stopped (``stop_when_idle``): a few
organisation-wide feeds polled every five minutes leave it idle most of the time."""


class ParseProcess:
    """``await parser(data, start, end, zone)``: ``parse_feed`` in the child process."""

    def __init__(self) -> None:
        self._child: asyncio.subprocess.Process | None = None
        self._turn = asyncio.Lock()
        self._last = 0.0
        """The event loop's time when the last parse ended."""
        self.started = 0
        """Children started so far (a second means the first died)."""

    async def __call__(
        self, data: bytes, start: datetime, end: datetime, zone: ZoneInfo
    ) -> FeedResult:
        request = pickle.dumps((data, start, end, zone), protocol=pickle.HIGHEST_PROTOCOL)
        async with self._turn:
            child = self._child
            if child is None or child.returncode is not None:
                child = self._child = await self._start()
            stdin, stdout = child.stdin, child.stdout
            if stdin is None or stdout is None:  # pragma: no cover - started with both pipes
                raise RuntimeError("the parse process has no pipes")
            try:
                stdin.write(_LENGTH.pack(len(request)) + request)
                await stdin.drain()
                (length,) = _LENGTH.unpack(await stdout.readexactly(_LENGTH.size))
                reply = await stdout.readexactly(length)
            except (ConnectionError, asyncio.IncompleteReadError):
                self._child = None
                raise CalendarError(
                    "feed", "the process that parses feeds stopped; read again next round"
                ) from None
            except BaseException:  # cancelled mid-exchange: the stream is out of step
                self._child = None
                _kill(child)
                raise
            finally:
                self._last = asyncio.get_running_loop().time()
        return _answer(pickle.loads(reply))  # noqa: S301 - our own child, on its own pipe

    async def stop_when_idle(self, idle: float = IDLE_SECONDS) -> None:
        """Until cancelled: stop the child once it has parsed nothing for ``idle`` seconds
        (about 21 MB the rest of the time); the next parse starts another."""
        loop = asyncio.get_running_loop()
        while True:
            await asyncio.sleep(idle / 4)
            if self._child is None or self._turn.locked():
                continue
            if loop.time() - self._last >= idle:
                await self.close()

    async def _start(self) -> asyncio.subprocess.Process:
        self.started += 1
        return await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            parse_child.__name__,
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
        )

    def pid(self) -> int | None:
        """The child's process id (None when none runs)."""
        child = self._child
        return None if child is None or child.returncode is not None else child.pid

    async def close(self) -> None:
        """Let the child finish and exit (its stdin closes); kill it if it does not."""
        child, self._child = self._child, None
        if child is None or child.returncode is not None:
            return
        if child.stdin is not None:
            child.stdin.close()
        try:
            await asyncio.wait_for(child.wait(), STOP_SECONDS)
        except TimeoutError:
            _kill(child)
            await child.wait()


def _kill(child: asyncio.subprocess.Process) -> None:
    if child.returncode is None:
        with contextlib.suppress(ProcessLookupError):  # exited between the check and kill
            child.kill()


def _answer(reply: object) -> FeedResult:
    match reply:
        case ("ok", FeedResult() as result):
            return result
        case ("calendar", str(source), str(problem)):
            raise CalendarError(source, problem)
        case ("failed", str(text)):
            raise RuntimeError(f"parsing a feed failed in the parse process:\n{text}")
    raise RuntimeError(f"the parse process answered {type(reply).__name__}")
