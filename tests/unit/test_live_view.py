"""The live view follows the store's events, including awkward ones."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from switchboard.directory.model import Person
from switchboard.events import ManualStatusChanged, PersonRemoved, PersonSaved, PlansChanged
from switchboard.live.follow import RELEASE_SLICE, release
from switchboard.live.view import LiveView
from switchboard.presence.model import (
    ManualStatus,
    PlannedReferral,
    Reason,
    Referral,
    ReferralKind,
)
from switchboard.routing.decide import availability_of, decide
from switchboard.routing.model import Call
from switchboard.settings.config import Settings, load_settings
from switchboard.store.protocol import StoreState
from tests.fixtures.loop_turns import LoopTurns

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


@given(
    offsets=st.lists(st.integers(min_value=-3 * 24 * 60, max_value=7 * 24 * 60), max_size=30),
    lunch_start=st.integers(min_value=0, max_value=3 * 24 * 60),
    lunch_minutes=st.integers(min_value=1, max_value=600),
)
@settings(max_examples=60, deadline=None)
def test_kept_availability_is_always_what_a_fresh_resolve_says(
    offsets: list[int], lunch_start: int, lunch_minutes: int
) -> None:
    """The view keeps an answer until resolve()'s next change; asked at any instants, in
    any order (time may even run backwards for --at queries), it never differs."""
    settings = load_settings(REPO / "configs" / "sml.toml")
    base = datetime(2026, 11, 23, 6, 0, tzinfo=UTC)
    start = base + timedelta(minutes=lunch_start)
    manual = ManualStatus(
        Referral(Reason.LUNCH, until=start + timedelta(minutes=lunch_minutes)),
        set_by="test",
        set_at=base,
        starts=start,
    )
    view = LiveView(settings, StoreState(1, (ANNA, ERIK), {"p1": manual}, {}, {}, ()))
    for offset in offsets:
        now = base + timedelta(minutes=offset)
        for person in (ANNA, ERIK):
            assert view.availability(person, now) == availability_of(person, view, now)


def test_an_event_drops_kept_answers(view: LiveView) -> None:
    now = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
    assert view.availability(ANNA, now).available
    lunch = ManualStatus(Referral(Reason.LUNCH), set_by="test", set_at=now)
    view.apply(ManualStatusChanged(2, "p1", lunch))
    assert not view.availability(ANNA, now).available


DIALLED = ("64123", "0523-664123", "64200", "64999", "12")
CALLERS = (None, "0701234567", "+46701740605", "anonymous", "64200")


@given(
    steps=st.lists(
        st.tuples(
            st.integers(min_value=0, max_value=2 * 24 * 60),
            st.sampled_from(DIALLED),
            st.sampled_from(CALLERS),
            st.sampled_from(("call",) * 8 + ("lunch", "open", "clear", "divert")),
        ),
        min_size=5,
        max_size=60,
    ),
)
@settings(max_examples=150, deadline=None)
def test_a_kept_decision_is_always_what_a_fresh_decide_says(
    steps: list[tuple[int, str, str | None, str]],
) -> None:
    """The view keeps a decision per dialled text while its person and availability hold;
    through calls from anyone (the owner's own mobile too), at any instants in any order,
    and store events between them, it never differs from deciding afresh."""
    settings = load_settings(REPO / "configs" / "sml.toml")
    view = LiveView(settings, StoreState(1, (ANNA, ERIK), {}, {}, {}, ()))
    base = datetime(2026, 11, 23, 6, 0, tzinfo=UTC)
    version = 1
    for offset, dialled, caller, step in steps:
        now = base + timedelta(minutes=offset)
        if step == "call":
            call = Call(dialled, caller)
            assert view.decision(call, now) == decide(call, view, now)
            continue
        version += 1
        referral = {
            "lunch": Referral(Reason.LUNCH, until=now + timedelta(minutes=45)),
            "open": Referral(Reason.MEETING, kind=ReferralKind.OPEN),
            "divert": Referral(Reason.MEETING, divert_to="64200"),
        }.get(step)
        status = None if referral is None else ManualStatus(referral, set_by="t", set_at=now)
        view.apply(ManualStatusChanged(version, "p1", status))


def test_a_kept_decision_is_reused_and_an_event_ends_it(view: LiveView) -> None:
    now = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
    first = view.decision(Call("64123", "0701234567"), now)
    assert view.decision(Call("64123", "0709999999"), now) is first  # any caller
    assert view.decision(Call("64123", "+46701740605"), now) != first  # the owner's mobile
    view.apply(ManualStatusChanged(2, "p1", ManualStatus(Referral(Reason.LUNCH), "t", now)))
    assert view.decision(Call("64123", "0701234567"), now) != first


def test_a_decision_that_speaks_relative_to_now_is_not_kept(view: LiveView) -> None:
    """Outside hours Anna's referral says "back tomorrow at 08:00" until local midnight and
    "back at 08:00" after it, with one availability all night: that is not kept."""
    evening = datetime(2026, 11, 23, 22, 0, tzinfo=UTC)  # 23:00 in Sweden
    night = datetime(2026, 11, 23, 23, 30, tzinfo=UTC)  # 00:30, the next day
    assert view.availability(ANNA, evening) is view.availability(ANNA, night)
    late = view.decision(Call("64123", None), evening)
    later = view.decision(Call("64123", None), night)
    assert later == decide(Call("64123", None), view, night)
    assert later != late


def test_a_mobile_made_secret_is_known_as_secret_at_once(view: LiveView) -> None:
    """R18: the set of secret mobiles is kept between calls, and rebuilt on a change."""
    assert ANNA.mobile is not None
    assert not view.is_secret_mobile(ANNA.mobile)
    view.apply(PersonSaved(2, replace(ANNA, secret_mobile=True)))
    assert view.is_secret_mobile(ANNA.mobile)
    view.apply(PersonRemoved(3, ANNA.person_id))
    assert not view.is_secret_mobile(ANNA.mobile)


def test_plans_follow_their_events_and_go_with_their_person(view: LiveView) -> None:
    """Issue 16: a plan beside the current status applies from its start; the view keeps
    each person's list from ``PlansChanged`` and forgets it when the person is removed."""
    now = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
    lunch = ManualStatus(Referral(Reason.LUNCH, until=now + timedelta(hours=1)), "test", now)
    holiday = PlannedReferral(
        "h1",
        Referral(Reason.HOLIDAY, until=now + timedelta(days=30)),
        "test",
        now,
        now + timedelta(days=20),
    )
    view.apply(ManualStatusChanged(2, "p1", lunch))
    view.apply(PlansChanged(3, "p1", (holiday,)))
    assert view.plans("p1") == (holiday,)
    assert view.presence_inputs("p1").plans == (holiday,)
    assert "p1" in set(view.presence_ids())
    away = view.availability(ANNA, now + timedelta(minutes=5)).referral
    assert away is not None
    assert away.reason is Reason.LUNCH  # the plan has not started
    later = view.availability(ANNA, now + timedelta(days=21)).referral
    assert later is not None
    assert later.reason is Reason.HOLIDAY
    view.apply(PlansChanged(4, "p1", ()))
    assert view.plans("p1") == ()
    assert view.availability(ANNA, now + timedelta(days=21)).available
    view.apply(PlansChanged(5, "p2", (holiday,)))
    view.apply(PersonRemoved(6, "p2"))
    assert view.plans("p2") == ()


def test_directory_indexes_follow_people_not_presence_and_survive_a_reload(
    view: LiveView,
) -> None:
    """The secret-number, mobile and e-mail indexes are kept across presence writes (a
    calendar round writes for thousands) and made again when people change, including
    after a reload: its counter never goes back, or a cache keyed on it would be stale."""
    assert not view.is_secret_mobile(ERIK.mobile or "")
    before = view.directory_version
    lunch = ManualStatus(Referral(Reason.LUNCH), "p1", datetime(2026, 11, 23, tzinfo=UTC))
    view.apply(ManualStatusChanged(2, "p1", lunch))
    assert view.directory_version == before
    view.apply(PersonSaved(3, replace(ERIK, email="erik.lund@sotenas.example")))
    assert view.directory_version == before + 1
    assert view.find("erik.lund@sotenas.example") is not None
    assert view.find("erik@sotenas.example") is None
    secret_erik = replace(ERIK, secret_mobile=True)
    view.reset(StoreState(4, (ANNA, secret_erik), {}, {}, {}, ()))
    assert view.directory_version > before + 1
    assert view.is_secret_mobile(ERIK.mobile or "")
    assert view.find(ERIK.mobile or "") == secret_erik
    # A reload made the free-text checks' secret numbers with its tables, off the loop.
    secrets = view.prepared_secrets()
    assert secrets is not None
    assert secrets.holds("ring 070-174 06 11")
    view.apply(PersonSaved(5, replace(ERIK, secret_mobile=False)))
    assert view.prepared_secrets() is None  # the people moved on: made again on first use


async def test_a_reloads_old_tables_are_let_go_of_a_slice_at_a_time() -> None:
    """Freeing a region's tables in one go held the loop 25-35 ms: ``release`` empties them
    in slices, yielding between, and leaves nothing held."""
    big = {f"p{i}": object() for i in range(3 * RELEASE_SLICE + 1)}
    small = {"p1": object()}
    retired: list[object] = [big, small, ("not", "a", "dict")]
    async with LoopTurns() as turns:
        await release(retired)
    assert retired == []
    assert big == {}
    assert small == {}
    assert turns.count >= 4  # a turn of the loop between the big dict's slices
