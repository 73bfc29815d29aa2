"""The audit trail's words (issue 16): each kind of entry as catalog keys and values, the
English ``detail`` rendered from them exactly as the store wrote it before, every key in
all three catalogs, nothing secret inside, and the page saying them in its language."""

from __future__ import annotations

import string
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from switchboard.accounts.model import Account, Role
from switchboard.calls.model import RequestStatus
from switchboard.directory.hours import WorkingHours
from switchboard.directory.model import Arrangement, Person, PolicyRule
from switchboard.http.audit_view import audit_row, say
from switchboard.http.web_kit import load_web_kit
from switchboard.presence.model import (
    BusyClass,
    CalendarSegment,
    ManualStatus,
    PlannedReferral,
    Reason,
    Referral,
    ReferralKind,
    Source,
    Template,
)
from switchboard.store import audit_phrases, audit_words, tables
from switchboard.store.audit import (
    Arg,
    ArgKind,
    AuditDecision,
    AuditEntry,
    Change,
    ChangeWords,
    EntryWords,
    Phrase,
    Words,
)
from switchboard.store.audit_english import ENGLISH, english, words_from_json, words_json
from switchboard.store.sqlite_accounts import account_changes
from switchboard.voicemail.model import EmailStatus

STOCKHOLM = ZoneInfo("Europe/Stockholm")
T0 = datetime(2026, 12, 7, 11, 0, tzinfo=UTC)
NOON = datetime(2026, 12, 7, 12, 0, tzinfo=UTC)
LUNCH = ManualStatus(
    Referral(Reason.LUNCH, until=NOON, text="Åter 13", divert_to="+46709876543"),
    "anna",
    T0,
)
PLAN = PlannedReferral(
    "p1", Referral(Reason.HOLIDAY, ReferralKind.OPEN, NOON + timedelta(days=7)), "anna", T0, NOON
)
ANNA = Person("p1", "Anna Berg", "64123", "+46701234567", "anna@x.example", "org")
SECRET = Person("p2", "Fatima Haddad", "13456", "+46701740623", None, "org", secret_mobile=True)
ACCOUNT = Account("a1", "anna", "Anna Berg", None, frozenset({Role.EMPLOYEE}))
SEGMENT = CalendarSegment(T0, NOON, BusyClass.BUSY, Reason.MEETING)
TEMPLATE = Template("Lunch", Reason.LUNCH, duration=timedelta(minutes=45), text="Ring 0701234567")

KINDS: list[tuple[str, Callable[[], Words], str]] = [
    ("cleared", lambda: audit_words.manual_change(None), "cleared"),
    (
        "available",
        lambda: audit_words.manual_change(ManualStatus(None, "anna", T0, until=NOON)),
        "available until 2026-12-07T12:00:00+00:00",
    ),
    (
        "referral",
        lambda: audit_words.manual_change(LUNCH),
        "closed referral: lunch (source manual) until 2026-12-07T12:00:00+00:00, with a note, "
        "diverted",
    ),
    (
        "plan",
        lambda: audit_words.plan_change(PLAN) + audit_words.plans_dropped(["p0"]),
        "plan p1: open referral: holiday (source manual) until 2026-12-14T12:00:00+00:00 from "
        "2026-12-07T12:00:00+00:00; ended plans dropped: p0",
    ),
    ("plans_ended", lambda: audit_phrases.plans_ended(["p0", "p2"]), "plans ended: p0, p2"),
    (
        "calendar",
        lambda: audit_words.calendar_change("ics:work", (SEGMENT,)),
        "source ics:work: 1 segment(s) from 2026-12-07T11:00:00+00:00 to 2026-12-07T12:00:00+00:00",
    ),
    ("calendar_none", lambda: audit_words.calendar_change("ics", ()), "source ics: no segments"),
    ("template_saved", lambda: audit_phrases.template_saved(TEMPLATE), "template 'Lunch': lunch"),
    (
        "template_deleted",
        lambda: audit_phrases.template_deleted("It's"),
        'template "It\'s" deleted',
    ),
    ("person_created", lambda: audit_words.person_change(None, ANNA), "created"),
    (
        "person_updated",
        lambda: audit_words.person_change(ANNA, replace(ANNA, unit="IT", name="A")),
        "updated: name, unit",
    ),
    ("person_unchanged", lambda: audit_words.person_change(ANNA, ANNA), "saved without changes"),
    (
        "person_removed",
        lambda: audit_phrases.person_removed(True),
        "removed, with their manual status, plans, calendar and templates and SIP password",
    ),
    ("imported", lambda: tables.import_summary(1, 2, 3), "1 created, 2 updated, 3 unchanged"),
    (
        "sip_set",
        lambda: audit_phrases.sip_set("64123", True),
        "extension 64123: SIP password set (SHA-256 only)",
    ),
    (
        "exception_granted",
        lambda: audit_phrases.exception_granted(PolicyRule.HIDE_EXTENSION),
        "rule hide_extension lifted, with a reason",
    ),
    (
        "exception_revoked",
        lambda: audit_phrases.exception_revoked(PolicyRule.HIDE_EXTENSION, "HR 0701234567"),
        "rule hide_extension applies again; reason: HR [number]",
    ),
    (
        "account_created",
        lambda: audit_phrases.account_created({Role.MANAGER, Role.EMPLOYEE}, False),
        "created with roles employee, manager, no password",
    ),
    (
        "account_no_roles",
        lambda: audit_phrases.account_created(set(), True),
        "created with roles none",
    ),
    (
        "roles_changed",
        lambda: account_changes(ACCOUNT, _with_roles(Role.ADMIN))[0][1],
        "roles employee -> admin",
    ),
    (
        "password_set",
        lambda: audit_phrases.password_set(True, 2),
        "password set; 2 session(s) ended",
    ),
    ("token_created", lambda: audit_phrases.token_created("crm"), "token 'crm' created"),
    (
        "sso_bound",
        lambda: audit_phrases.sso_bound("https://idp"),
        "bound to the single sign-on identity of https://idp",
    ),
    ("sso_unbound_one", lambda: audit_phrases.sso_unbound(1), "1 single sign-on identity unbound"),
    (
        "sso_unbound_many",
        lambda: audit_phrases.sso_unbound(2),
        "2 single sign-on identities unbound",
    ),
    ("signed_in", lambda: audit_phrases.SESSION_STARTED, "session started"),
    ("wrong_password", lambda: audit_phrases.WRONG_PASSWORD, "wrong password"),
    (
        "sign_in_limit",
        lambda: audit_phrases.sign_in_limit(False, 5, 30, 100),
        "5 failed sign-ins in a row from addresses this account has not signed in from: each "
        "further attempt from them waits 30 s (at most 100 failures an hour in all); the real "
        "user's other addresses and single sign-on are not slowed",
    ),
    (
        "call_list_requested",
        lambda: audit_phrases.call_list_requested(3, T0, NOON, "Review"),
        "call list #3 requested for 2026-12-07T11:00:00+00:00 to 2026-12-07T12:00:00+00:00; "
        "reason: Review",
    ),
    (
        "call_list_decided",
        lambda: audit_phrases.call_list_decided(3, RequestStatus.APPROVED, "ok"),
        "call list #3 approved; comment: ok",
    ),
    (
        "call_list_downloaded",
        lambda: audit_phrases.call_list_downloaded(3, 7, T0, NOON, 1),
        "call list #3 downloaded: 7 call(s) of 2026-12-07T11:00:00+00:00 to "
        "2026-12-07T12:00:00+00:00; 1 download(s) left",
    ),
    (
        "voicemail",
        lambda: audit_phrases.voicemail_received("m1", 2000),
        "voicemail m1 (2000 ms) received",
    ),
    (
        "name_clip",
        lambda: audit_phrases.recording("name_clip", True, 900),
        "name clip set (900 ms)",
    ),
    (
        "message_emailed",
        lambda: audit_phrases.message_emailed("m2", EmailStatus.FAILED),
        "message m2: e-mail failed",
    ),
    (
        "access_refused",
        lambda: _words(audit_phrases.access_refused("csrf", "POST /api", "no token", limit=500)),
        "csrf: POST /api: no token",
    ),
]


def _with_roles(*roles: Role) -> Account:
    return Account("a1", "anna", "Anna Berg", None, frozenset(roles))


def _words(said: Words | str) -> Words:
    assert not isinstance(said, str)
    return said


def _catalogs() -> dict[str, dict[str, str]]:
    return {k: dict(v) for k, v in load_web_kit().catalogs.items()}


def _names(template: str) -> set[str]:
    return {f for _, f, _, _ in string.Formatter().parse(template) if f}


@pytest.mark.parametrize(("made", "expected"), [k[1:] for k in KINDS], ids=[k[0] for k in KINDS])
def test_each_kind_of_entry_reads_in_english_as_it_always_has(
    made: Callable[[], Words], expected: str
) -> None:
    said = made()
    assert english(said) == expected
    catalogs = _catalogs()
    for phrase in said:
        for language, strings in catalogs.items():
            assert phrase.key in strings, (language, phrase.key)
    for language in catalogs:
        assert say(said, catalogs[language], STOCKHOLM) is not None, language


def test_every_key_the_store_writes_is_in_every_catalog() -> None:
    """And each translation names only values the words carry (a typo would show the
    entry in English, not break the page, but it is a bug)."""
    for language, strings in _catalogs().items():
        missing = sorted(k for k in ENGLISH if k not in strings)
        assert missing == [], (language, missing)
        for key, text in ENGLISH.items():
            assert _names(strings[key]) <= _names(text.replace("!r", "")), (language, key)


def test_enum_values_the_words_name_have_catalog_words() -> None:
    catalogs = _catalogs()
    enums = {
        "reason": Reason,
        "audit.kind": ReferralKind,
        "audit.source": Source,
        "role": Role,
        "rule": PolicyRule,
        "audit.request": RequestStatus,
        "audit.email": EmailStatus,
        "audit.arrangement": Arrangement,
    }
    for language, strings in catalogs.items():
        for prefix, enum in enums.items():
            for member in enum:
                assert f"{prefix}.{member.value}" in strings, (language, prefix, member)


def test_the_changes_of_a_referral_keep_the_note_as_typed_and_the_number_masked() -> None:
    changes = audit_words.manual_changes(None, LUNCH)
    english_changes = [audit_words.english_change(c) for c in changes]
    assert english_changes == [
        Change(
            "status",
            "",
            "closed referral: lunch (source manual) until 2026-12-07T12:00:00+00:00, "
            "with a note, diverted",
        ),
        Change("note", "", "Åter 13"),
        Change("divert_to", "", "+467******43"),
    ]
    assert changes[1].new == "Åter 13"  # the user's words: shown as typed, in no language
    text = words_json(EntryWords(audit_words.manual_change(LUNCH), changes))
    assert text is not None
    assert "+46709876543" not in text


def test_a_secret_mobile_never_enters_the_words() -> None:
    """R18: ``[secret]`` on both sides, in words (the page says it in its language)."""
    new = replace(SECRET, mobile="+46701999999")
    changes = audit_words.person_changes(SECRET, new)
    mobile = next(c for c in changes if english(c.field) == "mobile")
    assert english(mobile.old) == english(mobile.new) == "[secret]"
    text = words_json(EntryWords(audit_words.person_change(SECRET, new), changes))
    assert text is not None
    assert "0701740623" not in text
    assert "0701999999" not in text
    template = audit_words.template_words(TEMPLATE)
    assert english(template) == "lunch, closed, 45 min, note: Ring [number]"


def test_the_english_of_an_entry_and_its_changes_come_from_its_words() -> None:
    row = tables.entry(
        T0,
        "root",
        "account_created",
        "account:anna",
        audit_phrases.account_created(ACCOUNT.roles, False),
        (*audit_words.account_changes(None, ACCOUNT), Change("legacy", "a", "b")),
    )
    assert row[4] == "created with roles employee, no password"
    said = words_from_json(row[10])
    assert said is not None
    assert english(said.detail) == row[4]
    assert said.changes[-1] is None  # a plain Change has no words: the page shows its English
    assert len(said.changes) == len(audit_words.account_changes(None, ACCOUNT)) + 1
    assert tables.entry(T0, "root", "x", "y", "plain English")[10] is None


def test_words_round_trip_through_json() -> None:
    said = EntryWords(
        audit_words.manual_change(LUNCH) + audit_phrases.account_created({Role.ADMIN}, True),
        (
            ChangeWords(audit_words.field("note"), "typed", audit_phrases.SESSION_STARTED),
            None,
        ),
    )
    assert words_from_json(words_json(said)) == said
    assert words_from_json(None) is None
    assert words_from_json("") is None
    assert words_from_json('{"detail": [["k", {"x": ["no such kind", 1, ""]}]]}') is None
    assert words_from_json("not json") is None


def test_an_entry_written_before_the_words_reads_without_them() -> None:
    """A Redis entry written before issue 16 has no ``words`` field at all."""
    row = {
        "seq": 7,
        "at": "2026-12-07T11:00:00+00:00",
        "actor": "root",
        "action": "manual_set",
        "subject": "p1",
        "detail": "cleared",
        "decision": "allowed",
        "via": "",
        "source": "",
        "request_id": "",
        "changes": "[]",
    }
    entry = audit_words.audit_from_row(row)
    assert entry.words is None
    assert entry.detail == "cleared"


def test_the_page_says_instants_in_local_time_and_lists_by_their_words() -> None:
    sv = _catalogs()["sv"]
    assert say(audit_words.manual_change(LUNCH), sv, STOCKHOLM) == (
        "Hänvisning: Lunch (direkt, satt av personen själv) till 2026-12-07 13:00, "
        "med meddelande, kopplas vidare"
    )
    assert say(audit_phrases.account_created(set(), True), sv, STOCKHOLM) == (
        "Skapat, roller: saknas"
    )
    unknown = (Phrase("audit.say.no_such_key"),)
    assert say(unknown, sv, STOCKHOLM) is None
    odd_value = (Phrase("audit.say.word", (("word", Arg(ArgKind.WORD, "x", "reason")),)),)
    assert say(odd_value, sv, STOCKHOLM) is None


def test_a_row_falls_back_to_english_part_by_part() -> None:
    sv = _catalogs()["sv"]
    said = EntryWords(
        (Phrase("audit.say.from_a_later_version"),),
        (ChangeWords(audit_words.field("note"), "", "Åter 13"), None),
    )
    entry = AuditEntry(
        1,
        T0,
        "anna",
        "manual_set",
        "p1",
        "something new",
        AuditDecision.ALLOWED,
        changes=(Change("note", "", "Åter 13"), Change("odd", "x", "y")),
        words=said,
    )
    row = audit_row(entry, "2026-12-07 12:00", "Anna Berg", sv, STOCKHOLM)
    assert row.detail.english
    assert row.detail.text == "something new"
    assert [(c.field, c.new, c.english) for c in row.changes] == [
        ("Meddelande", "Åter 13", False),
        ("odd", "y", True),
    ]
    assert row.english
    old = AuditEntry(2, T0, "anna", "manual_set", "p1", "cleared", changes=())
    assert audit_row(old, "", None, sv, STOCKHOLM).detail.english


def test_every_kind_of_person_field_is_said_in_swedish() -> None:
    """Flags, the arrangement and the hours: words or the import file's own form."""
    sv = _catalogs()["sv"]
    new = replace(
        ANNA,
        hide_mobile=True,
        arrangement=Arrangement.WORK_ONLY,
        hours=WorkingHours.parse("mon-fri 08:00-16:00"),
        title="Samordnare",
    )
    entry = AuditEntry(
        1,
        T0,
        "root",
        "person_updated",
        "p1",
        "",
        changes=tuple(audit_words.english_change(c) for c in audit_words.person_changes(ANNA, new)),
        words=EntryWords(
            audit_words.person_change(ANNA, new), audit_words.person_changes(ANNA, new)
        ),
    )
    row = audit_row(entry, "", None, sv, STOCKHOLM)
    assert not row.english
    assert row.detail.text == "Ändrat: Titel, Dölj mobilen, Mobilavtal, Arbetstid"
    assert [(c.field, c.old, c.new) for c in row.changes] == [
        ("Titel", "", "Samordnare"),
        ("Dölj mobilen", "nej", "ja"),
        ("Mobilavtal", "privat", "endast arbete"),
        ("Arbetstid", "", "mån–fre 08:00–16:00"),
    ]
    assert Change("hours", "", "mon-fri 08:00-16:00") in entry.changes  # English, as written


@pytest.mark.parametrize(
    ("language", "shown"),
    [
        ("sv", "mån–tor 08:00–12:00, 13:00–16:30, fre 08:00–15:00"),
        ("nb", "man–tor 08:00–12:00, 13:00–16:30, fre 08:00–15:00"),
        ("en", "Mon–Thu 08:00–12:00, 13:00–16:30, Fri 08:00–15:00"),
    ],
)
def test_working_hours_are_said_with_the_readers_day_names(language: str, shown: str) -> None:
    strings = _catalogs()[language]
    old = replace(ANNA, hours=WorkingHours.parse("mon-fri 08:00-16:00"))
    new = replace(
        ANNA, hours=WorkingHours.parse("mån-tor 08:00-12:00, mån-tor 13:00-16:30; fre 08:00-15:00")
    )
    changes = audit_words.person_changes(old, new)
    stored = words_from_json(words_json(EntryWords(audit_words.person_change(old, new), changes)))
    assert stored is not None
    english_changes = tuple(audit_words.english_change(c) for c in changes)
    assert english_changes == (
        Change(
            "hours",
            "mon-fri 08:00-16:00",
            "mon-thu 08:00-12:00, mon-thu 13:00-16:30, fri 08:00-15:00",
        ),
    )
    entry = AuditEntry(
        1, T0, "root", "person_updated", "p1", "", changes=english_changes, words=stored
    )
    (change,) = audit_row(entry, "", None, strings, STOCKHOLM).changes
    assert change.new == shown
    assert not change.english


def test_hours_this_version_cannot_read_are_shown_in_the_stores_english() -> None:
    sv = _catalogs()["sv"]
    odd = (Phrase("audit.say.word", (("word", Arg(ArgKind.HOURS, "weekdays 9 to 5")),)),)
    assert say(odd, sv, STOCKHOLM) is None
    assert english(odd) == "weekdays 9 to 5"
