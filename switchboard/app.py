"""The one wiring place, at the root because it sits above every edge and below only the CLI.

It builds the store, the live view, the engine and the servers, and unwinds them in reverse.
Nothing else creates a store or a bus; edges receive what they need from here. ``serve``
runs every server under one TaskGroup, so a crash in any of them stops the process loudly
instead of leaving a half-alive switchboard.
"""

from __future__ import annotations

import asyncio
import gc
import os
import signal
import sys
from collections.abc import AsyncIterator, Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path

import structlog

from switchboard.accounts.sessions import SessionPolicy
from switchboard.calls.recorder import CallRecorder
from switchboard.clock import Clock, SystemClock
from switchboard.directory.model import Person
from switchboard.http.app import run_http
from switchboard.live.accounts import AccountService
from switchboard.live.engine import Engine
from switchboard.live.follow import Follower
from switchboard.live.health import HealthBoard
from switchboard.live.lines import LineStates
from switchboard.live.loop_watch import LoopWatch
from switchboard.live.metrics import Metrics
from switchboard.live.readiness import Readiness
from switchboard.live.view import LiveView
from switchboard.media import prompts
from switchboard.media.ports import PortPool
from switchboard.media.tts import Speaker, SpeechSettings
from switchboard.settings.config import Settings
from switchboard.settings.store import Backend, StoreSettings
from switchboard.sip.binding_keeper import BindingKeeper
from switchboard.sip.call_scripts import Scripts
from switchboard.sip.mailbox_script import MailboxScript
from switchboard.sip.media_calls import MediaLimits, RtpMediaService
from switchboard.sip.server import SipServer
from switchboard.store.backup import serving
from switchboard.store.bus import EventBus
from switchboard.store.protocol import Store, StoreError
from switchboard.store.sqlite import SqliteStore
from switchboard.voicemail.model import Recording
from switchboard.voicemail.service import VoicemailServices, open_voicemail
from switchboard.voicemail.wav import Audio

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
    metrics: Metrics = field(default_factory=Metrics)
    """What ``/metrics`` shows (issue 15)."""
    readiness: Readiness = field(default_factory=Readiness)
    """What ``/readyz`` checks; ``serve`` marks SIP and the calendar worker as they run."""


async def open_store(settings: StoreSettings, data_dir: Path, bus: EventBus) -> Store:
    """The store ``[store]`` names: SQLite in ``data_dir`` (the default), or a shared Redis
    (issue 14). StoreUnavailableError when Redis does not answer."""
    if settings.backend is Backend.REDIS:
        # Imported here: only a deployment on Redis loads the client.
        from switchboard.store.redis_store import RedisStore

        if settings.url is None:  # pragma: no cover - parse_store requires it
            raise StoreError('[store] url: required with backend = "redis"')
        password = None
        if settings.password_env is not None:
            password = os.environ.get(settings.password_env)
            if password is None:
                raise StoreError(
                    f"[store] password_env: the environment variable {settings.password_env} "
                    "is not set; it must hold the Redis password"
                )
        return await RedisStore.open(settings.url, settings.namespace, bus, password)
    return await SqliteStore.open(data_dir / DATABASE_NAME, bus)


@asynccontextmanager
async def open_runtime(
    settings: Settings, data_dir: Path, clock: Clock | None = None
) -> AsyncIterator[Runtime]:
    bus = EventBus()
    metrics = Metrics()
    store = await open_store(settings.store, data_dir, bus)
    if isinstance(store, SqliteStore):
        store.on_write = metrics.store_write_seconds.observe
    try:
        view = LiveView(settings, await store.load())
        unsubscribe = bus.add_listener(view.apply)
        try:
            engine = Engine(settings, store, view, clock or SystemClock(), metrics=metrics)
            policy = SessionPolicy(idle=settings.http.session_idle)
            accounts = AccountService(store, engine.clock, find_person=view.find, policy=policy)
            async with open_voicemail(
                data_dir, store, engine.clock, settings.zone, settings.mail, view.is_secret_mobile
            ) as voicemail:
                yield Runtime(engine, bus, LineStates(bus), accounts, voicemail, metrics=metrics)
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
    async with (
        serving(data_dir),  # held to the end: ``restore`` refuses a directory being served
        open_runtime(settings, data_dir, clock) as runtime,
        _executor("speech") as speech_executor,
    ):
        engine = runtime.engine
        await warn_about_persistence(engine.store)
        metrics = runtime.metrics
        recorder = CallRecorder(
            engine.store,
            engine.view,
            engine.clock,
            retention_days=settings.call_records_days,
            on_call=lambda seen: metrics.calls.labels(seen.action.value, seen.outcome).inc(),
        )
        # Registrations expire in real time whatever ``--now`` pretends (the registrar
        # counts on the loop's monotonic clock): saved against a shifted clock, they
        # outlived a restart without it, or were lost at one.
        keeper = BindingKeeper(engine.store, SystemClock())
        media = open_media(settings, runtime, data_dir, speech_executor)
        sip = SipServer(
            settings.sip,
            engine,
            media=media,
            line_state=runtime.lines.changed,
            recorder=recorder,
            keeper=keeper,
            on_overload=lambda: metrics.overload_refusals.labels("sip").inc(),
        )
        _watch_sip(metrics, sip)
        metrics.calendar(runtime.calendar_health.all)
        listeners = [runtime.bus.add_listener(sip.voicemail_changed)]
        if media is not None:
            listeners.append(runtime.bus.add_listener(media.prepare))
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, stop.set)
        # Before anything listens: the full collection it starts with walks the whole
        # directory (150 ms at 100,000 people), which no SIP request should wait behind.
        settle_garbage_collector()
        try:
            async with asyncio.TaskGroup() as group:
                sip_ready: asyncio.Future[tuple[str, int]] = loop.create_future()
                sip_task = group.create_task(sip.run(sip_ready))
                recorder_task = group.create_task(recorder.run())
                watch_task = group.create_task(LoopWatch(metrics).run())
                follower = Follower(engine.store, engine.view, runtime.bus)
                follower_task = group.create_task(follower.run())
                keeper_task = group.create_task(keeper.run())
                media_task = group.create_task(media.run()) if media is not None else None
                http_ready: asyncio.Future[str] = loop.create_future()
                http_task = group.create_task(
                    run_http(runtime, settings.http, http_ready, devices=sip.registered_contacts)
                )
                calendars = None
                if settings.calendars:
                    from switchboard.calendar_sync.service import run_calendars

                    calendars = group.create_task(
                        run_calendars(
                            runtime.engine, runtime.bus, data_dir, runtime.calendar_health
                        )
                    )
                    runtime.readiness.calendar_running = True
                    calendars.add_done_callback(
                        lambda _: setattr(runtime.readiness, "calendar_running", False)
                    )
                host, port = await sip_ready
                runtime.readiness.sip_bound = True
                shown = f"[{host}]" if ":" in host else host
                addresses = {"sip": f"{shown}:{port}", "http": await http_ready}
                log.info("switchboard_ready", **addresses, mode=settings.sip.mode.value)
                if ready is not None:
                    ready(addresses)
                await stop.wait()
                log.info("switchboard_stopping")
                runtime.readiness.sip_bound = False
                sip_task.cancel()
                http_task.cancel()
                if calendars is not None:
                    calendars.cancel()
                # The recorder and the keeper stop after SIP, so their last flush has
                # every call and every registration.
                await asyncio.wait([sip_task])
                recorder_task.cancel()
                keeper_task.cancel()
                follower_task.cancel()
                watch_task.cancel()
                if media_task is not None:
                    media_task.cancel()
        finally:
            for remove in listeners:
                remove()
            for sig in (signal.SIGTERM, signal.SIGINT):
                loop.remove_signal_handler(sig)


async def warn_about_persistence(store: Store) -> None:
    """Say loudly, at start-up, when the shared store would lose changes it acknowledged:
    a receptionist's "saved" must mean saved (docs/redis.md)."""
    from switchboard.store.redis_store import RedisStore

    if not isinstance(store, RedisStore):
        return
    log.info("store_opened", backend="redis", where=store.where)
    for problem in await store.persistence_warnings():
        log.warning("store_may_lose_changes", where=store.where, problem=problem)


def _watch_sip(metrics: Metrics, sip: SipServer) -> None:
    """Gauges read from the SIP edge at each scrape."""

    def transactions() -> float:
        layer = sip.layer
        return float(len(layer.servers) + len(layer.clients))

    metrics.gauge(
        "switchboard_sip_transactions_in_flight",
        "SIP transactions (server and client) this node holds now",
        transactions,
    )
    metrics.gauge(
        "switchboard_sip_registrations",
        "Phones registered here now (bindings not yet expired)",
        lambda: float(sip.registrar.binding_count()),
    )


@asynccontextmanager
async def _executor(name: str) -> AsyncIterator[ThreadPoolExecutor]:
    """A small thread pool for one kind of blocking work, shut down on the way out."""
    executor = ThreadPoolExecutor(2, thread_name_prefix=name)
    try:
        yield executor
    finally:
        executor.shutdown(wait=False, cancel_futures=True)


def open_media(
    settings: Settings, runtime: Runtime, data_dir: Path, executor: ThreadPoolExecutor
) -> RtpMediaService | None:
    """The media service (speech, RTP, voicemail recording and listening), or None with
    media off."""
    media = settings.media
    if not media.enabled:
        return None
    sip = settings.sip
    address = media.address or (sip.advertise or sip.listen).host
    engine, spool, desk = runtime.engine, runtime.voicemail.spool, runtime.voicemail.desk
    speaker = Speaker(
        SpeechSettings(command=media.speech_command, cache_dir=data_dir / "speech"), executor
    )

    async def greeting_of(person: Person) -> Audio | None:
        return await spool.recording_audio(person.person_id, Recording.GREETING)

    async def name_of(person: Person) -> Audio | None:
        return await spool.recording_audio(person.person_id, Recording.NAME_CLIP)

    async def save_message(person: Person, audio: Audio, caller: str | None) -> None:
        number = engine.view.plan.e164_or_none(caller) if caller else None
        message = await spool.save_message(person.person_id, audio, number)
        await desk.voice_notice(message, person)

    async def assemble(segments: Sequence[prompts.Segment]) -> Audio:
        return await prompts.assemble(segments, speaker)

    mailbox = MailboxScript(spool, runtime.voicemail.pins, assemble)
    scripts = Scripts(engine, speaker, greeting_of, name_of, save_message, mailbox)
    pool = PortPool(address, media.rtp_first, media.rtp_last)
    return RtpMediaService(pool, scripts, MediaLimits(media.silence_timeout, media.confirm_mobile))


SWITCH_INTERVAL = 0.0005
"""Seconds a thread may hold the interpreter lock while another waits for it."""


def settle_garbage_collector() -> None:
    """Move everything loaded at start (the directory, the view, the code) out of the
    collector's reach, and collect young objects less often: a full collection walking a
    large directory on the event loop shows up as a stall in every call's answer time."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(200_000, 50, 100)
    # While a worker thread builds (the search index, a reloaded directory), the event loop
    # waits for the interpreter lock each time it gave it up; by default the builder keeps
    # it 5 ms, so an answer that gives it up a few times waits tens of milliseconds.
    # Alone on the lock (nearly always) the loop never notices the shorter interval.
    sys.setswitchinterval(SWITCH_INTERVAL)
