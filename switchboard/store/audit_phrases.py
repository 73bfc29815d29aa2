"""The words of the audit entries both backends (and the sign-in) write, one helper per
kind of entry (issue 16): the same words for SQLite and Redis, so the same English.

Availability, people and account changes are in ``audit_words`` (their old -> new values);
this module holds the details of the other entries. Nothing secret enters them (R18): no
password, hash or token, only whether there is one; free text goes through ``plain``.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from enum import Enum

from switchboard.directory.model import PolicyRule
from switchboard.presence.model import Template
from switchboard.store.audit import ChangeWords, Words, say
from switchboard.store.audit_english import (
    code,
    count,
    instant,
    plain,
    text,
    value,
    word,
    words,
)
from switchboard.store.audit_words import changed


# -- people and the directory -----------------------------------------------------------------
def person_removed(with_sip_password: bool) -> Words:
    said = say("audit.say.person_removed")
    return said + say("audit.say.and_sip_password") if with_sip_password else said


def sip_set(user: str, sha256_only: bool) -> Words:
    said = say("audit.say.extension", extension=code(user)) + say("audit.say.sip_set")
    return said + say("audit.say.sha256_only") if sha256_only else said


def sip_set_change(had: object) -> ChangeWords:
    return changed("sip_password", value("set") if had else value("none"), value("new"))


# -- templates --------------------------------------------------------------------------------
def template_saved(template: Template) -> Words:
    return say(
        "audit.say.template_saved", name=text(template.name), reason=word("reason", template.reason)
    )


def template_deleted(name: str) -> Words:
    return say("audit.say.template_deleted", name=text(name))


# -- policy exceptions (R16) ------------------------------------------------------------------
def exception_granted(rule: PolicyRule) -> Words:
    return say("audit.say.exception_granted", rule=word("rule", rule))


def exception_revoked(rule: PolicyRule, reason: str | None) -> Words:
    said = say("audit.say.exception_revoked", rule=word("rule", rule))
    return said + say("audit.say.reason", reason=text(reason)) if reason else said


def exception_change(rule: PolicyRule, before: str | None, after: str) -> ChangeWords:
    """The reasons, old -> new: the administrator's own words, as typed (masked)."""
    where = say("audit.field.exception", rule=word("rule", rule))
    return changed(where, plain(before or ""), plain(after))


# -- plans ------------------------------------------------------------------------------------
def plans_ended(ended: Sequence[str]) -> Words:
    return say("audit.say.plans_ended", plans=code(", ".join(ended)))


# -- accounts and sign-in ---------------------------------------------------------------------
def account_created(roles: Iterable[Enum | str], has_password: bool) -> Words:
    said = say("audit.say.account_created", roles=words("role", roles))
    return said if has_password else said + say("audit.say.no_password")


def password_set(has_password: bool, ended: int) -> Words:
    what = "audit.say.password_set" if has_password else "audit.say.password_removed"
    return say(what) + say("audit.say.sessions_ended", count=count(ended))


def password_change(had: object, has_password: bool) -> ChangeWords:
    """Never the hash: only whether there was one (a new one is always "new")."""
    before = value("set") if had else value("none")
    return changed("password", before, value("new") if has_password else value("none"))


def token_created(name: str) -> Words:
    return say("audit.say.token_created", name=text(name))


def token_revoked(name: str) -> Words:
    return say("audit.say.token_revoked", name=text(name))


def token_change(name: str, active: bool) -> ChangeWords:
    where = say("audit.field.token", name=text(name))
    return changed(where, "" if active else value("active"), value("active") if active else "")


def sso_bound(issuer: str) -> Words:
    return say("audit.say.sso_bound", provider=text(issuer))


def sso_bound_change(issuer: str) -> ChangeWords:
    return changed(say("audit.field.sso_identity", provider=text(issuer)), "", value("bound"))


def sso_unbound(removed: int) -> Words:
    key = "audit.say.sso_unbound_one" if removed == 1 else "audit.say.sso_unbound_many"
    return say(key, count=count(removed))


def sso_unbound_change(removed: int) -> ChangeWords:
    return changed("sso_identities", str(removed), "0")


def access_refused(what: str, where: str, message: str, limit: int) -> Words | str:
    """A 403: the check that said no and the request, in words; the server's own (English)
    message only in the English, which keeps its first ``limit`` characters as it always
    has. A request line too long for that stays English only."""
    room = limit - len(f"{what}: {where}: ")
    if room < 0:
        return f"{what}: {where}: {message}"[:limit]
    return say(
        "audit.say.access_refused",
        what=code(what),
        request=code(where),
        message=code(message[:room]),
    )


SESSION_STARTED = say("audit.say.session_started")
WRONG_PASSWORD = say("audit.say.wrong_password")
ACCOUNT_DISABLED = say("audit.say.disabled_account")
SSO_ONLY = say("audit.say.sso_only")
PASSWORD_LINK = say("audit.say.password_link")


def sign_in_limit(known: bool, free: int, seconds: int, hourly: int) -> Words:
    """The sign-in limit that came into force: from new addresses, or from known ones."""
    key = "audit.say.limit_known" if known else "audit.say.limit_new"
    return say(key, free=count(free), seconds=count(seconds), hourly=count(hourly))


# -- call lists (R19) -------------------------------------------------------------------------
def call_list_requested(request_id: int, start: datetime, end: datetime, reason: str) -> Words:
    return say(
        "audit.say.call_list_requested",
        id=code(request_id),
        start=instant(start, start.isoformat()),
        end=instant(end, end.isoformat()),
        reason=text(reason),
    )


def call_list_decided(request_id: int, status: Enum, comment: str) -> Words:
    return say(
        "audit.say.call_list_decided",
        id=code(request_id),
        status=word("audit.request", status),
        comment=text(comment),
    )


def call_list_downloaded(
    request_id: int, calls: int, start: datetime, end: datetime, left: int
) -> Words:
    return say(
        "audit.say.call_list_downloaded",
        id=code(request_id),
        calls=count(calls),
        start=instant(start, start.isoformat()),
        end=instant(end, end.isoformat()),
        left=count(left),
    )


def call_list_change(request_id: int, old: Enum | None, new: Enum) -> ChangeWords:
    where = say("audit.field.call_list", id=code(request_id))
    before: Words | str = (
        "" if old is None else say("audit.say.word", word=word("audit.request", old))
    )
    return changed(where, before, say("audit.say.word", word=word("audit.request", new)))


# -- voicemail and taken messages -------------------------------------------------------------
def voicemail_received(message_id: str, duration_ms: int) -> Words:
    return say("audit.say.voicemail_received", id=code(message_id), ms=count(duration_ms))


def voicemail_state(message_id: str, state: str) -> Words:
    """``state``: heard, unheard or deleted."""
    return say(f"audit.say.voicemail_{state}", id=code(message_id))


def voicemail_change(message_id: str, old: Words | str, new: Words | str) -> ChangeWords:
    return changed(say("audit.field.voicemail", id=code(message_id)), old, new)


def heard_change(old: bool, new: bool) -> ChangeWords:
    return changed("heard", value("yes" if old else "no"), value("yes" if new else "no"))


def recording(name: str, set_: bool, duration_ms: int | None = None) -> Words:
    """A greeting or name clip (``name``: a ``Recording`` value) set or deleted."""
    if set_:
        return say(f"audit.say.{name}_set", ms=count(duration_ms or 0))
    return say(f"audit.say.{name}_deleted")


def recording_change(name: str, set_: bool) -> ChangeWords:
    return changed(name, "" if set_ else value("set"), value("set") if set_ else "")


VOICEMAIL_PIN_SET = say("audit.say.voicemail_pin_set")
VOICEMAIL_PIN_REMOVED = say("audit.say.voicemail_pin_removed")


def message_taken(message_id: str) -> Words:
    """Never the text or the number: the audit trail is read by administrators."""
    return say("audit.say.message_taken", id=code(message_id))


def message_taken_change(message_id: str, email: Enum) -> ChangeWords:
    where = say("audit.field.message", id=code(message_id))
    return changed(where, "", say("audit.say.word", word=word("audit.email", email)))


def message_emailed(message_id: str, status: Enum) -> Words:
    return say("audit.say.message_emailed", id=code(message_id), status=word("audit.email", status))


def email_change(old: str, new: Enum) -> ChangeWords:
    return changed(
        "email",
        say("audit.say.word", word=word("audit.email", old)),
        say("audit.say.word", word=word("audit.email", new)),
    )
