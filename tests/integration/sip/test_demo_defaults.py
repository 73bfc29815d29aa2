"""A newcomer's first call (issue 16): ``switchboard demo`` as shipped, real phones on it.

The demo runs as a real process with the bundled SML configuration and nothing added
(the default digest settings, redirect mode, media on), at Monday 10:00 so Anna Berg
(64123) is at lunch. What it prints is what the phones use: the demo phone's user and
password, and the baresip account line, word for word. Debian's baresip 1.0 and SIPp 3.6
register and call Anna with them, and hear the switchboard answer (her referral).

A phone set up SHA-256 only (``phones password --sha256-only``) is challenged with
SHA-256 alone on the same defaults; everyone else, unknown users included, with MD5.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from switchboard.settings.resources import bundled
from tests.integration.sip.rawsip import RawClient, challenged_algorithms, new_id, register
from tests.peers.baresip import Account, Baresip
from tests.peers.sipp import SippRun, run, scenario
from tests.peers.tools import wait_for

MONDAY_10 = "2026-11-23T10:00:00+01:00"
SHA256_PHONE = ("51234", "johan-ek-sha256-pw")
"""Johan Ek's phone, set up SHA-256 only before the demo serves."""
_PHONE = re.compile(r"Register a phone as (\d+), password (\S+) ")
_CALL = re.compile(r"then call (sip:(\d+)@\S+) ")


@dataclass(frozen=True)
class DemoRun:
    process: subprocess.Popen[str]
    sip: str
    printed: str
    log: Path

    @property
    def host(self) -> str:
        return self.sip.rpartition(":")[0]

    @property
    def port(self) -> int:
        return int(self.sip.rpartition(":")[2])

    def phone(self) -> tuple[str, str]:
        found = _PHONE.search(" ".join(self.printed.split()))
        assert found is not None, self.printed
        return found[1], found[2]

    def callee(self) -> tuple[str, str]:
        found = _CALL.search(" ".join(self.printed.split()))
        assert found is not None, self.printed
        return found[1], found[2]

    def baresip_line(self) -> str:
        lines = self.printed.splitlines()
        at = next(i for i, line in enumerate(lines) if "~/.baresip/accounts" in line)
        return lines[at + 1].strip()

    def logs(self, event: str) -> list[dict[str, Any]]:
        text = self.log.read_text(encoding="utf-8")
        found = (json.loads(line) for line in text.splitlines() if line.startswith("{"))
        return [line for line in found if line.get("event") == event]


def _environment() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if not k.startswith("SWITCHBOARD_")}


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DemoRun]:
    folder = tmp_path_factory.mktemp("demo")
    base = [sys.executable, "-m", "switchboard", "--config", str(bundled("configs/sml.toml"))]
    base += ["--data", str(folder / "data"), "--now", MONDAY_10, "--log-level", "INFO"]
    env = _environment()
    subprocess.run([*base, "demo", "--seed-only"], check=True, capture_output=True, env=env)
    user, password = SHA256_PHONE
    subprocess.run(
        [*base, "phones", "password", user, "--sha256-only", "--password-stdin"],
        input=password,
        text=True,
        check=True,
        capture_output=True,
        env=env,
    )
    log = folder / "demo.log"
    with log.open("w", encoding="utf-8") as err:
        process = subprocess.Popen(
            [*base, "demo", "--sip-listen", "127.0.0.1:0", "--http-listen", "127.0.0.1:0"],
            stdout=subprocess.PIPE,
            stderr=err,
            text=True,
            env=env,
        )
    assert process.stdout is not None
    try:
        printed: list[str] = []
        for line in process.stdout:
            printed.append(line)
            if line.startswith("Ctrl-C stops it."):
                break
        ready = next(json.loads(x)["ready"] for x in printed if x.startswith('{"ready"'))
        yield DemoRun(process, ready["sip"], "".join(printed), log)
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(20)
        finally:
            if process.poll() is None:
                process.kill()
                process.wait(5)
            process.stdout.close()


def test_the_demo_prints_a_phone_and_how_to_set_it_up(demo: DemoRun) -> None:
    user, password = demo.phone()
    assert (user, password) == ("64000", "lur-pa-skrivbordet")
    assert demo.callee() == (f"sip:64123@{demo.sip}", "64123")
    assert demo.baresip_line() == f"<sip:64000@{demo.sip}>;auth_pass={password};regint=300"
    assert "Linphone" in demo.printed
    assert f"username {user}, password {password}" in " ".join(demo.printed.split())


async def test_baresip_registers_and_calls_with_what_the_demo_printed(
    demo: DemoRun, tmp_path: Path
) -> None:
    user, _ = demo.phone()
    uri, callee = demo.callee()
    account = Account(user, raw=demo.baresip_line())
    async with Baresip(account, directory=tmp_path / "baresip") as phone:
        await phone.registered(timeout=10)
        await phone.dial(uri)
        established = await phone.wait_event("CALL_ESTABLISHED", timeout=10)
        assert established.data["direction"] == "outgoing"
        assert await phone.end_call(after=0.5) == "Connection reset by user"
    wait_for(lambda: any(c["extension"] == callee for c in demo.logs("call")), 5, 0.05, "call")
    registered = [r for r in demo.logs("sip_register") if r["extension"] == user]
    assert [r["status"] for r in registered][:1] == [200]
    calls = [c for c in demo.logs("call") if c["extension"] == callee]
    assert (calls[0]["action"], calls[0]["outcome"]) == ("announce", 200), calls
    assert not demo.logs("sip_auth_failed")


def test_sipp_registers_and_calls_with_what_the_demo_printed(demo: DemoRun, tmp_path: Path) -> None:
    user, password = demo.phone()
    _, callee = demo.callee()
    users = tmp_path / "users.csv"
    users.write_text(
        f"SEQUENTIAL\n{user};[authentication username={user} password={password}]\n",
        encoding="utf-8",
    )
    registered = run(
        SippRun(scenario("uac_register_digest"), demo.sip, inf=users), tmp_path / "register"
    )
    assert registered.ok, registered.describe()
    called = run(
        SippRun(scenario("uac_invite_digest_answered"), demo.sip, service=callee, inf=users),
        tmp_path / "call",
    )
    assert called.ok, called.describe()
    assert not demo.logs("sip_auth_failed")


def _challenge(demo: DemoRun, user: str) -> tuple[str, ...]:
    client = RawClient.udp(demo.host, demo.port)
    try:
        client.send(client.request("REGISTER", user, call_id=new_id()))
        answer = client.final()
    finally:
        client.close()
    assert answer is not None
    assert answer.status == 401
    return answer.headers.get_all("WWW-Authenticate")


def test_md5_for_everyone_and_sha256_alone_for_a_phone_set_up_so(demo: DemoRun) -> None:
    """Phones on the default list and unknown users look the same (no enumeration); only
    the phone set up SHA-256 only is offered SHA-256, and registers with it."""
    assert challenged_algorithms(_challenge(demo, "64000")) == ["MD5"]
    assert challenged_algorithms(_challenge(demo, "64999")) == ["MD5"]
    user, password = SHA256_PHONE
    assert challenged_algorithms(_challenge(demo, user)) == ["SHA-256"]
    client = RawClient.udp(demo.host, demo.port)
    try:
        answer = register(client, user, password, algorithm="SHA-256")
    finally:
        client.close()
    assert answer is not None
    assert answer.status == 200
