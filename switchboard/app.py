"""The one wiring place, at the root because it sits above every edge and below only the CLI.

It builds the store, the live view, the engine and the servers, and unwinds them in reverse.
Nothing else creates a store or a bus; edges receive what they need from here. ``serve``
runs every server under one TaskGroup, so a crash in any of them stops the process loudly
instead of leaving a half-alive switchboard.
"""

from __future__ import annotations

import asyncio
import gc
import signal
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
from switchboard.live.health import HealthBoard
from switchboard.live.lines import LineStates
from switchboard.live.view import LiveView
from switchboard.media import prompts
from switchboard.media.ports import PortPool
from switchboard.media.tts import Speaker, SpeechSettings
from switchboard.settings.config import Settings
from switchboard.sip.binding_keeper import BindingKeeper
from switchboard.sip.call_scripts import Scripts
from switchboard.sip.mailbox_script import MailboxScript
from switchboard.sip.media_calls import MediaLimits, RtpMediaService
from switchboard.sip.server import SipServer
from switchboard.store.bus import EventBus
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
            policy = SessionPolicy(idle=settings.http.session_idle)
            accounts = AccountService(store, engine.clock, find_person=view.find, policy=policy)
            async with open_voicemail(
                data_dir, store, engine.clock, settings.zone, settings.mail, view.is_secret_mobile
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
    async with (
        open_runtime(settings, data_dir, clock) as runtime,
        _executor("speech") as speech_executor,
    ):
        engine = runtime.engine
        recorder = CallRecorder(
            engine.store, engine.view, engine.clock, retention_days=settings.call_records_days
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
        )
        listeners = [runtime.bus.add_listener(sip.voicemail_changed)]
        if media is not None:
            listeners.append(runtime.bus.add_listener(media.prepare))
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
                if media_task is not None:
                    media_task.cancel()
        finally:
            for remove in listeners:
                remove()
            for sig in (signal.SIGTERM, signal.SIGINT):
                loop.remove_signal_handler(sig)


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


def _settle_garbage_collector() -> None:
    """Move everything loaded at start (the directory, the view, the code) out of the
    collector's reach, and collect young objects less often: a full collection walking a
    large directory on the event loop shows up as a stall in every call's answer time."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(200_000, 50, 100)
