"""SIP credentials end to end on the real SQLite store: engine -> store -> event -> view,
the digest check reading the view, and the migration of a database from schema 1."""

# ruff: noqa: S105 - the passwords here are test fixtures, not secrets

from __future__ import annotations

import hashlib
import sqlite3
from contextlib import closing
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from switchboard.app import open_engine
from switchboard.clock import FixedClock
from switchboard.live.engine import EngineError
from switchboard.settings.config import load_settings
from switchboard.sip.digest import DigestAuthenticator, make_credential, parse_digest
from switchboard.store import codec, tables
from switchboard.store.bus import EventBus
from switchboard.store.schema import MIGRATIONS, migrate
from switchboard.store.sqlite import SqliteStore
from tests.contract.values import ADMIN, T0, person

REPO = Path(__file__).resolve().parents[2]
NOW = datetime(2026, 11, 23, 10, 0, tzinfo=ZoneInfo("Europe/Stockholm"))
REALM = "sip.sotenas.example"
PASSWORD = "rätt häst batteri"


def register_answer(challenge: str, user: str, password: str) -> str:
    """A phone's Authorization value, computed with hashlib as a client would."""
    p = parse_digest(challenge)
    assert p is not None
    ha1 = hashlib.sha256(f"{user}:{REALM}:{password}".encode()).hexdigest()
    ha2 = hashlib.sha256(b"REGISTER:sip:sotenas.example").hexdigest()
    response = hashlib.sha256(f"{ha1}:{p['nonce']}:00000001:c1:auth:{ha2}".encode()).hexdigest()
    return (
        f'Digest username="{user}", realm="{REALM}", nonce="{p["nonce"]}", '
        f'uri="sip:sotenas.example", response="{response}", algorithm=SHA-256, '
        'qop=auth, nc=00000001, cnonce="c1"'
    )


async def test_a_password_set_through_the_engine_authenticates_and_survives_a_restart(
    tmp_path: Path,
) -> None:
    settings = load_settings(REPO / "configs" / "sml.toml")
    csv = (REPO / "configs" / "demo" / "sml-people.csv").read_bytes()
    auth = DigestAuthenticator(REALM, b"integration-test-secret")
    async with open_engine(settings, tmp_path, FixedClock(NOW)) as engine:
        await engine.import_directory(csv, "demo.csv", "test")
        assert engine.credential("64123") is None
        credential = await engine.set_sip_password("64123", PASSWORD, REALM, ADMIN)
        assert engine.credential("64123") == credential
        value = register_answer(auth.challenges(0.0)[0], "64123", PASSWORD)
        outcome = auth.verify("REGISTER", value, 1.0, engine.credential)
        assert (outcome.ok, outcome.user) == (True, "64123")
        wrong = register_answer(auth.challenges(0.0)[0], "64123", "not the password")
        assert not auth.verify("REGISTER", wrong, 1.0, engine.credential).ok
        audit = await engine.store.audit(1)
        assert audit[0].action == "sip_credential_set"
        assert credential.ha1_sha256 not in audit[0].detail
    async with open_engine(settings, tmp_path, FixedClock(NOW)) as reopened:
        assert reopened.credential("64123") == credential
        await reopened.remove_sip_password("64123", ADMIN)
        assert reopened.credential("64123") is None
        with pytest.raises(EngineError, match="no SIP password"):
            await reopened.remove_sip_password("64123", ADMIN)


async def test_the_engine_refuses_extensions_of_nobody_and_weak_passwords(tmp_path: Path) -> None:
    settings = load_settings(REPO / "configs" / "sml.toml")
    csv = (REPO / "configs" / "demo" / "sml-people.csv").read_bytes()
    async with open_engine(settings, tmp_path, FixedClock(NOW)) as engine:
        await engine.import_directory(csv, "demo.csv", "test")
        version = await engine.store.version()
        with pytest.raises(EngineError, match="belongs to nobody"):
            await engine.set_sip_password("69999", PASSWORD, REALM, ADMIN)
        with pytest.raises(EngineError, match="at least"):
            await engine.set_sip_password("64123", "short", REALM, ADMIN)
        with pytest.raises(EngineError, match="extension itself"):
            await engine.set_sip_password("64123", "my64123password", REALM, ADMIN)
        assert await engine.store.version() == version


async def test_removing_the_person_clears_the_live_credential(tmp_path: Path) -> None:
    settings = load_settings(REPO / "configs" / "sml.toml")
    csv = (REPO / "configs" / "demo" / "sml-people.csv").read_bytes()
    async with open_engine(settings, tmp_path, FixedClock(NOW)) as engine:
        await engine.import_directory(csv, "demo.csv", "test")
        anna = engine.find("64123")
        await engine.set_sip_password("64123", PASSWORD, REALM, ADMIN)
        await engine.store.remove_person(anna.person_id, ADMIN, NOW)
        assert engine.credential("64123") is None
        assert not engine.view.stale


async def test_a_schema_1_database_with_people_migrates_and_keeps_them(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    with closing(sqlite3.connect(path, isolation_level=None)) as conn:
        assert migrate(conn, path, MIGRATIONS[:1]) == 1
        conn.execute(tables.INSERT_PERSON, codec.person_row(person(1)))
    store = await SqliteStore.open(path, EventBus())
    try:
        state = await store.load()
        assert state.people == (person(1),)
        assert state.sip_credentials == {}
        credential = make_credential("64001", REALM, PASSWORD)
        await store.set_sip_credential(credential, ADMIN, T0)
        assert await store.sip_credentials() == {"64001": credential}
    finally:
        await store.close()
    with closing(sqlite3.connect(path)) as conn:
        assert conn.execute("PRAGMA user_version").fetchone() == (MIGRATIONS[-1].version,)
