"""Pacing every outgoing stream from one timer, against absolute deadlines.

A 20 ms frame must leave every 20 ms for as long as a prompt plays. Sleeping 20 ms after
each send drifts (each wake-up is a little late, and the lateness adds up: a 60 s
greeting would end noticeably late and the far end's jitter buffer would keep
stretching), and one timer per call costs a wake-up per call every 20 ms. So all streams
share one grid: tick ``n`` is due at ``start + n * interval``, computed afresh from the
start each time, never as ``last + interval``, so nothing accumulates.

``Pacer`` is the sans-I/O core: given ``now`` it says which (stream, frame) pairs are
due. A stream that joins starts at the next grid tick, and its frames count from 0 there.
If the loop wakes late, the ticks that are due all run (a short catch-up burst), but when
more than ``max_late`` are due (the process stalled), only the latest runs and the stall
is counted: a burst of a second of audio would only overflow the far end's buffer. A
stream sees the jump in its frame numbers and stamps its RTP timestamps from them, so the
receiver hears a gap rather than garbled timing.

``Ticker`` drives a ``Pacer`` on the event loop: one task, started by its owner in a
``TaskGroup`` (``tg.create_task(ticker.run())``), waking with ``loop.call_at`` at each
absolute deadline, sleeping on an event while no stream is active.
"""

from __future__ import annotations

import asyncio
import math
from typing import Protocol

FRAME_SECONDS = 0.020


class Paced(Protocol):
    """An outgoing stream: sends its frame number ``frame`` (0, 1, 2 ...) when called."""

    def tick(self, frame: int) -> None: ...


class Pacer:
    """Which streams are due at ``now``, on the grid ``start + n * interval``."""

    def __init__(self, start: float, *, interval: float = FRAME_SECONDS, max_late: int = 3) -> None:
        if interval <= 0 or max_late < 1:
            raise ValueError("need interval > 0 and max_late >= 1")
        self.start = start
        self.interval = interval
        self.max_late = max_late
        self.stalls = 0
        self.skipped = 0
        self._done = -1  # the last tick that ran (or was passed while idle)
        self._streams: dict[int, tuple[Paced, int]] = {}  # id -> (stream, first tick)

    def deadline(self, tick: int) -> float:
        return self.start + tick * self.interval

    def tick_at(self, now: float) -> int:
        """The last tick whose deadline is at or before ``now`` (-1 before the start)."""
        tick = math.floor((now - self.start) / self.interval)
        # The division can land one off either side of an exact deadline; the deadlines
        # themselves are the truth, so check against them.
        while self.deadline(tick + 1) <= now:
            tick += 1
        while tick >= 0 and self.deadline(tick) > now:
            tick -= 1
        return max(tick, -1)

    @property
    def next_deadline(self) -> float:
        return self.deadline(self._done + 1)

    def __len__(self) -> int:
        return len(self._streams)

    def __contains__(self, stream: Paced) -> bool:
        return id(stream) in self._streams

    def add(self, stream: Paced, now: float) -> int:
        """Join ``stream`` at the next grid tick after ``now``; that tick is returned."""
        if not self._streams:
            self._done = max(self._done, self.tick_at(now))  # nothing was due while idle
        first = self.tick_at(now) + 1
        self._streams[id(stream)] = (stream, first)
        return first

    def remove(self, stream: Paced) -> None:
        """Stop pacing ``stream``; removing one that is not paced is harmless."""
        self._streams.pop(id(stream), None)

    def due(self, now: float) -> list[tuple[Paced, int]]:
        """The (stream, frame) pairs to send at ``now``, in tick order, then join order."""
        latest = self.tick_at(now)
        if not self._streams or latest <= self._done:
            self._done = max(self._done, latest)
            return []
        first = self._done + 1
        if latest - first + 1 > self.max_late:
            self.stalls += 1
            self.skipped += latest - first
            first = latest
        self._done = latest
        return [
            (stream, tick - joined)
            for tick in range(first, latest + 1)
            for stream, joined in list(self._streams.values())
            if joined <= tick
        ]


class Timer(Protocol):
    """The loop's clock, replaceable in tests by a fake that obeys the same protocol."""

    def time(self) -> float: ...

    async def sleep_until(self, deadline: float) -> None: ...


class LoopTimer:
    """The running loop's monotonic clock; wakes with ``call_at`` at an absolute time."""

    def time(self) -> float:
        return asyncio.get_running_loop().time()

    async def sleep_until(self, deadline: float) -> None:
        loop = asyncio.get_running_loop()
        woken: asyncio.Future[None] = loop.create_future()
        handle = loop.call_at(deadline, _resolve, woken)
        try:
            await woken
        finally:
            handle.cancel()


def _resolve(future: asyncio.Future[None]) -> None:
    if not future.done():  # cancelled meanwhile
        future.set_result(None)


class Ticker:
    """One task that ticks every paced stream on the shared 20 ms grid.

    With ``phases`` above 1 the grid is split into that many offset grids (``interval /
    phases`` apart), and each stream joins the one with the fewest streams. Every stream
    still sends every ``interval`` on a fixed grid, but the process sends a quarter of its
    frames every 5 ms instead of all of them at once: a burst of 2,000 sends holds the loop
    for about 10 ms, during which a SIP request waits and after which the next deadline may
    already be late; four bursts of 500 leave room between them.

    The owner starts ``run()`` in its ``TaskGroup`` and cancels it on shutdown. A stream's
    ``tick`` must not block; an exception from it ends ``run`` (and so, through the
    TaskGroup, the owner), as a bug should.
    """

    def __init__(
        self,
        *,
        interval: float = FRAME_SECONDS,
        max_late: int = 3,
        phases: int = 1,
        timer: Timer | None = None,
    ) -> None:
        if phases < 1:
            raise ValueError("need at least one phase")
        self.interval = interval
        self.max_late = max_late
        self.phases = phases
        self.timer: Timer = timer if timer is not None else LoopTimer()
        self._pacers: list[Pacer] = []
        self._joined: dict[int, Pacer] = {}
        self._wake = asyncio.Event()

    @property
    def pacers(self) -> list[Pacer]:
        """One pacer per phase, made on first use (their grids start at the loop's time)."""
        if not self._pacers:
            start = self.timer.time()
            step = self.interval / self.phases
            self._pacers = [
                Pacer(start + i * step, interval=self.interval, max_late=self.max_late)
                for i in range(self.phases)
            ]
        return self._pacers

    @property
    def pacer(self) -> Pacer:
        """The first phase's pacer (the only one with ``phases=1``)."""
        return self.pacers[0]

    @property
    def stalls(self) -> int:
        return sum(p.stalls for p in self.pacers)

    def add(self, stream: Paced) -> int:
        """Start pacing ``stream`` at the next tick of the least busy phase; that tick."""
        pacer = min(self.pacers, key=len)
        self.remove(stream)
        self._joined[id(stream)] = pacer
        first = pacer.add(stream, self.timer.time())
        self._wake.set()
        return first

    def remove(self, stream: Paced) -> None:
        pacer = self._joined.pop(id(stream), None)
        if pacer is not None:
            pacer.remove(stream)

    async def run(self) -> None:
        pacers = self.pacers
        while True:
            busy = [p for p in pacers if p]
            if not busy:
                self._wake.clear()
                await self._wake.wait()
                continue
            pacer = min(busy, key=_next_deadline)
            await self.timer.sleep_until(pacer.next_deadline)
            for stream, frame in pacer.due(self.timer.time()):
                if stream in pacer:  # an earlier stream's tick may have removed it
                    stream.tick(frame)


def _next_deadline(pacer: Pacer) -> float:
    return pacer.next_deadline
