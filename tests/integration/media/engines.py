"""Small shell scripts standing in for a better speech engine, counting their runs.

Each script appends a line to its ``runs`` file every time it starts, so a test counts
engine runs instead of trusting the cache's word.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

ENGINES = {
    # Speaks like a real engine: the text on stdin, a WAV written to {out}.
    "speaks": 'exec "$ESPEAK" -v "$1" -w "$2" --stdin',
    # The text as an argument: the script records exactly what it was given.
    "argument": 'printf "%s" "$1" > "$HERE/argument"; printf "%s" "$1" | exec "$ESPEAK" '
    "--stdout --stdin",
    "fails": 'echo "model file not found" >&2; exit 3',
    "garbage": 'echo "this is not a wav" > "$2"',
    "silent": 'exec "$ESPEAK" -v "$1" -w "$2" --stdin -a 0',
    # Hangs, with a child of its own, as a stuck engine behind a wrapper does.
    "hangs": 'sleep 60 & echo $! > "$HERE/child"; wait',
}


@dataclass(frozen=True)
class Script:
    path: Path
    runs_file: Path

    @property
    def runs(self) -> int:
        if not self.runs_file.exists():
            return 0
        return len(self.runs_file.read_text().splitlines())


def write_engine(folder: Path, kind: str, espeak: str) -> Script:
    """An executable wrapper of ``kind`` (a key of ``ENGINES``) in ``folder``."""
    folder.mkdir()
    path = folder / "engine.sh"
    path.write_text(
        "#!/bin/sh\n"
        f"HERE='{folder}'; ESPEAK='{espeak}'\n"
        f'echo "$$" >> "$HERE/runs"\n'
        f"{ENGINES[kind]}\n"
    )
    path.chmod(0o755)
    return Script(path, folder / "runs")
