"""The calendar health board: the worker's latest report per source, read by the pages."""

from __future__ import annotations

import pytest

from switchboard.live.health import HealthBoard


def test_each_report_replaces_that_sources_entry_only() -> None:
    board = HealthBoard()
    board.update([{"source": "ics:anna", "failures": 0}, {"source": "graph:sml", "failures": 2}])
    board.update([{"source": "ics:anna", "failures": 1, "last_error": "timeout"}])
    anna = board.get("ics:anna")
    assert anna is not None
    assert (anna["failures"], anna["last_error"]) == (1, "timeout")
    graph = board.get("graph:sml")
    assert graph is not None
    assert graph["failures"] == 2
    assert board.get("nobody") is None


def test_entries_are_read_only_and_nameless_ones_are_ignored() -> None:
    board = HealthBoard()
    board.update([{"failures": 3}, {"source": "ics:x", "failures": 0}])
    entry = board.get("ics:x")
    assert entry is not None
    with pytest.raises(TypeError):
        entry["failures"] = 9  # type: ignore[index]
