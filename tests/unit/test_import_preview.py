"""What an import would do, counted in full and listed in part (the check, the dry run)."""

from __future__ import annotations

from dataclasses import replace

from switchboard.directory.import_preview import Change, preview_import
from switchboard.directory.model import Person

ANNA = Person("anna", "Anna Berg", "64123", "+46701740623", "anna@sotenas.example", "sotenas")


def _people(count: int) -> list[Person]:
    return [
        Person(f"p{n}", f"Person {n}", None, None, f"p{n}@sotenas.example", "sotenas")
        for n in range(count)
    ]


def test_every_change_is_counted_and_the_first_of_each_kind_listed() -> None:
    existing = {p.person_id: p for p in [ANNA, *_people(5)]}
    moved = replace(ANNA, unit="Kultur", title="Chef")
    new = _people(12)[6:]
    preview = preview_import([moved, *_people(5), *new], existing, rows=4)
    assert (preview.created_count, preview.updated_count, preview.unchanged) == (6, 1, 5)
    assert preview.created == tuple(Change(p.name, ()) for p in new[:4])
    assert preview.updated == (Change("Anna Berg", ("unit", "title")),)


def test_a_file_that_matches_the_directory_changes_nothing() -> None:
    people = _people(3)
    preview = preview_import(people, {p.person_id: p for p in people})
    assert (preview.created, preview.updated, preview.unchanged) == ((), (), 3)
