"""`switchboard phones`: SIP passwords set, listed and removed through the real command."""

from __future__ import annotations

import sqlite3
from pathlib import Path

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
