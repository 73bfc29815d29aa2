"""`switchboard demo` starts everything: seeds, prints the accounts, serves SIP and the web."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import urllib.request
from pathlib import Path

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
        announcement = [process.stdout.readline() for _ in range(6)]
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
    assert code == 0
