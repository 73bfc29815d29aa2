"""A Microsoft 365 calendar connected for an employee (issue 16) is read through the
configured Graph application: recorded Graph pages on loopback, the real GraphClient, the
real calendar worker and SQLite store. The mailbox read is the one connected (an
administrator may connect another than the person's own address); disconnecting clears what
it brought, so it stops diverting (R7)."""

from __future__ import annotations

import asyncio
import time
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import aiohttp

from switchboard.app import open_runtime
from switchboard.calendar_sync.graph import GraphClient
from switchboard.calendar_sync.own import OwnCalendars
from switchboard.calendar_sync.worker import CalendarWorker
from switchboard.live.engine import Engine
from switchboard.live.health import HealthBoard
from switchboard.presence.own_calendar import OwnCalendar, OwnCalendarKind, source_name
from switchboard.settings.config import load_settings
from switchboard.settings.own_calendars import OwnCalendarPolicy
from switchboard.settings.resources import bundled
from tests.integration.calendar.corpus import EXPECTED, OWNER, STOCKHOLM
from tests.integration.calendar.graph_server import CLIENT_ID, SECRET, TENANT, graph_server

REPO = Path(__file__).resolve().parents[3]
CSV = REPO / "configs" / "demo" / "sml-people.csv"
NOW = datetime(2026, 3, 20, 9, tzinfo=UTC)
DEADLINE = 20.0


class StepClock:
    def __init__(self, at: datetime) -> None:
        self.at = at

    def now(self) -> datetime:
        return self.at


async def _until_segments(engine: Engine, person_id: str, present: bool) -> None:
    deadline = time.monotonic() + DEADLINE
    while bool(engine.view.calendar(person_id, source_name(person_id))) != present:
        assert time.monotonic() < deadline, f"segments present={present} never came"
        await asyncio.sleep(0.05)


async def test_a_connected_mailbox_is_read_through_the_graph_application(tmp_path: Path) -> None:
    settings = load_settings(bundled("configs/sml.toml"))
    settings = replace(settings, own_calendars=OwnCalendarPolicy(graph="m365"))
    clock = StepClock(NOW)
    async with (
        open_runtime(settings, tmp_path, clock) as runtime,
        graph_server() as server,
        aiohttp.ClientSession() as session,
    ):
        engine = runtime.engine
        await engine.import_directory(CSV.read_bytes(), str(CSV), "test")
        anna = engine.find("64123")
        assert anna.email != OWNER  # the mailbox is one an administrator chose
        client = GraphClient(
            session,
            authority=server.authority,
            tenant=TENANT,
            client_id=CLIENT_ID,
            client_secret=SECRET,
            graph_url=server.graph_url,
            clock=clock,
            zone=STOCKHOLM,
        )
        board = HealthBoard()
        worker = CalendarWorker(
            engine,
            runtime.bus,
            [],
            clock=clock,
            on_health=lambda h: board.update(x.as_json() for x in h),
        )
        own = OwnCalendars(worker, engine, runtime.bus, session, client)
        worker.also_run(own.run)
        async with asyncio.TaskGroup() as group:
            running = group.create_task(worker.run())
            mailbox = OwnCalendar(anna.person_id, OwnCalendarKind.GRAPH, OWNER, "admin", NOW)
            await engine.store.set_own_calendar(anna.person_id, mailbox, "admin", NOW)
            await _until_segments(engine, anna.person_id, present=True)

            views = [r for r in server.requests if "/calendarView?" in r]
            assert views
            assert all(r.startswith(f"GET /v1.0/users/{OWNER}/calendarView") for r in views)
            segments = engine.view.calendar(anna.person_id, source_name(anna.person_id))
            assert segments == EXPECTED  # the same as the configured Graph source maps
            report = board.get(source_name(anna.person_id))
            assert report is not None
            assert report["last_success"] is not None
            assert report["failures"] == 0

            await engine.store.set_own_calendar(anna.person_id, None, "admin", NOW)
            await _until_segments(engine, anna.person_id, present=False)
            assert board.get(source_name(anna.person_id)) is None  # forgotten, not stale

            # Removing the person removes the connection; the worker stops reading it.
            await engine.store.set_own_calendar(anna.person_id, mailbox, "admin", NOW)
            await _until_segments(engine, anna.person_id, present=True)
            await engine.store.remove_person(anna.person_id, "admin", NOW)
            deadline = time.monotonic() + DEADLINE
            while board.get(source_name(anna.person_id)) is not None:
                assert time.monotonic() < deadline, "the removed person's calendar is still read"
                await asyncio.sleep(0.05)
            running.cancel()
