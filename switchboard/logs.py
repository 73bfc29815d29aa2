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
    for key, value in list(event.items()):
        if isinstance(value, str):
            event[key] = _mask_text(value)
    return event


def configure_logging(*, level: str = "INFO", json: bool | None = None) -> None:
    """Call once, from the CLI, before anything logs."""
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
    structlog.configure(
        processors=[*shared, structlog.stdlib.ProcessorFormatter.wrap_for_formatter],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
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
    root.setLevel(level.upper())
