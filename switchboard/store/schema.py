"""The SQLite schema as an ordered list of migrations, tracked by ``PRAGMA user_version``.

Why migrations and not ``CREATE TABLE IF NOT EXISTS``: a deployed switchboard keeps its
database across upgrades, so each schema change is a numbered step applied exactly once, in
one transaction with the new ``user_version`` (SQLite makes both transactional), so a crash
mid-upgrade leaves the old schema whole. A database written by a newer switchboard is
refused rather than guessed at: its tables may mean things this code does not know.

Append new migrations at the end; never edit one that has shipped.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from pathlib import Path

from switchboard.store.protocol import StoreError


@dataclass(frozen=True, slots=True)
class Migration:
    version: int
    """The ``user_version`` after this migration."""
    description: str
    statements: tuple[str, ...]


MIGRATIONS: tuple[Migration, ...] = (
    Migration(
        1,
        "people, availability, templates, policy exceptions, audit trail, version",
        (
            # email_key is lower(email) computed in Python: SQLite's lower() folds ASCII only,
            # and the policy code compares addresses with str.lower() (subject_keys).
            """
            CREATE TABLE people (
                person_id TEXT PRIMARY KEY,
                name TEXT NOT NULL,
                extension TEXT UNIQUE,
                mobile TEXT,
                email TEXT,
                email_key TEXT UNIQUE,
                organisation TEXT NOT NULL,
                unit TEXT NOT NULL,
                title TEXT NOT NULL,
                language TEXT NOT NULL,
                hide_mobile INTEGER NOT NULL CHECK (hide_mobile IN (0, 1)),
                secret_mobile INTEGER NOT NULL CHECK (secret_mobile IN (0, 1)),
                hide_extension INTEGER NOT NULL CHECK (hide_extension IN (0, 1)),
                arrangement TEXT NOT NULL,
                hours TEXT,
                ring_after_hours INTEGER NOT NULL CHECK (ring_after_hours IN (0, 1)),
                tentative_diverts INTEGER NOT NULL CHECK (tentative_diverts IN (0, 1)),
                CHECK ((email IS NULL) = (email_key IS NULL))
            )
            """,
            """
            CREATE TABLE manual_status (
                person_id TEXT PRIMARY KEY
                    REFERENCES people (person_id) ON DELETE CASCADE,
                set_by TEXT NOT NULL,
                set_at TEXT NOT NULL,
                starts TEXT,
                until TEXT,
                referral_reason TEXT,
                referral_kind TEXT,
                referral_until TEXT,
                referral_text TEXT,
                referral_source TEXT,
                referral_divert_to TEXT,
                CHECK ((referral_reason IS NULL) = (referral_kind IS NULL)),
                CHECK ((referral_reason IS NULL) = (referral_source IS NULL))
            )
            """,
            """
            CREATE TABLE calendar_segments (
                person_id TEXT NOT NULL REFERENCES people (person_id) ON DELETE CASCADE,
                source TEXT NOT NULL,
                position INTEGER NOT NULL,
                starts TEXT NOT NULL,
                ends TEXT NOT NULL,
                busy TEXT NOT NULL,
                reason TEXT NOT NULL,
                kind TEXT NOT NULL,
                label TEXT,
                private INTEGER NOT NULL CHECK (private IN (0, 1)),
                PRIMARY KEY (person_id, source, position)
            )
            """,
            # id keeps the order templates were first saved in; replacing one keeps its place.
            """
            CREATE TABLE templates (
                id INTEGER PRIMARY KEY,
                person_id TEXT NOT NULL REFERENCES people (person_id) ON DELETE CASCADE,
                name TEXT NOT NULL,
                reason TEXT NOT NULL,
                kind TEXT NOT NULL,
                duration_seconds REAL,
                text TEXT,
                UNIQUE (person_id, name)
            )
            """,
            # Exceptions name a person by e-mail or extension, not by person_id, so they
            # outlive a re-import that changes ids; subject_key is the lower-cased subject.
            """
            CREATE TABLE policy_exceptions (
                id INTEGER PRIMARY KEY,
                subject TEXT NOT NULL,
                subject_key TEXT NOT NULL,
                rule TEXT NOT NULL,
                reason TEXT NOT NULL,
                granted_by TEXT NOT NULL,
                granted_at TEXT NOT NULL,
                UNIQUE (subject_key, rule)
            )
            """,
            """
            CREATE TABLE audit (
                seq INTEGER PRIMARY KEY AUTOINCREMENT,
                at TEXT NOT NULL,
                actor TEXT NOT NULL,
                action TEXT NOT NULL,
                subject TEXT NOT NULL,
                detail TEXT NOT NULL
            )
            """,
            "CREATE INDEX audit_subject ON audit (subject, seq)",
            """
            CREATE TABLE store_version (
                id INTEGER PRIMARY KEY CHECK (id = 1),
                version INTEGER NOT NULL CHECK (version >= 0)
            )
            """,
            "INSERT INTO store_version (id, version) VALUES (1, 0)",
        ),
    ),
    Migration(
        2,
        "SIP digest credentials per extension (HA1 hashes only, never a password)",
        (
            # Keyed by extension, the SIP user name. person_id ties the credential to the
            # person who set it: removing them removes it (cascade), and renumbering them
            # deletes it (tables.write_people), so an extension handed to someone else
            # never comes with the previous holder's password.
            """
            CREATE TABLE sip_credentials (
                user TEXT PRIMARY KEY,
                person_id TEXT NOT NULL REFERENCES people (person_id) ON DELETE CASCADE,
                ha1_md5 TEXT NOT NULL,
                ha1_sha256 TEXT NOT NULL,
                changed_at TEXT NOT NULL
            )
            """,
            "CREATE INDEX sip_credentials_person ON sip_credentials (person_id)",
        ),
    ),
    Migration(
        3,
        "web accounts, sessions and API tokens (issue 5; secrets stored as hashes only)",
        (
            # roles and manages are JSON arrays of strings. person_id is SET NULL when the
            # person leaves the directory: the account stays, but no longer is anybody, so
            # it loses every "self" right at once.
            """
            CREATE TABLE accounts (
                account_id TEXT PRIMARY KEY,
                username TEXT NOT NULL UNIQUE,
                display_name TEXT NOT NULL,
                person_id TEXT REFERENCES people (person_id) ON DELETE SET NULL,
                roles TEXT NOT NULL,
                manages TEXT NOT NULL,
                disabled INTEGER NOT NULL CHECK (disabled IN (0, 1)),
                password_hash TEXT,
                created_at TEXT NOT NULL,
                changed_at TEXT NOT NULL
            )
            """,
            "CREATE INDEX accounts_person ON accounts (person_id)",
            """
            CREATE TABLE sessions (
                session_id_hash TEXT PRIMARY KEY,
                account_id TEXT NOT NULL REFERENCES accounts (account_id) ON DELETE CASCADE,
                csrf_token TEXT NOT NULL,
                created_at TEXT NOT NULL,
                last_seen TEXT NOT NULL,
                absolute_expiry TEXT NOT NULL
            )
            """,
            "CREATE INDEX sessions_account ON sessions (account_id)",
            "CREATE INDEX sessions_expiry ON sessions (absolute_expiry)",
            """
            CREATE TABLE api_tokens (
                token_hash TEXT PRIMARY KEY,
                account_id TEXT NOT NULL REFERENCES accounts (account_id) ON DELETE CASCADE,
                name TEXT NOT NULL,
                created_at TEXT NOT NULL,
                last_used TEXT,
                UNIQUE (account_id, name)
            )
            """,
        ),
    ),
    Migration(
        4,
        "call records and call-list requests (R19)",
        (
            # No foreign key to people: a batch of records must not fail because someone
            # left the directory between the call and the flush, and a manager may still
            # need the calls of someone who left. Retention deletes them (recorder).
            """
            CREATE TABLE call_records (
                id INTEGER PRIMARY KEY,
                call_id_hash TEXT NOT NULL,
                started_at TEXT NOT NULL,
                ended_at TEXT,
                direction TEXT NOT NULL CHECK (direction IN ('in', 'out')),
                person_id TEXT NOT NULL,
                other_party TEXT,
                action TEXT NOT NULL,
                outcome INTEGER NOT NULL
            )
            """,
            "CREATE INDEX call_records_person ON call_records (person_id, started_at)",
            "CREATE INDEX call_records_started ON call_records (started_at)",
            """
            CREATE TABLE call_list_requests (
                request_id INTEGER PRIMARY KEY AUTOINCREMENT,
                person_id TEXT NOT NULL,
                requester_id TEXT NOT NULL,
                requester TEXT NOT NULL,
                period_start TEXT NOT NULL,
                period_end TEXT NOT NULL,
                reason TEXT NOT NULL,
                created_at TEXT NOT NULL,
                status TEXT NOT NULL CHECK (status IN ('pending', 'approved', 'rejected')),
                decided_by TEXT,
                decided_at TEXT,
                comment TEXT,
                expires_at TEXT,
                downloads_left INTEGER NOT NULL CHECK (downloads_left >= 0)
            )
            """,
            "CREATE INDEX call_list_requests_requester ON call_list_requests (requester_id)",
            "CREATE INDEX audit_actor ON audit (actor, seq)",
        ),
    ),
    Migration(
        5,
        "voicemail messages and taken messages (issue 5; the audio is in the spool)",
        (
            # A row exists only once its audio file is whole (spool.save_message writes the
            # file first) and is deleted before the file: a row always has its file. The
            # caller is E.164, 'secret' (R18) or NULL. Removing a person removes their rows;
            # the spool's start-up sweep then removes the files nobody refers to.
            """
            CREATE TABLE voice_messages (
                message_id TEXT PRIMARY KEY,
                person_id TEXT NOT NULL REFERENCES people (person_id) ON DELETE CASCADE,
                received_at TEXT NOT NULL,
                caller TEXT,
                duration_ms INTEGER NOT NULL CHECK (duration_ms >= 0),
                heard INTEGER NOT NULL CHECK (heard IN (0, 1))
            )
            """,
            "CREATE INDEX voice_messages_person ON voice_messages (person_id, received_at)",
            """
            CREATE TABLE taken_messages (
                message_id TEXT PRIMARY KEY,
                person_id TEXT NOT NULL REFERENCES people (person_id) ON DELETE CASCADE,
                taken_at TEXT NOT NULL,
                taken_by TEXT NOT NULL,
                caller_name TEXT NOT NULL,
                caller_number TEXT,
                text TEXT NOT NULL,
                call_back INTEGER NOT NULL CHECK (call_back IN (0, 1)),
                email TEXT NOT NULL
            )
            """,
            "CREATE INDEX taken_messages_person ON taken_messages (person_id, taken_at)",
        ),
    ),
    Migration(
        6,
        "single sign-on identities bound to accounts (issue 5)",
        (
            # An identity is the provider's (iss, sub): stable, never reassigned, unlike a
            # username or an e-mail address. One per account and provider; an account that
            # goes takes its bindings with it.
            """
            CREATE TABLE sso_identities (
                issuer TEXT NOT NULL,
                subject TEXT NOT NULL,
                account_id TEXT NOT NULL REFERENCES accounts (account_id) ON DELETE CASCADE,
                bound_at TEXT NOT NULL,
                PRIMARY KEY (issuer, subject),
                UNIQUE (account_id, issuer)
            )
            """,
        ),
    ),
    Migration(
        7,
        "SIP registrations kept across restarts (issue 3)",
        (
            # One row per binding; position keeps the registrar's order (highest q first,
            # then registration order). expires_at is ISO UTC, as every instant here, so
            # expired rows are found by comparing text. Not tied to people: the address of
            # record is the extension a phone registered, checked again at restore.
            """
            CREATE TABLE sip_bindings (
                aor TEXT NOT NULL,
                position INTEGER NOT NULL CHECK (position >= 0),
                contact TEXT NOT NULL,
                expires_at TEXT NOT NULL,
                call_id TEXT NOT NULL,
                cseq INTEGER NOT NULL CHECK (cseq >= 0),
                transport TEXT NOT NULL,
                host TEXT NOT NULL,
                port INTEGER NOT NULL CHECK (port BETWEEN 1 AND 65535),
                q REAL CHECK (q IS NULL OR q BETWEEN 0 AND 1),
                PRIMARY KEY (aor, position)
            )
            """,
            "CREATE INDEX sip_bindings_expiry ON sip_bindings (expires_at)",
        ),
    ),
    Migration(
        8,
        "voicemail PINs for listening by phone from outside (issue 13)",
        (
            # The PIN belongs to the person, not to a number: a mobile number that passes
            # to someone else with the job does not take the mailbox with it. Only an
            # argon2id hash is kept; removing the person removes it.
            """
            CREATE TABLE voicemail_pins (
                person_id TEXT PRIMARY KEY REFERENCES people (person_id) ON DELETE CASCADE,
                pin_hash TEXT NOT NULL,
                set_at TEXT NOT NULL
            )
            """,
        ),
    ),
    Migration(
        9,
        "the audit trail records the decision, the origin and old -> new values (issue 17)",
        (
            # Added with defaults, so every entry written before keeps its row and reads as
            # an allowed change of unknown origin. changes is a JSON array of
            # [field, old, new] triples.
            "ALTER TABLE audit ADD COLUMN decision TEXT NOT NULL DEFAULT 'allowed'",
            "ALTER TABLE audit ADD COLUMN via TEXT NOT NULL DEFAULT ''",
            "ALTER TABLE audit ADD COLUMN source TEXT NOT NULL DEFAULT ''",
            "ALTER TABLE audit ADD COLUMN request_id TEXT NOT NULL DEFAULT ''",
            "ALTER TABLE audit ADD COLUMN changes TEXT NOT NULL DEFAULT '[]'",
        ),
    ),
    Migration(
        10,
        "the change feed, which processes that did not make a write follow (issue 14)",
        (
            # One row per published event, in the write's transaction; AUTOINCREMENT so a
            # number is never reused after pruning (store/feed.py).
            """
            CREATE TABLE changes (
                seq INTEGER PRIMARY KEY AUTOINCREMENT,
                event TEXT NOT NULL
            )
            """,
        ),
    ),
    Migration(
        11,
        "calendars employees connect from their page (issue 16)",
        (
            # One per person; address is the feed URL (a secret, shown masked everywhere)
            # or the Microsoft 365 mailbox. Removing the person removes it.
            """
            CREATE TABLE own_calendars (
                person_id TEXT PRIMARY KEY REFERENCES people (person_id) ON DELETE CASCADE,
                kind TEXT NOT NULL CHECK (kind IN ('ics', 'graph')),
                address TEXT NOT NULL,
                connected_by TEXT NOT NULL,
                connected_at TEXT NOT NULL
            )
            """,
        ),
    ),
    Migration(
        12,
        "planned referrals beside the current manual status (issue 16)",
        (
            # The manual status's columns plus an id: a plan is stored as the status it
            # amounts to (store/codec.py). ``until`` stays NULL: a plan ends at its
            # referral's return time.
            """
            CREATE TABLE planned_referrals (
                plan_id TEXT PRIMARY KEY,
                person_id TEXT NOT NULL REFERENCES people (person_id) ON DELETE CASCADE,
                set_by TEXT NOT NULL,
                set_at TEXT NOT NULL,
                starts TEXT NOT NULL,
                until TEXT,
                referral_reason TEXT NOT NULL,
                referral_kind TEXT NOT NULL,
                referral_until TEXT,
                referral_text TEXT,
                referral_source TEXT NOT NULL,
                referral_divert_to TEXT
            )
            """,
            "CREATE INDEX planned_referrals_person ON planned_referrals (person_id)",
            # A referral planned before this version was the person's one manual status: it
            # becomes a plan, and the person has no current status until they set one.
            """
            INSERT INTO planned_referrals
            SELECT lower(hex(randomblob(8))), person_id, set_by, set_at, starts, NULL,
                   referral_reason, referral_kind, referral_until, referral_text,
                   referral_source, referral_divert_to
            FROM manual_status
            WHERE starts IS NOT NULL AND referral_reason IS NOT NULL
            """,
            "DELETE FROM manual_status WHERE starts IS NOT NULL AND referral_reason IS NOT NULL",
        ),
    ),
    Migration(
        13,
        "the audit trail keeps each entry's words for the pages' languages (issue 16)",
        (
            # JSON (``audit_english.words_json``); NULL for the entries written before,
            # which the pages show in English, as they were written.
            "ALTER TABLE audit ADD COLUMN words TEXT",
        ),
    ),
)

LATEST = MIGRATIONS[-1].version


def user_version(conn: sqlite3.Connection) -> int:
    row = conn.execute("PRAGMA user_version").fetchone()
    return int(row[0])


def migrate(
    conn: sqlite3.Connection, path: Path, migrations: tuple[Migration, ...] = MIGRATIONS
) -> int:
    """Bring the database at ``path`` up to the last of ``migrations``; return its version.

    ``conn`` must be in autocommit mode (``isolation_level=None``) so the explicit
    ``BEGIN IMMEDIATE`` here is the only transaction; the immediate lock also keeps two
    processes from migrating the same file at once.
    """
    latest = migrations[-1].version if migrations else 0
    try:
        conn.execute("BEGIN IMMEDIATE")
    except sqlite3.Error as exc:
        raise StoreError(f"{path}: cannot lock the database to check its schema: {exc}") from exc
    try:
        found = user_version(conn)
        if found > latest:
            raise StoreError(
                f"{path}: the database has schema version {found}, but this switchboard "
                f"knows only up to version {latest}; it was written by a newer release. "
                "Upgrade switchboard, or point it at another database file."
            )
        for migration in migrations:
            if migration.version <= found:
                continue
            for statement in migration.statements:
                conn.execute(statement)
            # PRAGMA cannot take a bound parameter; the value is our own integer.
            conn.execute(f"PRAGMA user_version = {int(migration.version)}")
        conn.execute("COMMIT")
    except BaseException as exc:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        if isinstance(exc, StoreError) or not isinstance(exc, Exception):
            raise
        raise StoreError(f"{path}: schema migration failed, nothing was changed: {exc}") from exc
    return latest
