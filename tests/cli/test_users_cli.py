"""`switchboard users` through the real command: accounts, roles, passwords, tokens, demo."""

from __future__ import annotations

import sqlite3
from contextlib import closing
from pathlib import Path

from switchboard import cli
from switchboard.cli import users as cli_users
from tests.cli.conftest import DEMO_CSV, Run

PASSWORD = "a long quiet harbour"  # noqa: S105 - a test fixture


def _database(tmp_path: Path) -> bytes:
    return b"".join(p.read_bytes() for p in (tmp_path / "data").iterdir() if p.is_file())


def test_every_users_command_is_wired() -> None:
    assert set(cli.USERS_KEYS) == set(cli_users.KEYS)
    assert all(cli.COMMANDS[key] is cli.cmd_users for key in cli_users.KEYS)


def test_add_list_role_disable(sb: Run, tmp_path: Path) -> None:
    sb("directory", "import", str(DEMO_CSV))
    out = sb(
        "users",
        "add",
        "Anna",
        "--role",
        "employee",
        "--person",
        "anna.berg@sotenas.example",
        "--password-stdin",
        stdin=PASSWORD + "\n",
    ).out
    assert "anna" in out
    assert "Anna Berg" in out
    sb("users", "add", "boss", "--role", "manager", "--manages", "sotenas/IT", "--no-password")
    listed = sb("users", "list").out.splitlines()
    assert [line.split()[:3] for line in listed] == [
        ["anna", "employee", "active"],
        ["boss", "manager", "active"],
    ]
    assert "manages sotenas/it" in listed[1]
    sb("users", "role", "anna", "--role", "employee", "--role", "receptionist", "--by", "it")
    sb("users", "disable", "boss")
    listed = sb("users", "list").out.splitlines()
    assert listed[0].split()[1] == "employee,receptionist"
    assert listed[1].split()[2] == "disabled"
    audit = sb("audit", "--limit", "4").out
    for action in ("account_disabled", "account_roles_changed", "account_created"):
        assert action in audit
    assert PASSWORD.encode() not in _database(tmp_path)


def test_refusals_say_why_and_change_nothing(sb: Run) -> None:
    sb("directory", "import", str(DEMO_CSV))
    weak = sb(
        "users", "add", "anna", "--role", "admin", "--password-stdin", stdin="short\n", expect=1
    )
    assert "too short" in weak.err
    common = sb(
        "users",
        "add",
        "anna",
        "--role",
        "admin",
        "--password-stdin",
        stdin="password1234\n",
        expect=1,
    )
    assert "most common" in common.err
    nobody = sb(
        "users", "add", "x", "--role", "employee", "--person", "64999", "--no-password", expect=1
    )
    assert "nobody in the directory" in nobody.err
    no_tty = sb("users", "add", "anna", "--role", "admin", expect=1, stdin="")
    assert "--password-stdin" in no_tty.err
    bad_role = sb("users", "add", "anna", "--role", "superuser", "--no-password", expect=2)
    assert "invalid choice" in bad_role.err
    assert sb("users", "list").out == ""
    sb("users", "add", "anna", "--role", "admin", "--no-password")
    taken = sb("users", "add", "ANNA", "--role", "admin", "--no-password", expect=1)
    assert "taken" in taken.err
    missing = sb("users", "disable", "bertil", expect=1)
    assert "no account 'bertil'" in missing.err


def test_password_is_set_as_an_argon2id_hash(sb: Run, tmp_path: Path) -> None:
    sb("users", "add", "admin", "--role", "admin", "--no-password")
    sb("users", "password", "admin", "--password-stdin", stdin=PASSWORD + "\n")
    with closing(sqlite3.connect(tmp_path / "data" / "switchboard.db")) as db:
        (stored,) = db.execute("SELECT password_hash FROM accounts").fetchone()
    assert stored.startswith("$argon2id$v=19$m=19456,t=2,p=1$")
    assert "account_password_set" in sb("audit", "--limit", "1").out


def test_a_token_is_shown_once_listed_and_revoked(sb: Run, tmp_path: Path) -> None:
    sb("users", "add", "crm", "--role", "receptionist", "--no-password")
    out = sb("users", "token", "crm", "--name", "CRM sync").out
    token = out.splitlines()[-1]
    assert token.startswith("sbt_")
    assert len(token) == 47
    assert token.encode() not in _database(tmp_path)
    again = sb("users", "token", "crm", "--name", "CRM sync", expect=1)
    assert "already has a token" in again.err
    listed = sb("users", "tokens", "crm").out
    assert "CRM sync" in listed
    assert "never used" in listed
    assert token not in listed
    sb("users", "revoke-token", "crm", "--name", "CRM sync")
    assert sb("users", "tokens", "crm").out == ""
    gone = sb("users", "revoke-token", "crm", "--name", "CRM sync", expect=1)
    assert "not found" in gone.err


def test_demo_creates_its_accounts_once(sb: Run) -> None:
    out = sb("demo", "--seed-only").out
    assert "Demo accounts" in out
    for username, password in (
        ("anna", "kaffe-och-bulle"),
        ("reception", "vaxeln-svarar-alltid"),
        ("admin", "nyckelknippa-demo"),
    ):
        assert any(username in line and password in line for line in out.splitlines())
    assert "signs in as Anna Berg" in out
    listed = sb("users", "list").out.splitlines()
    assert [line.split()[:2] for line in listed] == [
        ["admin", "admin"],
        ["anna", "employee"],
        ["reception", "receptionist"],
    ]
    entries = sb("audit", "--limit", "1000").out.count("account_")
    sb("demo", "--seed-only")
    assert sb("audit", "--limit", "1000").out.count("account_") == entries


def test_unbind_sso_forgets_the_bound_identity_and_is_audited(sb: Run, tmp_path: Path) -> None:
    sb("users", "add", "maria", "--role", "employee", "--no-password")
    with closing(sqlite3.connect(tmp_path / "data" / "switchboard.db")) as conn, conn:
        (account_id,) = conn.execute(
            "SELECT account_id FROM accounts WHERE username = 'maria'"
        ).fetchone()
        conn.execute(
            "INSERT INTO sso_identities VALUES ('https://login.example/t/v2.0', 'sub-1', ?, "
            "'2026-12-01T08:00:00+00:00')",
            (account_id,),
        )
    assert "Unbound maria" in sb("users", "unbind-sso", "maria").out
    assert "sso_identity_unbound" in sb("audit", "--limit", "10").out
    assert "nothing changed" in sb("users", "unbind-sso", "maria").out
    assert "no account" in sb("users", "unbind-sso", "nobody", expect=1).err
