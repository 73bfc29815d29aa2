"""The audit trail's words and rows: what a change was, and its old and new values (issue 17).

Details and values describe a change so an administrator can follow it, but never with a
value that may be secret (R18): a secret mobile is ``[secret]`` on both sides of a change,
other numbers are masked (``+467******01``), and free text (a note, a template, a reason)
goes through ``plain``, which masks anything that looks like a telephone number. Passwords,
hashes, session ids and tokens never appear, only whether there is one.

Since issue 16 these are words, not sentences: catalog keys with typed values
(``audit.Words``, ``audit.ChangeWords``) that the pages say in the reader's language; the
English the store writes beside them is rendered from the same words (``audit_english``).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import fields
from enum import Enum

from switchboard.accounts.model import Account
from switchboard.directory.hours import WorkingHours
from switchboard.directory.model import Arrangement, Person, changed_fields
from switchboard.directory.numbers import mask_number
from switchboard.presence.model import CalendarSegment, ManualStatus, PlannedReferral, Template
from switchboard.store.audit import AuditDecision, AuditEntry, Change, ChangeWords, Words, say
from switchboard.store.audit_english import (
    code,
    count,
    english,
    hours,
    instant,
    plain,
    text,
    value,
    word,
    words,
    words_from_json,
)
from switchboard.store.codec import Fields
from switchboard.store.codec import instant as read_instant
from switchboard.store.protocol import StoreError

AUDIT_COLUMNS = (
    "at",
    "actor",
    "action",
    "subject",
    "detail",
    "decision",
    "via",
    "source",
    "request_id",
    "changes",
    "words",
)
NUMBER_FIELDS = frozenset({"mobile"})
"""Person fields that hold a number to mask (the extension is public, R17, and short)."""


def field(name: str) -> Words:
    return say(f"audit.field.{name}")


def changed(name: Words | str, old: Words | str, new: Words | str) -> ChangeWords:
    """A change as words; ``name`` a plain field name (``audit.field.<name>``) or words."""
    return ChangeWords(field(name) if isinstance(name, str) else name, old, new)


def english_change(c: ChangeWords) -> Change:
    return Change(english(c.field), english(c.old), english(c.new))


# -- rows ----------------------------------------------------------------------------------
def changes_json(changes: Sequence[Change]) -> str:
    return json.dumps([[c.field, c.old, c.new] for c in changes], ensure_ascii=False)


def _optional(r: Fields, key: str) -> str | None:
    """A column a row written before it was added lacks (a Redis hash; SQLite adds it)."""
    try:
        got = r[key]
    except (KeyError, IndexError):
        return None
    return None if got is None else str(got)


def audit_from_row(r: Fields) -> AuditEntry:
    """An entry; one written before issue 16's words (no ``words``) reads with none."""
    try:
        changes = tuple(Change(str(f), str(o), str(n)) for f, o, n in json.loads(r["changes"]))
        decision = AuditDecision(r["decision"])
    except (ValueError, TypeError) as exc:
        raise StoreError(f"audit entry {r['seq']} is unreadable: {exc}") from exc
    return AuditEntry(
        r["seq"],
        read_instant(r["at"]),
        r["actor"],
        r["action"],
        r["subject"],
        r["detail"],
        decision,
        r["via"],
        r["source"],
        r["request_id"],
        changes,
        words_from_json(_optional(r, "words")),
    )


# -- people --------------------------------------------------------------------------------
def person_change(old: Person | None, new: Person) -> Words:
    if old is None:
        return say("audit.say.person_created")
    found = changed_fields(old, new)
    if not found:
        return say("audit.say.person_unchanged")
    # In the order of the person's fields, as the English has always listed them.
    return say("audit.say.person_updated", fields=words("audit.field", found, keep_order=True))


def _words(value: object) -> Words | str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return _yes_no(value)
    if isinstance(value, Arrangement):
        return say("audit.say.word", word=word("audit.arrangement", value))
    if isinstance(value, Enum):  # a person field of a kind added later: its value, as is
        return str(value.value)
    if isinstance(value, WorkingHours):
        # The form an import file writes in English; the page says its days in its language.
        return say("audit.say.word", word=hours(value.format()))
    return plain(str(value))


def _yes_no(got: object) -> Words:
    return value("yes") if got else value("no")


def _person_value(person: Person | None, name: str, secret: bool) -> Words | str:
    if person is None:
        return ""
    got = getattr(person, name)
    if name in NUMBER_FIELDS and got is not None:
        # Secret on either side of the change: the number is the secret, before and after.
        return value("secret") if secret else mask_number(str(got))
    return _words(got)


def person_changes(old: Person | None, new: Person | None) -> tuple[ChangeWords, ...]:
    """Each field that differs, old -> new (created: from nothing; removed: to nothing)."""
    secret = any(p is not None and p.secret_mobile for p in (old, new))
    found: list[ChangeWords] = []
    for f in fields(Person):
        if f.name == "person_id":
            continue  # the entry's subject
        if old is not None and new is not None and getattr(old, f.name) == getattr(new, f.name):
            continue  # compared as values: two masked numbers may read the same
        before = _person_value(old, f.name, secret)
        after = _person_value(new, f.name, secret)
        if before or after:
            found.append(changed(f.name, before, after))
    return tuple(found)


# -- availability --------------------------------------------------------------------------
def manual_change(status: ManualStatus | None) -> Words:
    if status is None:
        return say("audit.say.cleared")
    ref = status.referral
    when = () if status.starts is None else say("audit.say.from", at=instant(status.starts))
    if ref is None:
        until = () if status.until is None else say("audit.say.until", at=instant(status.until))
        return say("audit.say.available") + when + until
    said = say(
        "audit.say.referral",
        kind=word("audit.kind", ref.kind),
        reason=word("reason", ref.reason),
        source=word("audit.source", ref.source),
    )
    if ref.until is not None:
        said += say("audit.say.until", at=instant(ref.until))
    if ref.text is not None:
        said += say("audit.say.with_note")
    if ref.divert_to is not None:
        said += say("audit.say.diverted")
    return said + when


def _note(status: ManualStatus | None) -> str:
    ref = None if status is None else status.referral
    return "" if ref is None or ref.text is None else plain(ref.text)


def _divert(status: ManualStatus | None) -> str:
    ref = None if status is None else status.referral
    return "" if ref is None or ref.divert_to is None else mask_number(ref.divert_to)


def manual_changes(old: ManualStatus | None, new: ManualStatus | None) -> tuple[ChangeWords, ...]:
    found = [changed("status", "" if old is None else manual_change(old), manual_change(new))]
    for name, said in (("note", _note), ("divert_to", _divert)):
        if said(old) != said(new):
            found.append(changed(name, said(old), said(new)))
    return tuple(found)


def plan_change(plan: PlannedReferral) -> Words:
    """A planned referral in the audit's words: its id, what and from when (issue 16)."""
    return say("audit.say.plan", plan=code(plan.plan_id)) + manual_change(plan.status())


def plans_dropped(ended: Sequence[str]) -> Words:
    """The ended plans a write dropped on its way (nothing when none)."""
    return say("audit.say.ended_dropped", plans=code(", ".join(ended))) if ended else ()


def plan_changes(
    old: PlannedReferral | None, new: PlannedReferral | None
) -> tuple[ChangeWords, ...]:
    before = "" if old is None else plan_change(old)
    after = "" if new is None else plan_change(new)
    found = [changed("plan", before, after)]
    o = None if old is None else old.status()
    n = None if new is None else new.status()
    for name, said in (("note", _note), ("divert_to", _divert)):
        if said(o) != said(n):
            found.append(changed(name, said(o), said(n)))
    return tuple(found)


def calendar_change(source: str, segments: tuple[CalendarSegment, ...]) -> Words:
    if not segments:
        return say("audit.say.calendar_none", source=text(source))
    return say(
        "audit.say.calendar_segments",
        source=text(source),
        count=count(len(segments)),
        first=instant(min(s.start for s in segments)),
        last=instant(max(s.end for s in segments)),
    )


def calendar_changes(
    source: str, old: tuple[CalendarSegment, ...], new: tuple[CalendarSegment, ...]
) -> tuple[ChangeWords, ...]:
    before = calendar_change(source, old) if old else ""
    return (changed("calendar", before, calendar_change(source, new)),)


def template_words(template: Template | None) -> Words | str:
    if template is None:
        return ""
    said = say(
        "audit.say.template",
        reason=word("reason", template.reason),
        kind=word("audit.kind", template.kind),
    )
    if template.duration is not None:
        said += say(
            "audit.say.minutes", minutes=count(int(template.duration.total_seconds() // 60))
        )
    if template.text:
        said += say("audit.say.template_note", note=text(template.text))
    return said


def template_changes(
    name: str, old: Template | None, new: Template | None
) -> tuple[ChangeWords, ...]:
    where = say("audit.field.template", name=text(name))
    return (changed(where, template_words(old), template_words(new)),)


# -- accounts ------------------------------------------------------------------------------
def roles(values: frozenset[str]) -> Words:
    return say("audit.say.roles", roles=words("role", values))


def _names(values: frozenset[str]) -> Words:
    """Unit names as typed; "none" in words when there are none."""
    if not values:
        return value("none")
    return say("audit.say.names", names=text(", ".join(sorted(str(v) for v in values))))


def account_changes(old: Account | None, new: Account) -> tuple[ChangeWords, ...]:
    """Roles, disabled, display name, person and managed units, old -> new."""
    pairs: list[tuple[str, Words | str, Words | str]] = [
        (
            "roles",
            "" if old is None else roles(frozenset(old.roles)),
            roles(frozenset(new.roles)),
        ),
        ("disabled", "" if old is None else _yes_no(old.disabled), _yes_no(new.disabled)),
        ("display_name", "" if old is None else old.display_name, new.display_name),
        ("person_id", "" if old is None else _words(old.person_id), _words(new.person_id)),
        ("manages", "" if old is None else _names(old.manages), _names(new.manages)),
    ]
    return tuple(
        changed(name, before, after)
        for name, before, after in pairs
        if english(before) != english(after)
    )


def presence(got: object) -> Words:
    """Whether there is one (a password, a SIP password): never what it is."""
    return value("set") if got else value("none")
