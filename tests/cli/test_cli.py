"""The command line, end to end: a newcomer's path through README (issue 2's "done when")."""

from __future__ import annotations

import re
import sqlite3
from pathlib import Path

import pytest

from tests.cli.conftest import DEMO_CSV, REPO, Run, write_csv

# Monday 23 November 2026, Europe/Stockholm (UTC+1).
MONDAY = "2026-11-23"
HEADER = "name,number,mobile,email,unit,title,language,hide_mobile,secret_mobile,arrangement\n"


def test_import_then_reimport_reports_created_and_unchanged(sb: Run) -> None:
    first = sb("directory", "import", str(DEMO_CSV))
    assert "10 created, 0 updated, 0 unchanged" in first.out
    again = sb("directory", "import", str(DEMO_CSV))
    assert "0 created, 0 updated, 10 unchanged" in again.out


def test_invalid_rows_are_reported_by_line_and_nothing_is_imported(sb: Run, tmp_path: Path) -> None:
    bad = write_csv(
        tmp_path,
        HEADER
        + "Anna Berg,0523-664123,070-1740605,anna@x.example,,,sv,no,no,private\n"
        + "Bo Ek,0523-999999,070-1740606,bo@x.example,,,sv,no,no,private\n"
        + "Cia Ax,0523-664124,070-17406x7,cia@x.example,,,sv,maybe,no,sometimes\n",
    )
    result = sb("directory", "import", str(bad), expect=1)
    assert f"{bad}:3: number:" in result.err
    assert f"{bad}:4: mobile:" in result.err
    assert f"{bad}:4: hide_mobile: write yes or no" in result.err
    assert f"{bad}:4: arrangement:" in result.err
    assert "nothing was imported" in result.err
    assert sb("directory", "list", "--json").json() == []


def test_r3_every_dialled_form_routes_to_the_same_person(sb: Run) -> None:
    sb("directory", "import", str(DEMO_CSV))
    at = f"{MONDAY}T10:00"
    forms = ["64123", "0523-664123", "0523 66 41 23", "+46523664123", "0046523664123"]
    answers = [sb("route", "--at", at, form).json() for form in forms]
    assert {a["extension"] for a in answers} == {"64123"}
    assert {a["action"] for a in answers} == {"ring"}


def test_r10_referral_then_expiry_then_ring_r11(sb: Run) -> None:
    sb("directory", "import", str(DEMO_CSV))
    sb(
        "--now",
        f"{MONDAY}T11:50",
        "presence",
        "set",
        "64123",
        "--reason",
        "lunch",
        "--until",
        "13:00",
    )
    during = sb("route", "--at", f"{MONDAY}T12:00", "0523-664123").json()
    assert during["action"] == "announce"
    assert during["reason"] == "lunch"
    assert during["until"] == f"{MONDAY}T13:00:00+01:00"
    assert during["announcement"] == "Anna Berg är på lunch, tillbaka klockan 13:00."
    assert "leave_message" in during["options"]
    assert during["reception"] == "64000"
    after = sb("route", "--at", f"{MONDAY}T13:00", "64123").json()
    assert after["action"] == "ring"
    assert after["on_no_answer"] == "voicemail"
    assert {"kind": "mobile", "address": "+46701740605"} in after["targets"]
    assert "expired" in after["explanation"]


def test_open_referral_rings_first_and_announces_on_no_answer(sb: Run) -> None:
    sb("directory", "import", str(DEMO_CSV))
    sb(
        "--now",
        f"{MONDAY}T09:00",
        "presence",
        "set",
        "64123",
        "--reason",
        "training",
        "--for",
        "2h",
        "--open",
    )
    d = sb("route", "--at", f"{MONDAY}T10:00", "64123").json()
    assert d["action"] == "ring"
    assert d["on_no_answer"] == "announce"
    assert d["announcement"] == "Anna Berg är på utbildning, tillbaka klockan 11:00."


def test_clear_returns_to_the_schedule(sb: Run) -> None:
    sb("directory", "import", str(DEMO_CSV))
    sb("--now", f"{MONDAY}T09:00", "presence", "set", "64123", "--reason", "holiday")
    assert sb("route", "--at", f"{MONDAY}T10:00", "64123").json()["action"] == "announce"
    shown = sb("--now", f"{MONDAY}T10:00", "presence", "clear", "64123").json()
    assert shown["available"] is True
    assert shown["manual"] is None
    assert sb("route", "--at", f"{MONDAY}T10:00", "64123").json()["action"] == "ring"


def test_r8_work_only_outside_hours_announces_private_rings_only_by_choice(sb: Run) -> None:
    sb("directory", "import", str(DEMO_CSV))
    evening = f"{MONDAY}T19:00"
    erik = sb("route", "--at", evening, "64200").json()  # work_only
    assert erik["action"] == "announce"
    assert erik["reason"] == "outside_hours"
    assert erik["until"] == "2026-11-24T08:00:00+01:00"
    anna = sb("route", "--at", evening, "64123").json()  # private, has not opted in
    assert anna["action"] == "announce"


def test_import_says_which_organisations_it_inferred(sb: Run, tmp_path: Path) -> None:
    """The documented columns only, several organisations (issue 16): the e-mail's domain
    places Lo, and the output says so by file and line before the summary."""
    csv = write_csv(tmp_path, "name,mobile,email\nLo Ek,070-174 06 91,lo.ek@lysekil.se\n")
    out = sb("directory", "import", str(csv)).out.splitlines()
    assert out[:2] == [
        f"{csv}: 1 organisation(s) inferred:",
        f"{csv}:2: organisation: Lo Ek -> lysekil (from the e-mail domain lysekil.se)",
    ]
    assert "1 created" in out[2]
    stranger = write_csv(
        tmp_path, "name,mobile,email\nBo Ek,070-174 06 92,bo@gmail.example\n", "b.csv"
    )
    err = sb("directory", "import", str(stranger), expect=1).err
    assert f"{stranger}:2: organisation: a person without an extension needs" in err


def test_reimport_keeps_availability(sb: Run, tmp_path: Path) -> None:
    sb("directory", "import", str(DEMO_CSV))
    sb("--now", f"{MONDAY}T09:00", "presence", "set", "64123", "--reason", "sick")
    changed = DEMO_CSV.read_text(encoding="utf-8").replace("Handläggare", "Enhetschef")
    result = sb("directory", "import", str(write_csv(tmp_path, changed)))
    assert "1 updated" in result.out
    d = sb("route", "--at", f"{MONDAY}T10:00", "64123").json()
    assert (d["action"], d["reason"]) == ("announce", "sick")
    assert sb("directory", "show", "64123").json()["title"] == "Enhetschef"


def test_r16_hiding_mobile_without_extension_needs_an_exception(sb: Run, tmp_path: Path) -> None:
    csv = write_csv(
        tmp_path,
        HEADER.replace("\n", ",organisation\n")
        + "Lo Berg,,070-1740699,lo@x.example,,,sv,yes,no,private,lysekil\n",
    )
    refused = sb("directory", "import", str(csv), expect=1)
    assert f"{csv}:2: hide_mobile:" in refused.err
    assert "R16" in refused.err
    sb(
        "policy",
        "grant",
        "lo@x.example",
        "--rule",
        "hide_mobile_without_extension",
        "--reason",
        "Protected identity, decided by HR 2026-11-01",
    )
    sb("directory", "import", str(csv))
    shown = sb("present", "lo@x.example").json()
    assert shown["withheld"] is True
    assert shown["number"] is None
    listed = sb("policy", "list").json()
    assert listed[0]["reason"] == "Protected identity, decided by HR 2026-11-01"


def test_r14_r15_presentation_of_a_hidden_mobile(sb: Run) -> None:
    sb("directory", "import", str(DEMO_CSV))
    call = sb("present", "64200").json()  # Erik hides his mobile
    assert call["number"] == "+46523664200"
    sms = sb("present", "64200", "--sms").json()
    assert sms["number"] == "+46701740611"


def test_r18_secret_mobile_appears_in_no_output(sb: Run) -> None:
    sb("directory", "import", str(DEMO_CSV))
    outputs = [
        sb("directory", "list", "--json").out,
        sb("directory", "show", "13456").out,
        sb("route", "--at", f"{MONDAY}T10:00", "13456").out,
        sb("present", "13456").out,
        sb("present", "13456", "--sms").out,
        sb("presence", "show", "13456").out,
        sb("audit").out,
        sb("--log-level", "DEBUG", "directory", "import", str(DEMO_CSV)).err,
    ]
    for text in outputs:
        # Fatima's secret mobile 070-174 06 23, in any notation (national, E.164, spaced).
        assert "701740623" not in re.sub(r"[\s\-()]", "", text)
    ring = sb("route", "--at", f"{MONDAY}T10:00", "13456").json()
    mobile = next(t for t in ring["targets"] if t["kind"] == "mobile")
    assert mobile["secret"] is True


def test_templates_are_personal_and_usable(sb: Run) -> None:
    sb("directory", "import", str(DEMO_CSV))
    sb("templates", "add", "64123", "--name", "Lunch", "--reason", "lunch", "--for", "45m")
    listed = sb("templates", "list", "64123").json()
    assert listed == [
        {"name": "Lunch", "reason": "lunch", "kind": "closed", "duration_minutes": 45, "text": None}
    ]
    assert sb("templates", "list", "64200").json() == []
    shown = sb("--now", f"{MONDAY}T11:30", "presence", "set", "64123", "--template", "lunch").json()
    assert shown["referral"]["until"] == f"{MONDAY}T12:15:00+01:00"


def test_not_ours_and_unassigned_are_rejected(sb: Run) -> None:
    sb("directory", "import", str(DEMO_CSV))
    assert sb("route", "031-123456").json()["status"] == 404
    unassigned = sb("route", "64555").json()
    assert (unassigned["action"], unassigned["status"]) == ("reject", 404)
    assert sb("route", "hello").json()["status"] == 484


def test_audit_names_who_changed_what(sb: Run) -> None:
    sb("directory", "import", str(DEMO_CSV), "--by", "admin@sml.example")
    sb("presence", "set", "64123", "--reason", "meeting", "--for", "1h", "--by", "reception")
    lines = sb("audit", "--limit", "5").out.splitlines()
    assert "reception" in lines[0]
    assert any("admin@sml.example" in line for line in lines)


def test_audit_says_a_change_came_from_the_command_line_with_old_and_new(sb: Run) -> None:
    """Issue 17: the origin of every entry, and old -> new values."""
    sb("directory", "import", str(DEMO_CSV))
    sb("presence", "set", "64123", "--reason", "meeting", "--for", "1h", "--by", "reception")
    sb("presence", "set", "64123", "--reason", "lunch", "--for", "1h", "--by", "reception")
    first, *changes = sb("audit", "--limit", "1").out.splitlines()
    assert "manual_set" in first
    assert re.search(r"\[via cli from local request [0-9a-f]{16}\]$", first), first
    assert changes[0].startswith("    status: closed referral: meeting")
    assert "-> closed referral: lunch" in changes[0]


@pytest.mark.parametrize(
    ("toml", "expected"),
    [
        (
            "[switchboard]\ncountry_code='46'\ntimezone='Europe/Stockholm'\n"
            "[[organisations]]\nid='a'\nname='A'\n"
            "series=[{area_code='0523',first='664000',last='664799'}]\n"
            "[[organisations]]\nid='b'\nname='B'\n"
            "series=[{area_code='0524',first='764000',last='764099'}]\n",
            "organisations[0].series[0] and organisations[1].series[0]: series a 0523 "
            "664000–664799 and b 0524 764000–764099 both yield extensions 64000–64099",
        ),
        (
            "[switchboard]\ncountry_code='46'\ntimezone='Europe/Stockholm'\nring_timout=5\n",
            "switchboard.ring_timout: unknown key",
        ),
        ("[switchboard\n", "not valid TOML"),
        (
            "[switchboard]\ncountry_code='46'\ntimezone='Europe/Stockholm'\n"
            "[[organisations]]\nid='a'\nname='A'\n"
            "series=[{area_code='0523',first='600000',last='600999'}]\n",
            "organisations[0].series[0].first: the series yields extensions starting with '0'",
        ),
        (
            "[switchboard]\ncountry_code='46'\ntimezone='Mars/Olympus'\n",
            "switchboard.timezone: unknown time zone 'Mars/Olympus'",
        ),
    ],
    ids=[
        "r2-overlapping-extensions",
        "unknown-key",
        "bad-toml",
        "r2-extension-starts-0",
        "bad-zone",
    ],
)
def test_config_errors_name_file_and_key(sb: Run, tmp_path: Path, toml: str, expected: str) -> None:
    path = tmp_path / "bad.toml"
    path.write_text(toml, encoding="utf-8")
    result = sb("config", "check", config=path, expect=1)
    assert f"{path}: " in result.err
    assert expected in result.err


def test_example_configs_are_valid() -> None:
    for path in sorted((REPO / "configs").glob("*.toml")):
        from switchboard.settings.config import load_settings

        settings = load_settings(path)
        assert settings.organisations


def test_norwegian_deployment(sb: Run) -> None:
    config = REPO / "configs" / "innlandet.toml"
    sb(
        "directory",
        "import",
        str(REPO / "configs" / "demo" / "innlandet-people.csv"),
        config=config,
    )
    d = sb("route", "--at", f"{MONDAY}T10:00", "+47 61 28 91 23", config=config).json()
    assert (d["action"], d["extension"]) == ("ring", "89123")
    sb(
        "--now",
        f"{MONDAY}T10:00",
        "presence",
        "set",
        "89123",
        "--reason",
        "meeting",
        "--until",
        "11:30",
        config=config,
    )
    d = sb("route", "--at", f"{MONDAY}T10:30", "89123", config=config).json()
    assert d["announcement"] == "Kari Nordmann er i møte, tilbake klokken 11:30."


def test_demo_seeds_and_explains(sb: Run) -> None:
    out = sb("--now", f"{MONDAY}T10:00", "demo", "--seed-only").out
    assert "Anna Berg är på lunch" in out
    assert "/switchboard --config " in out  # runnable as printed: test_demo_serve.py
    assert " route 64123" in out
    again = sb("--now", f"{MONDAY}T10:05", "demo", "--seed-only").out
    assert "10 unchanged" in again


def test_database_is_sqlite_in_wal_mode(sb: Run, tmp_path: Path) -> None:
    sb("directory", "import", str(DEMO_CSV))
    conn = sqlite3.connect(tmp_path / "data" / "switchboard.db")
    try:
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    finally:
        conn.close()


def test_divert_target_is_normalised_and_routed(sb: Run) -> None:
    sb("directory", "import", str(DEMO_CSV))
    sb(
        "--now",
        f"{MONDAY}T10:00",
        "presence",
        "set",
        "64123",
        "--reason",
        "meeting",
        "--for",
        "1h",
        "--divert-to",
        "0523-664200",
    )
    d = sb("route", "--at", f"{MONDAY}T10:30", "64123").json()
    assert (d["action"], d["to"]) == ("divert", "64200")
    refused = sb("presence", "set", "64123", "--reason", "lunch", "--divert-to", "64123", expect=1)
    assert "same extension" in refused.err


@pytest.mark.parametrize(
    ("args", "option"),
    [
        (("presence", "set", "64123", "--reason", "other", "--text", "Ring 070-174 06 23"), "text"),
        (
            (
                "templates",
                "add",
                "64123",
                "--name",
                "Kurs",
                "--reason",
                "lunch",
                "--text",
                "Nås på +46701740623",
            ),
            "text",
        ),
        (("templates", "add", "64123", "--name", "Ring 0701740623", "--reason", "lunch"), "name"),
        (
            (
                "policy",
                "grant",
                "13456",
                "--rule",
                "hide_extension",
                "--reason",
                "Beslut, ring 070 174 06 23",
            ),
            "reason",
        ),
    ],
    ids=["referral-note", "template-text", "template-name", "exception-reason"],
)
def test_r18_a_secret_mobile_typed_on_the_command_line_is_refused(
    sb: Run, args: tuple[str, ...], option: str
) -> None:
    """Issue 17: Fatima's secret mobile in any free text is refused; nothing changes."""
    sb("directory", "import", str(DEMO_CSV))
    before = sb("audit", "--limit", "1").out
    refused = sb(*args, expect=1)
    assert refused.err.startswith(f"switchboard: error: {option}: holds a number that is secret")
    assert "1740623" not in refused.err.replace(" ", "")
    assert sb("audit", "--limit", "1").out == before
