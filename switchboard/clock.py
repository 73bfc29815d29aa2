"""Time as a parameter: edges read a Clock, the core is handed instants (ARCHITECTURE)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Protocol


class Clock(Protocol):
    def now(self) -> datetime:
        """An aware instant."""
        ...


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)


@dataclass(frozen=True, slots=True)
class FixedClock:
    """A clock stopped at one instant: `switchboard route --at ...` and tests."""

    at: datetime

    def now(self) -> datetime:
        return self.at
