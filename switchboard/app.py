"""The one wiring place, at the root because it sits above every edge and below only the CLI.

It builds the store, the live view, the engine and the servers, and unwinds them in reverse.
Nothing else creates a store or a bus; edges receive what they need from here. ``serve``
runs every server under one TaskGroup, so a crash in any of them stops the process loudly
instead of leaving a half-alive switchboard.
"""

from __future__ import annotations

import asyncio
import os
import signal
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import structlog

from switchboard.accounts.sessions import SessionPolicy
from switchboard.calls.recorder import CallRecorder
from switchboard.clock import Clock, SystemClock
from switchboard.directory.model import Person
from switchboard.events import Event, PresenceTicked
from switchboard.http.app import run_http
from switchboard.http.oidc import PendingFlow, PendingFlows
from switchboard.live import collector
from switchboard.live.accounts import AccountService
from switchboard.live.engine import Engine
from switchboard.live.follow import Follower
from switchboard.live.health import HealthBoard
from switchboard.live.import_apart import ImportApart
from switchboard.live.lines import LineStates
from switchboard.live.loop_watch import LoopWatch
from switchboard.live.metrics import Metrics
from switchboard.live.readiness import Readiness
from switchboard.live.view import LiveView
from switchboard.media import prompts
from switchboard.media.ports import PortPool, share_of
from switchboard.media.tts import Speaker, SpeechSettings
from switchboard.settings.config import Settings
from switchboard.settings.store import Backend, StoreSettings
from switchboard.sip.binding_keeper import FLUSH_SECONDS, SHARED_FLUSH_SECONDS, BindingKeeper
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
from switchboard.workers.frames import (
    CalendarReport,
    Hello,
    LineChanged,
    LineCounts,
    PinTried,
    SignInStarted,
    SignInTaken,
    SignInTried,
    Ticked,
)
from switchboard.workers.relay import Relay
from switchboard.workers.spec import WorkerSpec

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
    sign_ins: PendingFlows = field(default_factory=lambda: PendingFlows(SystemClock()))
    """Single sign-ins between the redirect and the callback (shared between workers)."""


async def open_store(
    settings: StoreSettings,
    data_dir: Path,
    bus: EventBus,
    on_write: Callable[[float], None] | None = None,
) -> Store:
    """The store ``[store]`` names: SQLite in ``data_dir`` (the default), or a shared Redis
    (issue 14). StoreUnavailableError when Redis does not answer. ``on_write`` is told each
    committed write's seconds (the metrics' store-write latency)."""
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
        redis = await RedisStore.open(settings.url, settings.namespace, bus, password)
        redis.on_write = on_write
        return redis
    sqlite = await SqliteStore.open(data_dir / DATABASE_NAME, bus)
    sqlite.on_write = on_write
    return sqlite


@asynccontextmanager
async def open_runtime(
    settings: Settings, data_dir: Path, clock: Clock | None = None
) -> AsyncIterator[Runtime]:
    bus = EventBus()
    metrics = Metrics()
    store = await open_store(settings.store, data_dir, bus, metrics.store_write_seconds.observe)
    try:
        view = LiveView(settings, await store.load())
        unsubscribe = bus.add_listener(view.apply)
        try:
            engine = Engine(settings, store, view, clock or SystemClock(), metrics=metrics)
            policy = SessionPolicy(idle=settings.http.session_idle)
            async with (
                _executor("password-hash") as hashing,
                open_voicemail(
                    data_dir,
                    store,
                    engine.clock,
                    settings.zone,
                    settings.mail,
                    view.is_secret_mobile,
                ) as voicemail,
            ):
                accounts = AccountService(
                    store, engine.clock, find_person=view.find, policy=policy, hashing=hashing
                )
                lines = LineStates(bus)
                sign_ins = PendingFlows(engine.clock)
                yield Runtime(
                    engine, bus, lines, accounts, voicemail, sign_ins=sign_ins, metrics=metrics
                )
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
    worker: WorkerSpec | None = None,
) -> None:
    """Run the switchboard until SIGTERM/SIGINT (or cancellation), then stop in order.

    ``worker``: this is one of ``serve --workers N`` (docs/workers.md): the ports are
    shared, SIP messages go to the worker owning their Call-ID, registrations and line
    state travel between the workers, and only worker 0 syncs calendars."""
    relay = Relay(worker) if worker is not None else None
    async with (
        serving(data_dir),  # held to the end: ``restore`` refuses a directory being served
        open_runtime(settings, data_dir, clock) as runtime,
        _executor("speech") as speech_executor,
    ):
        engine = runtime.engine
        # A region's upload is imported as the CLI imports it, in a process of its own.
        engine.import_apart = ImportApart(settings, data_dir, engine.store)
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
        keeper = BindingKeeper(
            engine.store,
            SystemClock(),
            flush_seconds=SHARED_FLUSH_SECONDS if relay else FLUSH_SECONDS,
            share=relay is not None,
        )
        media = open_media(settings, runtime, data_dir, speech_executor, worker)
        sip = SipServer(
            settings.sip,
            engine,
            media=media,
            line_state=runtime.lines.changed if relay is None else _told(runtime.lines, relay),
            recorder=recorder,
            keeper=keeper,
            on_overload=lambda: metrics.overload_refusals.labels("sip").inc(),
            relay=relay,
        )
        _watch_sip(metrics, sip)
        metrics.calendar(runtime.calendar_health.all)
        listeners = [runtime.bus.add_listener(sip.voicemail_changed)]
        if media is not None:
            listeners.append(runtime.bus.add_listener(media.prepare))
        if relay is not None:
            listeners.append(runtime.bus.add_listener(sip.bindings_changed))
            listeners += _join_workers(relay, runtime)
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, stop.set)
        # Before anything listens: the full collection it starts with walks the whole
        # directory (150 ms at 100,000 people), which no SIP request should wait behind.
        collector.settle()
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
                    run_http(
                        runtime,
                        settings.http,
                        http_ready,
                        devices=sip.registered_contacts,
                        reuse_port=relay is not None,
                    )
                )
                calendars = None
                syncs = settings.calendars or settings.own_calendars.allowed
                if syncs and (worker is None or worker.first):
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
                if relay is not None:
                    # Frames waited in the pairs' buffers until SIP could handle them.
                    relay.start()
                    relay.note(Hello())
                    listeners.append(_watch_parent(stop))
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
                if relay is not None:
                    # A worker is often told twice (the parent passes SIGTERM on, and the
                    # process group or systemd's cgroup got it too): the second must not
                    # kill it half-way through saving; the parent's SIGKILL is the limit.
                    signal.signal(sig, signal.SIG_IGN)
            if relay is not None:
                relay.close()


def _told(lines: LineStates, relay: Relay) -> Callable[[str, bool], None]:
    """Line state with workers: counted here and told to every other worker."""

    def changed(person_id: str, in_call: bool) -> None:
        lines.changed(person_id, in_call)
        relay.note(LineChanged(person_id, in_call))

    return changed


def _join_workers(relay: Relay, runtime: Runtime) -> list[Callable[[], None]]:
    """What workers tell each other beyond SIP (docs/workers.md): the calls each carries
    (a receptionist screen served by one shows the calls of all), a restart (the others
    forget its calls and tell it theirs), and, from worker 0, which alone syncs calendars,
    its transition ticks and health reports. Returns the undo steps."""
    lines, bus, board = runtime.lines, runtime.bus, runtime.calendar_health

    def line(note: LineChanged, sender: int) -> None:
        lines.changed(note.person_id, note.in_call, worker=sender)

    def hello(_note: Hello, sender: int) -> None:
        lines.replace(sender, {})
        relay.note(LineCounts(tuple(lines.carried().items())), sender)

    def counts(note: LineCounts, sender: int) -> None:
        lines.replace(sender, dict(note.counts))

    def tick(note: Ticked, _sender: int) -> None:
        bus.publish(PresenceTicked(note.person_id, note.at))

    def report(note: CalendarReport, _sender: int) -> None:
        board.update(note.entries)

    undo = [
        relay.listen(LineChanged, line),
        relay.listen(Hello, hello),
        relay.listen(LineCounts, counts),
        relay.listen(Ticked, tick),
        relay.listen(CalendarReport, report),
        *_share_sign_ins(relay, runtime.sign_ins),
        *_share_guesses(relay, runtime),
    ]
    if relay.spec.first:

        def forward(event: Event) -> None:
            if isinstance(event, PresenceTicked):
                relay.note(Ticked(event.person_id, event.at))

        def told(entries: tuple[Mapping[str, Any], ...]) -> None:
            try:
                relay.note(CalendarReport(entries))
            except (TypeError, ValueError) as exc:  # a value JSON cannot carry
                log.error("calendar_report_not_shared", error=str(exc))

        undo.append(bus.add_listener(forward))
        board.on_update = told
    return undo


class _SignInShare:
    """``http.oidc.FlowShare`` over the relay: the kernel may hand a sign-in's callback to
    any worker, so each worker keeps every flow under way."""

    def __init__(self, relay: Relay) -> None:
        self.relay = relay

    def started(self, flow: PendingFlow) -> None:
        self.relay.note(
            SignInStarted(
                flow.state,
                flow.nonce,
                flow.verifier,
                flow.browser_hash,
                flow.redirect_uri,
                flow.started,
                flow.next_path,
            )
        )

    def taken(self, state: str) -> None:
        self.relay.note(SignInTaken(state))


def _share_sign_ins(relay: Relay, flows: PendingFlows) -> list[Callable[[], None]]:
    def started(note: SignInStarted, _sender: int) -> None:
        flows.adopt(
            PendingFlow(
                note.state,
                note.nonce,
                note.verifier,
                note.browser_hash,
                note.redirect_uri,
                note.started,
                note.next_path,
            )
        )

    def taken(note: SignInTaken, _sender: int) -> None:
        flows.forget(note.state)

    flows.share = _SignInShare(relay)

    def unshare() -> None:
        flows.share = None

    return [relay.listen(SignInStarted, started), relay.listen(SignInTaken, taken), unshare]


def _share_guesses(relay: Relay, runtime: Runtime) -> list[Callable[[], None]]:
    """The web's sign-in throttle and the voicemail PIN lock count every worker's tries
    (a guesser's connections and calls land on any worker: apart, each limit would be
    N times as lenient)."""
    accounts, pins, clock = runtime.accounts, runtime.voicemail.pins, runtime.engine.clock

    def signed_in(username: str, source: str, failed: bool) -> None:
        relay.note(SignInTried(username, source, failed))

    def pin(person_id: str, right: bool) -> None:
        relay.note(PinTried(person_id, right))

    def sign_in_tried(note: SignInTried, _sender: int) -> None:
        throttle, now = accounts.throttle, clock.now()
        if note.failed:
            throttle.failed(note.username, note.source, now)
        else:
            throttle.succeeded(note.username, note.source, now)

    def pin_tried(note: PinTried, _sender: int) -> None:
        pins.heard(note.person_id, note.right)

    accounts.share, pins.share = signed_in, pin

    def unshare() -> None:
        accounts.share = pins.share = None

    return [relay.listen(SignInTried, sign_in_tried), relay.listen(PinTried, pin_tried), unshare]


def _watch_parent(stop: asyncio.Event) -> Callable[[], None]:
    """A worker's stdin is a pipe from its parent that nobody writes to: end-of-file
    means the parent is gone (even by SIGKILL), and the worker stops."""
    loop = asyncio.get_running_loop()

    def readable() -> None:
        try:
            data = os.read(0, 512)
        except BlockingIOError:
            return
        except OSError:
            data = b""
        if not data:
            log.warning("worker_parent_gone")
            loop.remove_reader(0)
            stop.set()

    def unwatch() -> None:
        loop.remove_reader(0)

    loop.add_reader(0, readable)
    return unwatch


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
    settings: Settings,
    runtime: Runtime,
    data_dir: Path,
    executor: ThreadPoolExecutor,
    worker: WorkerSpec | None = None,
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
    first, last = media.rtp_first, media.rtp_last
    if worker is not None:
        first, last = share_of(first, last, worker.index, worker.count)
    pool = PortPool(address, first, last)
    return RtpMediaService(pool, scripts, MediaLimits(media.silence_timeout, media.confirm_mobile))
