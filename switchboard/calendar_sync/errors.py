"""The calendar sources' one exception base."""

from __future__ import annotations


class CalendarError(Exception):
    """A calendar source could not be read; ``source`` never carries a secret (masked URL)."""

    def __init__(self, source: str, problem: str) -> None:
        super().__init__(f"calendar {source}: {problem}")
        self.source = source
        self.problem = problem
