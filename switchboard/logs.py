"""Logging, at the root because it is configured once for every package.

JSON lines off a terminal, a readable console on one. Every record passes ``mask_numbers``,
which masks anything that looks like a telephone number of seven digits or more (R18: a
secret number must never reach a log, and the safest way to keep one out is to keep them all
out). Extensions (five digits) stay readable, and so do ids: a run of digits glued to letters
("3f2a1234567b", a hex id) is no number anyone dials, and a value under an id key
(``person``, ``request_id``, ...) shaped like our ids is left whole even when all its hex
digits happen to be digits (issue 17: refusals logged half-masked person ids).
Standard-library records (aiohttp, redis, exchangelib) go through the same processors.
"""

from __future__ import annotations

import asyncio
import atexit
import json as jsonlib
import logging
import re
import sys
import threading
import time
from collections.abc import Mapping, MutableMapping
from dataclasses import dataclass
from datetime import UTC, datetime
from json.encoder import encode_basestring_ascii as _encode_str
from typing import Any, TextIO, cast

import structlog

from switchboard.directory.numbers import mask_number

LOG_BATCH_SECONDS = 0.05
"""How long a log line may wait for others to leave in the same write."""
_NUMBER = re.compile(r"(?<![A-Za-z0-9_])\+?\d[\d \-]{5,}\d(?![A-Za-z0-9_])")
"""Seven digits or more, with spaces or dashes between, not glued to a letter or digit."""
ID_KEYS = frozenset(
    {"person", "person_id", "account", "account_id", "request_id", "error_id", "message_id"}
)
"""Log keys whose values are our ids (hex, from ``uuid4``), never numbers."""
_ID = re.compile(r"[0-9a-f]{16}|[0-9a-f]{32}")
"""The shapes of our ids: ``uuid4().hex`` and its first 16 digits."""


def _mask_text(text: str) -> str:
    def repl(m: re.Match[str]) -> str:
        digits = sum(c.isdigit() for c in m.group(0))
        return mask_number(m.group(0)) if digits >= 7 else m.group(0)

    return _NUMBER.sub(repl, text)


def _may_hold_number(value: str) -> bool:
    """Whether ``value`` may hold a number to mask. Shorter than seven characters it cannot
    hold seven digits, and a word has none: most values ("redirect", "64123") skip the
    regular expression."""
    return len(value) >= 7 and not value.isalpha() and _NUMBER.search(value) is not None


def _is_id(key: str, value: str) -> bool:
    """An id under an id key. 16 hex digits are all digits once in two thousand ids; the
    code never logs a number under these keys, and the shapes are exact (16 or 32)."""
    return key in ID_KEYS and _ID.fullmatch(value) is not None


def mask_numbers(
    _logger: Any, _name: str, event: MutableMapping[str, Any]
) -> MutableMapping[str, Any]:
    for key, value in event.items():
        if isinstance(value, str) and _may_hold_number(value) and not _is_id(key, value):
            event[key] = _mask_text(value)
    return event


class BufferedLines:
    """A text stream that writes its lines in batches instead of one write per line.

    The SIP edge logs a line per call; a write system call per line is a sizeable share
    of a call's cost. Inside a running event loop, ``flush`` only schedules the real write
    ``delay`` seconds later (0: at the end of the current loop turn), so the lines of many
    calls leave in one write and none waits longer than ``delay``. Outside a loop
    (threads, the CLI) and at exit it writes at once, earlier lines first.
    """

    def __init__(self, file: TextIO, delay: float = 0.0) -> None:
        self._file = file
        self._delay = delay
        self._lines: list[str] = []
        self._lock = threading.Lock()
        self._scheduled_on: asyncio.AbstractEventLoop | None = None
        atexit.register(self.flush_now)

    def write(self, text: str) -> int:
        self._lines.append(text)  # atomic; flush_now swaps the list, so no line is lost
        return len(text)

    def flush(self) -> None:
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            self.flush_now()
            return
        if self._scheduled_on is loop:
            return  # the write of this batch is already due (read without the lock: a
            # race only schedules one write too many, which finds nothing to write)
        with self._lock:
            if self._scheduled_on is loop:
                return
            self._scheduled_on = loop
        if self._delay > 0:
            loop.call_later(self._delay, self.flush_now)
        else:
            loop.call_soon(self.flush_now)

    def flush_now(self) -> None:
        with self._lock:
            lines, self._lines = self._lines, []
            self._scheduled_on = None
        text = "".join(lines)
        if text:
            self._file.write(text)
            self._file.flush()


@dataclass(frozen=True, slots=True)
class _JsonLines:
    stream: BufferedLines
    info: bool
    """Whether INFO lines are written at the configured level."""
    fields: str = ""
    """Fields every line of this process carries (``"worker": 1, ``), rendered once."""


_json_lines: _JsonLines | None = None
"""Set by ``configure_logging`` when lines are JSON: what ``LineLogger`` writes to."""


class LineLogger:
    """A logger for lines written at a high rate: the SIP edge's one line per call.

    It writes the same line structlog's JSON output would (fields, ``event``, ``level``,
    ``timestamp``), masked by ``mask_numbers`` the same way, but renders it directly:
    structlog's processor chain costs several times the line itself. Context variables
    are not merged (the SIP edge binds none). When logging is not configured for JSON
    lines (a terminal, tests), it is simply structlog's logger.
    """

    def __init__(self, name: str) -> None:
        self._fallback = structlog.get_logger(name)

    def info(self, event: str, **fields: Any) -> None:
        sink = _json_lines
        if sink is None or not structlog.is_configured():
            self._fallback.info(event, **fields)
            return
        if not sink.info:
            return
        parts = [_field(key, value) for key, value in fields.items()]
        parts.append(
            f'"event": {_encode_str(event)}, "level": "info", "timestamp": "{_utc_stamp()}"'
        )
        sink.stream.write("{" + sink.fields + ", ".join(parts) + "}\n")
        sink.stream.flush()


def _field(key: str, value: Any) -> str:
    """One ``"key": value`` of a JSON line, masked as ``mask_numbers`` masks (R18)."""
    if type(value) is str:
        if _may_hold_number(value) and not _is_id(key, value):
            value = _mask_text(value)
        text = _encode_str(value)
    elif value is None:
        text = "null"
    elif type(value) is int:
        text = str(value)
    else:
        text = jsonlib.dumps(value, default=repr)
    return f"{_KEYS.get(key) or _key(key)}: {text}"


def _key(key: str) -> str:
    known = _encode_str(key)
    if len(_KEYS) < 1000:  # field names are few; a bound all the same
        _KEYS[key] = known
    return known


_KEYS: dict[str, str] = {}
"""Field names as JSON strings: a log line's names are the same every time."""


_stamp_second = -1
_stamp_prefix = ""


def _utc_stamp() -> str:
    """structlog's ISO UTC timestamp ("2026-12-06T00:47:05.805716Z"), with the part up to
    the second formatted once per second."""
    global _stamp_second, _stamp_prefix
    ns = time.time_ns()
    second, rest = divmod(ns, 1_000_000_000)
    if second != _stamp_second:
        _stamp_prefix = datetime.fromtimestamp(second, UTC).strftime("%Y-%m-%dT%H:%M:%S")
        _stamp_second = second
    return f"{_stamp_prefix}.{rest // 1000:06d}Z"


def configure_logging(
    *, level: str = "INFO", json: bool | None = None, fields: Mapping[str, Any] | None = None
) -> None:
    """Call once, from the CLI, before anything logs.

    structlog's own loggers write straight to stderr through a level-filtering logger:
    the SIP edge logs one line per call, and going through stdlib ``logging`` would cost
    several times more per line. Stdlib records (aiohttp, redis, exchangelib) take the
    stdlib route through the same processors, so every line is masked the same way.
    ``fields`` go first into every line of the process (``{"worker": 1}`` with workers).
    """
    as_json = (not sys.stderr.isatty()) if json is None else json
    stream = BufferedLines(sys.stderr, LOG_BATCH_SECONDS)
    constant = dict(fields or {})

    def add_fields(_logger: Any, _name: str, event: MutableMapping[str, Any]) -> Any:
        return {**constant, **event} if constant else event

    shared: list[Any] = [
        add_fields,
        structlog.contextvars.merge_contextvars,
        structlog.processors.add_log_level,
        mask_numbers,
        # After masking: a timestamp's digits are not a telephone number.
        structlog.processors.TimeStamper(fmt="iso", utc=True),
    ]
    renderer: Any = (
        structlog.processors.JSONRenderer()
        if as_json
        else structlog.dev.ConsoleRenderer(colors=sys.stderr.isatty())
    )
    numeric = logging.getLevelName(level.upper())
    if not isinstance(numeric, int):
        raise ValueError(f"unknown log level {level!r} (DEBUG, INFO, WARNING, ERROR)")
    structlog.configure(
        processors=[*shared, structlog.processors.format_exc_info, renderer],
        logger_factory=structlog.WriteLoggerFactory(file=cast(TextIO, stream)),
        wrapper_class=structlog.make_filtering_bound_logger(numeric),
        cache_logger_on_first_use=True,
    )
    handler = logging.StreamHandler(stream)
    handler.setFormatter(
        structlog.stdlib.ProcessorFormatter(
            processors=[
                structlog.stdlib.ProcessorFormatter.remove_processors_meta,
                structlog.processors.format_exc_info,
                renderer,
            ],
            foreign_pre_chain=shared,
        )
    )
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(numeric)
    global _json_lines
    rendered = "".join(_field(key, value) + ", " for key, value in constant.items())
    _json_lines = _JsonLines(stream, numeric <= logging.INFO, rendered) if as_json else None
