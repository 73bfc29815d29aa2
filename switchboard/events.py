"""Change events: what the store publishes after each committed write, and every node applies.

Past-tense frozen values. ``version`` is the store's version after the write: a node that
missed events reloads when it sees a gap.
"""

from __future__ import annotations

from dataclasses import dataclass

from switchboard.directory.model import Person, PolicyException
from switchboard.presence.model import CalendarSegment, ManualStatus, Template


@dataclass(frozen=True, slots=True)
class PersonSaved:
    version: int
    person: Person


@dataclass(frozen=True, slots=True)
class PersonRemoved:
    version: int
    person_id: str


@dataclass(frozen=True, slots=True)
class DirectoryImported:
    """A whole import committed; the PersonSaved events of its rows precede it."""

    version: int
    created: int
    updated: int
    unchanged: int


@dataclass(frozen=True, slots=True)
class ManualStatusChanged:
    version: int
    person_id: str
    status: ManualStatus | None
    """None: cleared."""


@dataclass(frozen=True, slots=True)
class CalendarChanged:
    version: int
    person_id: str
    source: str
    segments: tuple[CalendarSegment, ...]


@dataclass(frozen=True, slots=True)
class TemplatesChanged:
    version: int
    person_id: str
    templates: tuple[Template, ...]


@dataclass(frozen=True, slots=True)
class ExceptionsChanged:
    version: int
    exceptions: tuple[PolicyException, ...]


Event = (
    PersonSaved
    | PersonRemoved
    | DirectoryImported
    | ManualStatusChanged
    | CalendarChanged
    | TemplatesChanged
    | ExceptionsChanged
)
