"""schemathesis against the served OpenAPI document, on a real server bound to port 0.

The server runs in a thread of its own (schemathesis calls are synchronous); each
operation gets a bounded number of generated requests, authenticated with a bearer token
of a receptionist, and every answer must be no 5xx and match the document.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import hypothesis
import pytest
import schemathesis
from aiohttp import web
from schemathesis import Case
from schemathesis.core.result import Ok

from switchboard.http.app import build_app
from switchboard.settings.http import HttpSettings
from tests.http.conftest import open_seeded

MAX_EXAMPLES = 12


@dataclass
class Served:
    url: str
    token: str
    router_token: str


@pytest.fixture
def served(tmp_path: Path) -> Iterator[Served]:
    """The app on 127.0.0.1:0 in a thread with its own event loop, until the test ends."""
    ready = threading.Event()
    found: list[Served] = []
    control: list[tuple[asyncio.AbstractEventLoop, asyncio.Event]] = []

    async def main() -> None:
        async with open_seeded(tmp_path) as seeded:
            # As under serve with SIP listening: /readyz answers 200 (its 503 is by design,
            # and tests/http/test_health.py covers it).
            seeded.runtime.readiness.sip_bound = True
            runner = web.AppRunner(build_app(seeded.runtime, HttpSettings()), access_log=None)
            await runner.setup()
            try:
                await web.TCPSite(runner, "127.0.0.1", 0).start()
                host, port = runner.addresses[0][:2]
                found.append(Served(f"http://{host}:{port}", seeded.token, seeded.router_token))
                stop = asyncio.Event()
                control.append((asyncio.get_running_loop(), stop))
                ready.set()
                await stop.wait()
            finally:
                await runner.cleanup()

    thread = threading.Thread(target=asyncio.run, args=(main(),), daemon=True)
    thread.start()
    assert ready.wait(30), "the server did not start"
    yield found[0]
    loop, stop = control[0]
    loop.call_soon_threadsafe(stop.set)
    thread.join(30)


def test_no_server_errors_and_answers_match_the_document(served: Served) -> None:
    schema = schemathesis.openapi.from_url(f"{served.url}/api/v1/openapi.json")
    headers = {"Authorization": f"Bearer {served.token}"}
    tested = []
    for result in schema.get_all_operations():
        assert isinstance(result, Ok), result
        operation = result.ok()
        if operation.path == "/api/v1/events":
            continue  # an endless stream: covered by test_events.py

        @hypothesis.given(case=operation.as_strategy())
        @hypothesis.settings(
            max_examples=MAX_EXAMPLES,
            deadline=None,
            database=None,
            derandomize=True,
            suppress_health_check=list(hypothesis.HealthCheck),
            phases=[hypothesis.Phase.explicit, hypothesis.Phase.generate],
        )
        def check(case: Case[Any]) -> None:
            case.call_and_validate(base_url=served.url, headers=headers)

        check()
        tested.append(operation.label)
    assert len(tested) >= 7, tested


def test_route_answers_match_the_document(served: Served) -> None:
    """``/api/v1/route`` with the router role's token, which the test above cannot open
    (a receptionist gets 403 there): every generated question answered as documented."""
    schema = schemathesis.openapi.from_url(f"{served.url}/api/v1/openapi.json")
    operations = [r.ok() for r in schema.get_all_operations() if isinstance(r, Ok)]
    operation = next(op for op in operations if op.path == "/api/v1/route")
    headers = {"Authorization": f"Bearer {served.router_token}"}

    @hypothesis.given(case=operation.as_strategy())
    @hypothesis.settings(
        max_examples=60,
        deadline=None,
        database=None,
        derandomize=True,
        suppress_health_check=list(hypothesis.HealthCheck),
        phases=[hypothesis.Phase.explicit, hypothesis.Phase.generate],
    )
    def check(case: Case[Any]) -> None:
        case.call_and_validate(base_url=served.url, headers=headers)

    check()
