"""The calendar worker's index of transition instants (issue 15): the same answers as a
scan of everyone, kept current person by person."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from switchboard.calendar_sync import transitions as module
from switchboard.calendar_sync.transitions import Transitions

T0 = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)


def at(minutes: int) -> datetime:
    return T0 + timedelta(minutes=minutes)


def test_the_next_instant_and_everyone_whose_it_is() -> None:
    index = Transitions()
    index.set("anna", [at(30), at(90)])
    index.set("bo", [at(30)])
    index.set("cecilia", [at(60)])
    assert index.next_after(T0) == (at(30), ("anna", "bo"))
    assert index.next_after(T0) == (at(30), ("anna", "bo"))  # asking again changes nothing
    assert index.next_after(at(30)) == (at(60), ("cecilia",))
    assert index.next_after(at(60)) == (at(90), ("anna",))
    assert index.next_after(at(90)) is None


def test_a_change_replaces_a_persons_instants_and_an_empty_one_forgets_them() -> None:
    index = Transitions()
    index.set("anna", [at(30)])
    index.set("anna", [at(45)])  # her lunch moved
    assert index.next_after(T0) == (at(45), ("anna",))
    index.set("anna", [])
    assert index.next_after(T0) is None
    assert len(index) == 0


def test_stale_entries_are_rebuilt_away(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(module, "REBUILD_SLACK", 5)
    index = Transitions()
    for minute in range(1, 100):
        index.set("anna", [at(minute)])
    assert len(index._heap) <= 2 * len(index) + 5
    assert index.next_after(T0) == (at(99), ("anna",))


people = st.sampled_from(["anna", "bo", "cecilia", "dag"])
moments = st.lists(st.integers(min_value=0, max_value=20).map(at), max_size=4)


@given(st.lists(st.tuples(people, moments), max_size=30), st.integers(0, 20))
@settings(max_examples=200, deadline=None)
def test_it_answers_as_a_scan_of_everyone_would(
    changes: list[tuple[str, list[datetime]]], after_minutes: int
) -> None:
    index = Transitions()
    current: dict[str, set[datetime]] = {}
    for person, times in changes:
        index.set(person, times)
        current[person] = set(times)
    after = at(after_minutes)
    future = {t for times in current.values() for t in times if t > after}
    if not future:
        assert index.next_after(after) is None
        return
    first = min(future)
    whose = tuple(sorted(p for p, times in current.items() if first in times))
    assert index.next_after(after) == (first, whose)
