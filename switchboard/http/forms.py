"""A page's form, read without holding the event loop (issue 15).

aiohttp's ``request.post()`` parses a multipart body in one go: a region's directory file
(12 MB uploaded, or 16 MB of base64 carried back by the import page) held the loop 16-32 ms
for it. ``read_form`` reads a multipart form a part at a time and each part a chunk at a
time, giving the loop its turn between chunks; a url-encoded form (small: every other page)
goes through ``post()``. The form is read once per request and kept, so the CSRF check and
the handler share it.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from dataclasses import dataclass

from aiohttp import BodyPartReader, web

CHUNK = 256 * 1024
"""Bytes read between two turns of the event loop (well under a millisecond)."""
MAX_PARTS = 20
"""A page's form has a handful of fields; more is not a form of ours."""


@dataclass(frozen=True, slots=True)
class Upload:
    """A file field: its name as the browser gave it, and its bytes."""

    filename: str
    data: bytes


Form = Mapping[str, "str | Upload"]
_FORM = web.RequestKey("form", Mapping)
"""The form once read: the CSRF check and the handler share it."""


async def read_form(request: web.Request) -> Form:
    """The request's form fields by name (the first of a repeated name)."""
    if _FORM in request:
        kept: Form = request[_FORM]
        return kept
    form: dict[str, str | Upload] = {}
    if request.content_type == "multipart/form-data":
        limit = request.client_max_size
        size = 0
        reader = await request.multipart()
        for _ in range(MAX_PARTS + 1):
            part = await reader.next()
            if part is None:
                break
            if not isinstance(part, BodyPartReader) or part.name is None:
                raise web.HTTPBadRequest(text="a form field without a name")
            data, size = await _read_part(part, size, limit)
            if part.name not in form:
                form[part.name] = (
                    Upload(part.filename, data)
                    if part.filename
                    else data.decode(part.get_charset("utf-8"))
                )
        else:
            raise web.HTTPBadRequest(text=f"a form has at most {MAX_PARTS} fields")
    else:
        for name, value in (await request.post()).items():
            if isinstance(value, str):
                form.setdefault(name, value)
    request[_FORM] = form
    return form


async def _read_part(part: BodyPartReader, size: int, limit: int) -> tuple[bytes, int]:
    chunks: list[bytes] = []
    while chunk := await part.read_chunk(CHUNK):
        size += len(chunk)
        if limit and size > limit:
            raise web.HTTPRequestEntityTooLarge(max_size=limit, actual_size=size)
        chunks.append(bytes(chunk))
        await asyncio.sleep(0)
    return b"".join(chunks), size
