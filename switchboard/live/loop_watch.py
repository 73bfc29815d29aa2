"""The event loop's lag, measured all the time (issue 15).

Everything a node does runs on one event loop: a callback that holds it (a big import, a
reload, a slow disk) delays every SIP answer queued behind it. ``LoopWatch`` sets a 10 ms
timer again and again and records how late each fires: that lateness is what a SIP request
arriving at that moment would have waited. The histogram and the worst lag of each window
go to ``/metrics``; a lag over ``STALL`` is logged with its size, so a stall shows in the log
at the time it happened.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from typing import TypeVar

import structlog

from switchboard.live.metrics import Metrics

log = structlog.get_logger("switchboard.loop")

TICK = 0.010
WINDOW = 10.0
STALL = 0.100
"""A lag worth a log line."""

T = TypeVar("T")


class LoopWatch:
    def __init__(self, metrics: Metrics, *, tick: float = TICK, window: float = WINDOW) -> None:
        self._metrics = metrics
        self._tick = tick
        self._window = window
        self.last_window = 0.0
        """The longest lag of the last finished window, in seconds."""

    async def run(self) -> None:
        loop = asyncio.get_running_loop()
        window_end = loop.time() + self._window
        worst = 0.0
        while True:
            due = loop.time() + self._tick
            await asyncio.sleep(self._tick)
            now = loop.time()
            lag = max(0.0, now - due)
            self._metrics.loop_lag_seconds.observe(lag)
            worst = max(worst, lag)
            if lag >= STALL:
                log.warning("event_loop_stalled", lag_ms=round(lag * 1000))
            if now >= window_end:
                self._metrics.loop_lag_max.set(worst)
                self.last_window, worst = worst, 0.0
                window_end = now + self._window


async def worst_lag(work: Awaitable[T], *, tick: float = TICK) -> tuple[T, float]:
    """``work``'s result, and how late a ``tick`` timer fired at worst while it ran: what a
    SIP request arriving meanwhile would have waited (benchmarks and tests of work that must
    not hold the loop)."""
    loop = asyncio.get_running_loop()
    worst = 0.0
    done = False

    async def ticking() -> None:
        nonlocal worst
        while not done:
            due = loop.time() + tick
            await asyncio.sleep(tick)
            worst = max(worst, loop.time() - due)

    async with asyncio.TaskGroup() as group:
        group.create_task(ticking())
        await asyncio.sleep(0)
        try:
            result = await work
        finally:
            done = True
    return result, worst
