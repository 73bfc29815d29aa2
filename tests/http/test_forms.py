"""A page's form read a part and a chunk at a time (``http.forms``, issue 15): a region's
directory file in a form no longer holds the event loop while it is parsed."""

from __future__ import annotations

from collections.abc import AsyncIterator

import aiohttp
import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from switchboard.http.forms import CHUNK, MAX_PARTS, Upload, read_form
from tests.fixtures.loop_turns import LoopTurns

LIMIT = 8 * 1024 * 1024
pytestmark = pytest.mark.filterwarnings(
    # aiohttp's client warns of a large body sent from bytes: the test's side, not ours
    "ignore:Sending a large body directly:ResourceWarning"
)


@pytest.fixture
async def client() -> AsyncIterator[TestClient[web.Request, web.Application]]:
    async def echo(request: web.Request) -> web.Response:
        async with LoopTurns() as turns:
            form = await read_form(request)
            again = await read_form(request)  # kept: read once per request
        assert again is form
        shown = {
            name: f"{value.filename}:{len(value.data)}"
            if isinstance(value, Upload)
            else f"{len(value)}"
            for name, value in form.items()
        }
        return web.json_response({"form": shown, "ticks": turns.count})

    app = web.Application(client_max_size=LIMIT)
    app.router.add_post("/", echo)
    async with TestClient(TestServer(app)) as test_client:
        yield test_client


async def test_a_large_field_and_file_are_read_with_turns_of_the_loop_between(
    client: TestClient[web.Request, web.Application],
) -> None:
    form = aiohttp.FormData()
    form.add_field("csrf_token", "abc")
    form.add_field("carried", "A" * (CHUNK * 8))
    form.add_field("file", b"x" * (CHUNK * 4), filename="people.csv", content_type="text/csv")
    response = await client.post("/", data=form)
    body = await response.json()
    assert body["form"] == {
        "csrf_token": "3",
        "carried": str(CHUNK * 8),
        "file": f"people.csv:{CHUNK * 4}",
    }
    assert body["ticks"] >= 12, "the loop ran between the chunks"


async def test_a_url_encoded_form_is_read_as_before(
    client: TestClient[web.Request, web.Application],
) -> None:
    response = await client.post("/", data={"csrf_token": "abc", "filename": "p.csv"})
    assert (await response.json())["form"] == {"csrf_token": "3", "filename": "5"}


async def test_too_many_fields_or_too_many_bytes_are_refused(
    client: TestClient[web.Request, web.Application],
) -> None:
    form = aiohttp.FormData(default_to_multipart=True)
    for n in range(MAX_PARTS + 1):
        form.add_field(f"f{n}", "x")
    response = await client.post("/", data=form)
    assert response.status == 400
    assert f"at most {MAX_PARTS} fields" in await response.text()

    big = aiohttp.FormData()
    big.add_field("file", b"x" * (LIMIT + CHUNK), filename="big.csv", content_type="text/csv")
    response = await client.post("/", data=big, chunked=True)
    assert response.status == 413
