"""Build the calendar worker from the ``[[calendars]]`` settings and run it (called by app.py).

Owns what the sources share and must close: one aiohttp session, one bounded thread pool
for exchangelib, one process that parses feeds, one thread that maps big calendars, the
Graph notification receivers. All of
it lives inside :func:`run_calendars`, under one TaskGroup, and unwinds in reverse.
"""

from __future__ import annotations

from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import AsyncExitStack
from pathlib import Path

import aiohttp
import exchangelib.protocol  # type: ignore[import-untyped]
import structlog
from aiohttp import web

from switchboard.calendar_sync.ews import EwsSource, ews_configuration
from switchboard.calendar_sync.graph import GraphClient
from switchboard.calendar_sync.graph_notify import (
    Notification,
    new_client_state,
    notification_app,
)
from switchboard.calendar_sync.own import OwnCalendars
from switchboard.calendar_sync.parse_process import ParseProcess
from switchboard.calendar_sync.readers import (
    EwsReader,
    FeedParser,
    GraphReader,
    IcsReader,
    Reader,
)
from switchboard.calendar_sync.worker import CalendarWorker, SourceHealth
from switchboard.live.engine import Engine
from switchboard.live.health import HealthBoard
from switchboard.settings.calendar import CalendarSource, CalendarType
from switchboard.settings.sip import parse_host_port
from switchboard.store.bus import EventBus

log = structlog.get_logger()

EWS_THREADS = 4
HEALTH_FILE = "calendar-health.json"


def build_readers(
    sources: Sequence[CalendarSource],
    engine: Engine,
    session: aiohttp.ClientSession,
    executor: ThreadPoolExecutor,
    parser: FeedParser | None = None,
) -> list[tuple[CalendarSource, Reader]]:
    """One reader per source; secrets are read from the environment here, once."""
    zone, clock = engine.settings.zone, engine.clock
    out: list[tuple[CalendarSource, Reader]] = []
    for source in sources:
        reader: Reader
        if source.type is CalendarType.ICS:
            reader = IcsReader(source, session, zone, parser)
        elif source.type is CalendarType.EWS:
            user = source.secret("username_env") if source.username_env else None
            password = source.secret("password_env") if source.password_env else None
            config = ews_configuration(source, user, password)
            reader = EwsReader(EwsSource(config, source.access, executor, zone, source.url or ""))
        else:
            client = GraphClient(
                session,
                authority=source.authority,
                tenant=source.tenant or "",
                client_id=source.client_id or "",
                client_secret=source.secret("client_secret_env"),
                graph_url=source.graph_url,
                clock=clock,
                zone=zone,
            )
            reader = GraphReader(client, source, new_client_state())
        out.append((source, reader))
    return out


async def run_calendars(
    engine: Engine, bus: EventBus, data_dir: Path, board: HealthBoard | None = None
) -> None:
    """Run every configured calendar source until cancelled; health goes to the file in
    ``data_dir`` (for ``calendar health``) and to ``board`` (for the pages)."""
    sources = engine.settings.calendars
    async with AsyncExitStack() as stack:
        executor = ThreadPoolExecutor(EWS_THREADS, thread_name_prefix="ews")
        stack.callback(executor.shutdown, wait=False, cancel_futures=True)
        stack.callback(exchangelib.protocol.close_connections)
        # Feeds are parsed in a process of their own (a thread of this one takes the
        # interpreter lock from the event loop), and big calendars are mapped on one thread
        # (what they are mapped against, the directory's secret numbers, lives here).
        parser = ParseProcess()
        stack.push_async_callback(parser.close)
        mapper = ThreadPoolExecutor(1, thread_name_prefix="calendar-map")
        stack.callback(mapper.shutdown, wait=False, cancel_futures=True)
        session = await stack.enter_async_context(aiohttp.ClientSession())
        readers = build_readers(sources, engine, session, executor, parser)

        def report(health: Sequence[SourceHealth]) -> None:
            if board is not None:
                board.update(h.as_json() for h in health)

        worker = CalendarWorker(
            engine,
            bus,
            readers,
            clock=engine.clock,
            health_file=data_dir / HEALTH_FILE,
            on_health=report,
            offload=mapper,
        )
        worker.also_run(parser.stop_when_idle)
        for source, reader in readers:
            if isinstance(reader, GraphReader) and source.notification_listen:
                address = parse_host_port(source.notification_listen, None)
                name = source.name

                def deliver(n: Notification, name: str = name) -> None:
                    worker.notify(name, n)

                runner = web.AppRunner(notification_app(reader.client_state, deliver))
                await runner.setup()
                stack.push_async_callback(runner.cleanup)
                await web.TCPSite(runner, address.host, address.port).start()
                log.info("graph_notifications_listening", source=name, address=str(address))
        policy = engine.settings.own_calendars
        if policy.allowed:
            graph = next(
                (
                    r.client
                    for s, r in readers
                    if isinstance(r, GraphReader) and s.name == policy.graph
                ),
                None,
            )
            own = OwnCalendars(worker, engine, bus, session, graph, parser)
            worker.also_run(own.run)
        log.info("calendar_worker_started", sources=len(readers), own=policy.allowed)
        await worker.run()  # its TaskGroup owns the source, push and transition loops
