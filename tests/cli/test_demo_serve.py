"""`switchboard demo` starts everything: seeds, prints the accounts, serves SIP and the web."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import urllib.request
from pathlib import Path

import pytest

from tests.cli.conftest import SML


def test_demo_seeds_then_serves_and_says_where(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SWITCHBOARD_")}
    command = [sys.executable, "-m", "switchboard", "--config", str(SML)]
    command += ["--data", str(tmp_path / "data"), "--now", "2026-11-23T10:00", "demo"]
    command += ["--sip-listen", "127.0.0.1:0", "--http-listen", "127.0.0.1:0"]
    process = subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, env=env
    )
    assert process.stdout is not None
    try:
        lines: list[str] = []
        for line in process.stdout:
            lines.append(line)
            if line.startswith('{"ready"'):
                break
        ready = json.loads(lines[-1])["ready"]
        announcement: list[str] = []
        for line in process.stdout:
            announcement.append(line)
            if line.startswith("Ctrl-C"):
                break
        with urllib.request.urlopen(f"http://{ready['http']}/signin", timeout=10) as page:
            assert page.status == 200
            assert "text/html" in page.headers["Content-Type"]
    finally:
        process.send_signal(signal.SIGTERM)
        code = process.wait(20)
        process.stdout.close()
    text = "".join(lines)
    assert "Demo accounts" in text
    assert "reception" in text
    assert f"http://{ready['http']}/" in "".join(announcement)
    assert f"sip:64123@{ready['sip']}" in "".join(announcement)
    assert f"<sip:64000@{ready['sip']}>;auth_pass=" in "".join(announcement)
    assert code == 0


def _try_lines(out: str) -> list[str]:
    lines = out.splitlines()
    at = lines.index("Try:")
    return [line.strip() for line in lines[at + 1 : at + 5]]


@pytest.mark.parametrize("how", ["script", "module"])
def test_the_try_lines_run_as_printed_without_the_venv_on_path(tmp_path: Path, how: str) -> None:
    """A newcomer copies a "Try:" line into a shell that has no venv on PATH, in another
    directory (issue 16): it runs, on the demo's own data, configuration and clock."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("SWITCHBOARD_")}
    env["PATH"] = "/usr/bin:/bin"
    script = Path(sys.executable).with_name("switchboard")
    start = [str(script)] if how == "script" else [sys.executable, "-m", "switchboard"]
    data = tmp_path / "data"
    seeded = subprocess.run(
        [*start, "--data", str(data), "--now", "2026-11-23T10:00", "demo", "--seed-only"],
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
        timeout=120,
        check=True,
    )
    tries = _try_lines(seeded.stdout)
    assert len(tries) == 4
    assert all(line.startswith(f"{script} --data {data} --now 2026-11-23T10:00 ") for line in tries)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    outputs = []
    for line in tries:
        ran = subprocess.run(  # noqa: S602 - the test runs exactly what a person would paste
            line, shell=True, capture_output=True, text=True, env=env, cwd=elsewhere, timeout=60
        )
        assert ran.returncode == 0, f"{line}\n{ran.stdout}\n{ran.stderr}"
        outputs.append(ran.stdout)
    # They act on the demo's data: the meeting set by the second shows in the third.
    assert json.loads(outputs[0])["action"] == "announce"
    assert "Anna Berg" in outputs[3]


def test_the_working_day_hint_names_a_command_that_runs(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SWITCHBOARD_")}
    env["PATH"] = "/usr/bin:/bin"
    command = [sys.executable, "-m", "switchboard", "--config", str(SML), "--data", str(tmp_path)]
    seeded = subprocess.run(
        [*command, "--now", "2026-11-21T12:00", "demo", "--seed-only"],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=True,
    )
    hint = seeded.stdout.split("To see a working day:\n", 1)[1].splitlines()[0].strip()
    script = Path(sys.executable).with_name("switchboard")
    assert hint == (f"{script} --config {SML} --data {tmp_path} --now 2026-11-23T08:00 demo"), (
        seeded.stdout
    )
