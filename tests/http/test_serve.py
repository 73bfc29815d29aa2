"""``switchboard serve --http-listen 127.0.0.1:0`` reports the HTTP address in its ready
line, and that address serves the API."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import urllib.request
from pathlib import Path

from switchboard.settings.resources import bundled


def test_serve_reports_and_serves_the_http_address(tmp_path: Path) -> None:
    command = [
        sys.executable,
        "-m",
        "switchboard",
        "--config",
        str(bundled("configs/sml.toml")),
        "--data",
        str(tmp_path / "data"),
        "serve",
        "--sip-listen",
        "127.0.0.1:0",
        "--http-listen",
        "127.0.0.1:0",
    ]
    env = {k: v for k, v in os.environ.items() if not k.startswith("SWITCHBOARD_")}
    process = subprocess.Popen(
        command,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        env=env | {"PYTHONUNBUFFERED": "1"},
    )
    try:
        assert process.stdout is not None
        ready = json.loads(process.stdout.readline())["ready"]
        host, _, port = ready["http"].rpartition(":")
        assert host == "127.0.0.1"
        assert int(port) > 0
        url = f"http://{ready['http']}/api/v1/openapi.json"
        with urllib.request.urlopen(url, timeout=5) as response:
            assert response.status == 200
            assert response.headers["X-Content-Type-Options"] == "nosniff"
            assert json.loads(response.read())["openapi"].startswith("3.1")
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            assert process.wait(15) == 0
        finally:
            if process.poll() is None:
                process.kill()
            if process.stdout is not None:
                process.stdout.close()
