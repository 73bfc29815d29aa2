"""The engine over the real SQLite store: writes reach the live view through the bus."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from switchboard.app import open_engine
from switchboard.clock import FixedClock
from switchboard.presence.model import BusyClass, CalendarSegment, Reason
from switchboard.routing.model import Action, Call
from switchboard.settings.config import load_settings

REPO = Path(__file__).resolve().parents[2]
NOW = datetime(2026, 11, 23, 10, 0, tzinfo=ZoneInfo("Europe/Stockholm"))


async def test_r7_calendar_write_diverts_and_an_unchanged_feed_writes_nothing(
    tmp_path: Path,
) -> None:
    settings = load_settings(REPO / "configs" / "sml.toml")
    csv = (REPO / "configs" / "demo" / "sml-people.csv").read_bytes()
    meeting = CalendarSegment(
        NOW - timedelta(minutes=30), NOW + timedelta(hours=1), BusyClass.BUSY, Reason.MEETING
    )
    async with open_engine(settings, tmp_path, FixedClock(NOW)) as engine:
        await engine.import_directory(csv, "demo.csv", "test")
        anna = engine.find("64123")
        assert engine.route(Call("64123")).action is Action.RING
        assert await engine.set_calendar(anna, "ics", (meeting,), "calendar") is True
        version = await engine.store.version()
        assert engine.route(Call("64123")).action is Action.ANNOUNCE
        assert await engine.set_calendar(anna, "ics", (meeting,), "calendar") is False
        assert await engine.store.version() == version
    async with open_engine(settings, tmp_path, FixedClock(NOW)) as reopened:
        assert reopened.route(Call("0523-664123")).action is Action.ANNOUNCE


async def test_r18_a_secret_mobile_in_a_calendar_subject_is_masked_before_anyone_sees_it(
    tmp_path: Path,
) -> None:
    """Issue 17: a subject is shown to colleagues and callers; nobody can be asked to
    retype it, so the engine masks a secret mobile in it, whatever source mapped it."""
    settings = load_settings(REPO / "configs" / "sml.toml")
    csv = (REPO / "configs" / "demo" / "sml-people.csv").read_bytes()
    meeting = CalendarSegment(
        NOW - timedelta(minutes=30),
        NOW + timedelta(hours=1),
        BusyClass.BUSY,
        Reason.MEETING,
        label="Möte, nås på +46 70 174 06 23 (Fatima)",
    )
    async with open_engine(settings, tmp_path, FixedClock(NOW)) as engine:
        await engine.import_directory(csv, "demo.csv", "test")
        anna = engine.find("64123")
        assert await engine.set_calendar(anna, "ics", (meeting,), "calendar") is True
        [stored] = engine.view.calendar(anna.person_id, "ics")
        assert stored.label == "Möte, nås på *** (Fatima)"
        assert (await engine.store.load()).calendar[anna.person_id]["ics"] == (stored,)
        decision = engine.route(Call("64123"))
        assert "1740623" not in str(decision).replace(" ", "")
        # The same feed again writes nothing: the masked label is what is stored.
        assert await engine.set_calendar(anna, "ics", (meeting,), "calendar") is False
