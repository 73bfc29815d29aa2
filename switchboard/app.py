"""The one wiring place: builds the store, the live view, the engine and the servers, and
unwinds them in reverse.

Nothing else creates a store or a bus; edges receive what they need from here. ``serve``
runs every server under one TaskGroup, so a crash in any of them stops the process loudly
instead of leaving a half-alive switchboard.
"""

from __future__ import annotations

import asyncio
import gc
import signal
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path

import structlog

from switchboard.calls.recorder import CallRecorder
from switchboard.clock import Clock, SystemClock
from switchboard.config import Settings
from switchboard.http.app import run_http
from switchboard.live.accounts import AccountService
from switchboard.live.engine import Engine
from switchboard.live.health import HealthBoard
from switchboard.live.lines import LineStates
from switchboard.live.view import LiveView
from switchboard.sip.binding_keeper import BindingKeeper
from switchboard.sip.server import SipServer
from switchboard.store.bus import EventBus
from switchboard.store.sqlite import SqliteStore
from switchboard.voicemail.service import VoicemailServices, open_voicemail

DATABASE_NAME = "switchboard.db"

log = structlog.get_logger("switchboard")


@dataclass(frozen=True, slots=True)
class Runtime:
    engine: Engine
    bus: EventBus
    lines: LineStates
    accounts: AccountService
    """Web accounts, sessions and tokens (issue 5): what the HTTP edge signs in with."""
    voicemail: VoicemailServices
    """Greetings and messages in ``DATA/voicemail``, and messages taken by reception."""
    calendar_health: HealthBoard = field(default_factory=HealthBoard)
    """The calendar worker's latest report per source, for the pages."""


@asynccontextmanager
async def open_runtime(
    settings: Settings, data_dir: Path, clock: Clock | None = None
) -> AsyncIterator[Runtime]:
    bus = EventBus()
    store = await SqliteStore.open(data_dir / DATABASE_NAME, bus)
    try:
        view = LiveView(settings, await store.load())
        unsubscribe = bus.add_listener(view.apply)
        try:
            engine = Engine(settings, store, view, clock or SystemClock())
            accounts = AccountService(store, engine.clock, find_person=view.find)
            async with open_voicemail(
                data_dir, store, engine.clock, settings.zone, settings.mail
            ) as voicemail:
                yield Runtime(engine, bus, LineStates(bus), accounts, voicemail)
        finally:
            unsubscribe()
    finally:
        await store.close()


@asynccontextmanager
async def open_engine(
    settings: Settings, data_dir: Path, clock: Clock | None = None
) -> AsyncIterator[Engine]:
    async with open_runtime(settings, data_dir, clock) as runtime:
        yield runtime.engine


Ready = Callable[[dict[str, str]], None]
"""Told, once every server is listening, the address of each
(``{"sip": "host:port", "http": "host:port"}``)."""


async def serve(
    settings: Settings,
    data_dir: Path,
    *,
    ready: Ready | None = None,
    clock: Clock | None = None,
) -> None:
    """Run the switchboard until SIGTERM/SIGINT (or cancellation), then stop in order."""
    async with open_runtime(settings, data_dir, clock) as runtime:
        engine = runtime.engine
        recorder = CallRecorder(
            engine.store, engine.view, engine.clock, retention_days=settings.call_records_days
        )
        keeper = BindingKeeper(engine.store, engine.clock)
        sip = SipServer(
            settings.sip,
            engine,
            line_state=runtime.lines.changed,
            recorder=recorder,
            keeper=keeper,
        )
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, stop.set)
        try:
            async with asyncio.TaskGroup() as group:
                sip_ready: asyncio.Future[tuple[str, int]] = loop.create_future()
                sip_task = group.create_task(sip.run(sip_ready))
                recorder_task = group.create_task(recorder.run())
                keeper_task = group.create_task(keeper.run())
                http_ready: asyncio.Future[str] = loop.create_future()
                http_task = group.create_task(run_http(runtime, settings.http, http_ready))
                calendars = None
                if settings.calendars:
                    from switchboard.calendar_sync.service import run_calendars

                    calendars = group.create_task(
                        run_calendars(
                            runtime.engine, runtime.bus, data_dir, runtime.calendar_health
                        )
                    )
                host, port = await sip_ready
                shown = f"[{host}]" if ":" in host else host
                addresses = {"sip": f"{shown}:{port}", "http": await http_ready}
                log.info("switchboard_ready", **addresses, mode=settings.sip.mode.value)
                _settle_garbage_collector()
                if ready is not None:
                    ready(addresses)
                await stop.wait()
                log.info("switchboard_stopping")
                sip_task.cancel()
                http_task.cancel()
                if calendars is not None:
                    calendars.cancel()
                # The recorder and the keeper stop after SIP, so their last flush has
                # every call and every registration.
                await asyncio.wait([sip_task])
                recorder_task.cancel()
                keeper_task.cancel()
        finally:
            for sig in (signal.SIGTERM, signal.SIGINT):
                loop.remove_signal_handler(sig)


def _settle_garbage_collector() -> None:
    """Move everything loaded at start (the directory, the view, the code) out of the
    collector's reach, and collect young objects less often: a full collection walking a
    large directory on the event loop shows up as a stall in every call's answer time."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(200_000, 50, 100)
