"""The real espeak-ng, an executor, and engine scripts (``engines.py``) for the speech tests.

A missing espeak-ng skips locally and fails in CI (``tests.peers.tools.require_tool``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from tests.integration.media.engines import Script, write_engine
from tests.peers.tools import require_tool


@pytest.fixture
def espeak() -> str:
    return require_tool("espeak-ng", "the Debian package espeak-ng")


@pytest.fixture
def executor() -> Iterator[ThreadPoolExecutor]:
    with ThreadPoolExecutor(2, thread_name_prefix="media-test") as pool:
        yield pool


@pytest.fixture
def engine_script(tmp_path: Path, espeak: str) -> Callable[[str], Script]:
    """``engine_script("speaks")``: a wrapper script of that kind in a folder of its own."""
    return lambda kind: write_engine(tmp_path / f"engine-{kind}", kind, espeak)
