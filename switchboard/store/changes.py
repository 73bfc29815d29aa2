"""The change feed's wire form: each store event as one line of JSON, and back.

Every committed write that publishes events also appends them, in the same transaction, to
the store's change feed (a table in SQLite, a stream in Redis). Another process following
the feed decodes them here and publishes them on its own bus, so its live view, screens and
phones follow a write made anywhere (issue 14). The values travel in the same column form
the rows use (``codec``), so one set of rules says what a stored value means.

Registrations travel too (``BindingsChanged``, appended by the binding keeper's save on
the store's side thread), so the workers of one machine share one registrar. Only events
a store publishes travel: ``LineStateChanged`` and ``PresenceTicked`` belong to
the process that made them, and ``StoreReloaded`` to the process that reloaded.
"""

from __future__ import annotations

import json
from typing import Any

from switchboard.directory.credentials import SipCredential
from switchboard.events import (
    BindingsChanged,
    CalendarChanged,
    DirectoryImported,
    ExceptionsChanged,
    ManualStatusChanged,
    OwnCalendarChanged,
    PersonRemoved,
    PersonSaved,
    PlansChanged,
    SipCredentialChanged,
    TemplatesChanged,
    VoicemailChanged,
)
from switchboard.sip.saved_bindings import SavedBinding
from switchboard.store import codec
from switchboard.store.protocol import StoreError

FeedEvent = (
    PersonSaved
    | PersonRemoved
    | DirectoryImported
    | ManualStatusChanged
    | PlansChanged
    | CalendarChanged
    | TemplatesChanged
    | ExceptionsChanged
    | SipCredentialChanged
    | VoicemailChanged
    | BindingsChanged
    | OwnCalendarChanged
)
"""The events a store publishes, and so the ones its feed carries."""


def _columns(names: tuple[str, ...], row: codec.Row) -> dict[str, Any]:
    return dict(zip(names, row, strict=True))


def encode_event(event: FeedEvent) -> str:
    """One event as compact JSON (``ensure_ascii`` off: names stay readable in the table)."""
    return json.dumps(_fields(event), ensure_ascii=False, separators=(",", ":"))


def _fields(event: FeedEvent) -> dict[str, Any]:
    v = event.version
    match event:
        case PersonSaved(person=p):
            return {
                "type": "person_saved",
                "v": v,
                "person": _columns(codec.PERSON_COLUMNS, codec.person_row(p)),
            }
        case PersonRemoved(person_id=person_id):
            return {"type": "person_removed", "v": v, "person_id": person_id}
        case DirectoryImported(created=c, updated=u, unchanged=n):
            return {"type": "directory_imported", "v": v, "counts": [c, u, n]}
        case ManualStatusChanged(person_id=person_id, status=status):
            row = (
                None
                if status is None
                else _columns(codec.MANUAL_COLUMNS, codec.manual_row(person_id, status))
            )
            return {"type": "manual", "v": v, "person_id": person_id, "status": row}
        case PlansChanged(person_id=person_id, plans=plans):
            rows = [_columns(codec.PLAN_COLUMNS, codec.plan_row(person_id, p)) for p in plans]
            return {"type": "plans", "v": v, "person_id": person_id, "plans": rows}
        case CalendarChanged(person_id=person_id, source=source, segments=segments):
            rows = [
                _columns(codec.SEGMENT_COLUMNS, codec.segment_row(person_id, source, i, s))
                for i, s in enumerate(segments)
            ]
            return {
                "type": "calendar",
                "v": v,
                "person_id": person_id,
                "source": source,
                "segments": rows,
            }
        case TemplatesChanged(person_id=person_id, templates=templates):
            rows = [
                _columns(codec.TEMPLATE_COLUMNS, codec.template_row(person_id, t))
                for t in templates
            ]
            return {"type": "templates", "v": v, "person_id": person_id, "templates": rows}
        case ExceptionsChanged(exceptions=exceptions):
            rows = [_columns(codec.EXCEPTION_COLUMNS, codec.exception_row(e)) for e in exceptions]
            return {"type": "exceptions", "v": v, "exceptions": rows}
        case SipCredentialChanged(user=user, credential=c):
            hashes = None if c is None else [c.ha1_md5, c.ha1_sha256]
            return {"type": "sip_credential", "v": v, "user": user, "hashes": hashes}
        case VoicemailChanged(person_id=person_id, new=new, old=old):
            return {"type": "voicemail", "v": v, "person_id": person_id, "counts": [new, old]}
        case BindingsChanged(aor=aor, added=added, removed=removed):
            rows = [_binding_fields(b) for b in added]
            return {"type": "bindings", "v": v, "aor": aor, "added": rows, "removed": list(removed)}
        case OwnCalendarChanged(person_id=person_id):
            return {"type": "own_calendar", "v": v, "person_id": person_id}


def _binding_fields(b: SavedBinding) -> dict[str, Any]:
    return {
        "contact": b.contact,
        "expires_at": codec.iso(b.expires_at),
        "call_id": b.call_id,
        "cseq": b.cseq,
        "transport": b.transport,
        "host": b.host,
        "port": b.port,
        "q": b.q,
    }


def _binding(aor: str, f: dict[str, Any]) -> SavedBinding:
    q = f["q"]
    return SavedBinding(
        aor=aor,
        contact=str(f["contact"]),
        expires_at=codec.instant(str(f["expires_at"])),
        call_id=str(f["call_id"]),
        cseq=int(f["cseq"]),
        transport=str(f["transport"]),
        host=str(f["host"]),
        port=int(f["port"]),
        q=None if q is None else float(q),
    )


def decode_event(text: str) -> FeedEvent:
    """The event ``encode_event`` wrote; StoreError (naming what is wrong) for anything else."""
    try:
        fields = json.loads(text)
        return _event(fields)
    except (ValueError, KeyError, TypeError, IndexError) as exc:
        raise StoreError(f"unreadable change in the feed: {exc!r}: {text[:200]!r}") from None


def _event(f: dict[str, Any]) -> FeedEvent:
    v = int(f["v"])
    kind = f["type"]
    if kind == "person_saved":
        return PersonSaved(v, codec.person_from_row(f["person"]))
    if kind == "person_removed":
        return PersonRemoved(v, str(f["person_id"]))
    if kind == "directory_imported":
        created, updated, unchanged = (int(n) for n in f["counts"])
        return DirectoryImported(v, created, updated, unchanged)
    if kind == "manual":
        row = f["status"]
        status = None if row is None else codec.manual_from_row(row)
        return ManualStatusChanged(v, str(f["person_id"]), status)
    if kind == "plans":
        plans = tuple(codec.plan_from_row(r) for r in f["plans"])
        return PlansChanged(v, str(f["person_id"]), plans)
    if kind == "calendar":
        segments = tuple(codec.segment_from_row(r) for r in f["segments"])
        return CalendarChanged(v, str(f["person_id"]), str(f["source"]), segments)
    if kind == "templates":
        templates = tuple(codec.template_from_row(r) for r in f["templates"])
        return TemplatesChanged(v, str(f["person_id"]), templates)
    if kind == "exceptions":
        exceptions = tuple(codec.exception_from_row(r) for r in f["exceptions"])
        return ExceptionsChanged(v, exceptions)
    if kind == "sip_credential":
        user = str(f["user"])
        hashes = f["hashes"]
        md5 = None if hashes is None or hashes[0] is None else str(hashes[0])
        credential = None if hashes is None else SipCredential(user, md5, str(hashes[1]))
        return SipCredentialChanged(v, user, credential)
    if kind == "voicemail":
        new, old = (int(n) for n in f["counts"])
        return VoicemailChanged(str(f["person_id"]), new, old, v)
    if kind == "bindings":
        aor = str(f["aor"])
        added = tuple(_binding(aor, row) for row in f["added"])
        return BindingsChanged(aor, added, tuple(str(c) for c in f["removed"]), v)
    if kind == "own_calendar":
        return OwnCalendarChanged(str(f["person_id"]), v)
    raise ValueError(f"unknown change type {kind!r}")
