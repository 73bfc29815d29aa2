"""Listening to voicemail by phone (issue 13), judged by real peers.

baresip registered as Anna Berg (64123) calls the voicemail number ``*98`` with a message
waiting that was stored through the spool before the server started: she hears the count
and the message itself (correlated with the stored audio), her phone's message-waiting
light goes out when the message has played, and 7 deletes it from the store, 2 leaves it
heard. Johan's phone reaches Johan's own (empty) mailbox, never Anna's. From Anna's mobile
through the trusted trunk the PIN is asked first, and with it her messages play. Routing
details (challenges, forged From headers) are in ``test_mailbox_routing.py``.
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from contextlib import closing
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np

from switchboard.app import open_runtime
from switchboard.clock import FixedClock
from switchboard.media.tts import Speaker, SpeechSettings
from switchboard.settings.config import load_settings
from switchboard.voicemail import wav
from tests.integration.sip.conftest import MONDAY_10, PASSWORDS, Switchboard, seed
from tests.peers import audio
from tests.peers.baresip import Account, Baresip
from tests.peers.tools import free_port_pair, wait_for_async

Factory = Callable[..., Switchboard]
MD5_ONLY = 'digest_algorithms = ["MD5"]\n'
VOICEMAIL = "*98"
ANNA_MOBILE = "+46701740605"
PIN = "2580"
SAID = "Hej Anna, det är Johan på hamnen. Ring mig om bryggan i eftermiddag."


def _media_lines() -> str:
    first = free_port_pair("udp")
    return f'enabled = true\nrtp_ports = "{first}-{first + 3}"\nvoicemail_number = "{VOICEMAIL}"\n'


@dataclass(frozen=True)
class Stored:
    server_kwargs: dict[str, Any]
    person_id: str
    message_id: str
    message: audio.Samples
    """The stored message as the owner should hear it."""


async def _leave_message(
    config: Path, data: Path, said: wav.Audio, pin: str | None
) -> tuple[str, str]:
    """Anna's message stored through the spool (and her PIN set) before the server starts."""
    settings = load_settings(config)
    async with open_runtime(settings, data, FixedClock(datetime.fromisoformat(MONDAY_10))) as rt:
        anna = rt.engine.view.person_by_extension("64123")
        assert anna is not None
        saved = await rt.voicemail.spool.save_message(anna.person_id, said, "+46311234567")
        if pin is not None:
            await rt.voicemail.pins.set(anna.person_id, pin, "test")
        return anna.person_id, saved.message_id


def _seed_with_message(
    tmp_path: Path, *, sip_lines: str = MD5_ONLY, pin: str | None = None
) -> Stored:
    said = audio.speak(SAID, tmp_path / "said.wav")
    (tmp_path / "seed").mkdir()
    config, data = seed(tmp_path / "seed", sip_lines, _media_lines())
    left = wav.read_wav(said.read_bytes())
    person_id, message_id = asyncio.run(_leave_message(config, data, left, pin))
    return Stored({"config": config, "data_dir": data}, person_id, message_id, audio.read_wav(said))


def _rows(data: Path) -> list[tuple[str, int]]:
    """The stored messages as another reader of the database sees them: the web inbox's
    view (it reads the same rows)."""
    uri = f"file:{data / 'switchboard.db'}?mode=ro"
    with closing(sqlite3.connect(uri, uri=True)) as db:
        return [
            (r[0], int(r[1])) for r in db.execute("SELECT message_id, heard FROM voice_messages")
        ]


def _audited(data: Path, action: str) -> list[tuple[str, str]]:
    uri = f"file:{data / 'switchboard.db'}?mode=ro"
    with closing(sqlite3.connect(uri, uri=True)) as db:
        rows = db.execute("SELECT actor, subject FROM audit WHERE action = ?", (action,))
        return [(r[0], r[1]) for r in rows]


async def _rendered(text: str, language: str) -> audio.Samples:
    """The sentence as the switchboard speaks it (same engine, same settings)."""
    with ThreadPoolExecutor(1) as executor:
        speaker = Speaker(SpeechSettings(), executor)
        try:
            clip = await speaker.render(text, language)
        finally:
            await speaker.aclose()
    return np.frombuffer(clip.frames, dtype="<i2").astype(np.float64)


def _quiet(tmp_path: Path) -> Path:
    return audio.write_wav(tmp_path / "quiet.wav", audio.silence(90.0))


async def test_anna_hears_her_message_and_7_deletes_it(
    switchboard_factory: Factory, tmp_path: Path
) -> None:
    """The count, "Meddelande 1." and the message itself (correlated with the stored audio);
    played to its end it is marked heard and her phone's light goes out (RFC 3842); 7
    deletes it: gone from the store, its file too, and the light says 0/0."""
    stored = await asyncio.to_thread(_seed_with_message, tmp_path)
    server: Switchboard = await asyncio.to_thread(
        switchboard_factory, mode="proxy", **stored.server_kwargs
    )
    anna = Account("64123", PASSWORDS["64123"], server.address, mwi=True)
    async with Baresip(anna, directory=tmp_path / "anna", source=_quiet(tmp_path)) as phone:
        await phone.registered()
        lit = await phone.wait_mwi(waiting=True, timeout=10)
        assert (lit.voice_new, lit.voice_old) == (1, 0)
        await phone.dial(f"sip:{VOICEMAIL}@{server.address}")
        await phone.wait_event("CALL_ESTABLISHED", timeout=10)
        played = await phone.wait_mwi(waiting=False, timeout=40)  # heard: played to its end
        assert (played.voice_new, played.voice_old) == (0, 1)
        assert _rows(server.data_dir) == [(stored.message_id, 1)]
        await phone.send_dtmf("7")
        assert await phone.wait_closed(timeout=30) == "Connection reset by peer"
        gone = await phone.wait_mwi(waiting=False, timeout=10)
        assert (gone.voice_new, gone.voice_old) == (0, 0)
        heard = audio.read_wav((await phone.last_call_recording()).received)
    assert _rows(server.data_dir) == []
    assert not list((server.data_dir / "voicemail").rglob("*.wav"))
    actor = f"phone:{stored.person_id}"
    assert _audited(server.data_dir, "voicemail_heard") == [(actor, stored.person_id)]
    assert _audited(server.data_dir, "voicemail_deleted") == [(actor, stored.person_id)]
    assert audio.best_correlation(heard, stored.message).peak > 0.8
    count = await _rendered("Du har ett nytt meddelande.", "sv")
    assert audio.best_correlation(heard, count).peak > 0.8
    deleted = await _rendered("Meddelandet är raderat.", "sv")
    assert audio.best_correlation(heard, deleted).peak > 0.8
    listened = server.wait_logs("mailbox_listened")
    assert [(e["played"], e["deleted"], e["outcome"]) for e in listened] == [(1, 1, "all played")]
    calls = server.wait_logs("call")
    assert [(c["action"], c["extension"], c["outcome"]) for c in calls] == [
        ("mailbox", "64123", 200)
    ]


async def test_2_moves_on_and_the_message_stays_heard(
    switchboard_factory: Factory, tmp_path: Path
) -> None:
    """Redirect mode answers the voicemail number too; after the last message 2 says
    there are no more, and the message stays in the store, heard."""
    stored = await asyncio.to_thread(_seed_with_message, tmp_path)
    server: Switchboard = await asyncio.to_thread(
        switchboard_factory, mode="redirect", **stored.server_kwargs
    )
    anna = Account("64123", PASSWORDS["64123"], server.address)
    async with Baresip(anna, directory=tmp_path / "anna", source=_quiet(tmp_path)) as phone:
        await phone.registered()
        await phone.dial(f"sip:{VOICEMAIL}@{server.address}")
        await phone.wait_event("CALL_ESTABLISHED", timeout=10)

        async def heard() -> bool:
            return _rows(server.data_dir) == [(stored.message_id, 1)]

        await wait_for_async(heard, 40, 0.2, "the message marked heard")
        await phone.send_dtmf("2")
        assert await phone.wait_closed(timeout=30) == "Connection reset by peer"
        recording = audio.read_wav((await phone.last_call_recording()).received)
    assert _rows(server.data_dir) == [(stored.message_id, 1)]
    assert audio.best_correlation(recording, stored.message).peak > 0.8
    no_more = await _rendered("Det finns inga fler meddelanden.", "sv")
    assert audio.best_correlation(recording, no_more).peak > 0.8
    listened = server.wait_logs("mailbox_listened")
    assert [(e["played"], e["deleted"], e["outcome"]) for e in listened] == [(1, 0, "all played")]


async def test_johans_phone_reaches_only_johans_own_mailbox(
    switchboard_factory: Factory, tmp_path: Path
) -> None:
    """Anna's message waits, but Johan (English) hears that he has no new messages, never
    Anna's message, and Anna's message stays new."""
    stored = await asyncio.to_thread(_seed_with_message, tmp_path)
    server: Switchboard = await asyncio.to_thread(
        switchboard_factory, mode="proxy", **stored.server_kwargs
    )
    johan = Account("51234", PASSWORDS["51234"], server.address)
    async with Baresip(johan, directory=tmp_path / "johan", source=_quiet(tmp_path)) as phone:
        await phone.registered()
        await phone.dial(f"sip:{VOICEMAIL}@{server.address}")
        await phone.wait_event("CALL_ESTABLISHED", timeout=10)
        assert await phone.wait_closed(timeout=20) == "Connection reset by peer"
        recording = audio.read_wav((await phone.last_call_recording()).received)
    empty = await _rendered("You have no new messages.", "en")
    assert audio.best_correlation(recording, empty).peak > 0.8
    assert audio.best_correlation(recording, stored.message).peak < 0.4
    assert _rows(server.data_dir) == [(stored.message_id, 0)]
    listened = server.wait_logs("mailbox_listened")
    assert [(e["messages"], e["outcome"]) for e in listened] == [(0, "empty")]


async def test_from_annas_mobile_through_the_trunk_the_pin_opens_her_mailbox(
    switchboard_factory: Factory, tmp_path: Path
) -> None:
    """baresip stands in for the operator's trunk (trusted, no digest) sending Anna's
    mobile call: "Ange din kod ...", 2580#, then her message; # finishes."""
    stored = await asyncio.to_thread(_seed_with_message, tmp_path, pin=PIN)
    server: Switchboard = await asyncio.to_thread(
        switchboard_factory, mode="proxy", trusted=("127.0.0.1/32",), **stored.server_kwargs
    )
    mobile = Account(ANNA_MOBILE)  # no registrar: calls straight from the "trunk"
    async with Baresip(mobile, directory=tmp_path / "mobile", source=_quiet(tmp_path)) as leg:
        await leg.dial(f"sip:{VOICEMAIL}@{server.address}")
        await leg.wait_event("CALL_ESTABLISHED", timeout=10)
        await asyncio.sleep(1.0)  # the prompt has started; keys during it are kept anyway
        await leg.send_dtmf(PIN + "#")

        async def heard() -> bool:
            return _rows(server.data_dir) == [(stored.message_id, 1)]

        await wait_for_async(heard, 40, 0.2, "the message marked heard")
        await leg.send_dtmf("#")
        assert await leg.wait_closed(timeout=20) == "Connection reset by peer"
        recording = audio.read_wav((await leg.last_call_recording()).received)
    enter = await _rendered("Ange din kod och avsluta med fyrkant.", "sv")
    # The first key stops the prompt (about a second in): its start is what was heard.
    assert audio.best_correlation(recording, enter[: int(0.6 * audio.RATE)]).peak > 0.8
    assert audio.best_correlation(recording, stored.message).peak > 0.8
    listened = server.wait_logs("mailbox_listened")
    assert [(e["played"], e["outcome"]) for e in listened] == [(1, "finished")]
    assert not server.wait_logs("mailbox_wrong_pin", timeout=0.1)
    assert ANNA_MOBILE not in server.log_text()  # numbers are masked in every log line (R18)
