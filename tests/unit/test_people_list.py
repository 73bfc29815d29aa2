"""The administrator's people list, a page at a time (issue 15): name order, a cursor that
stays right while people come and go, search and role filters."""

from __future__ import annotations

import pytest

from switchboard.directory.model import Person
from switchboard.http.people_list import (
    CursorError,
    Key,
    Ordered,
    Wanted,
    build,
    decode_cursor,
    encode_cursor,
    search_texts,
    select,
)


def _person(person_id: str, name: str, unit: str = "IT") -> Person:
    return Person(
        person_id=person_id,
        name=name,
        extension=None,
        mobile=None,
        email=f"{person_id}@example.org",
        organisation="sotenas",
        unit=unit,
    )


NAMES = ["Örjan Ek", "anna Berg", "Anna Berg", "Bo Ahl", "Åsa Lind", "Ärla Nyström", "Cia Ek"]
PEOPLE = [_person(f"p{i}", name) for i, name in enumerate(NAMES)]
BY_ID = {p.person_id: p for p in PEOPLE}


async def _all_pages(people: list[Person], limit: int) -> list[list[str]]:
    ordered = await build(people)
    pages: list[list[str]] = []
    after: Key | None = None
    while True:
        ids, after = await select(ordered, Wanted(after, limit))
        pages.append(ids)
        if after is None:
            return pages


@pytest.mark.parametrize("limit", [1, 2, 3, 7, 50])
async def test_pages_cover_everyone_once_in_name_order(limit: int) -> None:
    pages = await _all_pages(PEOPLE, limit)
    flat = [pid for page in pages for pid in page]
    expected = [p.person_id for p in sorted(PEOPLE, key=lambda p: (p.name.casefold(), p.person_id))]
    assert flat == expected
    assert all(len(page) == limit for page in pages[:-1])
    assert 0 < len(pages[-1]) <= limit


async def test_a_large_order_is_the_sorted_order() -> None:
    """More people than one sorted run (``SORT_RUN``): the merged runs are one order."""
    people = [_person(f"q{i:05}", f"Name {(i * 7919) % 5003:05}") for i in range(5_000)]
    ordered = await build(people)
    expected = sorted((p.name.casefold(), p.person_id) for p in people)
    assert list(zip(ordered.names, ordered.ids, strict=True)) == expected


async def test_a_cursor_stays_right_when_people_come_and_go_between_pages() -> None:
    first, after = await select(await build(PEOPLE), Wanted(None, 3))
    assert after is not None
    # Someone sorting first joins and someone on page one leaves before page two.
    changed = [p for p in PEOPLE if p.person_id != first[0]] + [_person("new", "Aaron Aa")]
    rest: list[str] = []
    cursor: Key | None = after
    while cursor is not None:
        ids, cursor = await select(await build(changed), Wanted(cursor, 3))
        rest += ids
    assert not set(first) & set(rest)
    assert set(first) | set(rest) == {p.person_id for p in PEOPLE}


async def _search(ordered: Ordered, wanted: Wanted) -> tuple[list[str], Key | None]:
    return await select(ordered, wanted, await search_texts(ordered, BY_ID.get))


async def test_search_and_role_filters() -> None:
    ordered = await build(PEOPLE)
    ids, after = await _search(ordered, Wanted(None, 10, text="ek"))
    assert ids == ["p6", "p0"]  # Cia Ek, Örjan Ek
    assert after is None
    ids, _ = await _search(ordered, Wanted(None, 10, text="asa"))  # folded: Åsa
    assert ids == ["p4"]
    ids, _ = await _search(ordered, Wanted(None, 10, text="t.bo", also=frozenset({"p3"})))
    assert ids == ["p3"]  # found by an account's username
    only = frozenset({"p1", "p2", "p5"})
    ids, after = await select(ordered, Wanted(None, 1, only=only))
    assert ids == ["p1"]  # Anna Berg p1/p2 tie on the folded name; person_id orders them
    assert after is not None
    ids, after = await select(ordered, Wanted(after, 5, only=only))
    assert ids == ["p2", "p5"]
    assert after is None
    with pytest.raises(ValueError, match="search_texts"):
        await select(ordered, Wanted(None, 5, text="ek"))


def test_cursors_round_trip_and_junk_is_refused() -> None:
    key: Key = ("åsa lind", "p4")
    assert decode_cursor(encode_cursor(key)) == key
    for junk in ("", "!!", encode_cursor(("a", "b"))[:-3] + "x", "WzEsMl0"):
        with pytest.raises(CursorError):
            decode_cursor(junk)


async def test_managers_units_are_named_as_the_directory_spells_them() -> None:
    ordered = await build([_person("p1", "Eva", unit="Socialtjänsten")])
    assert ordered.units == {"sotenas/socialtjänsten": "Socialtjänsten"}
