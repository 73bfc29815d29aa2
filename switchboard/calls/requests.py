"""Call-list requests (R19): the nearest manager asks, an administrator decides, and only
the manager who asked downloads exactly that person's calls for exactly that period.

The rules, in order of the steps (every step audited by the store, in its transaction):
- request: ``allowed(account, REQUEST_CALL_LIST, target=person)`` (a manager of the
  person's unit, never for their own calls), a period of at most 90 days that has ended,
  and a reason that is kept;
- decide: ``allowed(account, APPROVE_CALL_LIST, target=person)``; never the account that
  asked (no one approves their own request) and never the person whose calls they are; a
  decision is final and carries a comment;
- download: only the requesting account, still allowed to ask for that person (a manager
  moved to another unit loses it), while approved, before the expiry (7 days after
  approval) and at most 3 times.
Nothing else reads call records: there is no other method that returns them.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

from switchboard.accounts.model import Account, Permission, allowed
from switchboard.calls.model import (
    DOWNLOADS,
    VALID_FOR,
    CallListRequest,
    CallRecord,
    CallsError,
    check_period,
    check_text,
)
from switchboard.clock import Clock
from switchboard.directory.model import Person
from switchboard.directory.secret_text import SecretNumberError, SecretNumbers
from switchboard.store.protocol import CallListStateError, CallStore

FindPerson = Callable[[str], Person | None]


class CallListRefusedError(CallsError):
    """The account may not take this step (HTTP 403)."""


class CallListNotFoundError(CallsError):
    """No such request or person (HTTP 404)."""


class CallListConflictError(CallsError):
    """The request is not in a state for this step (HTTP 409)."""


class CallListTextError(CallsError):
    """A reason or comment holds someone's secret mobile (R18; HTTP 422 naming ``field``)."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


class CallListService:
    def __init__(
        self,
        store: CallStore,
        clock: Clock,
        find_person: FindPerson,
        *,
        secret_numbers: Callable[[], SecretNumbers],
        downloads: int = DOWNLOADS,
        valid_for: timedelta = VALID_FOR,
    ) -> None:
        self.store = store
        self.clock = clock
        self._find_person = find_person
        self._secret_numbers = secret_numbers
        """The directory's secret mobiles (``Engine.secret_numbers``), refused in the texts
        (R18: a reason is read by administrators and kept)."""
        self.downloads = downloads
        self.valid_for = valid_for

    async def request(
        self, account: Account, person_id: str, start: datetime, end: datetime, reason: str
    ) -> CallListRequest:
        person = self._person(person_id)
        if not allowed(account, Permission.REQUEST_CALL_LIST, target=person):
            raise CallListRefusedError(
                "only the manager of the person's unit may ask for their calls (R19)"
            )
        now = self.clock.now()
        check_period(start, end, now)
        kept = self._text("reason", "the reason", reason)
        new = CallListRequest(
            0, person.person_id, account.account_id, account.username, start, end, kept, now
        )
        return await self.store.create_call_list_request(new)

    async def visible(self, account: Account) -> list[CallListRequest]:
        """An approver sees every request; anyone else only the requests they made."""
        if allowed(account, Permission.APPROVE_CALL_LIST):
            return await self.store.call_list_requests()
        return await self.store.call_list_requests(account.account_id)

    async def get(self, account: Account, request_id: int) -> CallListRequest:
        request = await self._request(request_id)
        if request.requester_id != account.account_id and not allowed(
            account, Permission.APPROVE_CALL_LIST
        ):
            raise CallListRefusedError("only the manager who asked, and administrators, see it")
        return request

    async def decide(
        self, account: Account, request_id: int, approve: bool, comment: str
    ) -> CallListRequest:
        request = await self._request(request_id)
        person = self._find_person(request.person_id)
        if not allowed(account, Permission.APPROVE_CALL_LIST, target=person):
            raise CallListRefusedError("only an administrator decides on call-list requests")
        if request.requester_id == account.account_id:
            raise CallListRefusedError("nobody decides on their own request; another admin must")
        if account.person_id is not None and account.person_id == request.person_id:
            raise CallListRefusedError("these are your own calls; another administrator decides")
        kept = self._text("comment", "the comment", comment)
        now = self.clock.now()
        try:
            return await self.store.decide_call_list_request(
                request_id,
                approve,
                account.username,
                kept,
                now,
                expires_at=now + self.valid_for,
                downloads=self.downloads,
            )
        except CallListStateError as exc:
            raise CallListConflictError(str(exc)) from None

    def _text(self, field: str, what: str, text: str) -> str:
        kept = check_text(what, text)
        try:
            self._secret_numbers().refuse(field, kept)
        except SecretNumberError as exc:
            raise CallListTextError(exc.field, str(exc)) from None
        return kept

    async def download(
        self, account: Account, request_id: int
    ) -> tuple[CallListRequest, list[CallRecord]]:
        """The records of an approved request, to the manager who asked; counted and audited."""
        request = await self._request(request_id)
        if request.requester_id != account.account_id:
            raise CallListRefusedError("a call list is released only to the manager who asked")
        person = self._find_person(request.person_id)
        if not allowed(account, Permission.REQUEST_CALL_LIST, target=person):
            raise CallListRefusedError("you no longer manage this person's unit (R19)")
        try:
            return await self.store.release_call_list(
                request_id, account.account_id, account.username, self.clock.now()
            )
        except CallListStateError as exc:
            raise CallListConflictError(str(exc)) from None

    # -- plumbing --------------------------------------------------------------------------
    def _person(self, person_id: str) -> Person:
        person = self._find_person(person_id)
        if person is None:
            raise CallListNotFoundError(f"nobody in the directory has the id {person_id!r}")
        return person

    async def _request(self, request_id: int) -> CallListRequest:
        found = await self.store.call_list_request(request_id)
        if found is None:
            raise CallListNotFoundError(f"there is no call-list request #{request_id}")
        return found
