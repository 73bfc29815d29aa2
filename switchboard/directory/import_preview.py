"""What a directory import would do, shown before anything is written (the import page's
check, the API's dry run).

At region scale a file changes up to 100,000 people: the preview counts every change but
lists the first ``PREVIEW_ROWS`` of each kind (a page of 100,000 rows took the browser, and
its rendering the server, longer than anyone would read it). It is made where the file is
parsed (a thread, or the import's own process: ``live.import_apart``), never on the event
loop.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from switchboard.directory.model import Person, changed_fields

PREVIEW_ROWS = 200
"""People listed per kind of change (and inferred organisations); the rest are counted."""
SHOWN_PROBLEMS = 1_000
"""A refused file's problems listed; the rest are counted (a region's file with a wrong
column has one on every row)."""


@dataclass(frozen=True, slots=True)
class Change:
    name: str
    fields: tuple[str, ...]
    """The ``Person`` fields that change; empty for someone new."""


@dataclass(frozen=True, slots=True)
class ImportPreview:
    created: tuple[Change, ...]
    """The first ``PREVIEW_ROWS`` people the import would create, in the file's order."""
    updated: tuple[Change, ...]
    """The first ``PREVIEW_ROWS`` people it would change."""
    created_count: int
    updated_count: int
    unchanged: int


def preview_import(
    parsed: Sequence[Person], existing: Mapping[str, Person], rows: int = PREVIEW_ROWS
) -> ImportPreview:
    """``parsed`` (a file's people, matched to ``existing`` by person_id) against the
    directory ``existing`` (by person_id)."""
    created: list[Change] = []
    updated: list[Change] = []
    created_count = updated_count = 0
    for person in parsed:
        old = existing.get(person.person_id)
        if old is None:
            created_count += 1
            if len(created) < rows:
                created.append(Change(person.name, ()))
        elif old != person:
            updated_count += 1
            if len(updated) < rows:
                updated.append(Change(person.name, tuple(changed_fields(old, person))))
    unchanged = len(parsed) - created_count - updated_count
    return ImportPreview(tuple(created), tuple(updated), created_count, updated_count, unchanged)
