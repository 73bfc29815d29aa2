"""The HTTP edge over a real SQLite store (through ``open_runtime``) with the demo directory.

Time stands at a Monday 10:00 (moved on only by a test that wants it: ``env.clock``) so
availability does not depend on when tests run. Accounts are the real ones
(``runtime.accounts`` on the same SQLite store, the real ``allowed()``). Each principal of
the authorization matrix is a set of request headers: a bearer token, or a session cookie
with its CSRF token.
"""

from __future__ import annotations

import contextlib
import io
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from switchboard.accounts.model import Role
from switchboard.app import Runtime, open_runtime
from switchboard.cli.demo import run_demo
from switchboard.directory.model import Person
from switchboard.http.app import build_app
from switchboard.live.accounts import AccountService
from switchboard.settings.config import Settings, load_settings
from switchboard.settings.http import HttpSettings
from switchboard.settings.resources import bundled
from switchboard.store.audit import AuditDecision
from switchboard.store.protocol import AuditEntry

MONDAY_10 = datetime.fromisoformat("2026-11-23T10:00:00+01:00")
EMPLOYEE_EXT = "64123"  # Anna Berg
OTHER_EXT = "51234"  # Johan Ek
SECRET_EXT = "13456"  # noqa: S105 - Fatima Haddad: secret mobile (R18)
SECRET_MOBILE = "+46701740623"  # noqa: S105 - a phone number
PASSWORD = "harbour lantern quietly 47"  # noqa: S105 - a test account


class StepClock:
    """A clock that stands still until a test moves it (throttle waits, expiries)."""

    def __init__(self, at: datetime) -> None:
        self.at = at

    def now(self) -> datetime:
        return self.at

    def advance(self, seconds: float) -> None:
        self.at += timedelta(seconds=seconds)


@dataclass
class Env:
    runtime: Runtime
    settings: Settings
    clock: StepClock
    client: TestClient[web.Request, web.Application]
    app: web.Application
    headers: dict[str, dict[str, str]] = field(default_factory=dict)
    """Principal name -> the headers that make a request theirs."""

    def person(self, extension: str) -> Person:
        found = self.runtime.engine.view.person_by_extension(extension)
        assert found is not None
        return found

    @property
    def origin(self) -> str:
        return f"http://{self.client.host}:{self.client.port}"

    @property
    def accounts(self) -> AccountService:
        return self.runtime.accounts

    async def session_headers(self, username: str) -> dict[str, str]:
        session_id, session = await self.accounts.start_session(
            await self.accounts.require(username)
        )
        return {
            "Cookie": f"sb_session={session_id}",
            "X-CSRF-Token": session.csrf_token,
            "Origin": self.origin,
        }

    async def audit_count(self) -> int:
        """How many changes the trail records (a refusal is recorded, but changes nothing)."""
        entries = await self.runtime.engine.store.audit(10_000)
        return sum(1 for e in entries if e.decision is AuditDecision.ALLOWED)

    async def refusals(self) -> list[AuditEntry]:
        """The trail's entries of refused requests, newest first (issue 17)."""
        entries = await self.runtime.engine.store.audit(10_000)
        return [e for e in entries if e.decision is AuditDecision.REFUSED]

    async def version(self) -> int:
        return await self.runtime.engine.store.version()


@dataclass
class Seeded:
    runtime: Runtime
    settings: Settings
    clock: StepClock
    token: str
    """A bearer token of ``t.integration`` (a receptionist)."""
    router_token: str
    """A bearer token of ``t.kamailio`` (the router role: ``/api/v1/route`` only)."""


@contextlib.asynccontextmanager
async def open_seeded(tmp_path: Path) -> AsyncIterator[Seeded]:
    """A runtime on SQLite with the demo directory and the test accounts."""
    settings = load_settings(bundled("configs/sml.toml"))
    clock = StepClock(MONDAY_10)
    async with open_runtime(settings, tmp_path, clock) as runtime:
        with contextlib.redirect_stdout(io.StringIO()):
            await run_demo(runtime.engine, tmp_path, force=True)
        accounts = runtime.accounts
        for username, roles, person in [
            ("t.anna", {Role.EMPLOYEE}, EMPLOYEE_EXT),
            ("t.reception", {Role.RECEPTIONIST}, None),
            ("t.boss", {Role.MANAGER}, None),
            ("t.root", {Role.ADMIN}, None),
            ("t.integration", {Role.RECEPTIONIST}, None),
            ("t.kamailio", {Role.ROUTER}, None),
        ]:
            await accounts.add_account(username, None, roles, person, None, "test")
        integration = await accounts.require("t.integration")
        token = await accounts.create_token(integration.account_id, "tests", "test")
        kamailio = await accounts.require("t.kamailio")
        router_token = await accounts.create_token(kamailio.account_id, "front", "test")
        yield Seeded(runtime, settings, clock, token, router_token)


@contextlib.asynccontextmanager
async def open_env(tmp_path: Path, heartbeat: float = 15.0) -> AsyncIterator[Env]:
    async with open_seeded(tmp_path) as seeded:
        runtime = seeded.runtime
        app = build_app(runtime, HttpSettings(max_body=64 * 1024), heartbeat=heartbeat)
        async with TestClient(TestServer(app)) as client:
            env = Env(runtime, seeded.settings, seeded.clock, client, app)
            env.headers = {
                "anonymous": {"Origin": env.origin},
                "employee": await env.session_headers("t.anna"),
                "receptionist": await env.session_headers("t.reception"),
                "manager": await env.session_headers("t.boss"),
                "admin": await env.session_headers("t.root"),
                "bearer": {"Authorization": f"Bearer {seeded.token}"},
            }
            yield env


@pytest.fixture
async def env(tmp_path: Path) -> AsyncIterator[Env]:
    async with open_env(tmp_path) as opened:
        yield opened
