"""The live view follows the store's events, including awkward ones."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from switchboard.config import Settings, load_settings
from switchboard.directory.model import Person
from switchboard.events import PersonRemoved, PersonSaved
from switchboard.live.view import LiveView
from switchboard.store.protocol import StoreState

REPO = Path(__file__).resolve().parents[2]
ANNA = Person("p1", "Anna Berg", "64123", "+46701740605", "anna@sotenas.example", "sotenas")
ERIK = Person("p2", "Erik Lund", "64200", "+46701740611", "erik@sotenas.example", "sotenas")


@pytest.fixture
def view() -> LiveView:
    settings: Settings = load_settings(REPO / "configs" / "sml.toml")
    return LiveView(settings, StoreState(1, (ANNA, ERIK), {}, {}, {}, ()))


def test_two_people_swapping_extensions_in_one_import_both_stay_reachable(
    view: LiveView,
) -> None:
    view.apply(PersonSaved(2, replace(ANNA, extension="64200")))
    view.apply(PersonSaved(2, replace(ERIK, extension="64123")))
    assert view.person_by_extension("64200") == replace(ANNA, extension="64200")
    assert view.person_by_extension("64123") == replace(ERIK, extension="64123")


def test_removing_a_person_frees_their_extension(view: LiveView) -> None:
    view.apply(PersonRemoved(2, "p1"))
    assert view.person_by_extension("64123") is None
    assert view.person("p1") is None


def test_find_by_any_form_and_email_case_insensitively(view: LiveView) -> None:
    assert view.find("ANNA@Sotenas.example") == ANNA
    assert view.find("0523-664123") == ANNA
    assert view.find("070-174 06 11") == ERIK
    assert view.find("0523-664999") is None


def test_old_events_are_ignored_and_a_gap_marks_the_view_stale(view: LiveView) -> None:
    view.apply(PersonSaved(0, replace(ANNA, name="Old")))
    assert view.find("64123") == ANNA
    assert view.stale is False
    view.apply(PersonSaved(5, replace(ANNA, name="New")))
    assert view.stale is True
    assert view.version == 5
