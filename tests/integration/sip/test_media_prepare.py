"""Referral speech is rendered when the referral is set, not when the first caller rings.

In-process on the seeded demo store with the real espeak-ng: Johan Ek (available) goes to
lunch through the engine; the media scripts hear the store's event and render his
referral ahead, so the speaker's cache holds it before any call.
"""

from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta
from pathlib import Path

from switchboard.app import open_runtime
from switchboard.clock import FixedClock
from switchboard.directory.model import Person
from switchboard.media.tts import Speaker, SpeechSettings
from switchboard.presence.model import Reason, Referral
from switchboard.settings.config import load_settings
from switchboard.sip.call_scripts import Scripts
from switchboard.voicemail.wav import Audio
from tests.integration.sip.conftest import MONDAY_10, seed
from tests.peers.tools import require_tool, wait_for_async


async def test_a_referral_is_spoken_ahead_when_it_is_set(tmp_path: Path) -> None:
    require_tool("espeak-ng", "the Debian package espeak-ng")
    config, data = await asyncio.to_thread(seed, tmp_path)
    settings = load_settings(config)
    now = datetime.fromisoformat(MONDAY_10)
    cache = tmp_path / "speech"

    async def no_greeting(person: Person) -> Audio | None:
        return None

    async def keep(person: Person, audio: Audio, caller: str | None) -> None:
        raise AssertionError("no message is left in this test")

    with ThreadPoolExecutor(1) as executor:
        async with open_runtime(settings, data, FixedClock(now)) as runtime:
            speaker = Speaker(SpeechSettings(cache_dir=cache), executor)
            scripts = Scripts(runtime.engine, speaker, no_greeting, keep)
            remove = runtime.bus.add_listener(scripts.prepare)
            try:
                johan = runtime.engine.view.person_by_extension("51234")
                assert johan is not None
                assert not list(cache.glob("**/*.wav"))
                lunch = Referral(Reason.LUNCH, until=now + timedelta(hours=1))
                await runtime.engine.set_referral(johan, lunch, "test")

                async def rendered() -> bool:
                    return len(list(cache.glob("**/*.wav"))) >= 2

                await wait_for_async(rendered, 10, 0.05, "the referral rendered ahead")
            finally:
                remove()
                await speaker.aclose()
