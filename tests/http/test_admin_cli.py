"""``switchboard calls``: an administrator decides a call-list request without a browser.

Through the real command (``tests.cli.conftest.sb``) on a data directory where a manager's
request was stored through the same service the web uses.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from pathlib import Path

from switchboard.accounts.model import Role, unit_key
from switchboard.app import open_runtime
from switchboard.calls.requests import CallListService
from switchboard.clock import FixedClock
from switchboard.settings.config import load_settings
from switchboard.settings.resources import bundled
from tests.cli.conftest import DEMO_CSV, Run, sb  # noqa: F401 - the sb fixture

NOW = datetime(2026, 11, 23, 9, tzinfo=UTC)


async def _ask(data: Path) -> int:
    settings = load_settings(bundled("configs/sml.toml"))
    async with open_runtime(settings, data, FixedClock(NOW)) as runtime:
        anna = runtime.engine.find("64123")
        accounts = runtime.accounts
        boss = await accounts.add_account(
            "boss",
            None,
            [Role.MANAGER],
            None,
            None,
            "test",
            manages=[unit_key(anna.organisation, anna.unit)],
        )
        await accounts.add_account("root", None, [Role.ADMIN], None, None, "test")
        engine = runtime.engine
        service = CallListService(
            engine.store, engine.clock, engine.view.person, secret_numbers=engine.secret_numbers
        )
        made = await service.request(
            boss, anna.person_id, NOW - timedelta(days=8), NOW - timedelta(days=1), "Rota review"
        )
        return made.request_id


def test_approve_from_the_command_line(sb: Run, tmp_path: Path) -> None:  # noqa: F811
    sb("directory", "import", str(DEMO_CSV))
    rid = asyncio.run(_ask(tmp_path / "data"))
    listed = sb("calls", "requests").out
    assert f"#{rid}  pending" in listed
    assert "Anna Berg" in listed
    assert "Rota review" in listed
    # The manager may not approve; an unknown account neither.
    sb("calls", "approve", str(rid), "--as", "boss", "--comment", "self service", expect=1)
    sb("calls", "approve", str(rid), "--as", "nobody", "--comment", "who am I", expect=1)
    out = sb("calls", "approve", str(rid), "--as", "root", "--comment", "Approved per HR").out
    assert f"#{rid} approved by root" in out
    sb("calls", "reject", str(rid), "--as", "root", "--comment", "too late now", expect=1)
    audit = sb("audit").out
    assert "call_list_approved" in audit
