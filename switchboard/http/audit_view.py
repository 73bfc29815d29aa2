"""The audit page's rows in the reader's language (issue 16).

Each entry the store wrote since issue 16 carries its detail and changes as catalog keys and
typed values (``store.audit.EntryWords``); this module says them with the page's catalog:
instants in the deployment's local time, enum values through their catalog keys, a user's
own words and masked numbers as typed. Whatever it cannot say (an entry written before, a
key this version's catalogs lack) is shown in the English the store wrote, marked as English.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, tzinfo

from switchboard.directory.hours import HoursError, WorkingHours
from switchboard.http.page_views import hours_lines
from switchboard.store.audit import Arg, ArgKind, AuditEntry, ChangeWords, Words

LOCAL_TIME = "%Y-%m-%d %H:%M"


@dataclass(frozen=True, slots=True)
class Said:
    text: str
    english: bool = False
    """True: the store's English (the page marks it ``lang="en"``)."""


@dataclass(frozen=True, slots=True)
class ShownChange:
    field: str
    old: str
    new: str
    english: bool = False


@dataclass(frozen=True, slots=True)
class AuditRow:
    entry: AuditEntry
    at: str
    """Local time."""
    name: str | None
    """The subject's name, when the subject is a person in the directory."""
    detail: Said
    changes: tuple[ShownChange, ...]

    @property
    def english(self) -> bool:
        return self.detail.english or any(c.english for c in self.changes)


def _arg(arg: Arg, strings: Mapping[str, str], zone: tzinfo) -> str | None:
    got = arg.value
    if arg.kind is ArgKind.WORDS:
        if not isinstance(got, tuple):
            return None
        if not got:
            return strings.get("audit.value.none")
        said = [strings.get(f"{arg.catalog}.{v}") for v in got]
        return None if None in said else ", ".join(s for s in said if s is not None)
    if isinstance(got, tuple):
        return None
    if arg.kind is ArgKind.WORD:
        return strings.get(f"{arg.catalog}.{got}")
    if arg.kind is ArgKind.HOURS:
        return _hours(str(got), strings)
    if arg.kind is ArgKind.INSTANT:
        try:
            at = datetime.fromisoformat(str(got))
        except ValueError:
            return None
        return at.astimezone(zone).strftime(LOCAL_TIME) if at.tzinfo is not None else None
    return str(got)  # TEXT, CODE, COUNT: as written


def _hours(written: str, strings: Mapping[str, str]) -> str | None:
    """``mon-fri 08:00-16:00`` as the person's page says it: ``mån–fre 08:00–16:00``."""
    if not written:
        return ""
    if any(f"day.{day}" not in strings for day in range(7)):
        return None
    try:
        week = WorkingHours.parse(written)
    except HoursError:
        return None  # written by a version that wrote hours otherwise: its English
    return ", ".join(f"{line.days} {line.times}" for line in hours_lines(week, strings.__getitem__))


def say(said: Words, strings: Mapping[str, str], zone: tzinfo) -> str | None:
    """``said`` in the catalog's language; None when some key or value has no words there."""
    parts: list[str] = []
    for phrase in said:
        template = strings.get(phrase.key)
        if template is None:
            return None
        values: dict[str, str] = {}
        for name, arg in phrase.args:
            shown = _arg(arg, strings, zone)
            if shown is None:
                return None
            values[name] = shown
        try:
            parts.append(template.format(**values))
        except (ValueError, KeyError, IndexError):
            return None  # a translation naming a value the words lack: say it in English
    return "".join(parts)


def _value(said: Words | str, strings: Mapping[str, str], zone: tzinfo) -> str | None:
    return said if isinstance(said, str) else say(said, strings, zone)


def _change(
    english: tuple[str, str, str],
    words: ChangeWords | None,
    strings: Mapping[str, str],
    zone: tzinfo,
) -> ShownChange:
    if words is not None:
        field = say(words.field, strings, zone)
        old = _value(words.old, strings, zone)
        new = _value(words.new, strings, zone)
        if field is not None and old is not None and new is not None:
            return ShownChange(field, old, new)
    return ShownChange(*english, english=True)


def audit_row(
    entry: AuditEntry, at: str, name: str | None, strings: Mapping[str, str], zone: tzinfo
) -> AuditRow:
    words = entry.words
    detail = None if words is None else say(words.detail, strings, zone)
    said = Said(entry.detail, english=True) if detail is None else Said(detail)
    change_words: Sequence[ChangeWords | None] = () if words is None else words.changes
    changes = tuple(
        _change(
            (c.field, c.old, c.new),
            change_words[i] if i < len(change_words) else None,
            strings,
            zone,
        )
        for i, c in enumerate(entry.changes)
    )
    return AuditRow(entry, at, name, said, changes)
