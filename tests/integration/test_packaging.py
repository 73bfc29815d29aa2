"""The wheel carries what `switchboard demo` needs: a plain `pip install .` must work."""

from __future__ import annotations

import os
import subprocess
import sys
import zipfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def test_wheel_ships_configs_and_runs_the_demo_from_an_installed_copy(tmp_path: Path) -> None:
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--no-deps",
            "--no-build-isolation",
            "-q",
            "-w",
            str(tmp_path / "dist"),
            str(REPO),
        ],
        check=True,
        capture_output=True,
        timeout=300,
    )
    (wheel,) = (tmp_path / "dist").glob("switchboard-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    assert "switchboard/_data/configs/sml.toml" in names
    assert "switchboard/_data/configs/demo/sml-people.csv" in names
    assert "switchboard/_data/web/README.md" in names

    target = tmp_path / "site"
    zipfile.ZipFile(wheel).extractall(target)
    env = {k: v for k, v in os.environ.items() if not k.startswith("SWITCHBOARD_")}
    env["PYTHONPATH"] = str(target)
    env["SWITCHBOARD_DATA"] = str(tmp_path / "data")
    out = subprocess.run(
        [
            sys.executable,
            "-c",
            "import switchboard, sys; print(switchboard.__file__); "
            "from switchboard.cli import main; "
            "sys.exit(main(['--now', '2026-11-23T10:00', 'demo', '--seed-only']))",
        ],
        check=True,
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
        timeout=120,
    ).stdout
    assert out.splitlines()[0].startswith(str(target))
    assert "Anna Berg är på lunch" in out
