"""The Store contract, part 5: call records and call-list requests (R19).

Same fixture as parts 1-4. Call records are written in batches and deleted by age, with no
audit entry, version or event; every call-list step is audited (subject: the employee's
person_id), and a download releases exactly the person's records of exactly the period,
only to the requester, only while approved, unexpired and not used up.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta, timezone

import pytest

from switchboard.calls.model import (
    SECRET,
    CallAction,
    CallListRequest,
    CallRecord,
    Direction,
    RequestStatus,
)
from switchboard.store.protocol import CallListStateError, NotFoundError
from tests.contract.conftest import Backend
from tests.contract.values import ADMIN, STOCKHOLM, T0

BOSS = "acc-boss"


def call(n: int, person_id: str = "p1", minutes: int = 0) -> CallRecord:
    start = T0 + timedelta(minutes=minutes)
    return CallRecord(
        f"hash-{n}",
        start,
        None if n % 2 else start + timedelta(seconds=20),
        Direction.IN if n % 3 else Direction.OUT,
        person_id,
        SECRET if n == 4 else f"+4670100{n:04d}",
        CallAction.RING,
        200 if n % 2 else 486,
    )


def ask(person_id: str = "p1", days: int = 1) -> CallListRequest:
    return CallListRequest(
        0, person_id, BOSS, "boss", T0, T0 + timedelta(days=days), "sick leave review", T0
    )


async def approved(backend: Backend, downloads: int = 2) -> CallListRequest:
    made = await backend.store.create_call_list_request(ask())
    return await backend.store.decide_call_list_request(
        made.request_id,
        True,
        ADMIN,
        "ok, as asked",
        T0,
        expires_at=T0 + timedelta(days=7),
        downloads=downloads,
    )


async def test_records_are_written_in_a_batch_without_audit_version_or_event(
    backend: Backend,
) -> None:
    version, audit = await backend.store.version(), await backend.store.audit(1000)
    await backend.store.add_call_records([call(n) for n in range(1, 6)])
    await backend.store.add_call_records([])
    assert await backend.store.version() == version
    assert await backend.store.audit(1000) == audit
    assert backend.events == []


async def test_a_download_releases_exactly_the_person_and_period(backend: Backend) -> None:
    inside = [call(1, minutes=0), call(2, minutes=60), call(4, minutes=23 * 60)]
    outside = [
        call(5, minutes=-1),  # a minute before the period
        call(7, minutes=24 * 60),  # exactly at the end (the end is excluded)
        call(8, "p2", minutes=10),  # someone else
    ]
    await backend.store.add_call_records(outside + inside)
    request = await approved(backend)
    released, records = await backend.store.release_call_list(
        request.request_id, BOSS, "boss", T0 + timedelta(days=2)
    )
    assert records == inside  # equal values, oldest first, the secret stays "secret"
    assert released.downloads_left == 1
    newest = (await backend.store.audit(1))[0]
    assert (newest.actor, newest.action, newest.subject) == ("boss", "call_list_downloaded", "p1")
    assert "3 call(s)" in newest.detail


async def test_instants_come_back_equal_and_in_order_whatever_their_zone(
    backend: Backend,
) -> None:
    """A batch of a second's calls: same-second instants, a whole second, other zones."""
    whole = T0.replace(microsecond=0) + timedelta(seconds=1)  # inside the period
    starts = [
        whole,
        whole + timedelta(microseconds=1),
        (whole + timedelta(microseconds=999_999)).astimezone(STOCKHOLM),
        whole + timedelta(seconds=1),
        (whole + timedelta(seconds=1, microseconds=5)).astimezone(timezone(timedelta(hours=-3))),
    ]
    batch = [
        replace(call(n), started_at=start, ended_at=start + timedelta(microseconds=n * 250_000))
        for n, start in enumerate(starts, 1)
    ]
    await backend.store.add_call_records(batch[::-1])
    request = await approved(backend)
    _, records = await backend.store.release_call_list(request.request_id, BOSS, "boss", T0)
    assert records == batch


async def test_steps_are_audited_with_actor_reason_and_comment(backend: Backend) -> None:
    made = await backend.store.create_call_list_request(ask())
    assert made.request_id > 0
    assert made.status is RequestStatus.PENDING
    assert await backend.store.call_list_request(made.request_id) == made
    request = await backend.store.decide_call_list_request(
        made.request_id, False, ADMIN, "not a reason", T0, expires_at=T0, downloads=3
    )
    assert (request.status, request.decided_by, request.downloads_left) == (
        RequestStatus.REJECTED,
        ADMIN,
        0,
    )
    entries = await backend.store.audit_page(10, subject="p1")
    assert [(e.actor, e.action) for e in entries] == [
        (ADMIN, "call_list_rejected"),
        ("boss", "call_list_requested"),
    ]
    assert "not a reason" in entries[0].detail
    assert "sick leave review" in entries[1].detail


async def test_a_decision_is_final(backend: Backend) -> None:
    request = await approved(backend)
    with pytest.raises(CallListStateError, match="already"):
        await backend.store.decide_call_list_request(
            request.request_id, False, ADMIN, "changed my mind", T0, expires_at=T0, downloads=1
        )
    with pytest.raises(NotFoundError):
        await backend.store.decide_call_list_request(
            999, True, ADMIN, "no such request", T0, expires_at=T0, downloads=1
        )


async def test_release_is_refused_and_not_counted_unless_everything_holds(
    backend: Backend,
) -> None:
    pending = await backend.store.create_call_list_request(ask())
    with pytest.raises(CallListStateError, match="not approved"):
        await backend.store.release_call_list(pending.request_id, BOSS, "boss", T0)
    request = await approved(backend, downloads=1)
    rid = request.request_id
    with pytest.raises(CallListStateError, match="only to the manager who asked"):
        await backend.store.release_call_list(rid, "acc-other", "other", T0)
    with pytest.raises(CallListStateError, match="expired"):
        await backend.store.release_call_list(rid, BOSS, "boss", T0 + timedelta(days=7))
    assert (await backend.store.call_list_request(rid)) == request  # nothing counted
    await backend.store.release_call_list(rid, BOSS, "boss", T0)
    with pytest.raises(CallListStateError, match="as often as allowed"):
        await backend.store.release_call_list(rid, BOSS, "boss", T0)
    downloads = await backend.store.audit_page(100, actor="boss")
    assert [e.action for e in downloads].count("call_list_downloaded") == 1


async def test_old_records_are_deleted_by_age(backend: Backend) -> None:
    await backend.store.add_call_records([call(1, minutes=0), call(3, minutes=10)])
    assert await backend.store.delete_call_records(T0 + timedelta(minutes=5)) == 1
    request = await approved(backend)
    _, records = await backend.store.release_call_list(request.request_id, BOSS, "boss", T0)
    assert [r.call_id_hash for r in records] == ["hash-3"]


async def test_requests_list_newest_first_and_by_requester(backend: Backend) -> None:
    first = await backend.store.create_call_list_request(ask())
    second = await backend.store.create_call_list_request(
        replace(ask("p2"), requester_id="acc-x", requester="x")
    )
    assert await backend.store.call_list_requests() == [second, first]
    assert await backend.store.call_list_requests(BOSS) == [first]


async def test_audit_pages_filter_by_subject_and_actor(backend: Backend) -> None:
    for n in range(5):
        await backend.store.create_call_list_request(ask(f"p{n % 2}"))
    page = await backend.store.audit_page(2)
    assert len(page) == 2
    assert page[0].seq > page[1].seq
    rest = await backend.store.audit_page(10, before=page[-1].seq)
    assert [e.seq for e in rest] == sorted((e.seq for e in rest), reverse=True)
    assert all(e.seq < page[-1].seq for e in rest)
    assert len(page) + len(rest) == 5
    assert len(await backend.store.audit_page(10, subject="p0")) == 3
    assert len(await backend.store.audit_page(10, subject="p0", actor="nobody")) == 0
