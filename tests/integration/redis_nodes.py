"""Switchboard nodes on a shared Redis, for the Redis integration tests (issue 14).

A deployment is the bundled SML config with a ``[store]`` table pointing at a test
redis-server, seeded like the SIP tests' (the demo directory, phone passwords, Monday
10:00) plus a receptionist account with an API token for the web API. Nodes are real
``switchboard serve`` processes (``tests/integration/sip/conftest.py``), each in a folder
of its own, sharing the data folder as nodes share voicemail storage.
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from switchboard.accounts.model import Role
from switchboard.app import open_runtime
from switchboard.cli.demo import run_demo
from switchboard.clock import FixedClock
from switchboard.settings.config import load_settings
from tests.integration.sip.conftest import (
    MONDAY_10,
    PASSWORDS,
    REALM,
    Switchboard,
    start_switchboard,
    write_config,
)
from tests.integration.sip.rawsip import trunk_call
from tests.peers.redis_server import RedisServer

JOHAN = "51234"
"""Johan Ek: in (his mobile rings, a 302) until someone sets a referral (a 480)."""
TRUNK = "127.0.0.1:5999"
TRUSTED = ("127.0.0.1/32",)
"""Raw INVITEs from loopback come from the trunk: the answer is the routing decision."""


@dataclass(frozen=True)
class Deployment:
    directory: Path
    config: Path
    data_dir: Path
    token: str
    """A receptionist's API token."""
    person_ids: dict[str, str]
    """Extension -> person_id."""

    def start_node(self, name: str, now: str | None = MONDAY_10) -> Switchboard:
        """``now``: the ``--now`` instant, or None for the real time. Each process's
        ``--now`` clock runs from its own start, so two nodes started a second apart are a
        second apart: a referral one sets "now" starts a second later on the other. Nodes
        that compare answers across processes run on the real time."""
        folder = self.directory / name
        folder.mkdir()
        return start_switchboard(
            folder,
            config=self.config,
            data_dir=self.data_dir,
            trunk=TRUNK,
            trusted=TRUSTED,
            now=now,
        )


def deploy(directory: Path, redis: RedisServer, namespace: str = "itest") -> Deployment:
    config = write_config(directory)
    store = f'\n[store]\nbackend = "redis"\nurl = "{redis.url}"\nnamespace = "{namespace}"\n'
    config.write_text(config.read_text(encoding="utf-8") + store, encoding="utf-8")
    data_dir = directory / "data"
    data_dir.mkdir()
    token, person_ids = asyncio.run(_seed(config, data_dir))
    return Deployment(directory, config, data_dir, token, person_ids)


async def _seed(config: Path, data_dir: Path) -> tuple[str, dict[str, str]]:
    settings = load_settings(config)
    clock = FixedClock(datetime.fromisoformat(MONDAY_10))
    async with open_runtime(settings, data_dir, clock) as runtime:
        engine = runtime.engine
        await run_demo(engine, data_dir, force=True)
        for extension, password in PASSWORDS.items():
            await engine.set_sip_password(extension, password, REALM, "test")
        desk = await runtime.accounts.add_account(
            "itest-desk", "Test desk", [Role.RECEPTIONIST], None, None, "test"
        )
        token = await runtime.accounts.create_token(desk.account_id, "itest", "test")
        ids = {p.extension: p.person_id for p in engine.view.people() if p.extension}
    return token, ids


# --- asking a node ------------------------------------------------------------------------


def invite(node: Switchboard, extension: str = JOHAN) -> tuple[int, str]:
    """The final status a trunk INVITE for ``extension`` gets (302: rung; 480: a referral,
    said in its Reason header), and that Reason."""
    return trunk_call(node.host, node.port, extension)


def invite_status(node: Switchboard, extension: str = JOHAN) -> int:
    return invite(node, extension)[0]


def in_meeting(node: Switchboard, extension: str = JOHAN) -> bool:
    """The node plays the meeting referral ``put_referral`` sets (at any hour: a manual
    referral comes before the working-hours schedule)."""
    status, reason = invite(node, extension)
    return status == 480 and "meeting" in reason


def until(answer: Callable[[], bool], since: float, limit: float = 5.0) -> float:
    """Seconds from ``since`` until ``answer()`` first holds (asked every 10 ms)."""
    while not answer():
        if time.monotonic() - since > limit:
            raise AssertionError(f"still the old answer after {limit} s")
        time.sleep(0.01)
    return time.monotonic() - since


@dataclass(frozen=True)
class HttpAnswer:
    status: int
    headers: dict[str, str]
    body: str


def put_referral(
    node: Switchboard,
    deployment: Deployment,
    extension: str = JOHAN,
    until: str = "2026-11-23T15:00:00+01:00",
) -> HttpAnswer:
    """A meeting until ``until`` (the default suits nodes on ``--now`` Monday 10:00)."""
    body = {"state": "referral", "reason": "meeting", "until": until}
    return _request(node, deployment, "PUT", extension, body)


def clear_referral(node: Switchboard, deployment: Deployment, extension: str = JOHAN) -> HttpAnswer:
    return _request(node, deployment, "DELETE", extension, None)


def _request(
    node: Switchboard, deployment: Deployment, method: str, extension: str, body: object
) -> HttpAnswer:
    person_id = deployment.person_ids[extension]
    url = f"http://{node.http}/api/v1/people/{person_id}/availability"
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(url, data=data, method=method)
    request.add_header("Authorization", f"Bearer {deployment.token}")
    request.add_header("Content-Type", "application/json")
    try:
        with urllib.request.urlopen(request, timeout=20) as answer:  # noqa: S310
            return HttpAnswer(answer.status, dict(answer.headers), answer.read().decode())
    except urllib.error.HTTPError as error:
        return HttpAnswer(error.code, dict(error.headers), error.read().decode())


# --- the command line ---------------------------------------------------------------------


def cli(deployment: Deployment, *args: str) -> subprocess.CompletedProcess[str]:
    """``switchboard ARGS`` on the deployment's store (another process, as an operator's)."""
    command = [sys.executable, "-m", "switchboard", "--config", str(deployment.config)]
    command += ["--data", str(deployment.data_dir), "--now", MONDAY_10, *args]
    env = {k: v for k, v in os.environ.items() if not k.startswith("SWITCHBOARD_")}
    return subprocess.run(command, capture_output=True, text=True, env=env, timeout=60, check=False)


def set_meeting(deployment: Deployment, extension: str = JOHAN) -> subprocess.CompletedProcess[str]:
    return cli(deployment, "presence", "set", extension, "--reason", "meeting", "--until", "15:00")


def clear(deployment: Deployment, extension: str = JOHAN) -> subprocess.CompletedProcess[str]:
    return cli(deployment, "presence", "clear", extension)
