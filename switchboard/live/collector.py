"""The garbage collector around work that makes a directory's worth of objects (issue 15).

A region's import or reload makes millions of objects (100,000 people, their rows, their
index entries). Each generation-2 collection that such work triggers walks every young
survivor while holding the interpreter lock: 50-100 ms in which the event loop answers
nothing, whichever thread allocated. ``settle`` at start freezes what was loaded and
collects young objects rarely; ``bulk_work`` keeps the collector out of one piece of bulk
work (nested and from any thread) and freezes what it left behind, as start does.

Freezing is safe for the directory's data: people, rows and index entries hold no
reference cycles, so whatever of it is dropped later is freed by its reference count.
"""

from __future__ import annotations

import gc
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager

SWITCH_INTERVAL = 0.0005
"""Seconds a thread may hold the interpreter lock while another waits for it."""
YOUNG_THRESHOLDS = (200_000, 50, 100)

_lock = threading.Lock()
_bulk = 0


def settle() -> None:
    """Move everything loaded at start (the directory, the view, the code) out of the
    collector's reach, and collect young objects less often: a full collection walking a
    large directory on the event loop shows up as a stall in every call's answer time."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(*YOUNG_THRESHOLDS)
    # While a worker thread builds (the search index, a reloaded directory), the event loop
    # waits for the interpreter lock each time it gave it up; by default the builder keeps
    # it 5 ms, so an answer that gives it up a few times waits tens of milliseconds.
    # Alone on the lock (nearly always) the loop never notices the shorter interval.
    sys.setswitchinterval(SWITCH_INTERVAL)


@contextmanager
def bulk_work() -> Iterator[None]:
    """No collection while bulk work (an import, a reload) runs; when the last such work
    ends, what it made is frozen (long-lived now, like the directory loaded at start) and
    the collector resumes."""
    global _bulk
    with _lock:
        _bulk += 1
        if _bulk == 1:
            gc.disable()
    try:
        yield
    finally:
        with _lock:
            _bulk -= 1
            if _bulk == 0:
                gc.freeze()
                gc.enable()
