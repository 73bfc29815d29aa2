"""A CLI write while ``serve`` runs is what the next caller gets (issue 14).

The server and the CLI are separate processes on one SQLite store: the CLI commits, the
server follows the store's change feed. Each test measures, from the moment the CLI exits
(its write committed), how long until the server answers differently, and then proves the
new answer with a real SIPp peer.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

from tests.integration.sip.conftest import MONDAY_10, PASSWORDS, Switchboard
from tests.integration.sip.rawsip import RawClient, register, trunk_call
from tests.peers.sipp import SippRun, run, scenario

Factory = Callable[..., Switchboard]
PROPAGATION = 0.5
"""Seconds from the CLI's commit to a different answer (the issue's target)."""
MD5_FIRST = 'digest_algorithms = ["MD5", "SHA-256"]\n'
"""SIPp answers only MD5 challenges (PEERS.md)."""


def _cli(server: Switchboard, *args: str, stdin: str | None = None) -> float:
    """Run ``switchboard ARGS`` on the server's store; the monotonic time it exited."""
    command = [sys.executable, "-m", "switchboard", "--config", str(server.config)]
    command += ["--data", str(server.data_dir), "--now", MONDAY_10, *args]
    env = {k: v for k, v in os.environ.items() if not k.startswith("SWITCHBOARD_")}
    done = subprocess.run(
        command, input=stdin, capture_output=True, text=True, env=env, timeout=60, check=False
    )
    assert done.returncode == 0, done.stderr
    return time.monotonic()


def _until(answer: Callable[[], bool], since: float, limit: float = 5.0) -> float:
    """Seconds from ``since`` until ``answer()`` first holds (asked every 20 ms)."""
    while not answer():
        if time.monotonic() - since > limit:
            raise AssertionError(f"the server still answered the old way after {limit} s")
        time.sleep(0.02)
    return time.monotonic() - since


def _invite_status(server: Switchboard, extension: str) -> tuple[int, str]:
    return trunk_call(server.host, server.port, extension)


def test_a_referral_set_from_the_cli_is_the_next_callers_answer(
    switchboard_factory: Factory, tmp_path: Path
) -> None:
    server = switchboard_factory(trunk="127.0.0.1:5999", trusted=("127.0.0.1/32",))
    assert _invite_status(server, "51234")[0] == 302  # Johan Ek is in: his mobile
    exited = _cli(server, "presence", "set", "51234", "--reason", "meeting", "--until", "15:00")
    took = _until(lambda: _invite_status(server, "51234")[0] == 480, exited)
    assert took < PROPAGATION, f"{took:.3f} s"
    reason = _invite_status(server, "51234")[1]
    for words in ("Johan Ek", "meeting", "15:00"):
        assert words in reason
    result = run(SippRun(scenario("uac_invite_expect_480"), server.address, "51234"), tmp_path)
    assert result.ok, result.describe()

    exited = _cli(server, "presence", "clear", "51234")
    took = _until(lambda: _invite_status(server, "51234")[0] == 302, exited)
    assert took < PROPAGATION, f"{took:.3f} s"


def test_a_phone_password_set_from_the_cli_is_the_one_the_registrar_checks(
    switchboard_factory: Factory, tmp_path: Path
) -> None:
    server = switchboard_factory(sip_lines=MD5_FIRST)
    new = "ny-losen-fran-cli-1"

    def accepts(password: str) -> bool:
        phone = RawClient.udp(server.host, server.port)
        try:
            answer = register(phone, "51234", password)
            assert answer is not None
            return answer.status == 200
        finally:
            phone.close()

    assert accepts(PASSWORDS["51234"])
    exited = _cli(server, "phones", "password", "51234", "--password-stdin", stdin=new + "\n")
    took = _until(lambda: accepts(new), exited)
    assert took < PROPAGATION, f"{took:.3f} s"
    assert not accepts(PASSWORDS["51234"])
    users = tmp_path / "users.csv"
    line = f"51234;[authentication username=51234 password={new}]\n"
    users.write_text("SEQUENTIAL\n" + line, encoding="utf-8")
    result = run(SippRun(scenario("uac_register_digest"), server.address, inf=users), tmp_path)
    assert result.ok, result.describe()


def test_a_directory_import_from_the_cli_is_routed_at_once(
    switchboard_factory: Factory, tmp_path: Path
) -> None:
    server = switchboard_factory(trunk="127.0.0.1:5999", trusted=("127.0.0.1/32",))
    assert _invite_status(server, "64555")[0] == 404
    demo = (Path(__file__).resolve().parents[3] / "configs" / "demo" / "sml-people.csv").read_text(
        encoding="utf-8"
    )
    csv = tmp_path / "people.csv"
    newcomer = "Nora Vik,0523-664555,070-174 06 99,nora.vik@sotenas.example,Kultur,Bibliotekarie"
    csv.write_text(demo + newcomer + ",sv,no,no,private,,sotenas\n", encoding="utf-8")
    exited = _cli(server, "directory", "import", str(csv))
    took = _until(lambda: _invite_status(server, "64555")[0] == 302, exited)
    assert took < PROPAGATION, f"{took:.3f} s"
    result = run(SippRun(scenario("uac_invite_302"), server.address, "64555"), tmp_path)
    assert result.ok, result.describe()
