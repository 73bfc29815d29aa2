"""`switchboard phones`: SIP passwords set, listed and removed through the real command."""

from __future__ import annotations

import asyncio
import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path

from switchboard.sip.saved_bindings import SavedBinding
from switchboard.store.bus import EventBus
from switchboard.store.sqlite import SqliteStore
from tests.cli.conftest import DEMO_CSV, Run

PASSWORD = "harbour-master-pw"  # noqa: S105 - a test fixture


def test_password_is_stored_as_hashes_only_and_audited(sb: Run, tmp_path: Path) -> None:
    sb("directory", "import", str(DEMO_CSV))
    out = sb("phones", "password", "51234", "--password-stdin", stdin=PASSWORD + "\n").out
    assert "SIP password set for 51234" in out
    assert sb("phones", "list").out.split() == ["51234", "Johan", "Ek"]
    database = (tmp_path / "data" / "switchboard.db").read_bytes()
    assert PASSWORD.encode() not in database
    audit = sb("audit", "--limit", "1").out
    assert "sip_credential_set" in audit
    assert PASSWORD not in audit
    with sqlite3.connect(tmp_path / "data" / "switchboard.db") as db:
        tables = {row[0] for row in db.execute("SELECT name FROM sqlite_master")}
    assert any("sip" in name for name in tables)


def test_a_phone_may_be_set_up_sha256_only(sb: Run, tmp_path: Path) -> None:
    """No MD5 hash is kept for it (issue 16): the column holds nothing, the list says so."""
    sb("directory", "import", str(DEMO_CSV))
    out = sb("phones", "password", "64000", "--password-stdin", stdin=PASSWORD + "\n").out
    assert "digest MD5)" in out  # the deployment's default list
    out = sb(
        "phones", "password", "51234", "--sha256-only", "--password-stdin", stdin=PASSWORD + "\n"
    ).out
    assert "digest SHA-256 only)" in out
    listed = sb("phones", "list").out.splitlines()
    assert [line.split() for line in listed] == [
        ["51234", "Johan", "Ek", "(SHA-256", "only)"],
        ["64000", "Reception", "Sotenäs"],
    ]
    with sqlite3.connect(tmp_path / "data" / "switchboard.db") as db:
        rows = dict(db.execute("SELECT user, ha1_md5 FROM sip_credentials").fetchall())
    assert rows["51234"] == ""
    assert len(rows["64000"]) == 32
    assert "SHA-256 only" in sb("audit", "--limit", "1").out


def test_weak_or_foreign_passwords_are_refused(sb: Run) -> None:
    sb("directory", "import", str(DEMO_CSV))
    short = sb("phones", "password", "51234", "--password-stdin", stdin="short\n", expect=1)
    assert "at least 10 characters" in short.err
    own = sb("phones", "password", "51234", "--password-stdin", stdin="x51234-abcdefg\n", expect=1)
    assert "extension" in own.err
    nobody = sb("phones", "password", "64999", "--password-stdin", stdin=PASSWORD, expect=1)
    assert "belongs to nobody" in nobody.err
    assert sb("phones", "list").out == ""


def test_without_a_terminal_the_password_must_come_from_stdin(sb: Run) -> None:
    sb("directory", "import", str(DEMO_CSV))
    result = sb("phones", "password", "51234", expect=1, stdin="")
    assert "--password-stdin" in result.err


def test_remove(sb: Run) -> None:
    sb("directory", "import", str(DEMO_CSV))
    sb("phones", "password", "51234", "--password-stdin", stdin=PASSWORD)
    assert "removed" in sb("phones", "remove", "51234").out
    assert sb("phones", "list").out == ""
    again = sb("phones", "remove", "51234", expect=1)
    assert "no SIP password" in again.err


def test_registered_shows_the_saved_registrations_that_have_not_expired(
    sb: Run, tmp_path: Path
) -> None:
    """What a restart would put back: written here through the store, as the keeper of a
    running server writes it; the contact (its user part may be a number) is not shown."""
    sb("directory", "import", str(DEMO_CSV))
    now = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)

    def saved(aor: str, seconds: int, host: str, contact: str) -> SavedBinding:
        expires = now + timedelta(seconds=seconds)
        return SavedBinding(aor, contact, expires, "c1", 1, "udp", host, 5062)

    async def write() -> None:
        store = await SqliteStore.open(tmp_path / "data" / "switchboard.db", EventBus())
        await store.save_bindings(
            {
                "51234": [saved("51234", 600, "2001:db8::7", "<sip:+46701740638@10.0.0.7>")],
                "64000": [saved("64000", -5, "192.0.2.9", "<sip:64000@192.0.2.9>")],
                "77777": [saved("77777", 60, "192.0.2.8", "<sip:77777@192.0.2.8>")],
            },
            now - timedelta(hours=1),
        )
        await store.close()

    asyncio.run(write())
    lines = sb("--now", now.isoformat(), "phones", "registered").out.splitlines()
    assert [line.split() for line in lines] == [
        ["51234", "Johan", "Ek", "udp:[2001:db8::7]:5062", "600", "s", "left"],
        [
            "77777",
            "(no",
            "one",
            "holds",
            "this",
            "extension)",
            "udp:192.0.2.8:5062",
            "60",
            "s",
            "left",
        ],
    ]
    assert "46701740638" not in "\n".join(lines)


def test_a_voicemail_pin_is_set_hashed_and_removed(sb: Run, tmp_path: Path) -> None:
    """Issue 13: the PIN that opens Anna's mailbox from her mobile; only its hash is kept."""
    sb("directory", "import", str(DEMO_CSV))
    out = sb("phones", "pin", "64123", "--pin-stdin", stdin="2580\n").out
    assert "Voicemail PIN set for Anna Berg" in out
    database = tmp_path / "data" / "switchboard.db"
    with sqlite3.connect(database) as db:
        rows = db.execute("SELECT pin_hash FROM voicemail_pins").fetchall()
    assert len(rows) == 1
    assert rows[0][0].startswith("$argon2id$")
    assert "2580" not in rows[0][0]
    assert "voicemail_pin_set" in sb("audit", "--limit", "1").out
    assert "removed" in sb("phones", "pin", "64123", "--remove").out
    again = sb("phones", "pin", "64123", "--remove", expect=1)
    assert "no voicemail PIN" in again.err


def test_an_obvious_or_missing_pin_is_refused(sb: Run) -> None:
    sb("directory", "import", str(DEMO_CSV))
    run = sb("phones", "pin", "64123", "--pin-stdin", stdin="1234\n", expect=1)
    assert "run of digits" in run.err
    short = sb("phones", "pin", "64123", "--pin-stdin", stdin="25\n", expect=1)
    assert "4-8 digits" in short.err
    assert "--pin-stdin" in sb("phones", "pin", "64123", stdin="", expect=1).err
    nobody = sb("phones", "pin", "64999", "--pin-stdin", stdin="2580\n", expect=1)
    assert "nobody" in nobody.err
