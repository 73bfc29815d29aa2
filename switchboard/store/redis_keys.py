"""The Redis store's key names and value encodings: one place that says where each thing
lives in Redis and in what form.

Every key of a deployment starts with ``{NAMESPACE}:``. The braces are a Redis Cluster hash
tag: every key of one namespace hashes to the same slot, so the multi-key transactions of
``redis_tx`` stay legal on a cluster (the whole deployment then lives on one shard, which a
directory and its availability fit easily). Several deployments share one Redis by
namespace; nothing outside the namespace is read or written.

Values are JSON objects holding the same columns the SQLite rows hold (``codec``), so one
set of rules says what a stored value means, and ``codec.*_from_row`` read both.
Instants inside the values are ISO 8601 text (``codec.iso``); where Redis must order or
range over instants (sorted-set scores) they are whole microseconds since the epoch, which a
double holds exactly for the next 280 years.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from switchboard.store.protocol import StoreError

NAMESPACE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")
"""What a namespace may be: no braces (they would break the hash tag), no spaces."""
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MICROSECOND = timedelta(microseconds=1)


def micros(value: datetime) -> int:
    """``value`` as whole microseconds since the epoch: a sorted-set score."""
    if value.tzinfo is None or value.utcoffset() is None:
        raise StoreError(f"the instant {value.isoformat()} has no time zone; store aware times")
    return (value - _EPOCH) // _MICROSECOND


def encode(columns: Sequence[str], row: Sequence[object]) -> str:
    """A row (values in ``columns`` order) as one compact JSON object."""
    return json.dumps(
        dict(zip(columns, row, strict=True)), ensure_ascii=False, separators=(",", ":")
    )


def dump(value: object) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def load(text: str, what: str) -> Any:
    """A stored JSON value; StoreError naming ``what`` when it is not one."""
    try:
        return json.loads(text)
    except ValueError as exc:
        raise StoreError(f"the stored {what} is unreadable: {exc}") from None


def ordinal(number: int) -> str:
    """A number as a sorted-set member that sorts like the number (ties at equal scores are
    ordered by member, byte by byte)."""
    return f"{number:020d}"


class Keys:
    """The key names of one namespace."""

    def __init__(self, namespace: str) -> None:
        if not NAMESPACE.match(namespace):
            raise StoreError(
                f"namespace {namespace!r}: use 1-64 letters, digits, '.', '_' or '-', "
                "starting with a letter or digit"
            )
        self.namespace = namespace
        p = self._prefix = "{" + namespace + "}:"
        # The change feed and what every write reads first.
        self.version = p + "version"
        self.epoch = p + "epoch"
        """A random token made when the namespace is first used: a store that sees it
        change (the data was lost or flushed) reloads instead of trusting its position."""
        self.feed = p + "feed"
        # The directory and availability: what every node holds in memory.
        self.people = p + "people"
        self.by_extension = p + "people:extension"
        self.by_email = p + "people:email"
        self.manual = p + "manual"
        self.plans = p + "plans"
        self.calendar = p + "calendar"
        self.templates = p + "templates"
        self.exceptions = p + "exceptions"
        self.credentials = p + "sip_credentials"
        # The audit trail.
        self.audit = p + "audit"
        self.audit_seq = p + "audit:seq"
        # Accounts, sessions, tokens, single sign-on.
        self.accounts = p + "accounts"
        self.usernames = p + "accounts:username"
        self.sessions = p + "sessions"
        self.session_expiry = p + "sessions:expiry"
        self.tokens = p + "tokens"
        self.identities = p + "sso"
        # Calls, voicemail, registrations.
        self.calls = p + "calls"
        self.calls_seq = p + "calls:seq"
        self.calls_by_time = p + "calls:started"
        self.requests = p + "call_lists"
        self.requests_seq = p + "call_lists:seq"
        self.voice = p + "voicemail"
        self.taken = p + "messages"
        self.pins = p + "voicemail_pins"
        self.own = p + "own_calendars"
        self.bindings = p + "sip_bindings"
        self.binding_expiry = p + "sip_bindings:expiry"

    def audit_by_subject(self, subject: str) -> str:
        return f"{self._prefix}audit:subject:{subject}"

    def audit_by_actor(self, actor: str) -> str:
        return f"{self._prefix}audit:actor:{actor}"

    def account_sessions(self, account_id: str) -> str:
        return f"{self._prefix}accounts:{account_id}:sessions"

    def account_tokens(self, account_id: str) -> str:
        """Token name -> token hash, for one account."""
        return f"{self._prefix}accounts:{account_id}:tokens"

    def account_identities(self, account_id: str) -> str:
        """Issuer -> subject, for one account."""
        return f"{self._prefix}accounts:{account_id}:sso"

    def person_calls(self, person_id: str) -> str:
        return f"{self._prefix}calls:person:{person_id}"

    def person_voice(self, person_id: str) -> str:
        return f"{self._prefix}voicemail:person:{person_id}"

    def person_taken(self, person_id: str) -> str:
        return f"{self._prefix}messages:person:{person_id}"


def identity_field(issuer: str, subject: str) -> str:
    """The field of one single sign-on identity (issuer and subject may hold any text)."""
    return dump([issuer, subject])
