"""An audit entry's words in English, and as JSON in a row (issue 16).

The store writes each detail as catalog keys and values (``audit.EntryWords``) and renders
the English ``detail`` (and a change's old and new values) from those same words with the
templates below, so the English the API, the CLI and exports read and the words the pages
translate cannot disagree. The pages' catalogs (``web/i18n/*.json``) hold the same keys in
Swedish, Norwegian and English.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from dataclasses import fields
from datetime import datetime
from enum import Enum
from typing import Any

from switchboard.directory.model import Person
from switchboard.store.audit import (
    Arg,
    ArgKind,
    ChangeWords,
    EntryWords,
    Phrase,
    Words,
)
from switchboard.store.codec import iso

_NUMBER_LIKE = re.compile(r"\+?(?:\d[\s().-]?){6,}\d")


def plain(text: str) -> str:
    """``text`` with anything that looks like a phone number (7+ digits) masked (R18)."""
    return _NUMBER_LIKE.sub("[number]", text)


FIELDS = (
    # Manual status, plans, calendars
    "status",
    "note",
    "divert_to",
    "plan",
    "calendar",
    # People: every field but its id (the entry's subject)
    *(f.name for f in fields(Person) if f.name != "person_id"),
    # Accounts
    "roles",
    "disabled",
    "display_name",
    "person_id",
    "manages",
    "password",
    "sip_password",
    # Call lists
    "downloads_left",
)
"""Change fields whose English name is the field's own name (``audit.field.<name>``)."""

ENGLISH: dict[str, str] = {
    **{f"audit.field.{name}": name for name in FIELDS},
    "audit.field.template": "template {name}",
    "audit.field.exception": "exception to {rule}",
    "audit.field.call_list": "call list #{id}",
    "audit.field.token": "token {name}",
    "audit.field.sso_identity": "sso identity at {provider}",
    "audit.field.sso_identities": "sso identities",
    "audit.field.voicemail": "voicemail {id}",
    "audit.field.message": "message {id}",
    "audit.field.heard": "heard",
    "audit.field.greeting": "greeting",
    "audit.field.name_clip": "name_clip",
    # Values
    "audit.value.yes": "yes",
    "audit.value.no": "no",
    "audit.value.set": "set",
    "audit.value.none": "none",
    "audit.value.new": "new",
    "audit.value.active": "active",
    "audit.value.bound": "bound",
    "audit.value.secret": "[secret]",
    "audit.value.heard": "heard",
    "audit.say.roles": "{roles}",
    "audit.say.names": "{names}",
    "audit.say.word": "{word}",
    # Availability
    "audit.say.cleared": "cleared",
    "audit.say.available": "available",
    "audit.say.referral": "{kind} referral: {reason} (source {source})",
    "audit.say.until": " until {at}",
    "audit.say.from": " from {at}",
    "audit.say.with_note": ", with a note",
    "audit.say.diverted": ", diverted",
    "audit.say.plan": "plan {plan}: ",
    "audit.say.cancelled": " cancelled",
    "audit.say.ended_dropped": "; ended plans dropped: {plans}",
    "audit.say.plans_ended": "plans ended: {plans}",
    "audit.say.own_calendar": "own calendar {calendar}",
    "audit.say.own_calendar_disconnected": "own calendar disconnected",
    "audit.say.calendar_none": "source {source}: no segments",
    "audit.say.calendar_segments": ("source {source}: {count} segment(s) from {first} to {last}"),
    "audit.say.template_saved": "template {name!r}: {reason}",
    "audit.say.template_deleted": "template {name!r} deleted",
    "audit.say.template": "{reason}, {kind}",
    "audit.say.minutes": ", {minutes} min",
    "audit.say.template_note": ", note: {note}",
    # People and the directory
    "audit.say.person_created": "created",
    "audit.say.person_updated": "updated: {fields}",
    "audit.say.person_unchanged": "saved without changes",
    "audit.say.person_removed": "removed, with their manual status, plans, calendar and templates",
    "audit.say.and_sip_password": " and SIP password",
    "audit.say.imported": "{created} created, {updated} updated, {unchanged} unchanged",
    "audit.say.extension": "extension {extension}: ",
    "audit.say.extension_changed": "the extension changed",
    "audit.say.sip_removed": "SIP password removed",
    "audit.say.sip_set": "SIP password set",
    "audit.say.sha256_only": " (SHA-256 only)",
    "audit.say.exception_granted": "rule {rule} lifted, with a reason",
    "audit.say.exception_revoked": "rule {rule} applies again",
    "audit.say.reason": "; reason: {reason}",
    # Accounts and sign-in
    "audit.say.account_created": "created with roles {roles}",
    "audit.say.no_password": ", no password",
    "audit.say.roles_changed": "roles {old} -> {new}",
    "audit.say.account_disabled": "disabled; sessions ended",
    "audit.say.account_enabled": "enabled",
    "audit.say.account_updated": "updated: {fields}",
    "audit.say.password_set": "password set",
    "audit.say.password_removed": "password removed",
    "audit.say.sessions_ended": "; {count} session(s) ended",
    "audit.say.password_link": "password set with a one-time link",
    "audit.say.token_created": "token {name!r} created",
    "audit.say.token_revoked": "token {name!r} revoked",
    "audit.say.sso_bound": "bound to the single sign-on identity of {provider}",
    "audit.say.sso_unbound_one": "{count} single sign-on identity unbound",
    "audit.say.sso_unbound_many": "{count} single sign-on identities unbound",
    "audit.say.session_started": "session started",
    "audit.say.access_refused": "{what}: {request}: {message}",
    "audit.say.wrong_password": "wrong password",
    "audit.say.disabled_account": "the account is disabled",
    "audit.say.sso_only": "the account has no password (single sign-on only)",
    "audit.say.limit_new": (
        "{free} failed sign-ins in a row from addresses this account has not signed in "
        "from: each further attempt from them waits {seconds} s (at most {hourly} failures "
        "an hour in all); the real user's other addresses and single sign-on are not slowed"
    ),
    "audit.say.limit_known": (
        "{free} failed sign-ins in a row from addresses this account signed in from "
        "recently: each further attempt from them waits {seconds} s (at most {hourly} "
        "failures an hour in all); the real user's other addresses and single sign-on are "
        "not slowed"
    ),
    # Call lists (R19)
    "audit.say.call_list_requested": (
        "call list #{id} requested for {start} to {end}; reason: {reason}"
    ),
    "audit.say.call_list_decided": "call list #{id} {status}; comment: {comment}",
    "audit.say.call_list_downloaded": (
        "call list #{id} downloaded: {calls} call(s) of {start} to {end}; {left} download(s) left"
    ),
    # Voicemail and taken messages
    "audit.say.voicemail_received": "voicemail {id} ({ms} ms) received",
    "audit.say.voicemail_heard": "voicemail {id} heard",
    "audit.say.voicemail_unheard": "voicemail {id} unheard",
    "audit.say.voicemail_deleted": "voicemail {id} deleted",
    "audit.say.greeting_set": "greeting set ({ms} ms)",
    "audit.say.greeting_deleted": "greeting deleted",
    "audit.say.name_clip_set": "name clip set ({ms} ms)",
    "audit.say.name_clip_deleted": "name clip deleted",
    "audit.say.voicemail_pin_set": "voicemail PIN set",
    "audit.say.voicemail_pin_removed": "voicemail PIN removed",
    "audit.say.message_taken": "message {id} taken",
    "audit.say.message_emailed": "message {id}: e-mail {status}",
}
"""The English of every key the store writes: the one place the ``detail`` comes from."""


# -- values ---------------------------------------------------------------------------------
def text(value: str) -> Arg:
    """A user's own words, masked (R18)."""
    return Arg(ArgKind.TEXT, plain(value))


def code(value: object) -> Arg:
    return Arg(ArgKind.CODE, str(value))


def count(value: int) -> Arg:
    return Arg(ArgKind.COUNT, value)


def instant(at: datetime, written: str | None = None) -> Arg:
    """``written``: the exact English form, where a detail writes it otherwise than ``iso``."""
    return Arg(ArgKind.INSTANT, iso(at) if written is None else written)


def word(catalog: str, value: Enum | str) -> Arg:
    return Arg(ArgKind.WORD, str(value.value if isinstance(value, Enum) else value), catalog)


def words(catalog: str, values: Iterable[Enum | str], *, keep_order: bool = False) -> Arg:
    """Sorted, unless ``keep_order``."""
    found = [str(v.value if isinstance(v, Enum) else v) for v in values]
    return Arg(ArgKind.WORDS, tuple(found if keep_order else sorted(found)), catalog)


def hours(written: str) -> Arg:
    """Working hours as ``WorkingHours.format`` writes them; English as written."""
    return Arg(ArgKind.HOURS, written)


def value(name: str) -> Words:
    """One of the plain words of ``audit.value.*`` (yes, no, set, none, ...)."""
    return (Phrase(f"audit.value.{name}"),)


# -- English ----------------------------------------------------------------------------------
def _english_arg(arg: Arg) -> str | int:
    if arg.kind is ArgKind.WORDS:
        assert isinstance(arg.value, tuple)  # noqa: S101 - made by ``words`` only
        return ", ".join(arg.value) or "none"
    if isinstance(arg.value, tuple):  # pragma: no cover - only WORDS holds a tuple
        return ", ".join(arg.value)
    return arg.value


def english(said: Words | str) -> str:
    """The English of some words (a ``str`` is a value as typed, and stays as it is)."""
    if isinstance(said, str):
        return said
    return "".join(
        ENGLISH[p.key].format(**{name: _english_arg(a) for name, a in p.args}) for p in said
    )


# -- rows -------------------------------------------------------------------------------------
def _words_data(said: Words) -> list[Any]:
    return [[p.key, {name: [a.kind.value, a.value, a.catalog] for name, a in p.args}] for p in said]


def _value_data(said: Words | str) -> Any:
    return said if isinstance(said, str) else _words_data(said)


def words_json(said: EntryWords | None) -> str | None:
    if said is None:
        return None
    changes = [
        None
        if c is None
        else {"field": _words_data(c.field), "old": _value_data(c.old), "new": _value_data(c.new)}
        for c in said.changes
    ]
    return json.dumps(
        {"detail": _words_data(said.detail), "changes": changes},
        ensure_ascii=False,
        separators=(",", ":"),
    )


def _arg(data: Any) -> Arg:
    kind, got, catalog = data
    if isinstance(got, list):
        got = tuple(str(v) for v in got)
    elif not isinstance(got, int | str) or isinstance(got, bool):
        raise TypeError(f"an argument's value is {type(got).__name__}")
    return Arg(ArgKind(kind), got, str(catalog))


def _words(data: Any) -> Words:
    return tuple(
        Phrase(str(key), tuple((str(n), _arg(a)) for n, a in dict(args).items()))
        for key, args in data
    )


def _value(data: Any) -> Words | str:
    return data if isinstance(data, str) else _words(data)


def words_from_json(text_: str | None) -> EntryWords | None:
    """The words of a row; None for a row written before them, or one whose words this
    version cannot read (a later version's kind of value, say): the page then shows the
    entry's English ``detail``, which every row has, rather than failing the whole trail."""
    if not text_:
        return None
    try:
        data = json.loads(text_)
        changes = tuple(
            None
            if c is None
            else ChangeWords(_words(c["field"]), _value(c["old"]), _value(c["new"]))
            for c in data["changes"]
        )
        return EntryWords(_words(data["detail"]), changes)
    except (ValueError, TypeError, KeyError, AttributeError):
        return None
