"""The Redis connection and the one shape every write takes: an optimistic transaction.

A write WATCHes the keys it will read, reads them (each read a round trip, answered at
once), decides in Python with the same codecs and audit words the SQLite store uses, and
queues its writes; ``MULTI ... EXEC`` then applies them all, or none if any watched key
changed meanwhile (another node wrote), in which case the write starts over from its reads.
Every write that is audited also WATCHes the version and the audit counter, so audited
writes are serialisable: the audit entries, the version bump and the change-feed entries
are queued into the same ``EXEC`` as the change itself (protocol: one transaction).

Why not Lua: the rules (who may hold an extension, what an audit entry says) stay in one
language and one place; writes are rare, so a few round trips (about 0.1 ms each here) and
the odd retry cost nothing that matters.

Failures, told apart because they mean different things to the person who asked:
- a refused write (NotFoundError, a taken username, ...) raises before anything is queued;
- Redis unreachable before ``EXEC`` was sent: StoreUnavailableError, nothing was changed;
- the connection lost while ``EXEC`` was under way: StoreUnavailableError saying the change
  may or may not have been saved (nothing is retried blindly, which could apply it twice).

The client never retries by itself (``Retry(..., 0)``): redis-py's default of ten retries
with back-off would hold a web request for seconds against a Redis that is down, and a
retried ``EXEC`` is exactly the blind retry above.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any
from urllib.parse import urlsplit

from redis.asyncio import Redis
from redis.asyncio.client import Pipeline
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from redis.exceptions import AuthenticationError, WatchError
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

from switchboard.store.changes import FeedEvent
from switchboard.store.protocol import StoreError, StoreUnavailableError
from switchboard.store.tables import AuditRow

TIMEOUT = 2.0
"""Seconds to wait for Redis (connecting, or any answer) before calling it unreachable: a
Redis that is stopped still accepts connections but never answers."""
Command = tuple[object, ...]
LOST = (RedisConnectionError, RedisTimeoutError, OSError)
"""What an unreachable or vanished Redis raises."""


def connect(url: str, password: str | None) -> Redis:
    """A client for ``url`` (``redis://``, ``rediss://`` or ``unix://``) that answers in
    ``str``, gives up after ``TIMEOUT`` and never retries on its own."""
    try:
        return Redis.from_url(
            url,
            password=password,
            decode_responses=True,
            socket_timeout=TIMEOUT,
            socket_connect_timeout=TIMEOUT,
            retry=Retry(NoBackoff(), 0),
            client_name="switchboard",
        )
    except ValueError as exc:
        raise StoreError(f"{redacted(url)}: not a usable Redis URL: {exc}") from None


def redacted(url: str) -> str:
    """``url`` without a password, for messages and logs."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    host = parts.hostname or ""
    port = f":{parts.port}" if parts.port else ""
    user = f"{parts.username}:***@" if parts.username else ":***@"
    return parts._replace(netloc=f"{user}{host}{port}").geturl()


async def command(client: Redis, *args: object) -> Any:
    """One Redis command, its answer decoded by redis-py's usual callbacks."""
    return await client.execute_command(*args)  # type: ignore[no-untyped-call]


async def snapshot(client: Redis, commands: Sequence[Command]) -> list[Any]:
    """Read commands in one ``MULTI``: their answers are of one moment, no write between."""
    pipe = client.pipeline(transaction=True)
    try:
        for args in commands:
            pipe.execute_command(*args)
        return await pipe.execute()
    finally:
        await pipe.reset()  # type: ignore[no-untyped-call]


def lost_connection(exc: WatchError) -> bool:
    """redis-py turns a connection lost while watching into a WatchError; a real conflict
    (a watched key changed) has no such cause."""
    return isinstance(exc.__context__, LOST) or isinstance(exc.__cause__, LOST)


def described(exc: BaseException) -> str:
    """Redis's error without the command redis-py quotes in front of it when a pipeline
    fails ("Command # 3 (HSET ...) of pipeline caused error: ..."): the command's values can
    be HA1s or password hashes, and errors are logged."""
    text = str(exc)
    _, marker, error = text.partition("of pipeline caused error: ")
    return error if marker else text


def unreachable(
    where: str, what: str, exc: BaseException, *, write: bool = True
) -> StoreUnavailableError:
    changed = "; nothing was changed" if write else ""
    if isinstance(exc, AuthenticationError):
        return StoreUnavailableError(
            f"{where}: cannot {what}: Redis refused the switchboard's credentials ({exc})"
            f"{changed}. Check [store] url (the user) and the variable password_env names"
        )
    return StoreUnavailableError(
        f"{where}: cannot {what}: Redis does not answer ({type(exc).__name__}: {exc})"
        f"{changed}. The switchboard goes on routing from what it knows; try again once "
        "Redis is back"
    )


def unsure(where: str, what: str, exc: BaseException) -> StoreUnavailableError:
    return StoreUnavailableError(
        f"{where}: cannot {what}: the connection to Redis was lost while the change was "
        f"being saved ({type(exc).__name__}: {exc}), so it may or may not have been saved. "
        "Check once Redis is back"
    )


class Tx:
    """One write under way: its reads go to Redis at once (WATCHed), its writes wait in
    order for ``EXEC``. ``audit``, ``bump`` and ``emit`` queue what every audited write
    adds; the store's runner turns them into commands when the body is done."""

    def __init__(
        self,
        pipe: Pipeline,
        version: int = 0,
        audit_seq: int = 0,
        epoch: str | None = None,
        *,
        audited: bool = True,
    ) -> None:
        self._pipe = pipe
        self._audited = audited
        self.read_version = version
        """The version when the write began (WATCHed)."""
        self.audit_seq = audit_seq
        """The number of the newest audit entry when the write began (WATCHed)."""
        self.epoch = epoch
        self.writes: list[Command] = []
        self.entries: list[AuditRow] = []
        self.events: list[FeedEvent] = []
        self.version: int | None = None
        """The new version once ``bump`` was called."""

    async def watch(self, *keys: str) -> None:
        """WATCH more keys; call before reading them."""
        if keys:
            await self._pipe.watch(*keys)

    async def read(self, *args: object) -> Any:
        """One read command, answered now."""
        return await self._pipe.immediate_execute_command(*args)  # type: ignore[no-untyped-call]

    def write(self, *args: object) -> None:
        """One write command, applied by ``EXEC`` with the rest."""
        self.writes.append(args)

    def audit(self, *rows: AuditRow) -> None:
        self._require_audited()
        self.entries.extend(rows)

    def bump(self) -> int:
        """The new version this write commits (the same however often it is asked)."""
        self._require_audited()
        if self.version is None:
            self.version = self.read_version + 1
        return self.version

    def emit(self, *events: FeedEvent) -> None:
        """Events to append to the feed in the transaction and publish after it commits."""
        self._require_audited()
        self.events.extend(events)

    def _require_audited(self) -> None:
        if not self._audited:  # a bug: its version and audit numbers were never read
            raise RuntimeError("a write begun with audited=False cannot audit, bump or emit")


def pipeline(client: Redis) -> Pipeline:
    return client.pipeline(transaction=True)


async def discard(pipe: Pipeline) -> None:
    """Give the connection back (UNWATCH first if still watching)."""
    await pipe.reset()  # type: ignore[no-untyped-call]


def begin_multi(pipe: Pipeline) -> None:
    pipe.multi()  # type: ignore[no-untyped-call]


def retryable(exc: Exception) -> bool:
    """A write's read phase failed in a way that changed nothing: the connection dropped
    (a pooled one gone stale when Redis restarted) or a watched key moved."""
    return isinstance(exc, LOST) or (isinstance(exc, WatchError) and not lost_connection(exc))
