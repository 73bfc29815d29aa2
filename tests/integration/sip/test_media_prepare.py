"""Referral speech is rendered when the referral is set, not when the first caller rings.

In-process on the seeded demo store with the real espeak-ng: Johan Ek (available) goes to
lunch through the engine; the media service hears the store's event and renders his
referral ahead (``RtpMediaService.prepare``, a bus listener), so the speaker's cache holds
it before any call. With a name recorded on his page, what is rendered ahead is the
sentence after his name, the one a caller will hear.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from switchboard.app import Runtime, open_runtime
from switchboard.clock import FixedClock
from switchboard.directory.model import Person
from switchboard.media import prompts
from switchboard.media.ports import PortPool
from switchboard.media.tts import Speaker, SpeechSettings
from switchboard.presence.model import Reason, Referral
from switchboard.routing.model import Announce, Call, CallerOption
from switchboard.settings.config import load_settings
from switchboard.sip.call_scripts import Scripts
from switchboard.sip.media_calls import RtpMediaService
from switchboard.voicemail.model import Recording
from switchboard.voicemail.wav import Audio
from tests.integration.sip.conftest import MONDAY_10, seed
from tests.peers.tools import free_port_pair, require_tool, wait_for_async
from tests.unit.voicemail.sounds import spoken

NOW = datetime.fromisoformat(MONDAY_10)
LUNCH = Referral(Reason.LUNCH, until=NOW + timedelta(hours=1))


@dataclass
class Prepared:
    runtime: Runtime
    speaker: Speaker
    cache: Path

    def files(self) -> int:
        return len(list(self.cache.glob("**/*.wav")))


@asynccontextmanager
async def media_service(tmp_path: Path) -> AsyncIterator[Prepared]:
    """The seeded runtime, and a media service whose ``prepare`` listens to its bus."""
    require_tool("espeak-ng", "the Debian package espeak-ng")
    config, data = await asyncio.to_thread(seed, tmp_path)
    cache = tmp_path / "speech"

    async def keep(person: Person, audio: Audio, caller: str | None) -> None:
        raise AssertionError("no message is left in this test")

    with ThreadPoolExecutor(1) as executor:
        async with open_runtime(load_settings(config), data, FixedClock(NOW)) as runtime:
            spool = runtime.voicemail.spool

            async def recorded(person: Person, recording: Recording) -> Audio | None:
                return await spool.recording_audio(person.person_id, recording)

            speaker = Speaker(SpeechSettings(cache_dir=cache), executor)
            scripts = Scripts(
                runtime.engine,
                speaker,
                lambda p: recorded(p, Recording.GREETING),
                lambda p: recorded(p, Recording.NAME_CLIP),
                keep,
            )
            first = free_port_pair("udp")
            service = RtpMediaService(PortPool("127.0.0.1", first, first + 3), scripts)
            running = asyncio.create_task(service.run())
            await asyncio.sleep(0)  # run() starts its group: events are prepared from now on
            remove = runtime.bus.add_listener(service.prepare)
            try:
                yield Prepared(runtime, speaker, cache)
            finally:
                remove()
                running.cancel()
                await asyncio.gather(running, return_exceptions=True)
                await speaker.aclose()


def _johan(runtime: Runtime) -> Person:
    johan = runtime.engine.view.person_by_extension("51234")
    assert johan is not None
    return johan


def _referral_plan(runtime: Runtime, name_clip: Audio | None) -> list[prompts.Segment]:
    """What Scripts.prepare renders for Johan now: the referral and the goodbye."""
    johan = _johan(runtime)
    decision = runtime.engine.route(Call("51234"))
    assert isinstance(decision, Announce)
    plan = prompts.announcement(
        johan,
        runtime.engine.view.organisation(johan.organisation),
        decision.referral,
        now=NOW,
        zone=runtime.engine.view.zone,
        leave_message=CallerOption.LEAVE_MESSAGE in decision.options,
        reception=decision.reception is not None and CallerOption.RECEPTION in decision.options,
        name_clip=name_clip,
    )
    return [*plan.announcement, *plan.goodbye]


async def test_a_referral_is_spoken_ahead_when_it_is_set(tmp_path: Path) -> None:
    async with media_service(tmp_path) as prepared:
        assert prepared.files() == 0
        await prepared.runtime.engine.set_referral(_johan(prepared.runtime), LUNCH, "test")

        async def rendered() -> bool:
            return prepared.files() >= 2

        await wait_for_async(rendered, 10, 0.05, "the referral rendered ahead")


async def test_with_a_recorded_name_the_sentence_after_it_is_rendered_ahead(
    tmp_path: Path,
) -> None:
    async with media_service(tmp_path) as prepared:
        runtime = prepared.runtime
        johan = _johan(runtime)
        spool = runtime.voicemail.spool
        await spool.set_recording(johan.person_id, Recording.NAME_CLIP, spoken(1.2), "test")
        clip = await spool.recording_audio(johan.person_id, Recording.NAME_CLIP)
        assert clip is not None
        await runtime.engine.set_referral(johan, LUNCH, "test")
        with_name = _referral_plan(runtime, clip)
        texts = {text for text, _ in prompts.texts(with_name)}
        assert not any(johan.name in text for text in texts)

        async def rendered() -> bool:
            return prepared.files() >= len(texts)

        await wait_for_async(rendered, 10, 0.05, "the referral rendered ahead")
        await asyncio.sleep(0.2)  # nothing more is on its way
        before = prepared.files()
        await prompts.assemble(with_name, prepared.speaker)
        assert prepared.files() == before  # every sentence was there already
        await prompts.assemble(_referral_plan(runtime, None), prepared.speaker)
        assert prepared.files() == before + 1  # the synthesized name's sentence was not
