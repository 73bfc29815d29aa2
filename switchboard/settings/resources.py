"""Files shipped with the package: example configs and the demo directory.

In a wheel they live in ``switchboard/_data/`` (force-included from the top-level
``configs/`` and ``web/``); in a source checkout they are read from the repository.
"""

from __future__ import annotations

from pathlib import Path

_PACKAGE = Path(__file__).resolve().parents[1]  # switchboard/, above settings/


def bundled(relative: str) -> Path:
    for candidate in (_PACKAGE / "_data" / relative, _PACKAGE.parent / relative):
        if candidate.exists():
            return candidate
    raise FileNotFoundError(f"bundled file {relative!r} is missing from this installation")
