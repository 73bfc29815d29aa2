"""A voicemail message survives a crash whole, or not at all (issue 13, R11).

``switchboard serve`` with media on takes a stream of SIPp callers who each leave a
message for Sven Olsson (nothing rings for him, so voicemail answers, with a one-second
greeting); the server is killed with SIGKILL at a random moment while calls are being
recorded and saved, twenty times. After each kill the spool and the store must agree as
a restart finds them: every stored message has its whole file, every file a row, and no
temporary file is left behind.
"""

from __future__ import annotations

import asyncio
import io
import random
import subprocess
import time
import wave
from dataclasses import replace
from datetime import datetime
from pathlib import Path

import numpy as np

from switchboard.app import open_runtime
from switchboard.clock import FixedClock
from switchboard.settings.config import load_settings
from switchboard.voicemail.model import Recording
from tests.integration.sip.conftest import MONDAY_10, seed, start_switchboard
from tests.peers import audio
from tests.peers.sipp import sipp_path
from tests.peers.sipp_media import media_call
from tests.peers.tools import free_port

KILLS = 20
SVEN = "99555"


def _greeting() -> bytes:
    """A one-second greeting: the test is about the message, not the words before it."""
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as writer:
        writer.setnchannels(1)
        writer.setsampwidth(2)
        writer.setframerate(8000)
        writer.writeframes((audio.tone(1.0, 500.0, 3000.0)).astype("<i2").tobytes())
    return buffer.getvalue()


async def _prepare(config: Path, data: Path) -> str:
    settings = load_settings(config)
    async with open_runtime(settings, data, FixedClock(datetime.fromisoformat(MONDAY_10))) as rt:
        sven = rt.engine.view.person_by_extension(SVEN)
        assert sven is not None
        greeting = Recording.GREETING
        await rt.voicemail.spool.set_recording(sven.person_id, greeting, _greeting(), "test")
        return sven.person_id


async def _state(config: Path, data: Path, person_id: str) -> dict[str, int]:
    """What a restart finds (opening the runtime sweeps the spool): message id to its
    stored duration, after checking every file against its row."""
    settings = load_settings(config)
    async with open_runtime(settings, data, FixedClock(datetime.fromisoformat(MONDAY_10))) as rt:
        spool = rt.voicemail.spool
        rows = {m.message_id: m.duration_ms for m in await spool.messages(person_id)}
    folder = data / "voicemail" / person_id / "messages"
    files = {p.stem: p for p in folder.glob("*.wav")}
    leftovers = list((data / "voicemail").rglob(".tmp-*"))
    assert leftovers == [], f"temporary files survived the restart: {leftovers}"
    assert set(files) == set(rows), (sorted(files), sorted(rows))
    for message_id, path in files.items():
        with wave.open(str(path), "rb") as reader:
            frames = reader.readframes(reader.getnframes())
            ms = round(reader.getnframes() * 1000 / reader.getframerate())
        assert len(frames) == 2 * reader.getnframes(), f"{path} is torn"
        assert abs(ms - rows[message_id]) <= 1, (path, ms, rows[message_id])
    return rows


def test_sigkill_while_messages_are_recorded_leaves_none_torn(tmp_path: Path) -> None:
    base = min(free_port("udp") & ~1, 65000)  # forty ports (the pool skips busy ones)
    media = f'enabled = true\nrtp_ports = "{base}-{base + 39}"\n'
    config, data = seed(tmp_path, media_lines=media)
    person_id = asyncio.run(_prepare(config, data))
    said = audio.speak("Hej Sven, ring mig.", tmp_path / "said.wav")
    message = tmp_path / "message.wav"
    audio.write_wav(message, np.concatenate([audio.read_wav(said), audio.silence(0.3)]))
    rng = random.Random(13)  # noqa: S311 - when to kill, not a secret
    kept = 0
    for kill in range(KILLS):
        server = start_switchboard(
            tmp_path,
            mode="redirect",
            trusted=("127.0.0.1/32",),
            config=config,
            data_dir=data,
            media_lines=media,
        )
        trace = tmp_path / f"sipp{kill}"
        spec = media_call(
            "uac_invite_media_message",
            server.address,
            trace,
            service=SVEN,
            message=message,
            listen=1.6,
            timeout=15,
        )
        spec = replace(spec, rate=4, calls=40)
        caller = subprocess.Popen(
            spec.command(sipp_path(), free_port("udp")),
            cwd=trace,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            time.sleep(rng.uniform(2.5, 5.0))  # calls are answered, recorded and saved
        finally:
            server.process.kill()
            server.process.wait(5)
            server.stopped = True
            if server.process.stdout is not None:
                server.process.stdout.close()
            caller.kill()
            caller.wait(5)
        rows = asyncio.run(_state(config, data, person_id))
        assert len(rows) >= kept  # what a restart kept stays kept
        kept = len(rows)
    assert kept > 0, "no message was ever saved: the test did not exercise saving"
