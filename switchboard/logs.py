"""Logging, configured in one place: JSON lines off a terminal, readable console on one.

Every record passes ``mask_numbers``, which masks anything that looks like a telephone
number of seven digits or more (R18: a secret number must never reach a log, and the safest
way to keep one out is to keep them all out). Extensions (five digits) stay readable.
Standard-library records (aiohttp, redis, exchangelib) go through the same processors.
"""

from __future__ import annotations

import logging
import re
import sys
from collections.abc import MutableMapping
from typing import Any

import structlog

from switchboard.directory.numbers import mask_number

_NUMBER = re.compile(r"\+?\d[\d \-]{5,}\d")


def _mask_text(text: str) -> str:
    def repl(m: re.Match[str]) -> str:
        digits = sum(c.isdigit() for c in m.group(0))
        return mask_number(m.group(0)) if digits >= 7 else m.group(0)

    return _NUMBER.sub(repl, text)


def mask_numbers(
    _logger: Any, _name: str, event: MutableMapping[str, Any]
) -> MutableMapping[str, Any]:
    for key, value in event.items():
        # Shorter than seven characters cannot hold a seven-digit number: most values
        # ("redirect", "64123") skip the regular expression.
        if isinstance(value, str) and len(value) >= 7:
            event[key] = _mask_text(value)
    return event


def configure_logging(*, level: str = "INFO", json: bool | None = None) -> None:
    """Call once, from the CLI, before anything logs.

    structlog's own loggers write straight to stderr through a level-filtering logger:
    the SIP edge logs one line per call, and going through stdlib ``logging`` would cost
    several times more per line. Stdlib records (aiohttp, redis, exchangelib) take the
    stdlib route through the same processors, so every line is masked the same way.
    """
    as_json = (not sys.stderr.isatty()) if json is None else json
    shared: list[Any] = [
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
        logger_factory=structlog.WriteLoggerFactory(file=sys.stderr),
        wrapper_class=structlog.make_filtering_bound_logger(numeric),
        cache_logger_on_first_use=True,
    )
    handler = logging.StreamHandler(sys.stderr)
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
