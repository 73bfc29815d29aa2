"""Speech: text in Swedish, Norwegian or English to 8 kHz telephone audio (R10, R12).

The engine is espeak-ng (Debian ``espeak-ng``) unless the operator configures a better
one as a command, for example a Piper voice::

    SpeechSettings(command=("piper", "--model", "{voice}", "--output_file", "{out}"),
                   command_voices={"sv": "/opt/voices/sv_SE-nst-medium.onnx"})

A command is an argv template, run without a shell. Placeholders, replaced whole and
never re-read: ``{text}`` (without it the text goes on stdin, which is better: no length
limit, not in ``ps``), ``{out}`` (a WAV file to write; without it the WAV is read from
stdout), ``{lang}`` (sv, nb, en) and ``{voice}`` (from ``command_voices``; a language
without one is spoken by espeak-ng). When the command fails (not found, non-zero exit,
timeout, output that is not a WAV) a warning is logged, espeak-ng speaks instead, and the
command rests for ``retry_after`` seconds so callers do not wait on it again and again.

After the engine: the streamed WAV is sealed (``seal_streamed_wav``), resampled to 8 kHz
with the project's pure ``resample`` (no sox needed; the same resampler as greetings, so
every node renders the same bytes), trimmed and brought to speech level (``clips``).
That costs tens of milliseconds per sentence of pure Python, so it runs in the executor
the owner passes in; the engine runs as an asyncio subprocess: nothing blocks the loop.

Every clip is cached by content (``speech_cache``); concurrent requests for the same text
share one engine run. ``prerender()`` starts a render and returns at once, so the first
caller after a referral is set waits for nothing.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import os
import re
import shutil
import signal
import tempfile
import time
from collections.abc import Mapping
from concurrent.futures import Executor
from contextlib import suppress
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path

import structlog

from switchboard.media.clips import normalise, trim
from switchboard.media.speech_cache import SpeechCache
from switchboard.voicemail.wav import Audio, WavError, read_wav, resample, seal_streamed_wav

log = structlog.get_logger("switchboard.media")

ESPEAK = "espeak-ng"
ESPEAK_VOICES: Mapping[str, str] = {"sv": "sv", "nb": "nb", "en": "en"}
PLACEHOLDERS = frozenset({"text", "out", "lang", "voice"})
_PLACEHOLDER = re.compile(r"\{([^{}]*)\}")
PROCESSING = "trim+normalise/1"
"""Part of every cache key: change it when the processing after the engine changes."""
_LEADING_DASHES = "-‐‒–—― "


class SpeechError(Exception):
    """Speech could not be rendered; the message says what to do."""


@dataclass(frozen=True, slots=True)
class SpeechSettings:
    espeak: str = ESPEAK
    """The espeak-ng program: a name on PATH or a path."""
    espeak_voices: Mapping[str, str] = field(default_factory=lambda: dict(ESPEAK_VOICES))
    espeak_speed: int = 160
    """Words per minute (espeak-ng's default is 175; a little slower suits a phone line)."""
    command: tuple[str, ...] = ()
    """A better engine's argv template; empty: espeak-ng only."""
    command_voices: Mapping[str, str] = field(default_factory=dict)
    """``{voice}`` for each language the command speaks."""
    timeout: float = 10.0
    """Seconds an engine may take for one text before it is killed."""
    max_chars: int = 600
    """A referral's free text is at most 200 characters; the whole sentence fits."""
    cache_dir: Path | None = None
    memory_bytes: int = 32 * 1024 * 1024
    retry_after: float = 300.0
    """Seconds the command rests after failing, while espeak-ng speaks."""

    def __post_init__(self) -> None:
        if self.timeout <= 0 or self.max_chars <= 0 or self.memory_bytes < 0:
            raise SpeechError(
                "speech timeout and max_chars must be positive, memory_bytes at least 0"
            )
        if not 80 <= self.espeak_speed <= 450:
            raise SpeechError(f"espeak_speed {self.espeak_speed} is outside 80-450 words/min")
        unknown = {
            name for arg in self.command for name in _PLACEHOLDER.findall(arg)
        } - PLACEHOLDERS
        if unknown:
            raise SpeechError(
                f"the speech command has unknown placeholders {sorted(unknown)}; "
                "use {text}, {out}, {lang} or {voice}"
            )
        if self.command and _uses(self.command, "voice") and not self.command_voices:
            raise SpeechError(
                "the speech command uses {voice} but no command_voices are given: "
                "name a voice (for Piper, a model file) for each language"
            )


def _uses(argv: tuple[str, ...], name: str) -> bool:
    return any(f"{{{name}}}" in arg for arg in argv)


def _fill(argv: tuple[str, ...], values: Mapping[str, str]) -> tuple[str, ...]:
    """Placeholders in ``values`` replaced in one pass (a text containing "{out}" stays
    text); others left for a later fill."""

    def one(match: re.Match[str]) -> str:
        return values.get(match.group(1), match.group(0))

    return tuple(_PLACEHOLDER.sub(one, arg) for arg in argv)


def clean_text(text: str, max_chars: int) -> str:
    """One line of printable text, without leading dashes (not spoken, and an engine given
    the text as an argument would take them for an option)."""
    flat = " ".join("".join(c if c.isprintable() else " " for c in text).split())
    flat = flat.lstrip(_LEADING_DASHES)
    if not flat:
        raise SpeechError("there is no text to speak")
    if len(flat) > max_chars:
        raise SpeechError(
            f"the text is {len(flat)} characters long; at most {max_chars} are spoken"
        )
    return flat


@dataclass(frozen=True, slots=True)
class Engine:
    """One way to speak one language: ``argv`` with ``{lang}`` and ``{voice}`` filled in."""

    name: str
    argv: tuple[str, ...]

    def key(self, text: str, language: str) -> str:
        """The cache key: everything that shapes the sound."""
        what = [self.argv, language, text, PROCESSING]
        return hashlib.sha256(json.dumps(what, ensure_ascii=False).encode()).hexdigest()


def decode(data: bytes) -> Audio:
    """An engine's WAV as a caller hears it: 8 kHz, trimmed, at speech level (blocking)."""
    try:
        audio = read_wav(seal_streamed_wav(data))
        audio = normalise(trim(resample(audio)))
    except WavError as exc:
        raise SpeechError(f"the engine's output is not a WAV we can use: {exc}") from None
    if audio.samples == 0:
        raise SpeechError("the engine produced only silence")
    return audio


def _tail(stderr: bytes) -> str:
    text = stderr.decode("utf-8", "replace").strip()
    return text[-300:] if text else "no message"


def _kill_group(process: asyncio.subprocess.Process) -> None:
    """Kill the engine and anything it started (it runs in a session of its own)."""
    with suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)


class Speaker:
    """Renders and caches speech; owns its render tasks (``aclose()`` ends them)."""

    def __init__(self, settings: SpeechSettings, executor: Executor) -> None:
        self._settings = settings
        self._executor = executor
        self._cache = SpeechCache(settings.cache_dir, settings.memory_bytes, executor)
        self._inflight: dict[str, asyncio.Task[Audio]] = {}
        self._command_rests_until = 0.0

    @property
    def cache(self) -> SpeechCache:
        return self._cache

    def engines(self, language: str) -> tuple[Engine, ...]:
        """The engines to try for ``language``, best first; espeak-ng always last."""
        s = self._settings
        voice = s.espeak_voices.get(language)
        if voice is None:
            known = ", ".join(sorted(s.espeak_voices))
            raise SpeechError(f"no voice for language {language!r}; known: {known}")
        espeak = Engine(
            ESPEAK,
            (s.espeak, "-v", voice, "-s", str(s.espeak_speed), "-b", "1", "--stdout", "--stdin"),
        )
        if not s.command or (_uses(s.command, "voice") and language not in s.command_voices):
            return (espeak,)
        argv = _fill(s.command, {"lang": language, "voice": s.command_voices.get(language, "")})
        return (Engine(Path(s.command[0]).name, argv), espeak)

    async def render(self, text: str, language: str) -> Audio:
        """``text`` spoken in ``language`` (sv, nb, en) at 8 kHz: from the cache, from a
        render already under way, or rendered now. SpeechError when no engine could."""
        return await asyncio.shield(self._start(text, language))

    def prerender(self, text: str, language: str) -> asyncio.Future[Audio]:
        """Start rendering ``text`` unless it is cached or under way, and return at once
        (call it from the event loop). A failure is logged; awaiting the result is
        optional. Raises SpeechError at once for a text or language never spoken."""
        future = self._start(text, language)
        future.add_done_callback(_log_prerender_failure)
        return future

    async def aclose(self) -> None:
        """Cancel renders under way (their engines are killed) and wait for them."""
        tasks = list(self._inflight.values())
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    def _start(self, text: str, language: str) -> asyncio.Future[Audio]:
        clean = clean_text(text, self._settings.max_chars)
        engines = self.engines(language)
        loop = asyncio.get_running_loop()
        for engine in engines:
            hit = self._cache.in_memory(engine.key(clean, language))
            if hit is not None:
                done: asyncio.Future[Audio] = loop.create_future()
                done.set_result(hit)
                return done
        key = engines[0].key(clean, language)
        task = self._inflight.get(key)
        if task is None:
            task = loop.create_task(self._produce(clean, language, engines), name="speech")
            self._inflight[key] = task
            task.add_done_callback(partial(self._finished, key))
        return task

    def _finished(self, key: str, task: asyncio.Task[Audio]) -> None:
        self._inflight.pop(key, None)
        if not task.cancelled():
            task.exception()  # retrieved: whoever awaited it has seen it

    async def _produce(self, text: str, language: str, engines: tuple[Engine, ...]) -> Audio:
        loop = asyncio.get_running_loop()
        for engine in engines[:-1]:
            key = engine.key(text, language)
            cached = await self._cache.get(key)
            if cached is not None:
                return cached
            if loop.time() < self._command_rests_until:
                continue
            try:
                audio = await self._render_with(engine, text, language)
            except SpeechError as exc:
                self._command_rests_until = loop.time() + self._settings.retry_after
                log.warning(
                    "speech_engine_failed",
                    engine=engine.name,
                    language=language,
                    error=str(exc),
                    fallback=ESPEAK,
                    rests_s=self._settings.retry_after,
                )
                continue
            await self._cache.put(key, audio)
            return audio
        espeak = engines[-1]
        key = espeak.key(text, language)
        cached = await self._cache.get(key)
        if cached is not None:
            return cached
        audio = await self._render_with(espeak, text, language)
        await self._cache.put(key, audio)
        return audio

    async def _render_with(self, engine: Engine, text: str, language: str) -> Audio:
        started = time.perf_counter()
        folder = tempfile.mkdtemp(prefix="switchboard-speech-") if _uses(engine.argv, "out") else ""
        try:
            out = Path(folder) / "speech.wav" if folder else None
            stdout = await self._run(engine, text, str(out or ""))
            loop = asyncio.get_running_loop()
            if out is None:
                audio = await loop.run_in_executor(self._executor, decode, stdout)
            else:
                audio = await loop.run_in_executor(self._executor, _decode_file, out, engine)
        finally:
            if folder:  # one small file: removing it takes microseconds
                shutil.rmtree(folder, ignore_errors=True)
        log.info(
            "speech_rendered",
            engine=engine.name,
            language=language,
            chars=len(text),
            duration_ms=audio.duration_ms,
            took_ms=round((time.perf_counter() - started) * 1000, 1),
        )
        return audio

    async def _run(self, engine: Engine, text: str, out: str) -> bytes:
        """Run ``engine`` on ``text``; its stdout. SpeechError says what went wrong."""
        takes_text = _uses(engine.argv, "text")
        argv = _fill(engine.argv, {"text": text, "out": out})
        stdin = None if takes_text else (text + "\n").encode()
        try:
            process = await asyncio.create_subprocess_exec(
                *argv,
                stdin=asyncio.subprocess.DEVNULL if stdin is None else asyncio.subprocess.PIPE,
                stdout=asyncio.subprocess.PIPE,
                stderr=asyncio.subprocess.PIPE,
                start_new_session=True,
            )
        except OSError as exc:
            if engine.name == ESPEAK:
                raise SpeechError(
                    f"espeak-ng cannot be run ({argv[0]}: {exc.strerror}): "
                    "apt-get install espeak-ng, or set the path to it"
                ) from None
            raise SpeechError(f"the speech command {argv[0]!r} cannot be run: {exc}") from None
        try:
            async with asyncio.timeout(self._settings.timeout):
                stdout, stderr = await process.communicate(stdin)
        except TimeoutError:
            raise SpeechError(
                f"{engine.name} took longer than {self._settings.timeout:g} s and was stopped"
            ) from None
        finally:
            if process.returncode is None:
                _kill_group(process)
                await process.wait()
        if process.returncode != 0:
            raise SpeechError(
                f"{engine.name} failed with exit status {process.returncode}: {_tail(stderr)}"
            )
        return stdout


def _decode_file(path: Path, engine: Engine) -> Audio:
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise SpeechError(f"{engine.name} wrote no audio file") from None
    return decode(data)


def _log_prerender_failure(future: asyncio.Future[Audio]) -> None:
    if future.cancelled():
        return
    exc = future.exception()
    if exc is not None:
        log.warning("speech_prerender_failed", error=str(exc))
