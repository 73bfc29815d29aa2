"""The reception's overview (issue 16): who is away now, back within the hour, away later
today, from the live view; and a region (100,000 people) scanned without holding the loop."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import sys
import time
from collections.abc import Iterator
from dataclasses import replace
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from switchboard.directory.hours import WorkingHours
from switchboard.directory.model import Organisation, Person
from switchboard.events import ManualStatusChanged, PlansChanged
from switchboard.live.collector import settle
from switchboard.live.loop_watch import worst_lag
from switchboard.live.overview import Section, end_of_day, entry, select
from switchboard.live.view import LiveView
from switchboard.presence.model import (
    BusyClass,
    CalendarSegment,
    ManualStatus,
    PlannedReferral,
    Reason,
    Referral,
    ReferralKind,
    Source,
)
from switchboard.settings.config import Settings, load_settings
from switchboard.store.protocol import StoreState

REPO = Path(__file__).resolve().parents[2]
ZONE = ZoneInfo("Europe/Stockholm")
NOW = datetime(2026, 11, 23, 10, 0, tzinfo=ZONE)  # a Monday
ANNA = Person("p1", "Anna Berg", "64123", None, None, "sotenas", unit="Socialtjänsten")
ERIK = Person("p2", "Erik Lund", "64200", None, None, "sotenas", unit="Miljö")
JOHAN = Person("p3", "Johan Ek", "51234", None, None, "lysekil", unit="Hamnen")
SARA = Person("p4", "Sara Holm", "51235", None, None, "lysekil", unit="Hamnen")


def _settings() -> Settings:
    return load_settings(REPO / "configs" / "sml.toml")


def _manual(reason: Reason, until: datetime | None, starts: datetime | None = None) -> ManualStatus:
    return ManualStatus(Referral(reason, until=until), "anna", NOW - timedelta(hours=1), starts)


def _meeting(start: datetime, end: datetime, *, private: bool = False) -> CalendarSegment:
    return CalendarSegment(
        start, end, BusyClass.BUSY, Reason.MEETING, label="Styrelsemöte", private=private
    )


@pytest.fixture
def view() -> LiveView:
    manual = {
        ANNA.person_id: _manual(Reason.LUNCH, NOW + timedelta(minutes=45)),
        JOHAN.person_id: _manual(Reason.HOLIDAY, NOW + timedelta(days=4)),
        SARA.person_id: _manual(
            Reason.TRAINING, NOW + timedelta(hours=6), starts=NOW + timedelta(hours=4)
        ),
    }
    calendar: dict[str, dict[str, tuple[CalendarSegment, ...]]] = {
        ERIK.person_id: {"ews": (_meeting(NOW + timedelta(hours=3), NOW + timedelta(hours=4)),)}
    }
    state = StoreState(1, (ANNA, ERIK, JOHAN, SARA), manual, calendar, {}, ())
    return LiveView(_settings(), state)


def _sections(view: LiveView, now: datetime = NOW, **filters: str) -> dict[Section, list[str]]:
    day_end = end_of_day(now, ZONE)
    entries = [e for p in view.everyone() if (e := entry(view, p, now, day_end)) is not None]
    listed, _ = select(entries, now, 50, **filters)  # type: ignore[arg-type]
    return {s: [e.person.name for e in listed[s].entries] for s in Section}


def test_away_now_back_soon_and_later_today(view: LiveView) -> None:
    assert _sections(view) == {
        Section.AWAY: ["Johan Ek"],
        Section.BACK_SOON: ["Anna Berg"],
        Section.LATER: ["Erik Lund", "Sara Holm"],  # soonest gone first: 13:00, 14:00
    }


def test_later_entries_say_when_and_until_when(view: LiveView) -> None:
    sara = entry(view, SARA, NOW, end_of_day(NOW, ZONE))
    assert sara is not None
    assert (sara.starts, sara.until, sara.reason) == (
        NOW + timedelta(hours=4),
        NOW + timedelta(hours=6),
        Reason.TRAINING,
    )
    erik = entry(view, ERIK, NOW, end_of_day(NOW, ZONE))
    assert erik is not None
    assert (erik.source, erik.label) == (Source.CALENDAR, "Styrelsemöte")


def test_filter_by_organisation_and_unit(view: LiveView) -> None:
    assert _sections(view, organisation="lysekil") == {
        Section.AWAY: ["Johan Ek"],
        Section.BACK_SOON: [],
        Section.LATER: ["Sara Holm"],
    }
    assert _sections(view, organisation="sotenas", unit="Miljö")[Section.LATER] == ["Erik Lund"]


def test_entries_move_on_with_time_without_a_new_scan(view: LiveView) -> None:
    day_end = end_of_day(NOW, ZONE)
    anna = entry(view, ANNA, NOW, day_end)
    erik = entry(view, ERIK, NOW, day_end)
    assert anna is not None
    assert erik is not None
    assert anna.section(NOW + timedelta(minutes=50)) is None  # back from lunch
    assert erik.section(NOW + timedelta(hours=3, minutes=1)) is Section.BACK_SOON


def test_nothing_tomorrow_and_no_working_hours_only_absence(view: LiveView) -> None:
    evening = NOW.replace(hour=20)  # outside working hours: R8 alone lists nobody
    sections = _sections(view, now=evening)
    assert sections[Section.LATER] == []
    assert "Anna Berg" not in sections[Section.AWAY] + sections[Section.BACK_SOON]


def test_a_manual_available_over_a_meeting_keeps_the_person_off_the_list(view: LiveView) -> None:
    override = ManualStatus(None, "erik", NOW, until=NOW + timedelta(hours=8))
    view.apply(ManualStatusChanged(2, ERIK.person_id, override))
    assert "Erik Lund" not in _sections(view)[Section.LATER]


def test_an_open_referral_counts_as_away(view: LiveView) -> None:
    status = ManualStatus(
        Referral(Reason.MEETING, ReferralKind.OPEN, NOW + timedelta(hours=2)), "erik", NOW
    )
    view.apply(ManualStatusChanged(2, ERIK.person_id, status))
    assert _sections(view)[Section.AWAY] == ["Erik Lund", "Johan Ek"]


def test_each_section_is_cut_to_the_limit_with_its_total(view: LiveView) -> None:
    day_end = end_of_day(NOW, ZONE)
    entries = [e for p in view.everyone() if (e := entry(view, p, NOW, day_end)) is not None]
    listed, units = select(entries, NOW, 1)
    assert (listed[Section.LATER].total, len(listed[Section.LATER].entries)) == (2, 1)
    assert units == ["Hamnen", "Miljö", "Socialtjänsten"]


# -- region scale --------------------------------------------------------------------------


def _region_view() -> LiveView:
    from tests.fixtures.region import ORGANISATIONS, REGION_PLAN, region_people, region_presence

    people = region_people()
    manual, calendar = region_presence(people, NOW)
    organisations = tuple(
        Organisation(org, org, WorkingHours.parse("mon-fri 08:00-16:30")) for org in ORGANISATIONS
    )
    settings = replace(_settings(), plan=REGION_PLAN, organisations=organisations)
    return LiveView(settings, StoreState(1, tuple(people), manual, calendar, {}, ()))


@contextlib.contextmanager
def settled_like_serve() -> Iterator[None]:
    """The collector as ``serve`` settles it (the region's objects out of its reach), and as
    it was afterwards, so no other test runs under it."""
    threshold, interval = gc.get_threshold(), sys.getswitchinterval()
    settle()
    try:
        yield
    finally:
        gc.unfreeze()
        gc.set_threshold(*threshold)
        sys.setswitchinterval(interval)


def test_a_region_is_scanned_in_slices_that_never_hold_the_loop() -> None:
    """100,000 people (issue 16): the scan gives the loop back every few milliseconds, and a
    screen's answer after it (filter and cut) is quick."""
    from switchboard.http.overview_cache import OverviewCache

    view = _region_view()
    cache = OverviewCache(view, ZONE)

    async def scan() -> tuple[float, float]:
        snapshot, worst = await worst_lag(cache.snapshot(NOW), tick=0.002)
        start = time.perf_counter()
        listed, _ = select(snapshot.entries.values(), NOW, 50, organisation="org20")
        selecting = time.perf_counter() - start
        assert all(listed[s].total > 50 for s in Section), listed
        assert all(len(listed[s].entries) == 50 for s in Section)
        return worst, selecting

    with settled_like_serve():
        worst, selecting = asyncio.run(scan())
    print(f"overview region: loop lag {worst * 1000:.1f} ms, select {selecting * 1000:.1f} ms")
    # The target is 20 ms; the bounds leave room for a shared CI machine (this test failed
    # at 70 ms while a benchmark ran beside it). Without slices the loop would wait for
    # the whole scan of 100,000 people.
    assert worst < 0.100, f"the loop waited {worst * 1000:.1f} ms"
    assert selecting < 0.100, f"a screen's answer took {selecting * 1000:.1f} ms"


def test_a_plan_beside_lunch_puts_nobody_later_until_lunch_is_over(view: LiveView) -> None:
    """Issue 16: Anna at lunch plans a meeting for the afternoon. She stays back-soon now
    (lunch is current), and once lunch is over she is "later today" with the plan's times."""
    meeting = PlannedReferral(
        "m1",
        Referral(Reason.MEETING, until=NOW + timedelta(hours=5)),
        "anna",
        NOW,
        NOW + timedelta(hours=4),
    )
    view.apply(PlansChanged(2, ANNA.person_id, (meeting,)))
    assert "Anna Berg" in _sections(view)[Section.BACK_SOON]
    after_lunch = NOW + timedelta(hours=1)
    assert "Anna Berg" in _sections(view, after_lunch)[Section.LATER]
    anna = entry(view, ANNA, after_lunch, end_of_day(after_lunch, ZONE))
    assert anna is not None
    assert (anna.starts, anna.until, anna.reason) == (
        NOW + timedelta(hours=4),
        NOW + timedelta(hours=5),
        Reason.MEETING,
    )
