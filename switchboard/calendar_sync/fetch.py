"""Fetching a calendar feed over HTTP(S) with aiohttp: conditional, bounded, masked.

- Conditional requests (RFC 9110 13.1.1-13.1.3): the worker passes back the ``ETag`` and
  ``Last-Modified`` it got last time; ``304 Not Modified`` means nothing to parse.
- The size limit is enforced while the body streams in, so a runaway feed cannot fill
  memory before it is refused; the time limit covers the whole exchange.
- Feed addresses are secrets (a Google "secret address", an Outlook publishing link):
  errors and logs name the URL with its path and query masked (:func:`mask_url`).
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from urllib.parse import urlsplit

import aiohttp

from switchboard.calendar_sync.errors import CalendarError

DEFAULT_MAX_BYTES = 20 * 1024 * 1024
DEFAULT_TIMEOUT = 30.0
_CHUNK = 64 * 1024


@dataclass(frozen=True, slots=True)
class FetchResult:
    unchanged: bool
    """The server answered 304: the feed is as it was at ``etag``/``last_modified``."""
    data: bytes | None
    etag: str | None
    last_modified: str | None


def mask_url(url: str) -> str:
    """``https://calendar.google.com/***``: scheme, host and port only; user info, path and
    query may hold the secret and are never shown."""
    try:
        parts = urlsplit(url)
        host = parts.hostname or "?"
        port = f":{parts.port}" if parts.port else ""
    except ValueError:
        return "<unreadable URL>"
    masked = "/***" if parts.path not in ("", "/") or parts.query else ""
    return f"{parts.scheme or '?'}://{host}{port}{masked}"


def _http_url(url: str) -> str:
    # webcal:// is how Outlook and Apple hand out subscriptions: plain HTTPS underneath.
    if url.lower().startswith("webcal://"):
        return "https://" + url[len("webcal://") :]
    return url


async def fetch_feed(
    url: str,
    *,
    etag: str | None = None,
    last_modified: str | None = None,
    max_bytes: int = DEFAULT_MAX_BYTES,
    timeout: float = DEFAULT_TIMEOUT,  # noqa: ASYNC109 - the worker's per-source setting
    session: aiohttp.ClientSession | None = None,
) -> FetchResult:
    """GET the feed, conditionally. Raises CalendarError naming the masked URL and what to do.

    ``session`` lets the worker reuse one connection pool; without it a session is opened
    for this request only.
    """
    masked = mask_url(url)
    headers = {"Accept": "text/calendar, */*;q=0.5"}
    if etag:
        headers["If-None-Match"] = etag
    if last_modified:
        headers["If-Modified-Since"] = last_modified
    try:
        if session is None:
            async with aiohttp.ClientSession() as own:
                return await _get(own, url, masked, headers, max_bytes, timeout)
        return await _get(session, url, masked, headers, max_bytes, timeout)
    except TimeoutError:
        raise CalendarError(
            masked, f"no complete answer within {timeout:g} s; check the server or raise timeout"
        ) from None
    except aiohttp.InvalidURL:
        raise CalendarError(masked, "not a valid http(s) URL") from None
    except aiohttp.ClientError as exc:
        raise CalendarError(masked, f"request failed: {type(exc).__name__}") from None


async def _get(
    session: aiohttp.ClientSession,
    url: str,
    masked: str,
    headers: dict[str, str],
    max_bytes: int,
    seconds: float,
) -> FetchResult:
    async with asyncio.timeout(seconds), session.get(_http_url(url), headers=headers) as resp:
        new_etag = resp.headers.get("ETag")
        new_modified = resp.headers.get("Last-Modified")
        if resp.status == 304:
            return FetchResult(True, None, new_etag or None, new_modified or None)
        if resp.status != 200:
            hint = (
                "the address may have been revoked or mistyped"
                if resp.status in (401, 403, 404, 410)
                else "the server refused or failed"
            )
            raise CalendarError(masked, f"HTTP {resp.status} {resp.reason or ''}: {hint}")
        if resp.content_length is not None and resp.content_length > max_bytes:
            raise CalendarError(masked, _too_big(max_bytes))
        body = bytearray()
        async for chunk in resp.content.iter_chunked(_CHUNK):
            body.extend(chunk)
            if len(body) > max_bytes:
                raise CalendarError(masked, _too_big(max_bytes))
        return FetchResult(False, bytes(body), new_etag, new_modified)


def _too_big(max_bytes: int) -> str:
    return f"the feed is larger than the limit of {max_bytes} bytes; narrow it or raise max_bytes"
