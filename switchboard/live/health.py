"""The latest health of each calendar source, for the pages (issue 4 worker, issue 5 page).

The calendar worker reports here after every round; the web reads it. Plain JSON-ready
mappings, so this module knows nothing of the calendar edge (imports point down).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from types import MappingProxyType
from typing import Any


class HealthBoard:
    def __init__(self) -> None:
        self._latest: dict[str, Mapping[str, Any]] = {}
        self.on_update: Callable[[tuple[Mapping[str, Any], ...]], None] | None = None
        """Told each report (with workers: worker 0 passes it to the others' boards)."""

    def update(self, entries: Iterable[Mapping[str, Any]]) -> None:
        """Replace what is known of each source named in ``entries`` (key ``source``)."""
        entries = tuple(entries)
        if self.on_update is not None:
            self.on_update(entries)
        for entry in entries:
            name = entry.get("source")
            if not isinstance(name, str):
                continue
            if entry.get("type") == "removed":
                # A source the worker stopped (a disconnected own calendar, issue 16).
                self._latest.pop(name, None)
            else:
                self._latest[name] = MappingProxyType(dict(entry))

    def get(self, source: str) -> Mapping[str, Any] | None:
        return self._latest.get(source)

    def all(self) -> list[Mapping[str, Any]]:
        """Every source's latest report, by name (what ``/metrics`` reads)."""
        return [self._latest[name] for name in sorted(self._latest)]
