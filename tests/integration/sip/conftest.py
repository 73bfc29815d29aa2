"""The switchboard itself as a test peer: ``switchboard serve`` in a subprocess on loopback.

The data directory is seeded in-process (demo directory, SIP passwords) at a fixed
instant, and the server runs with ``--now`` at that instant too (a clock that moves on
from there), so what callers get never depends on the hour the tests run.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from switchboard.app import open_engine, open_runtime
from switchboard.cli.demo import run_demo
from switchboard.clock import FixedClock
from switchboard.settings.config import load_settings
from switchboard.settings.resources import bundled
from switchboard.sip.calls import CallHandler
from switchboard.sip.core import SipCore
from switchboard.sip.flow import Flow
from switchboard.sip.proxy import Proxy
from switchboard.sip.server import SipServer
from tests.peers.sipp import SippRun, SippServer, run, scenario
from tests.peers.tools import LOOPBACK

MONDAY_10 = "2026-11-23T10:00:00+01:00"
"""Working hours everywhere: Anna Berg is at lunch, Johan Ek available (demo seeding)."""
REALM = "switchboard-test"
PASSWORDS = {
    "51234": "harbour-master-pw",  # Johan Ek, available, mobile shown
    "64123": "anna-berg-secret1",  # Anna Berg, at lunch
    "13456": "fatima-haddad-pw1",  # Fatima Haddad, secret mobile, on holiday
    "18007": "maria-nilsson-pw1",  # Maria Nilsson, hides her mobile (R14)
    "64000": "reception-pw-0001",  # Reception Sotenäs, no mobile
}
SIP_KEYS = f'realm = "{REALM}"\n'
"""Added to the bundled config's ``[sip]`` table (which blocks 0900, 0939, 0944, 099)."""


@dataclass
class Switchboard:
    process: subprocess.Popen[str]
    host: str
    port: int
    log_path: Path
    data_dir: Path
    config: Path
    stopped: bool = field(default=False)
    http: str = ""
    """The web's ``host:port`` from the ready line."""

    @property
    def address(self) -> str:
        return f"{self.host}:{self.port}"

    def logs(self) -> list[dict[str, Any]]:
        lines = self.log_path.read_text(encoding="utf-8").splitlines()
        return [json.loads(line) for line in lines if line.startswith("{")]

    def wait_logs(self, event: str, count: int = 1, timeout: float = 5.0) -> list[dict[str, Any]]:
        """The log lines of ``event`` once at least ``count`` are written (the server logs
        right after answering, so a test reading at once could race it)."""
        deadline = time.monotonic() + timeout
        while True:
            found = [line for line in self.logs() if line.get("event") == event]
            if len(found) >= count or time.monotonic() > deadline:
                return found
            time.sleep(0.02)

    def log_text(self) -> str:
        return self.log_path.read_text(encoding="utf-8")

    def stop(self, timeout: float = 10.0) -> int:
        if self.stopped:
            return self.process.returncode
        self.stopped = True
        self.process.send_signal(signal.SIGTERM)
        try:
            return self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
            raise
        finally:
            if self.process.stdout is not None:
                self.process.stdout.close()


MEDIA_OFF = "enabled = false\n"
"""Tests about routing read the 480 and its Reason; tests about media turn it on."""


def write_config(
    directory: Path, extra: str = "", media_lines: str = MEDIA_OFF, tables: str = ""
) -> Path:
    """``tables``: whole tables to add at the end (a ``[store]`` on Redis)."""
    base = bundled("configs/sml.toml").read_text(encoding="utf-8")
    # Five seconds of ringing keeps the no-answer tests short.
    base = base.replace("ring_timeout = 25", "ring_timeout = 5")
    path = directory / "sml.toml"  # the name picks the demo directory (sml-people.csv)
    base = base.replace("\n[sip]\n", "\n[sip]\n" + SIP_KEYS + extra, 1)
    path.write_text(base + "\n[media]\n" + media_lines + tables, encoding="utf-8")
    return path


async def _seed(config: Path, data_dir: Path) -> None:
    from datetime import datetime

    settings = load_settings(config)
    clock = FixedClock(datetime.fromisoformat(MONDAY_10))
    async with open_engine(settings, data_dir, clock) as engine:
        await run_demo(engine, data_dir, force=True)
        for extension, password in PASSWORDS.items():
            await engine.set_sip_password(extension, password, REALM, "test")


def seed(
    directory: Path, sip_lines: str = "", media_lines: str = MEDIA_OFF, tables: str = ""
) -> tuple[Path, Path]:
    config = write_config(directory, sip_lines, media_lines, tables)
    data_dir = directory / "data"
    data_dir.mkdir()
    asyncio.run(_seed(config, data_dir))
    return config, data_dir


def start_switchboard(
    directory: Path,
    *,
    mode: str = "redirect",
    trunk: str | None = None,
    trusted: tuple[str, ...] = (),
    config: Path | None = None,
    data_dir: Path | None = None,
    sip_lines: str = "",
    sip_listen: str = f"{LOOPBACK}:0",
    media_lines: str = MEDIA_OFF,
    now: str | None = MONDAY_10,
    workers: int = 1,
) -> Switchboard:
    """``sip_lines``: extra keys for the config's ``[sip]`` table. ``config`` and
    ``data_dir`` (both or neither): a server's seeded ones again, as for a restart.
    ``now``: the ``--now`` instant, None for none (the real time). ``workers``: run
    ``serve --workers N`` (the ready line then comes once all N listen)."""
    if config is None or data_dir is None:
        config, data_dir = seed(directory, sip_lines, media_lines)
    log_path = directory / f"switchboard-{mode}.log"
    command = [
        sys.executable,
        "-m",
        "switchboard",
        "--config",
        str(config),
        "--data",
        str(data_dir),
        "--log-level",
        "INFO",
        *(["--now", now] if now is not None else []),
        "serve",
        "--sip-listen",
        sip_listen,
        "--http-listen",
        f"{LOOPBACK}:0",
        "--sip-mode",
        mode,
    ]
    if trunk is not None:
        command += ["--trunk", trunk]
    if workers > 1:
        command += ["--workers", str(workers)]
    for cidr in trusted:
        command += ["--trusted", cidr]
    log_file = log_path.open("w", encoding="utf-8")
    process = subprocess.Popen(
        command,
        stdout=subprocess.PIPE,
        stderr=log_file,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    log_file.close()
    assert process.stdout is not None
    line = process.stdout.readline()
    if not line:
        process.wait(10)
        process.stdout.close()
        raise RuntimeError(f"switchboard did not start:\n{log_path.read_text()}")
    ready = json.loads(line)["ready"]
    host, _, port = ready["sip"].rpartition(":")
    return Switchboard(
        process, host, int(port), log_path, data_dir, config, http=str(ready.get("http", ""))
    )


class Sent:
    """A transport stand-in for an in-process ``SipServer``: keeps what would be sent."""

    def __init__(self) -> None:
        self.data: list[tuple[bytes, Flow]] = []

    def send(self, data: bytes, flow: Flow) -> bool:
        self.data.append((data, flow))
        return True

    @property
    def payloads(self) -> list[bytes]:
        return [data for data, _ in self.data]


@asynccontextmanager
async def inprocess_sip(config: Path, data: Path) -> AsyncIterator[tuple[SipServer, Sent]]:
    """The real ``SipServer`` on a seeded store at Monday 10:00, without sockets: tests
    call ``receive`` and read what it sent."""
    loaded = load_settings(config)
    clock = FixedClock(datetime.fromisoformat(MONDAY_10))
    async with open_runtime(loaded, data, clock) as runtime:
        sip = SipServer(loaded.sip, runtime.engine)
        sent = Sent()
        sip.core = SipCore(sip.layer, sent, ("127.0.0.1", 5060), sip._arm)  # type: ignore[arg-type]
        sip.proxy = Proxy(sip.core, lambda _person, _in_call: None)
        sip.calls = CallHandler(
            sip.core, runtime.engine, sip.registrar, sip.settings, sip.media, sip.proxy
        )
        yield sip, sent


@pytest.fixture
def switchboard_factory(tmp_path: Path) -> Iterator[Any]:
    started: list[Switchboard] = []

    def factory(**kwargs: Any) -> Switchboard:
        directory = tmp_path / f"sb{len(started)}"
        directory.mkdir()
        server = start_switchboard(directory, **kwargs)
        started.append(server)
        return server

    yield factory
    for server in started:
        if not server.stopped:
            server.stop()


def trunk_answers_calls(
    server: Switchboard, trunk: SippServer, directory: Path, calls: int = 1
) -> None:
    """SIPp calls Johan Ek (51234, available: his mobile rings) ``calls`` times through
    ``server`` in proxy mode; the SIPp ``trunk`` (``uas_answer``) answers every one."""
    result = run(
        SippRun(scenario("uac_invite_answered"), server.address, service="51234", calls=calls),
        directory / "caller",
    )
    answered = trunk.wait(timeout=10)
    assert result.ok, result.describe()
    assert answered.stats.successful == calls, answered.describe()
