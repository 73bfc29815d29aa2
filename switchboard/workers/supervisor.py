"""The parent of ``switchboard serve --workers N``: starts the workers, watches them,
restarts one that dies, and stops them all on SIGTERM or SIGINT.

- **Start.** Worker 0 starts first with the command line as given; its ``{"ready": ...}``
  line names the SIP and HTTP addresses it bound (port 0 becomes a real port there). The
  others then start with exactly those addresses, so every worker shares the same ports
  (SO_REUSEPORT). Once all are listening the parent prints one ready line of its own, with
  the shared addresses and ``"workers"``. A worker that exits before it is ready (a bad
  config, a port in use) stops the start: the parent stops the others and exits with
  that worker's code.
- **Watch.** Each worker's stderr (its JSON log lines, with ``worker`` in each) is read
  by the parent and written to its own stderr in whole lines: two processes writing to
  one pipe could interleave a large write mid-line. Each worker's stdin is a pipe from
  the parent that nobody writes to: when the parent dies, even by SIGKILL, the workers
  read its end-of-file and stop.
- **Restart.** A worker that dies (a crash, SIGKILL, the out-of-memory killer) is
  started again, after 0.5 s, doubling to 10 s, with a ``worker_exited`` and a
  ``worker_restarted`` line; its calls in progress are lost, the others' are not. More
  than ``max_restarts`` deaths within ``restart_window`` seconds is no passing accident:
  the parent stops everything, says ``workers_failing`` and exits 1, so that systemd (or
  whoever started it) sees a failed service instead of a loop. A worker that exits
  *cleanly* (code 0) was stopped on purpose (Ctrl-C reaches the whole process group;
  systemd's default ``KillMode`` signals every process): the parent stops the rest too.
- **Stop.** SIGTERM or SIGINT to the parent: SIGTERM to every worker at once (each
  stops in its own order: SIP first, then saves its registrations and call records),
  then up to ``stop_seconds`` for all to exit, SIGKILL for any still running.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import secrets
import signal
import socket
import sys
import time
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import structlog

from switchboard.workers.spec import SECRET_BYTES, WorkerSpec

log = structlog.get_logger("switchboard.workers")

Announce = Callable[[dict[str, str]], None]
READ_CHUNK = 64 * 1024


class WorkerStartError(Exception):
    def __init__(self, index: int, code: int) -> None:
        super().__init__(f"worker {index} exited with {code} before it was ready")
        self.index = index
        self.code = code


@dataclass(frozen=True, slots=True)
class RestartPolicy:
    max_restarts: int = 5
    restart_window: float = 60.0
    first_delay: float = 0.5
    max_delay: float = 10.0

    def delay(self, recent: int) -> float:
        return min(self.max_delay, self.first_delay * float(2 ** max(0, recent - 1)))


class Supervisor:
    def __init__(
        self,
        command: Sequence[str],
        count: int,
        announce: Announce,
        *,
        stop_seconds: float = 30.0,
        policy: RestartPolicy | None = None,
        console_logs: bool = False,
    ) -> None:
        """``command``: the ``serve`` command line each worker runs (``python -m switchboard
        ... serve ...``), to which the worker's own options are added."""
        if count < 2:
            raise ValueError("a supervisor runs two workers or more")
        self.command = list(command)
        self.count = count
        self.announce = announce
        self.stop_seconds = stop_seconds
        self.policy = policy or RestartPolicy()
        self.console_logs = console_logs
        self._sockets: list[socket.socket] = []
        self._links: dict[int, dict[int, int]] = {i: {} for i in range(count)}
        self._processes: dict[int, asyncio.subprocess.Process] = {}
        self._listen: list[str] = []
        """``--sip-listen``/``--http-listen`` with worker 0's real addresses."""
        self._exit_code = 0
        self._secret = secrets.token_bytes(SECRET_BYTES)
        self._epoch = time.time()
        """When the parent started: ``--now`` is this instant in every worker's clock."""
        """What the workers share (the SIP digest nonces' key); to each on its stdin."""

    # -- the run ----------------------------------------------------------------------

    def run(self) -> int:
        """Start, supervise until SIGTERM/SIGINT, stop; the exit code."""
        self._pair_up()
        try:
            return asyncio.run(self._main())
        finally:
            for sock in self._sockets:
                sock.close()

    def _pair_up(self) -> None:
        """One connected datagram pair per pair of workers; the parent keeps every end
        open, so a restarted worker gets its ends back and the others' stay valid."""
        for i in range(self.count):
            for j in range(i + 1, self.count):
                a, b = socket.socketpair(socket.AF_UNIX, socket.SOCK_DGRAM)
                self._sockets += [a, b]
                self._links[i][j] = a.fileno()
                self._links[j][i] = b.fileno()

    async def _main(self) -> int:
        loop = asyncio.get_running_loop()
        stop = asyncio.Event()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, stop.set)
        try:
            async with asyncio.TaskGroup() as group:
                group.create_task(self._serve(group, stop))
        finally:
            for sig in (signal.SIGTERM, signal.SIGINT):
                loop.remove_signal_handler(sig)
        return self._exit_code

    async def _serve(self, group: asyncio.TaskGroup, stop: asyncio.Event) -> None:
        keepers: list[asyncio.Task[None]] = []
        try:
            addresses = await self._start_all(group, stop, keepers)
            if addresses is not None:
                shown = {**addresses, "workers": str(self.count)}
                log.info("workers_ready", **shown)
                self.announce(shown)
                await stop.wait()
        except WorkerStartError as failed:
            log.error("workers_not_started", worker=failed.index, code=failed.code)
            self._exit_code = failed.code or 1
        finally:
            stop.set()
            await self._stop_all(keepers)

    async def _start_all(
        self, group: asyncio.TaskGroup, stop: asyncio.Event, keepers: list[asyncio.Task[None]]
    ) -> dict[str, str] | None:
        """Worker 0, then the others on its addresses; their SIP and HTTP addresses once
        all are ready, None when told to stop first."""
        loop = asyncio.get_running_loop()
        readies = [loop.create_future() for _ in range(self.count)]
        keepers.append(group.create_task(self._keep(0, readies[0], stop)))
        addresses = await _until(readies[0], stop)
        if addresses is None:
            return None
        sip, http = addresses["sip"], addresses["http"]
        self._listen = ["--sip-listen", sip, "--http-listen", http]
        for i in range(1, self.count):
            keepers.append(group.create_task(self._keep(i, readies[i], stop)))
        for ready in readies[1:]:
            if await _until(ready, stop) is None:
                return None
        return {"sip": sip, "http": http}

    async def _stop_all(self, keepers: list[asyncio.Task[None]]) -> None:
        log.info("workers_stopping", workers=len(self._processes))
        for process in self._processes.values():
            if process.returncode is None:
                process.send_signal(signal.SIGTERM)
        _, late = await asyncio.wait(keepers, timeout=self.stop_seconds)
        if late:
            for index, process in self._processes.items():
                if process.returncode is None:
                    log.error("worker_killed", worker=index, after_seconds=self.stop_seconds)
                    process.kill()
            await asyncio.wait(late)

    # -- one worker, for as long as it is wanted -----------------------------------------

    async def _keep(
        self, index: int, ready: asyncio.Future[dict[str, str]], stop: asyncio.Event
    ) -> None:
        loop = asyncio.get_running_loop()
        deaths: deque[float] = deque()
        started_once = False
        while not stop.is_set():
            process = await self._spawn(index)
            self._processes[index] = process
            log.info("worker_started", worker=index, pid=process.pid)

            def on_ready(
                addresses: dict[str, str], again: bool = started_once, pid: int = process.pid
            ) -> None:
                if again:
                    log.info("worker_restarted", worker=index, pid=pid)
                elif not ready.done():
                    ready.set_result(addresses)

            stdout, stderr = process.stdout, process.stderr
            if stdout is None or stderr is None:  # pragma: no cover - asked for PIPE
                raise RuntimeError("a worker started without its pipes")
            async with asyncio.TaskGroup() as pumps:
                pumps.create_task(_read_ready(stdout, on_ready))
                pumps.create_task(_copy_lines(stderr))
                code = await process.wait()
            if stop.is_set():
                log.info("worker_stopped", worker=index, code=code)
                return
            if not ready.done():
                ready.set_exception(WorkerStartError(index, code))
                stop.set()
                return
            started_once = True
            if code == 0:
                log.info("worker_stopped_alone", worker=index)
                stop.set()  # stopped on purpose: everything stops
                return
            now = loop.time()
            deaths.append(now)
            while deaths and deaths[0] < now - self.policy.restart_window:
                deaths.popleft()
            log.error("worker_exited", worker=index, code=code, recent_deaths=len(deaths))
            if len(deaths) > self.policy.max_restarts:
                log.error(
                    "workers_failing",
                    worker=index,
                    deaths=len(deaths),
                    window_seconds=self.policy.restart_window,
                )
                self._exit_code = 1
                stop.set()
                return
            with contextlib.suppress(TimeoutError):  # the delay ran out: start it again
                await asyncio.wait_for(stop.wait(), self.policy.delay(len(deaths)))

    async def _spawn(self, index: int) -> asyncio.subprocess.Process:
        spec = WorkerSpec(index, self.count, self._links[index])
        command = [
            *self.command,
            *self._listen,
            "--worker",
            f"{index}/{self.count}",
            "--worker-links",
            spec.format_links(),
            "--worker-epoch",
            repr(self._epoch),
        ]
        env = dict(os.environ)
        if self.console_logs:
            env["SWITCHBOARD_LOG_FORMAT"] = "console"
        process = await asyncio.create_subprocess_exec(
            *command,
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
            pass_fds=tuple(spec.links.values()),
            env=env,
        )
        if process.stdin is not None:
            # The pipe stays open afterwards: its end-of-file tells the worker we are gone.
            process.stdin.write(self._secret)
            with contextlib.suppress(ConnectionError):  # it died at once: _keep sees why
                await process.stdin.drain()
        return process


async def _until(
    ready: asyncio.Future[dict[str, str]], stop: asyncio.Event
) -> dict[str, str] | None:
    """The addresses once ``ready``; None when told to stop first."""
    async with asyncio.TaskGroup() as group:
        stopped = group.create_task(stop.wait())
        waiting: set[asyncio.Future[Any]] = {ready, stopped}
        await asyncio.wait(waiting, return_when=asyncio.FIRST_COMPLETED)
        stopped.cancel()
    if ready.done():
        return ready.result()
    return None


async def _read_ready(
    stream: asyncio.StreamReader, on_ready: Callable[[dict[str, str]], None]
) -> None:
    """Wait for the worker's ready line; read (and drop) whatever else it prints."""
    while line := await stream.readline():
        if line.startswith(b'{"ready"'):
            try:
                on_ready({str(k): str(v) for k, v in json.loads(line)["ready"].items()})
            except (ValueError, KeyError, AttributeError):
                log.error("worker_ready_unreadable", line=line[:200].decode(errors="replace"))


async def _copy_lines(stream: asyncio.StreamReader) -> None:
    """A worker's log lines to our stderr, whole lines per write."""
    rest = b""
    while chunk := await stream.read(READ_CHUNK):
        data = rest + chunk
        cut = data.rfind(b"\n") + 1
        rest = data[cut:]
        if cut:
            _write_stderr(data[:cut])
    if rest:
        _write_stderr(rest + b"\n")


def _write_stderr(data: bytes) -> None:
    sys.stderr.flush()
    # Nowhere to log to when stderr is gone: keep draining the worker so it never blocks.
    with contextlib.suppress(OSError):
        view = memoryview(data)
        while view:
            written = os.write(2, view)
            view = view[written:]
