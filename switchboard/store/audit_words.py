"""The audit trail's words and rows: what a change was, and its old and new values (issue 17).

Details and values describe a change so an administrator can follow it, but never with a
value that may be secret (R18): a secret mobile is ``[secret]`` on both sides of a change,
other numbers are masked (``+467******01``), and free text (a note, a template, a reason)
goes through ``plain``, which masks anything that looks like a telephone number. Passwords,
hashes, session ids and tokens never appear, only whether there is one.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import fields
from enum import Enum

from switchboard.accounts.model import Account
from switchboard.directory.hours import WorkingHours
from switchboard.directory.model import Person
from switchboard.directory.numbers import mask_number
from switchboard.presence.model import CalendarSegment, ManualStatus, PlannedReferral, Template
from switchboard.store.audit import AuditDecision, AuditEntry, Change
from switchboard.store.codec import Fields, instant, iso
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
)
SECRET = "[secret]"  # noqa: S105 - the word shown instead of a secret number
NUMBER_FIELDS = frozenset({"mobile"})
"""Person fields that hold a number to mask (the extension is public, R17, and short)."""

_NUMBER_LIKE = re.compile(r"\+?(?:\d[\s().-]?){6,}\d")


def plain(text: str) -> str:
    """``text`` with anything that looks like a phone number (7+ digits) masked."""
    return _NUMBER_LIKE.sub("[number]", text)


# -- rows ----------------------------------------------------------------------------------
def changes_json(changes: Sequence[Change]) -> str:
    return json.dumps([[c.field, c.old, c.new] for c in changes], ensure_ascii=False)


def audit_from_row(r: Fields) -> AuditEntry:
    try:
        changes = tuple(Change(str(f), str(o), str(n)) for f, o, n in json.loads(r["changes"]))
        decision = AuditDecision(r["decision"])
    except (ValueError, TypeError) as exc:
        raise StoreError(f"audit entry {r['seq']} is unreadable: {exc}") from exc
    return AuditEntry(
        r["seq"],
        instant(r["at"]),
        r["actor"],
        r["action"],
        r["subject"],
        r["detail"],
        decision,
        r["via"],
        r["source"],
        r["request_id"],
        changes,
    )


# -- people --------------------------------------------------------------------------------
def changed_fields(old: Person, new: Person) -> list[str]:
    return [f.name for f in fields(Person) if getattr(old, f.name) != getattr(new, f.name)]


def person_change(old: Person | None, new: Person) -> str:
    if old is None:
        return "created"
    changed = changed_fields(old, new)
    return "updated: " + ", ".join(changed) if changed else "saved without changes"


def _words(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, Enum):
        return str(value.value)
    if isinstance(value, WorkingHours):
        return value.format()
    return plain(str(value))


def _person_value(person: Person | None, name: str, secret: bool) -> str:
    if person is None:
        return ""
    value = getattr(person, name)
    if name in NUMBER_FIELDS and value is not None:
        # Secret on either side of the change: the number is the secret, before and after.
        return SECRET if secret else mask_number(str(value))
    return _words(value)


def person_changes(old: Person | None, new: Person | None) -> tuple[Change, ...]:
    """Each field that differs, old -> new (created: from nothing; removed: to nothing)."""
    secret = any(p is not None and p.secret_mobile for p in (old, new))
    found: list[Change] = []
    for f in fields(Person):
        if f.name == "person_id":
            continue  # the entry's subject
        if old is not None and new is not None and getattr(old, f.name) == getattr(new, f.name):
            continue  # compared as values: two masked numbers may read the same
        before = _person_value(old, f.name, secret)
        after = _person_value(new, f.name, secret)
        if before or after:
            found.append(Change(f.name, before, after))
    return tuple(found)


# -- availability --------------------------------------------------------------------------
def manual_change(status: ManualStatus | None) -> str:
    if status is None:
        return "cleared"
    ref = status.referral
    when = "" if status.starts is None else f" from {iso(status.starts)}"
    if ref is None:
        until = "" if status.until is None else f" until {iso(status.until)}"
        return f"available{when}{until}"
    words = f"{ref.kind.value} referral: {ref.reason.value} (source {ref.source.value})"
    if ref.until is not None:
        words += f" until {iso(ref.until)}"
    if ref.text is not None:
        words += ", with a note"
    if ref.divert_to is not None:
        words += ", diverted"
    return words + when


def _note(status: ManualStatus | None) -> str:
    ref = None if status is None else status.referral
    return "" if ref is None or ref.text is None else plain(ref.text)


def _divert(status: ManualStatus | None) -> str:
    ref = None if status is None else status.referral
    return "" if ref is None or ref.divert_to is None else mask_number(ref.divert_to)


def manual_changes(old: ManualStatus | None, new: ManualStatus | None) -> tuple[Change, ...]:
    found = [Change("status", "" if old is None else manual_change(old), manual_change(new))]
    for name, words in (("note", _note), ("divert_to", _divert)):
        if words(old) != words(new):
            found.append(Change(name, words(old), words(new)))
    return tuple(found)


def plan_change(plan: PlannedReferral) -> str:
    """A planned referral in the audit's words: its id, what and from when (issue 16)."""
    return f"plan {plan.plan_id}: {manual_change(plan.status())}"


def plan_changes(old: PlannedReferral | None, new: PlannedReferral | None) -> tuple[Change, ...]:
    before = "" if old is None else plan_change(old)
    after = "" if new is None else plan_change(new)
    found = [Change("plan", before, after)]
    o = None if old is None else old.status()
    n = None if new is None else new.status()
    for name, words in (("note", _note), ("divert_to", _divert)):
        if words(o) != words(n):
            found.append(Change(name, words(o), words(n)))
    return tuple(found)


def calendar_change(source: str, segments: tuple[CalendarSegment, ...]) -> str:
    if not segments:
        return f"source {plain(source)}: no segments"
    first = min(s.start for s in segments)
    last = max(s.end for s in segments)
    return f"source {plain(source)}: {len(segments)} segment(s) from {iso(first)} to {iso(last)}"


def calendar_changes(
    source: str, old: tuple[CalendarSegment, ...], new: tuple[CalendarSegment, ...]
) -> tuple[Change, ...]:
    before = calendar_change(source, old) if old else ""
    return (Change("calendar", before, calendar_change(source, new)),)


def template_words(template: Template | None) -> str:
    if template is None:
        return ""
    words = f"{template.reason.value}, {template.kind.value}"
    if template.duration is not None:
        words += f", {int(template.duration.total_seconds() // 60)} min"
    if template.text:
        words += f", note: {plain(template.text)}"
    return words


def template_changes(name: str, old: Template | None, new: Template | None) -> tuple[Change, ...]:
    return (Change(f"template {plain(name)}", template_words(old), template_words(new)),)


# -- accounts ------------------------------------------------------------------------------
def _names(values: frozenset[str]) -> str:
    return ", ".join(sorted(str(v) for v in values)) or "none"


def account_changes(old: Account | None, new: Account) -> tuple[Change, ...]:
    """Roles, disabled, display name, person and managed units, old -> new."""
    pairs = [
        (
            "roles",
            "" if old is None else _names(frozenset(old.roles)),
            _names(frozenset(new.roles)),
        ),
        ("disabled", "" if old is None else _words(old.disabled), _words(new.disabled)),
        ("display_name", "" if old is None else old.display_name, new.display_name),
        ("person_id", "" if old is None else _words(old.person_id), _words(new.person_id)),
        ("manages", "" if old is None else _names(old.manages), _names(new.manages)),
    ]
    return tuple(Change(name, before, after) for name, before, after in pairs if before != after)


def presence(value: object) -> str:
    """Whether there is one (a password, a SIP password): never what it is."""
    return "set" if value else "none"
