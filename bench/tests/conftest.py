"""Makes ``bench/sip_load.py`` importable as ``sip_load`` for the bench tests.

bench/ is not a package (its scripts are run by path), and pytest's default import mode
only puts this folder on ``sys.path``.
"""

from __future__ import annotations

import sys
from pathlib import Path

BENCH = str(Path(__file__).resolve().parents[1])
if BENCH not in sys.path:
    sys.path.insert(0, BENCH)
