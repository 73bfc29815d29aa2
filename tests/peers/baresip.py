"""baresip (Debian 1.0.0) as a headless softphone peer, driven over its ``ctrl_tcp`` port.

Each instance gets its own config directory (``-f DIR``), an 8 kHz mono 16-bit WAV as
microphone (``source``, or a generated tone), no sound card (``aubridge``), both directions
of every call recorded by ``sndfile`` into that directory, and two reserved SIP ports (it
binds port and port+1, PEERS.md).

The control client reads on demand (no background task): commands wait for the response
with their token, and events that arrive meanwhile are kept in order for ``wait_event``.
What baresip 1.0 does with media (DTMF, the end of the microphone file, MWI, the
recordings' names) is in tests/peers/README.md, "Media with the peers".
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import math
import re
import struct
import tempfile
import time
import wave
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Any, Literal

from tests.peers.baresip_media import (
    DTMF_KEYS,
    CallRecording,
    MessageSummary,
    wait_closed_recording,
)
from tests.peers.tools import LOOPBACK, free_port, free_port_pair, require_tool, wait_for_async

AnswerMode = Literal["auto", "manual"]
MODULES = ("g711", "aufile", "aubridge", "sndfile")
APP_MODULES = ("account", "menu", "ctrl_tcp")
MODULE_PATH = Path("/usr/lib/baresip/modules")
_ANSI = re.compile(r"\x1b\[[0-9;]*m")
_REGISTERED = re.compile(r"\bOK\b")
"""reginfo prints ``sip:alice@host  OK  Expires 300s`` (OK in green) once registered."""


class BaresipError(Exception):
    """baresip did not start, answer, or behave as the test expected."""


@dataclass(frozen=True)
class Account:
    """One baresip account line (``accounts`` file).

    With ``registrar`` (host:port) it registers there with digest ``password``
    (RFC 3261 10.2); without, it only listens (``regint=0``) and can be called directly
    at ``sip:user@127.0.0.1:PORT``.
    """

    user: str
    password: str | None = None
    registrar: str | None = None
    answermode: AnswerMode = "manual"
    regint: int = 300
    mwi: bool = False
    """Subscribe to message-summary (RFC 3842) after registering; loads the mwi module."""
    raw: str | None = None
    """An account line used exactly as written, e.g. the one ``switchboard demo`` prints
    for a newcomer's ``~/.baresip/accounts``; the other fields then only describe it."""

    def line(self) -> str:
        if self.raw is not None:
            return self.raw
        domain = self.registrar or LOOPBACK
        params = [f"answermode={self.answermode}"]
        if self.registrar is None:
            params.append("regint=0")
        else:
            params.append(f"regint={self.regint}")
        if self.password is not None:
            params.append(f"auth_pass={self.password}")
        params.append("mwi=yes" if self.mwi else "mwi=no")
        return f"<sip:{self.user}@{domain}>;" + ";".join(params)


@dataclass(frozen=True)
class Event:
    """A ctrl_tcp event, e.g. type ``CALL_ESTABLISHED``, with the raw fields kept."""

    type: str
    data: dict[str, Any]

    @property
    def peer_uri(self) -> str:
        return str(self.data.get("peeruri", ""))


def write_tone_wav(path: Path, seconds: float = 60.0, hz: float = 440) -> Path:
    """An 8 kHz mono 16-bit sine WAV: what ``aufile`` plays as the microphone.

    Long by default: baresip 1.0 hangs up when the microphone file ends ("end of file").
    ``hz`` should be a whole number, so one second repeats seamlessly.
    """
    rate = 8000
    second = b"".join(
        struct.pack("<h", int(8000 * math.sin(2 * math.pi * hz * i / rate))) for i in range(rate)
    )
    whole, part = divmod(round(rate * seconds), rate)
    frames = second * whole + second[: 2 * part]
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(rate)
        out.writeframes(frames)
    return path


def netstring(payload: bytes) -> bytes:
    return str(len(payload)).encode() + b":" + payload + b","


class Baresip:
    """``async with Baresip(Account("b", answermode="auto")) as phone:``

    Starts baresip, connects to its control port, and on exit terminates it, killing it
    if SIGTERM hangs (it can, un-registering from a dead registrar: PEERS.md).
    """

    def __init__(
        self,
        account: Account,
        *,
        directory: Path | None = None,
        source: Path | None = None,
        stop_timeout: float = 3.0,
        start_timeout: float = 5.0,
        source_seconds: float = 60.0,
    ) -> None:
        """``source`` is the microphone, an 8 kHz mono 16-bit WAV; without it a tone of
        ``source_seconds`` is generated. baresip's aufile ends the call when its file
        ends ("end of file"), so either must outlast the call."""
        self.account = account
        self.source = source
        self.source_seconds = source_seconds
        self.directory = directory or Path(tempfile.mkdtemp(prefix="baresip-"))
        self.stop_timeout = stop_timeout
        self.start_timeout = start_timeout
        self.sip_port = 0
        self.ctrl_port = 0
        self.events: deque[Event] = deque()
        self._tokens = itertools.count(1)
        self._buffer = b""
        self._process: asyncio.subprocess.Process | None = None
        self._reader: asyncio.StreamReader | None = None
        self._writer: asyncio.StreamWriter | None = None
        self._call_started = ""

    @property
    def uri(self) -> str:
        """Where to call this phone directly (no registrar in between)."""
        return f"sip:{self.account.user}@{LOOPBACK}:{self.sip_port}"

    def write_config(self) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)
        wav = self.source or write_tone_wav(self.directory / "tone.wav", self.source_seconds)
        app_modules = (*APP_MODULES, "mwi") if self.account.mwi else APP_MODULES
        self.sip_port = free_port_pair("both")
        self.ctrl_port = free_port("tcp")
        rtp = free_port_pair("udp")
        lines = [
            "poll_method epoll",
            f"sip_listen {LOOPBACK}:{self.sip_port}",
            f"net_interface {LOOPBACK}",
            "call_local_timeout 120",
            "call_max_calls 4",
            "audio_player aubridge,nil",
            "audio_alert aubridge,nil",
            f"audio_source aufile,{wav}",
            f"rtp_ports {rtp}-{rtp + 1}",
            "rtp_timeout 0",
            f"module_path {MODULE_PATH}",
            *(f"module {name}.so" for name in MODULES),
            *(f"module_app {name}.so" for name in app_modules),
            f"ctrl_tcp_listen {LOOPBACK}:{self.ctrl_port}",
            f"snd_path {self.directory}",
        ]
        (self.directory / "config").write_text("\n".join(lines) + "\n", encoding="utf-8")
        # With mwi, the account is added over ctrl_tcp once baresip runs (start()): a
        # registration that completes before the mwi module's first timer makes 1.0.0
        # subscribe in an endless loop (README.md, "Media with the peers").
        accounts = "" if self.account.mwi else self.account.line() + "\n"
        (self.directory / "accounts").write_text(accounts, encoding="utf-8")

    async def start(self) -> Baresip:
        binary = require_tool("baresip", "the Debian package baresip")
        self.write_config()
        log = (self.directory / "baresip.log").open("wb")
        try:
            self._process = await asyncio.create_subprocess_exec(
                binary,
                "-f",
                str(self.directory),
                "-v",
                stdin=asyncio.subprocess.DEVNULL,
                stdout=log,
                stderr=asyncio.subprocess.STDOUT,
            )
        finally:
            log.close()
        try:
            await wait_for_async(
                self._try_connect, self.start_timeout, 0.05, f"baresip ctrl_tcp {self.ctrl_port}"
            )
        except TimeoutError as exc:
            await self.stop()
            raise BaresipError(f"baresip did not start: {self.log_tail()}") from exc
        if self.account.mwi:
            await self.command("uanew", self.account.line())
        return self

    async def _try_connect(self) -> bool:
        if self._process is not None and self._process.returncode is not None:
            raise BaresipError(f"baresip exited with {self._process.returncode}: {self.log_tail()}")
        try:
            self._reader, self._writer = await asyncio.open_connection(LOOPBACK, self.ctrl_port)
        except OSError:
            return False
        return True

    def log_tail(self, chars: int = 3000) -> str:
        path = self.directory / "baresip.log"
        text = path.read_text(encoding="utf-8", errors="replace") if path.exists() else ""
        return text[-chars:]

    async def stop(self) -> None:
        """Close the control connection, SIGTERM, then SIGKILL after ``stop_timeout``."""
        writer, self._writer, self._reader = self._writer, None, None
        if writer is not None:
            writer.close()
            with contextlib.suppress(OSError):
                await writer.wait_closed()
        process, self._process = self._process, None
        if process is None or process.returncode is not None:
            return
        process.terminate()
        try:
            await asyncio.wait_for(process.wait(), self.stop_timeout)
        except TimeoutError:
            process.kill()
            await process.wait()

    async def __aenter__(self) -> Baresip:
        return await self.start()

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.stop()

    # -- the control protocol: JSON in netstrings --------------------------------------

    async def command(
        self,
        name: str,
        params: str = "",
        timeout: float = 5.0,  # noqa: ASYNC109 - every wait has a default deadline
    ) -> str:
        """Send a ctrl_tcp command and return its response ``data``; raise if not ok."""
        if self._writer is None:
            raise BaresipError("baresip is not running: use `async with Baresip(...)`")
        token = str(next(self._tokens))
        body = {"command": name, "params": params, "token": token}
        self._writer.write(netstring(json.dumps(body).encode()))
        await self._writer.drain()
        deadline = time.monotonic() + timeout
        while True:
            message = await self._read_message(deadline, f"response to {name!r}")
            if message.get("event"):
                self.events.append(Event(str(message.get("type", "")), message))
            elif message.get("response") and str(message.get("token")) == token:
                if not message.get("ok", False):
                    raise BaresipError(f"baresip refused {name} {params}: {message.get('data')}")
                return str(message.get("data", ""))

    async def _read_message(self, deadline: float, what: str) -> dict[str, Any]:
        if self._reader is None:
            raise BaresipError("baresip is not running")
        while True:
            head, sep, rest = self._buffer.partition(b":")
            if sep and head.isdigit() and len(rest) > int(head):
                size = int(head)
                payload, self._buffer = rest[:size], rest[size + 1 :]
                decoded: dict[str, Any] = json.loads(payload)
                return decoded
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise TimeoutError(f"baresip: no {what} in time; log: {self.log_tail(800)}")
            try:
                chunk = await asyncio.wait_for(self._reader.read(65536), remaining)
            except TimeoutError:
                continue
            if not chunk:
                raise BaresipError(f"baresip closed its control port; log: {self.log_tail()}")
            self._buffer += chunk

    async def take_event(
        self,
        event_type: str,
        timeout: float = 5.0,  # noqa: ASYNC109 - every wait has a default deadline
        match: Callable[[Event], bool] | None = None,
    ) -> Event:
        """The oldest event of ``event_type`` (that ``match`` accepts), leaving all others
        queued: unlike ``wait_event``, waiting for a DTMF event keeps a CALL_CLOSED."""
        deadline = time.monotonic() + timeout
        seen = 0
        while True:
            for index in range(seen, len(self.events)):
                event = self.events[index]
                if event.type == event_type and (match is None or match(event)):
                    del self.events[index]
                    return event
            seen = len(self.events)
            message = await self._read_message(deadline, f"event {event_type}")
            if message.get("event"):
                self.events.append(Event(str(message.get("type", "")), message))

    async def wait_event(
        self,
        event_type: str,
        timeout: float = 5.0,  # noqa: ASYNC109 - every wait has a default deadline
    ) -> Event:
        """The next event of ``event_type`` (earlier events of other types are dropped)."""
        deadline = time.monotonic() + timeout
        while True:
            while self.events:
                event = self.events.popleft()
                if event.type == event_type:
                    return event
            message = await self._read_message(deadline, f"event {event_type}")
            if message.get("event"):
                self.events.append(Event(str(message.get("type", "")), message))

    # -- what tests do with a phone ---------------------------------------------------

    async def dial(self, uri: str) -> None:
        self._call_started = _now_stamp()
        await self.command("dial", uri)

    async def hangup(self) -> None:
        await self.command("hangup")

    async def accept(self) -> None:
        self._call_started = _now_stamp()
        await self.command("accept")

    # -- media during a call (README.md, "Media with the peers") ------------------------

    async def send_dtmf(self, digits: str, gap: float = 0.3) -> None:
        """Press ``digits`` (0-9 * # A-D) in the current call, ``gap`` seconds apart.

        ``sndcode`` (menu module, listed by ``help`` only during a call) sends each as an
        RFC 4733 telephone-event (PT 101 as baresip offers it, ~180 ms, three end
        packets); one key per command, so key presses never merge.
        """
        unknown = set(digits) - DTMF_KEYS
        if unknown or not digits:
            raise ValueError(f"not DTMF keys: {digits!r} (use 0-9, *, #, A-D)")
        for index, digit in enumerate(digits):
            if index:
                await asyncio.sleep(gap)
            await self.command("sndcode", digit)

    async def play(self, wav: Path) -> None:
        """Switch the microphone to ``wav`` (8 kHz mono 16-bit) in the current call.

        It plays from its start; when it ends, baresip 1.0 hangs up by itself
        (CALL_CLOSED "end of file"): "speak a message and hang up" in one command.
        """
        await self.command("ausrc", f"aufile,{wav}")

    async def wait_dtmf(self, timeout: float = 5.0) -> str:  # noqa: ASYNC109 - every wait has a default deadline
        """The next key the far end pressed (``CALL_DTMF_START``, RFC 4733 received)."""
        event = await self.take_event("CALL_DTMF_START", timeout)
        return str(event.data.get("param", ""))

    async def wait_closed(self, timeout: float = 5.0) -> str:  # noqa: ASYNC109 - every wait has a default deadline
        """Wait for ``CALL_CLOSED`` and return its reason, e.g. "Connection reset by
        peer" (the far end sent BYE), "Connection reset by user" (we hung up), "end of
        file" (the microphone WAV ended), or the SIP status of a failed call."""
        event = await self.take_event("CALL_CLOSED", timeout)
        return str(event.data.get("param", ""))

    async def end_call(self, after: float = 0.0) -> str:
        """Hang up ``after`` seconds from now and return the CALL_CLOSED reason."""
        if after > 0:
            await asyncio.sleep(after)
        await self.hangup()
        return await self.wait_closed()

    async def last_call_recording(self, timeout: float = 3.0) -> CallRecording:  # noqa: ASYNC109 - every wait has a default deadline
        """The sndfile recording of the last call, once baresip closed its files.

        Call it after CALL_CLOSED. ``received`` (``-dec.wav``) is what the far end sent;
        ``sent`` (``-enc.wav``) is our microphone. Started at or after our last ``dial``
        or ``accept``; an auto-answered call gives the newest recording.
        """
        return await wait_closed_recording(self.directory, timeout, self._call_started)

    async def wait_mwi(
        self,
        waiting: bool = True,
        timeout: float = 5.0,  # noqa: ASYNC109 - every wait has a default deadline
    ) -> MessageSummary:
        """The next message-summary NOTIFY (``MWI_NOTIFY``) whose Messages-Waiting is
        ``waiting``; needs ``Account(mwi=True)`` and a registrar that accepts SUBSCRIBE."""
        event = await self.take_event(
            "MWI_NOTIFY",
            timeout,
            lambda each: MessageSummary.parse(str(each.data.get("param", ""))).waiting == waiting,
        )
        return MessageSummary.parse(str(event.data.get("param", "")))

    async def reginfo(self) -> str:
        return await self.command("reginfo")

    async def registered(self, timeout: float = 5.0) -> None:  # noqa: ASYNC109 - every wait has a default deadline
        """Wait until the account shows as registered: ``REGISTER_OK`` may have fired
        before we connected, so poll ``reginfo`` instead of waiting for the event."""

        async def is_ok() -> bool:
            return _REGISTERED.search(_ANSI.sub("", await self.reginfo())) is not None

        await wait_for_async(is_ok, timeout, 0.1, f"{self.account.user} registered")


def _now_stamp() -> str:
    """Now as sndfile names its dumps (local time, seconds): YYYY-MM-DD-HH-MM-SS."""
    return time.strftime("%Y-%m-%d-%H-%M-%S")
