"""Writes batched on the event loop and flushed to the store once a period, by a task.

The call recorder and the registration keeper both buffer in memory on the SIP path
(no I/O there) and flush from a task of the app's TaskGroup: every period until the task
is cancelled, then once more so a clean stop loses nothing. A store error is reported
and the loop goes on: what failed stays buffered for the next round.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

from switchboard.store.protocol import StoreError

Sleep = Callable[[float], Awaitable[None]]


async def flush_periodically(
    step: Callable[[], Awaitable[object]],
    every: float,
    *,
    last: Callable[[], Awaitable[object]],
    failed: Callable[[StoreError, bool], None],
    sleep: Sleep | None = None,
) -> None:
    """Await ``step`` every ``every`` seconds until cancelled, then ``last`` once.
    ``failed(error, stopping)`` hears each StoreError (``stopping``: from ``last``)."""
    wait = sleep or asyncio.sleep
    try:
        while True:
            try:
                await step()
            except StoreError as exc:
                failed(exc, False)
            await wait(every)
    finally:
        try:
            await last()
        except StoreError as exc:
            failed(exc, True)
