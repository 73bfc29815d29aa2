"""Time as a parameter, at the root because every edge reads a Clock (the core gets instants)."""

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


class ShiftedClock:
    """Real time moving on from a chosen start: ``switchboard --now ... serve`` runs a whole
    server "as if it were Monday 10:00", with timeouts and expiries still passing."""

    def __init__(self, start: datetime) -> None:
        self._offset = start - datetime.now(UTC)

    def now(self) -> datetime:
        return datetime.now(UTC) + self._offset
