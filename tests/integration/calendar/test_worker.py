"""The calendar worker over the real engine and SQLite store: schedule, backoff, health,
transitions on time, and manual referrals winning until they end (R5-R7).

Readers here are fakes that obey the Reader protocol; clock and sleep are injected, so
nothing waits for wall-clock time.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from switchboard.app import open_runtime
from switchboard.calendar_sync import CalendarError
from switchboard.calendar_sync import worker as worker_module
from switchboard.calendar_sync.ics import FeedProblem, FeedResult
from switchboard.calendar_sync.worker import CalendarWorker, SourceHealth, backoff_delay
from switchboard.directory.model import Person
from switchboard.events import Event, PresenceTicked
from switchboard.live.health import HealthBoard
from switchboard.presence.calendar import CalendarItem
from switchboard.presence.model import BusyClass, Reason, Referral
from switchboard.routing.model import Action, Call
from switchboard.settings.calendar import CalendarSource, CalendarType
from switchboard.settings.config import load_settings

REPO = Path(__file__).resolve().parents[3]
STOCKHOLM = ZoneInfo("Europe/Stockholm")
NOW = datetime(2026, 11, 23, 10, 0, tzinfo=STOCKHOLM)  # a Monday
ANNA = "anna.berg@sotenas.example"
SOURCE = CalendarSource(f"ics:{ANNA}", CalendarType.ICS, person=ANNA, url="http://x/{email}")


class MovingClock:
    def __init__(self, at: datetime) -> None:
        self.at = at

    def now(self) -> datetime:
        return self.at


class FakeReader:
    """A calendar that answers what the test says, or fails while ``failing`` is set."""

    def __init__(self) -> None:
        self.items: list[CalendarItem] = []
        self.problems: list[FeedProblem] = []
        self.failing = False
        self.reads = 0

    async def read(
        self, person: Person, start: datetime, end: datetime, *, full: bool
    ) -> FeedResult:
        self.reads += 1
        if self.failing:
            raise CalendarError("http://x/***", "HTTP 503 Service Unavailable")
        return FeedResult(tuple(self.items), tuple(self.problems))


def meeting(start: datetime, minutes: int, subject: str = "Ledningsgrupp") -> CalendarItem:
    return CalendarItem(
        subject,
        start,
        start + timedelta(minutes=minutes),
        subject=subject,
        busy_status=BusyClass.BUSY,
    )


@pytest.fixture
async def rig(
    tmp_path: Path,
) -> AsyncIterator[tuple[CalendarWorker, FakeReader, MovingClock, list[float], list[Event]]]:
    settings = load_settings(REPO / "configs" / "sml.toml")
    clock = MovingClock(NOW)
    slept: list[float] = []

    async def sleep(seconds: float) -> None:
        slept.append(seconds)
        clock.at += timedelta(seconds=seconds)

    async with open_runtime(settings, tmp_path, clock) as runtime:
        csv = (REPO / "configs" / "demo" / "sml-people.csv").read_bytes()
        await runtime.engine.import_directory(csv, "demo.csv", "test")
        reader = FakeReader()
        events: list[Event] = []
        runtime.bus.add_listener(events.append)
        worker = CalendarWorker(
            runtime.engine,
            runtime.bus,
            [(SOURCE, reader)],
            clock=clock,
            sleep=sleep,
            rand=lambda: 0.5,
            health_file=tmp_path / "calendar-health.json",
        )
        yield worker, reader, clock, slept, events


def test_backoff_grows_caps_and_jitters_in_the_upper_half() -> None:
    nominal = [backoff_delay(n, lambda: 1.0, base=5, cap=300) for n in range(1, 9)]
    assert nominal == [5, 10, 20, 40, 80, 160, 300, 300]
    assert backoff_delay(3, lambda: 0.0, base=5, cap=300) == 10  # half of 20, never less


async def test_failures_back_off_and_health_says_why_then_recovers(
    rig: tuple[CalendarWorker, FakeReader, MovingClock, list[float], list[Event]],
) -> None:
    worker, reader, clock, slept, _ = rig
    reader.failing = True
    await worker.run_source(SOURCE.name, rounds=4)
    # 5 s nominal, doubling, jitter fixed at 0.5 -> three quarters of nominal.
    assert slept == [3.75, 7.5, 15.0]
    (health,) = worker.health()
    assert health.failures == 4
    assert health.last_success is None
    assert health.lag is None
    assert health.last_error is not None
    assert "HTTP 503" in health.last_error
    assert "x/{email}" not in (health.last_error or "")
    reader.failing = False
    reader.items = [meeting(clock.now() + timedelta(hours=1), 30)]
    reader.problems = [FeedProblem("broken-1", 12, "unreadable property: DTSTART")]
    await worker.run_source(SOURCE.name, rounds=1)
    clock.at += timedelta(seconds=90)
    (health,) = worker.health()
    assert (health.failures, health.people, health.items) == (0, 1, 1)
    assert health.lag == 90.0
    assert any("broken-1" in p and "DTSTART" in p for p in health.problems)
    assert health.last_success is not None
    assert health.next_run == health.last_success + timedelta(seconds=SOURCE.poll)
    await worker.flush_health()
    written = (worker._health_file or Path()).read_text()
    assert '"failures": 0' in written


async def test_manual_referral_wins_until_it_expires_then_the_calendar_resumes(
    rig: tuple[CalendarWorker, FakeReader, MovingClock, list[float], list[Event]],
) -> None:
    worker, reader, clock, _, _ = rig
    engine = worker._engine
    anna = engine.find(ANNA)
    reader.items = [meeting(NOW - timedelta(minutes=30), 180, "MÖT: Budget")]
    assert await worker.sync(SOURCE.name)
    decision = engine.route(Call("64123"))
    assert decision.action is Action.ANNOUNCE
    # R6: "available for the next hour" beats the calendar (R5: manual wins)...
    await engine.set_available(anna, ANNA, until=NOW + timedelta(hours=1))
    assert engine.route(Call("64123")).action is Action.RING
    # ...and a re-read of the unchanged calendar writes nothing and changes nothing.
    version = await engine.store.version()
    assert await worker.sync(SOURCE.name)
    assert await engine.store.version() == version
    assert engine.route(Call("64123")).action is Action.RING
    # R7: once it expires, the calendar decides again.
    clock.at = NOW + timedelta(hours=1, minutes=1)
    assert engine.route(Call("64123")).action is Action.ANNOUNCE
    # A manual lunch wins over the meeting; cleared, the meeting is back.
    await engine.set_referral(
        anna, Referral(Reason.LUNCH, until=clock.at + timedelta(minutes=30)), ANNA
    )
    assert engine.availability(anna).referral.reason is Reason.LUNCH  # type: ignore[union-attr]
    await engine.clear(anna, ANNA)
    assert engine.availability(anna).referral.reason is Reason.MEETING  # type: ignore[union-attr]
    # The meeting ends: the calendar stops diverting.
    clock.at = NOW + timedelta(hours=2, minutes=31)
    assert engine.route(Call("64123")).action is Action.RING


async def test_transitions_are_published_at_their_instants(
    rig: tuple[CalendarWorker, FakeReader, MovingClock, list[float], list[Event]],
) -> None:
    worker, reader, _clock, slept, events = rig
    start = NOW + timedelta(minutes=20)
    reader.items = [meeting(start, 45)]
    assert await worker.sync(SOURCE.name)
    anna = worker._engine.find(ANNA)
    await worker.run_transitions(ticks=2)
    ticks = [e for e in events if isinstance(e, PresenceTicked)]
    assert ticks == [
        PresenceTicked(anna.person_id, start.astimezone(UTC)),
        PresenceTicked(anna.person_id, (start + timedelta(minutes=45)).astimezone(UTC)),
    ]
    assert slept == [1200.0, 2700.0]  # slept to each instant, no polling in between
    assert worker._engine.view.version > 0


async def test_an_unknown_person_is_reported_not_ignored(
    tmp_path: Path, rig: tuple[CalendarWorker, FakeReader, MovingClock, list[float], list[Event]]
) -> None:
    worker, reader, _, _, _ = rig
    ghost = CalendarSource(
        "ics:ghost", CalendarType.ICS, person="nobody@sotenas.example", url="http://x/"
    )
    other = CalendarWorker(worker._engine, worker._bus, [(ghost, reader)], clock=worker._clock)
    assert await other.sync("ics:ghost")
    (health,) = other.health()
    assert health.problems == ("nobody in the directory matches nobody@sotenas.example",)


async def test_each_round_reports_health_to_the_board_the_pages_read(
    tmp_path: Path, rig: tuple[CalendarWorker, FakeReader, MovingClock, list[float], list[Event]]
) -> None:
    worker, reader, _, _, _ = rig
    board = HealthBoard()
    reporting = CalendarWorker(
        worker._engine,
        worker._bus,
        [(SOURCE, reader)],
        clock=worker._clock,
        on_health=lambda health: board.update(h.as_json() for h in health),
    )
    assert board.get(SOURCE.name) is None
    assert await reporting.sync(SOURCE.name)
    entry = board.get(SOURCE.name)
    assert entry is not None
    assert entry["failures"] == 0
    assert entry["last_success"] is not None


async def test_the_health_file_is_written_at_most_once_a_second_and_after_the_last_round(
    rig: tuple[CalendarWorker, FakeReader, MovingClock, list[float], list[Event]],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A thousand sources rounding together wrote a thousand files of a thousand entries on
    the event loop (bench/calendar_region.py): writes are coalesced, and the last lands."""
    worker, reader, _, _, _ = rig
    writes: list[int] = []
    real = worker_module.write_health

    def counting(path: Path, health: Sequence[SourceHealth]) -> None:
        writes.append(health[0].failures)
        real(path, health)

    monkeypatch.setattr(worker_module, "write_health", counting)
    worker._health_every = 0.2
    reader.failing = True
    for _ in range(20):
        await worker.sync(SOURCE.name)
    await asyncio.sleep(0.05)
    assert writes == [20]  # the first write, one turn of the loop after the first round
    for _ in range(5):
        await worker.sync(SOURCE.name)
    await asyncio.sleep(0.3)
    assert writes == [20, 25]  # coalesced into one, written once the interval had passed
    assert '"failures": 25' in (worker._health_file or Path()).read_text()


async def test_a_plan_is_ticked_at_its_start_and_dropped_at_its_return(
    rig: tuple[CalendarWorker, FakeReader, MovingClock, list[float], list[Event]],
) -> None:
    """Issue 16: a planned referral's start and return are transitions; at the return the
    worker drops the ended plan from the store (housekeeping), and nothing else."""
    worker, _reader, clock, slept, events = rig
    engine = worker._engine
    anna = engine.find(ANNA)
    starts = NOW + timedelta(minutes=30)
    back = starts + timedelta(hours=1)
    plan = await engine.plan_referral(anna, Referral(Reason.TRAINING, until=back), ANNA, starts)
    later = await engine.plan_referral(
        anna,
        Referral(Reason.HOLIDAY, until=back + timedelta(days=9)),
        ANNA,
        back + timedelta(days=2),
    )
    await worker.run_transitions(ticks=2)
    ticks = [e for e in events if isinstance(e, PresenceTicked)]
    assert [t.at for t in ticks] == [starts.astimezone(UTC), back.astimezone(UTC)]
    assert slept == [1800.0, 3600.0]
    assert clock.at == back
    stored = (await engine.store.load()).plans[anna.person_id]
    assert [p.plan_id for p in stored] == [later.plan_id]  # the ended one is gone
    assert plan.plan_id not in {p.plan_id for p in engine.view.plans(anna.person_id)}
    entries = await engine.store.audit(subject=anna.person_id)
    assert [e.actor for e in entries if e.action == "plans_ended"] == ["switchboard:plans"]
