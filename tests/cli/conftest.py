"""Run the real `switchboard` command in a subprocess, on a data directory per test."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parents[2]
SML = REPO / "configs" / "sml.toml"
DEMO_CSV = REPO / "configs" / "demo" / "sml-people.csv"


@dataclass
class Result:
    code: int
    out: str
    err: str

    def json(self) -> Any:
        return json.loads(self.out)


Run = Callable[..., Result]


@pytest.fixture
def sb(tmp_path: Path) -> Run:
    data = tmp_path / "data"
    env = {k: v for k, v in os.environ.items() if not k.startswith("SWITCHBOARD_")}

    def run(*args: str, config: Path = SML, expect: int = 0, stdin: str | None = None) -> Result:
        proc = subprocess.run(
            [
                sys.executable,
                "-m",
                "switchboard",
                "--config",
                str(config),
                "--data",
                str(data),
                *args,
            ],
            capture_output=True,
            text=True,
            env=env,
            input=stdin,
            timeout=60,
            check=False,
        )
        result = Result(proc.returncode, proc.stdout, proc.stderr)
        assert proc.returncode == expect, f"exit {proc.returncode}\n{proc.stdout}\n{proc.stderr}"
        return result

    return run


def write_csv(tmp_path: Path, text: str, name: str = "people.csv") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path
