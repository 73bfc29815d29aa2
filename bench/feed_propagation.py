"""How long a write in one process takes to become another process's routing decision
(issue 14): SQLite polling against Redis, with a bare Redis pub/sub as the reference.

Usage: .venv/bin/python bench/feed_propagation.py [--writes 300] [--backends sqlite,redis]
                                                   [--redis-server PATH] [--record]

For each backend a *reader* process does what ``switchboard serve`` does to follow the
store: it loads the state into a ``LiveView``, runs the ``Follower`` (SQLite: a look every
100 ms; Redis: blocked in ``XREAD`` until the stream moves), and a bus listener asks the
view for the routing decision of the dialled extension the moment each change is applied,
printing the decision and the time (``CLOCK_MONOTONIC``, one clock for every process on
the machine). The *writer* (this process) alternately sets and clears a person's referral
through the store, 2-100 ms after the reader saw the previous change, at random (so
writes fall at any moment of SQLite's poll, not in step with it), and measures from the
moment its write returned (committed) to the reader's decision, and also from the moment
it started the write.

The reference in the same run, on the same redis-server: a message PUBLISHed by this
process to a subscriber in another (one way, the same clock), and back (round trip).
Redis here is a redis-server this script starts (appendfsync everysec, no snapshots) on a
free loopback port, and stops at the end.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import random
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import redis.asyncio as aioredis

from switchboard.directory.model import Person
from switchboard.events import Event, ManualStatusChanged
from switchboard.live.follow import Follower
from switchboard.live.view import LiveView
from switchboard.presence.model import ManualStatus, Reason, Referral
from switchboard.routing.model import Call
from switchboard.settings.config import load_settings
from switchboard.store.bus import EventBus
from switchboard.store.protocol import Store
from switchboard.store.redis_store import RedisStore
from switchboard.store.sqlite import SqliteStore

REPO = Path(__file__).resolve().parents[1]
CONFIG = REPO / "configs" / "sml.toml"
MONDAY_10 = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
"""Decisions are taken at this instant (10:00 in Sweden, working hours): the referral
makes it ``announce``, clearing it makes it ``ring``."""
EXTENSION = "64123"
PERSON = Person("p1", "Anna Berg", EXTENSION, "+46701234567", None, "sotenas")
NAMESPACE = "bench"
CHANNEL = "bench-echo"


# --- the reader (another process) ----------------------------------------------------------


async def open_store(backend: str, where: str, bus: EventBus) -> Store:
    if backend == "sqlite":
        return await SqliteStore.open(Path(where), bus)
    return await RedisStore.open(where, NAMESPACE, bus)


async def read(backend: str, where: str) -> None:
    """Follow the store as ``serve`` does; print "version action ns" per applied change."""
    settings = load_settings(CONFIG)
    bus = EventBus()
    store = await open_store(backend, where, bus)
    view = LiveView(settings, await store.load())
    bus.add_listener(view.apply)

    def decided(event: Event) -> None:
        if isinstance(event, ManualStatusChanged):
            action = view.decision(Call(EXTENSION), MONDAY_10).action.value
            print(f"{event.version} {action} {time.monotonic_ns()}", flush=True)

    bus.add_listener(decided)
    follower = Follower(store, view, bus)
    print("ready", flush=True)
    try:
        await follower.run()
    finally:
        await store.close()


async def echo(url: str) -> None:
    """The reference's far end: stamp each message on arrival and send it back."""
    client = aioredis.Redis.from_url(url, decode_responses=True)
    pubsub = client.pubsub()
    await pubsub.subscribe(CHANNEL)
    print("ready", flush=True)
    async for message in pubsub.listen():
        if message["type"] == "message":
            arrived = time.monotonic_ns()
            await client.publish(CHANNEL + "-back", f"{message['data']} {arrived}")


# --- the writer (this process) --------------------------------------------------------------


@dataclass
class Sample:
    from_ack_ms: float
    from_start_ms: float


async def spawn(*args: str) -> asyncio.subprocess.Process:
    process = await asyncio.create_subprocess_exec(
        sys.executable, __file__, *args, stdout=asyncio.subprocess.PIPE
    )
    if process.stdout is None:  # pragma: no cover - asked for a pipe above
        raise SystemExit("no pipe to the reader")
    line = await asyncio.wait_for(process.stdout.readline(), 30)
    if line.strip() != b"ready":
        raise SystemExit(f"the reader did not start: {line!r}")
    return process


async def stop(process: asyncio.subprocess.Process) -> None:
    process.terminate()
    await process.wait()


def status(n: int) -> ManualStatus | None:
    if n % 2:
        return None
    referral = Referral(Reason.MEETING, until=MONDAY_10 + timedelta(hours=5))
    return ManualStatus(referral, "bench", MONDAY_10 - timedelta(hours=1))


async def measure_store(backend: str, where: str, writes: int, rng: random.Random) -> list[Sample]:
    store = await open_store(backend, where, EventBus())
    await store.import_people([PERSON], "bench", MONDAY_10)
    reader = await spawn("--reader", backend, where)
    lines = reader.stdout
    if lines is None:  # pragma: no cover - spawn() checked it
        raise SystemExit("no pipe to the reader")
    samples: list[Sample] = []
    try:
        for n in range(writes):
            # A pause as long as SQLite's poll interval at most, so writes fall at any
            # moment of the poll, not just after the look that saw the previous one.
            await asyncio.sleep(rng.uniform(0.002, 0.1))
            started = time.monotonic_ns()
            version = await store.set_manual(PERSON.person_id, status(n), "bench", MONDAY_10)
            acknowledged = time.monotonic_ns()
            while True:
                line = await asyncio.wait_for(lines.readline(), 10)
                seen, action, at = line.decode().split()
                if int(seen) == version:
                    break
            expected = "ring" if n % 2 else "announce"
            if action != expected:
                raise SystemExit(f"write {n}: the reader decided {action}, not {expected}")
            decided = int(at)
            samples.append(Sample((decided - acknowledged) / 1e6, (decided - started) / 1e6))
    finally:
        await stop(reader)
        await store.close()
    return samples


async def measure_pubsub(url: str, messages: int, rng: random.Random) -> tuple[list[float], ...]:
    far = await spawn("--echo", url)
    client = aioredis.Redis.from_url(url, decode_responses=True)
    pubsub = client.pubsub()
    await pubsub.subscribe(CHANNEL + "-back")
    await pubsub.get_message(timeout=1)  # the subscription's confirmation
    one_way: list[float] = []
    round_trip: list[float] = []
    try:
        for n in range(messages):
            await asyncio.sleep(rng.uniform(0.002, 0.02))
            sent = time.monotonic_ns()
            await client.publish(CHANNEL, str(n))
            while True:
                message = await pubsub.get_message(timeout=5)
                if message is not None and message["type"] == "message":
                    break
            back = time.monotonic_ns()
            number, arrived = message["data"].split()
            if int(number) != n:
                raise SystemExit(f"message {n} came back as {number}")
            one_way.append((int(arrived) - sent) / 1e6)
            round_trip.append((back - sent) / 1e6)
    finally:
        await stop(far)
        await pubsub.aclose()
        await client.aclose()
    return one_way, round_trip


# --- redis-server, reporting -----------------------------------------------------------------


def start_redis(binary: str, directory: Path) -> tuple[subprocess.Popen[bytes], str]:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    command = [binary, "--port", str(port), "--bind", "127.0.0.1", "--dir", str(directory)]
    command += ["--save", "", "--appendonly", "yes", "--appendfsync", "everysec"]
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL)  # noqa: S603
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5) as sock:
                sock.sendall(b"PING\r\n")
                if sock.recv(16).startswith(b"+PONG"):
                    return process, f"redis://127.0.0.1:{port}/0"
        except OSError:
            time.sleep(0.05)
    process.kill()
    raise SystemExit("redis-server did not start")


def percentiles(values: Sequence[float]) -> str:
    ordered = sorted(values)
    p99 = ordered[min(len(ordered) - 1, round(0.99 * (len(ordered) - 1)))]
    return f"p50 {statistics.median(ordered):.2f} ms, p99 {p99:.2f} ms, max {ordered[-1]:.2f} ms"


def commit() -> str:
    try:
        done = subprocess.run(  # noqa: S603 - our own fixed command
            ["git", "-C", str(REPO), "rev-parse", "--short", "HEAD"],  # noqa: S607
            capture_output=True,
            text=True,
            check=True,
        )
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    return done.stdout.strip()


def machine() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    return (
        f"`nproc` {os.cpu_count()}, {cpu}, kernel {platform.release()}, CPython "
        f"{platform.python_version()}; load average at the start {load}"
    )


async def run(args: argparse.Namespace) -> list[str]:
    where_run = machine()  # before the run's own load
    rng = random.Random(14)  # noqa: S311 - spacing of the writes, not security
    binary = args.redis_server or shutil.which("redis-server") or "/usr/bin/redis-server"
    rows: list[str] = []
    with tempfile.TemporaryDirectory(prefix="feed-bench-") as tmp:
        redis_process, url = start_redis(binary, Path(tmp))
        try:
            version = (await aioredis.Redis.from_url(url).info("server"))["redis_version"]
            for backend in args.backends.split(","):
                where = str(Path(tmp) / "store.db") if backend == "sqlite" else url
                samples = await measure_store(backend, where, args.writes, rng)
                rows.append(
                    f"| {backend}: write returned → other process decides | "
                    f"{percentiles([s.from_ack_ms for s in samples])} |"
                )
                rows.append(
                    f"| {backend}: write started → other process decides | "
                    f"{percentiles([s.from_start_ms for s in samples])} |"
                )
            one_way, round_trip = await measure_pubsub(url, args.writes, rng)
            rows.append(
                "| reference: Redis PUBLISH → subscriber in another process | "
                f"{percentiles(one_way)} |"
            )
            rows.append(
                "| reference: Redis pub/sub round trip (there and back) | "
                f"{percentiles(round_trip)} |"
            )
        finally:
            redis_process.terminate()
            redis_process.wait()
    header = [
        f"- Command: `.venv/bin/python bench/feed_propagation.py --writes {args.writes} "
        f"--backends {args.backends}` (code {commit()})",
        f"- Machine: {where_run}; redis-server {version} (appendfsync everysec).",
        "",
        f"| what ({args.writes} writes or messages each) | result |",
        "|---|---|",
    ]
    return header + rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--writes", type=int, default=300)
    parser.add_argument("--backends", default="sqlite,redis")
    parser.add_argument("--redis-server", help="the redis-server binary (default: on PATH)")
    parser.add_argument("--record", action="store_true", help="append to bench/RESULTS.md")
    parser.add_argument("--reader", nargs=2, metavar=("BACKEND", "WHERE"), help=argparse.SUPPRESS)
    parser.add_argument("--echo", metavar="URL", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.reader:
        asyncio.run(read(*args.reader))
        return
    if args.echo:
        asyncio.run(echo(args.echo))
        return
    lines = asyncio.run(run(args))
    print("\n".join(lines))
    if args.record:
        stamp = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
        with (REPO / "bench" / "RESULTS.md").open("a", encoding="utf-8") as results:
            results.write(f"\n## Change feed: a write to another process's decision ({stamp})\n")
            results.write("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
