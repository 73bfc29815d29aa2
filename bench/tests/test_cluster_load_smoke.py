"""The cluster load runner (issue 14) at a low rate: every setup starts, every call succeeds.

Not collected by the default ``pytest`` run (``testpaths = ["tests"]``). Run it on purpose:

    .venv/bin/pytest bench/tests/test_cluster_load_smoke.py -q

Without kamailio or sipp it skips locally and fails when ``CI=true``.
"""

# ruff: noqa: S101, S603

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import cluster_load
from test_sip_load_smoke import require

RUNNER = Path(cluster_load.__file__)


def test_every_setup_answers_every_call(tmp_path: Path) -> None:
    require("kamailio", "kamailio")
    require("sipp", "sip-tester")
    out = tmp_path / "steps.json"
    done = subprocess.run(
        [sys.executable, str(RUNNER), "--rates", "200", "--duration", "2", "--warmup", "0.5",
         "--json", str(out)],
        capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    steps = json.loads(out.read_text())
    assert [s["setup"] for s in steps] == list(cluster_load.SETUPS)
    for step in steps:
        assert (step["successful"], step["failed"]) == (400, 0), step
        assert len(step["per_node"]) == cluster_load.SETUPS[step["setup"]].nodes
        assert all(cpu > 0 for cpu in step["per_node"]), step  # every node took calls
    by_setup = {s["setup"]: s for s in steps}
    assert by_setup["node"]["kamailio_cpu_s"] == 0
    assert by_setup["kamailio-2"]["kamailio_cpu_s"] > 0
    assert "clean up to 200/s" in done.stdout
