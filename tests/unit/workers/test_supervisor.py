"""The parent of ``serve --workers`` with stand-in workers (issue 14): small Python
programs that read the secret, say they are ready and then crash or serve, so the
restart policy is tested in seconds, without a switchboard."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest
from structlog.testing import capture_logs

from switchboard.workers.supervisor import RestartPolicy, Supervisor

WORKER = """
import os, signal, sys, time
secret = b""
while len(secret) < 32:
    secret += os.read(0, 32 - len(secret))
worker = sys.argv[sys.argv.index("--worker") + 1]
with open(sys.argv[1], "a") as seen:
    seen.write(f"{worker} {len(secret)} {secret.hex()} {' '.join(sys.argv[2:])}\\n")
if sys.argv[2] == "never-ready":
    sys.exit(4)
print('{"ready": {"sip": "127.0.0.1:5999", "http": "127.0.0.1:8999"}}', flush=True)
if sys.argv[2] == "crash" or (sys.argv[2] == "crash-1" and worker.startswith("1/")):
    time.sleep(0.2)
    sys.exit(3)
time.sleep(0.5 if sys.argv[2] == "serve" else 30)  # "serve": then stop on its own
"""
QUICK = RestartPolicy(max_restarts=2, restart_window=60.0, first_delay=0.01, max_delay=0.02)


def _fake(tmp_path: Path) -> tuple[list[str], Path]:
    script = tmp_path / "worker.py"
    script.write_text(WORKER)
    seen = tmp_path / "seen.txt"
    return [sys.executable, str(script), str(seen)], seen


def test_a_worker_dying_again_and_again_stops_everything_with_exit_1(tmp_path: Path) -> None:
    command, seen = _fake(tmp_path)
    ready: list[dict[str, str]] = []
    supervisor = Supervisor([*command, "crash-1"], 2, ready.append, policy=QUICK)
    with capture_logs() as logs:
        assert supervisor.run() == 1
    assert ready == [{"sip": "127.0.0.1:5999", "http": "127.0.0.1:8999", "workers": "2"}]
    events = [entry["event"] for entry in logs]
    assert events.count("worker_exited") == 3  # two restarts allowed, the third death stops
    assert events.count("worker_restarted") == 2
    assert "workers_failing" in events
    lines = seen.read_text().splitlines()
    assert [line.split()[0] for line in lines].count("1/2") == 3
    secrets = {line.split()[2] for line in lines}
    assert len(secrets) == 1  # one secret for every worker and every restart
    assert all(line.split()[1] == "32" for line in lines)
    # The others start on worker 0's addresses (port 0 made real there).
    later = [line for line in lines if line.startswith("1/2")]
    assert all("--sip-listen 127.0.0.1:5999 --http-listen 127.0.0.1:8999" in x for x in later)


def test_a_worker_that_is_never_ready_stops_the_start_with_its_code(tmp_path: Path) -> None:
    command, seen = _fake(tmp_path)
    ready: list[dict[str, str]] = []
    supervisor = Supervisor([*command, "never-ready"], 3, ready.append, policy=QUICK)
    with capture_logs() as logs:
        assert supervisor.run() == 4
    assert ready == []
    assert [e["event"] for e in logs if e["event"] == "workers_not_started"] == [
        "workers_not_started"
    ]
    assert len(seen.read_text().splitlines()) == 1  # only worker 0 was ever started


def test_a_worker_that_exits_cleanly_stops_the_rest(tmp_path: Path) -> None:
    """Ctrl-C reaches the whole process group: a worker stopping with 0 was told to."""
    command, _ = _fake(tmp_path)
    supervisor = Supervisor([*command, "serve"], 2, lambda _: None, policy=QUICK)
    with capture_logs() as logs:
        assert supervisor.run() == 0
    events = [entry["event"] for entry in logs]
    assert "worker_stopped_alone" in events
    assert "worker_restarted" not in events


def test_fewer_than_two_workers_need_no_parent() -> None:
    with pytest.raises(ValueError, match="two workers or more"):
        Supervisor([sys.executable], 1, lambda _: None)
    assert json.dumps(QUICK.delay(5)) == "0.02"
