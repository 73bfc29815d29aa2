"""redis-server (Debian ``redis-server``, 7.0) as a real shared store on loopback.

Each server runs in the foreground in its own directory (its append-only file lives there,
so a test can SIGKILL it and start a new one on the same directory), on a port picked
free, with no snapshots. Tests kill, stop (SIGSTOP) and resume (SIGCONT) it as an outage
would.

    with RedisServer(directory, appendfsync="always") as server:
        server.url  # "redis://127.0.0.1:PORT/0"
"""

from __future__ import annotations

import signal
import socket
import subprocess
import time
from pathlib import Path

from tests.peers.tools import LOOPBACK, Peer, free_port, require_tool

START_TIMEOUT = 10.0


class RedisServer(Peer):
    def __init__(
        self, directory: Path, *, appendonly: bool = True, appendfsync: str = "everysec"
    ) -> None:
        self.binary = require_tool("redis-server", "Debian redis-server")
        self.directory = directory
        self.appendonly = appendonly
        self.appendfsync = appendfsync
        self.port = 0
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://{LOOPBACK}:{self.port}/0"

    def command(self) -> list[str]:
        return [
            self.binary,
            "--port",
            str(self.port),
            "--bind",
            LOOPBACK,
            "--dir",
            str(self.directory),
            "--save",
            "",
            "--appendonly",
            "yes" if self.appendonly else "no",
            "--appendfsync",
            self.appendfsync,
            "--daemonize",
            "no",
            "--logfile",
            str(self.directory / "redis.log"),
            "--protected-mode",
            "yes",
        ]

    def start(self) -> RedisServer:
        """Start (again, on the same directory and, once chosen, the same port)."""
        self.directory.mkdir(parents=True, exist_ok=True)
        for _ in range(5):
            if not self.port:
                self.port = free_port("tcp")
            self.process = subprocess.Popen(self.command(), stdout=subprocess.DEVNULL)
            if self._wait_ready():
                return self
            self.process.kill()
            self.process.wait()
            self.port = 0  # taken meanwhile by someone else: another one
        log = (self.directory / "redis.log").read_text(errors="replace")[-2000:]
        raise RuntimeError(f"redis-server did not start:\n{log}")

    def _wait_ready(self) -> bool:
        """PING until PONG (also while it loads its append-only file), or it exited."""
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            if self.process is None or self.process.poll() is not None:
                return False
            if self.ping():
                return True
            time.sleep(0.02)
        return False

    def ping(self, timeout: float = 0.5) -> bool:
        try:
            with socket.create_connection((LOOPBACK, self.port), timeout=timeout) as sock:
                sock.sendall(b"PING\r\n")
                return sock.recv(64).startswith(b"+PONG")
        except OSError:
            return False

    def kill(self) -> None:
        """SIGKILL, as a crash: whatever Redis had not written to its files is gone."""
        self._signal(signal.SIGKILL)
        if self.process is not None:
            self.process.wait(10)

    def pause(self) -> None:
        """SIGSTOP: still accepting connections (the kernel does), answering nothing."""
        self._signal(signal.SIGSTOP)

    def resume(self) -> None:
        self._signal(signal.SIGCONT)

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.process.send_signal(signal.SIGCONT)  # a stopped server cannot hear SIGTERM
        self.process.terminate()
        try:
            self.process.wait(10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()

    def _signal(self, sig: signal.Signals) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(sig)
