"""The checked directory file, carried by the import page from its check to its import.

The page's *Import* must write exactly the bytes that were checked, and any worker or node
may answer it, so the check's page carries the file back in a hidden field, as base64.
For a region that is 16 MB: encoded, escaped, joined into the page and decoded in one go,
it held the event loop 60-80 ms (issue 15). Here it is written into the page as the page
is sent, and decoded, a slice at a time with the loop's other work between.
"""

from __future__ import annotations

import asyncio
import base64
import secrets

from aiohttp import web

SLICE = 3 * 256 * 1024
"""Bytes encoded (or their base64 decoded) at a time: the whole of a region's file in one
call held the loop 23 ms (30 to decode)."""
MARK = "carried-file-" + secrets.token_hex(8)
"""What the template writes where the file goes; ``send_with`` puts the file there."""


async def send_with(request: web.Request, page: web.Response, data: bytes) -> web.StreamResponse:
    """``page`` sent with ``data``'s base64 in place of ``MARK``, a slice at a time (base64
    holds nothing HTML escapes)."""
    head, found, tail = (page.text or "").partition(MARK)
    if not found:  # pragma: no cover - the template writes the field on this stage
        raise web.HTTPInternalServerError(text="the checked page has no place for the file")
    stream = web.StreamResponse(status=page.status)
    stream.content_type, stream.charset = "text/html", "utf-8"
    for name, morsel in page.cookies.items():
        stream.cookies[name] = morsel
    await stream.prepare(request)
    await stream.write(head.encode())
    for start in range(0, len(data), SLICE):  # a multiple of 3: the slices join up
        await stream.write(base64.b64encode(data[start : start + SLICE]))
    await stream.write(tail.encode())
    await stream.write_eof()
    return stream


async def decoded(text: str) -> bytes:
    """The carried file's bytes; ``binascii.Error`` when it arrived damaged."""
    step = SLICE // 3 * 4  # a multiple of 4: each slice decodes on its own
    parts: list[bytes] = []
    for start in range(0, len(text), step):
        parts.append(base64.b64decode(text[start : start + step], validate=True))
        await asyncio.sleep(0)
    return b"".join(parts)
