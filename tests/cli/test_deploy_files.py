"""The deployment examples in docs/deploy stay true to the command line (issue 15)."""

from __future__ import annotations

import configparser
import shlex
from pathlib import Path

import pytest

from switchboard.cli import build_parser

DEPLOY = Path(__file__).resolve().parents[2] / "docs" / "deploy"


@pytest.mark.parametrize("unit", ["switchboard.service", "switchboard-backup.service"])
def test_each_units_command_line_is_one_switchboard_accepts(unit: str) -> None:
    parsed = configparser.ConfigParser(interpolation=None, strict=False)
    parsed.read(DEPLOY / unit, encoding="utf-8")
    command = shlex.split(parsed["Service"]["ExecStart"])
    assert command[0].endswith("/bin/switchboard")
    args = build_parser().parse_args(command[1:])
    assert args.command_key in {"serve", "backup"}
    assert args.data == "/var/lib/switchboard"
    assert parsed["Service"]["User"] == "switchboard"


def test_the_timer_starts_the_backup_and_the_proxy_passes_to_the_default_listen() -> None:
    timer = configparser.ConfigParser(interpolation=None)
    timer.read(DEPLOY / "switchboard-backup.timer", encoding="utf-8")
    assert timer["Timer"]["OnCalendar"]
    proxy = (DEPLOY / "nginx-switchboard.conf").read_text(encoding="utf-8")
    assert "proxy_pass http://127.0.0.1:8080;" in proxy
    assert "proxy_buffering off;" in proxy  # the live screen's event stream
