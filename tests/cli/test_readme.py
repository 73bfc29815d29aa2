"""Every ``switchboard`` command in README.md runs as written (issue 16).

A newcomer copies them from the top of a fresh clone, one after the other, after the
README's own ``switchboard demo``. So does this test: each line of the README's ``sh``
blocks that runs ``.venv/bin/switchboard`` is run by a shell exactly as written, from the
top of the repository, on a data directory of its own (``XDG_DATA_HOME``, so the default
``~/.local/share/switchboard`` is where the README says it is). Three kinds need help:

- ``demo`` and ``serve`` listen on fixed ports and run until stopped: they get
  ``--sip-listen 127.0.0.1:0 --http-listen 127.0.0.1:0`` (``demo`` also ``--seed-only``)
  and ``serve`` is stopped once it says it is ready;
- ``phones password`` and ``users add`` ask for a password twice on a terminal: they get
  one, typed at their prompts through a pseudo-terminal (``script`` from util-linux);
- the installing lines (``python3 -m venv``, ``pip install .``, ``./scripts/check``) are
  not run here: test_packaging.py builds and runs the wheel, and CI runs scripts/check.

And every file a command names must be tracked by git, or a fresh clone would not have it.
"""

from __future__ import annotations

import json
import os
import re
import select
import shlex
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.cli.conftest import REPO
from tests.peers.tools import missing

README = REPO / "README.md"
SCRIPT = ".venv/bin/switchboard"
PASSWORD = "ett-langt-losenord-2026"  # noqa: S105 - typed at a prompt in a test
PORTS = ("--sip-listen", "127.0.0.1:0", "--http-listen", "127.0.0.1:0")
_BLOCK = re.compile(r"^```sh\n(.*?)^```", re.MULTILINE | re.DOTALL)


def readme_commands() -> list[str]:
    """The README's switchboard command lines, in order, as written."""
    commands: list[str] = []
    for block in _BLOCK.findall(README.read_text(encoding="utf-8")):
        for line in block.splitlines():
            for part in line.split("&&"):
                if part.strip().startswith(SCRIPT):
                    commands.append(part.strip())
    return commands


def words(command: str) -> list[str]:
    return shlex.split(command, comments=True)


def _environment(tmp_path: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SWITCHBOARD_")}
    return env | {"XDG_DATA_HOME": str(tmp_path / "xdg"), "PYTHONUNBUFFERED": "1"}


def _script(command: str) -> str:
    """The README's ``.venv/bin/switchboard``, or this interpreter's own when the tests
    run from another environment than the clone's ``.venv``."""
    if (REPO / SCRIPT).is_file():
        return command
    own = shlex.quote(str(Path(sys.executable).with_name("switchboard")))
    return command.replace(SCRIPT, own, 1)


def _on_a_terminal(command: str, env: dict[str, str], answers: int) -> tuple[int, str]:
    """Run ``command`` on a pseudo-terminal and type ``PASSWORD`` at each of its
    ``answers`` prompts (a line ending in ': '), as a person would."""
    tool = shutil.which("script")
    if tool is None:
        missing("script not found (the Debian package util-linux)")
    process = subprocess.Popen(
        [str(tool), "-qec", command, "/dev/null"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        env=env,
        cwd=REPO,
    )
    assert process.stdin is not None
    assert process.stdout is not None
    seen, typed = b"", 0
    deadline = time.monotonic() + 60
    while process.poll() is None and time.monotonic() < deadline:
        ready, _, _ = select.select([process.stdout], [], [], 0.1)
        if ready:
            chunk = os.read(process.stdout.fileno(), 4096)
            seen += chunk
        if typed < answers and seen.rstrip(b" ").endswith(b":") and seen.count(b": ") > typed:
            process.stdin.write(PASSWORD.encode() + b"\n")
            process.stdin.flush()
            typed += 1
    process.stdin.close()
    code = process.wait(10)
    seen += process.stdout.read()
    process.stdout.close()
    return code, seen.decode(errors="replace")


def _serve_until_ready(command: str, env: dict[str, str]) -> tuple[int, str]:
    process = subprocess.Popen(  # noqa: S602 - the README's line, run as a person would
        command,
        shell=True,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
        cwd=REPO,
        start_new_session=True,
    )
    assert process.stdout is not None
    try:
        line = process.stdout.readline()
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        code = process.wait(20)
        err = process.stderr.read() if process.stderr is not None else ""
        process.stdout.close()
        if process.stderr is not None:
            process.stderr.close()
    assert line.startswith('{"ready"'), f"{command}\n{line}{err}"
    return code, json.dumps(json.loads(line))


def run_as_written(command: str, env: dict[str, str]) -> tuple[int, str]:
    args = words(command)[1:]
    line = _script(command.split(" #", 1)[0].strip())
    if args[:1] == ["demo"]:
        line = f"{line} --seed-only {shlex.join(PORTS)}"
    if args[:1] == ["serve"]:
        return _serve_until_ready(f"exec {line} {shlex.join(PORTS)}", env)
    if args[:2] in (["phones", "password"], ["users", "add"]):
        return _on_a_terminal(line, env, answers=2)
    ran = subprocess.run(  # noqa: S602 - the README's line, run as a person would
        line, shell=True, capture_output=True, text=True, env=env, cwd=REPO, timeout=120
    )
    return ran.returncode, ran.stdout + ran.stderr


def test_the_readme_names_the_commands_a_newcomer_runs() -> None:
    commands = [words(c)[1:3] for c in readme_commands()]
    assert commands[0] == ["demo"]
    assert ["directory", "import"] in commands
    assert ["calendar", "explain"] in commands
    assert ["serve", "--sip-mode"] in commands


def test_every_file_a_readme_command_names_is_in_the_clone() -> None:
    git = shutil.which("git")
    if git is None or not (REPO / ".git").exists():
        pytest.skip("not a git checkout: the files of a fresh clone are unknown here")
    named = [
        arg
        for command in readme_commands()
        for arg in words(command)[1:]
        if not arg.startswith("-") and re.search(r"\.(csv|ics|toml)$", arg)
    ]
    assert named, "the README names sample files"
    for path in named:
        tracked = subprocess.run(
            [git, "ls-files", "--error-unmatch", path],
            cwd=REPO,
            capture_output=True,
            check=False,
        )
        assert tracked.returncode == 0, f"README.md names {path}, which a fresh clone lacks"


def test_every_readme_command_runs_as_written(tmp_path: Path) -> None:
    env = _environment(tmp_path)
    for command in readme_commands():
        code, out = run_as_written(command, env)
        assert code == 0, f"{command}\n{out}"
    assert (tmp_path / "xdg" / "switchboard" / "switchboard.db").is_file()
    # The passwords typed at the prompts took: maria has an account, 64000 a SIP password.
    listed = subprocess.run(
        [str(Path(sys.executable).with_name("switchboard")), "users", "list"],
        capture_output=True,
        text=True,
        env=env,
        check=True,
    )
    assert "maria" in listed.stdout
    audit = subprocess.run(
        [str(Path(sys.executable).with_name("switchboard")), "audit", "--limit", "50"],
        capture_output=True,
        text=True,
        env=env,
        check=True,
    )
    assert "extension 64000: SIP password set" in audit.stdout
