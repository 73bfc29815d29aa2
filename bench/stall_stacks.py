"""Run a Python program and print the event loop thread's stack whenever its loop lags.

Usage: .venv/bin/python bench/stall_stacks.py [--over MS] SCRIPT.py|-m MODULE [ARGS...]

A watchdog thread checks every 5 ms a beat the loop refreshes every 2 ms; when the beat
is older than ``--over`` (30 ms), it prints the loop thread's innermost frames to stderr
(``LAG <ms> <frames>``), once per stall, and then every other thread's (the one that
held the interpreter lock is among them). Generation-2 collections over 10 ms are printed
too (``GC <ms> gen <n> <thread>``). How the stalls of issue 15 were found: a frame on a
syscall (``select``, ``sendto``, a SQLite statement) means the loop was waiting for the
interpreter lock that another thread held; a frame in our code means the loop itself
was busy there. The watchdog needs the lock too, so a stall it reports is at least as
long as it says.

To diagnose ``serve`` under a benchmark, point the benchmark's command at this script,
e.g. ``[sys.executable, "bench/stall_stacks.py", "-m", "switchboard", ...]``.
"""

from __future__ import annotations

import asyncio
import gc
import runpy
import sys
import threading
import time
import traceback
from typing import Any

FRAMES = 5


def _watch(beat: list[float], loop_thread: int, over: float) -> None:
    reported = 0.0
    while True:
        time.sleep(0.005)
        late = time.monotonic() - beat[0]
        if late > over and beat[0] != reported:
            reported = beat[0]
            frames = sys._current_frames()
            print(f"LAG {late * 1000:.0f} {_where(frames.get(loop_thread))}", file=sys.stderr)
            names = {t.ident: t.name for t in threading.enumerate()}
            for ident, frame in frames.items():
                if ident not in (loop_thread, threading.get_ident()):
                    print(f"  {names.get(ident, ident)}: {_where(frame)}", file=sys.stderr)
            sys.stderr.flush()


def _where(frame: Any) -> str:
    stack = traceback.extract_stack(frame)[-FRAMES:] if frame else []
    return " <- ".join(
        f"{f.name}@{f.filename.rsplit('/', 1)[-1]}:{f.lineno}" for f in reversed(stack)
    )


def _collections() -> None:
    started: dict[int, float] = {}

    def timed(phase: str, info: dict[str, Any]) -> None:
        me = threading.get_ident()
        if phase == "start":
            started[me] = time.perf_counter()
            return
        ms = (time.perf_counter() - started.pop(me, time.perf_counter())) * 1000
        if ms > 10:
            name = threading.current_thread().name
            print(f"GC {ms:.0f} gen {info['generation']} {name}", file=sys.stderr, flush=True)

    gc.callbacks.append(timed)


def main() -> None:
    args = sys.argv[1:]
    over = 0.030
    if args[:1] == ["--over"]:
        over, args = float(args[1]) / 1000, args[2:]
    if not args:
        sys.exit(__doc__)
    beat = [time.monotonic()]

    class Policy(asyncio.DefaultEventLoopPolicy):
        def new_event_loop(self) -> asyncio.AbstractEventLoop:
            loop = super().new_event_loop()

            def tick() -> None:
                beat[0] = time.monotonic()
                loop.call_later(0.002, tick)

            loop.call_soon(tick)
            watchdog = threading.Thread(
                target=_watch, args=(beat, threading.get_ident(), over), daemon=True
            )
            watchdog.start()
            return loop

    asyncio.set_event_loop_policy(Policy())
    _collections()
    if args[0] == "-m":
        sys.argv = [args[1], *args[2:]]
        runpy.run_module(args[1], run_name="__main__", alter_sys=True)
    else:
        sys.argv = args
        runpy.run_path(args[0], run_name="__main__")


if __name__ == "__main__":
    main()
