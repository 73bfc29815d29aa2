"""The employee's page shows each calendar source's last sync and a failing source's error,
from the calendar worker's reports (issue 5: "the calendar connection and its last sync")."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

from switchboard.app import open_runtime
from switchboard.clock import FixedClock
from switchboard.http.page_views import me_view
from switchboard.live.health import HealthBoard
from switchboard.settings.config import load_settings
from switchboard.settings.resources import bundled

REPO = Path(__file__).resolve().parents[2]
CSV = REPO / "configs" / "demo" / "sml-people.csv"
CALENDAR = '\n[[calendars]]\ntype = "ics"\nperson = "64123"\nurl = "http://127.0.0.1:9/anna.ics"\n'


def _key(key: str, **values: Any) -> str:
    return key


async def test_last_sync_and_failure_come_from_the_worker(tmp_path: Path) -> None:
    config = tmp_path / "sml.toml"
    config.write_text(bundled("configs/sml.toml").read_text("utf-8") + CALENDAR, "utf-8")
    settings = load_settings(config)
    clock = FixedClock(datetime.fromisoformat("2026-11-23T10:00:00+01:00"))
    async with open_runtime(settings, tmp_path, clock) as runtime:
        engine = runtime.engine
        await engine.import_directory(CSV.read_bytes(), str(CSV), "test")
        anna = engine.find("64123")
        board = HealthBoard()

        (link,) = me_view(anna, engine, _key, board).calendars
        assert (link.name, link.last_sync, link.failing) == ("ics:64123", None, None)

        board.update(
            [
                {
                    "source": "ics:64123",
                    "last_success": "2026-11-23T08:55:00+00:00",
                    "failures": 0,
                    "last_error": None,
                }
            ]
        )
        (link,) = me_view(anna, engine, _key, board).calendars
        assert (link.last_sync, link.failing) == ("2026-11-23 09:55", None)  # Stockholm time

        board.update(
            [
                {
                    "source": "ics:64123",
                    "last_success": "2026-11-23T08:55:00+00:00",
                    "failures": 3,
                    "last_error": "the feed answered 404",
                }
            ]
        )
        (link,) = me_view(anna, engine, _key, board).calendars
        assert (link.last_sync, link.failing) == ("2026-11-23 09:55", "the feed answered 404")
