"""What every part of the Redis store shares: the client, the keys, reads, the write runner
and the store's place in the change feed.

The parts (``redis_directory``, ``redis_presence``, ``redis_accounts``, ...) subclass
``RedisBase`` and are combined into ``RedisStore``, as the SQLite store is combined from
its mixins. Each write is a body run by ``_write`` inside one optimistic transaction
(``redis_tx``); the runner adds the audit entries, the version bump and the feed entries to
its ``EXEC`` and, once that committed, publishes on the bus: first what other processes
committed since this store last published (read inside the same transaction, so nothing
can slip in between), then the write's own events.

Publishing never repeats a change: each carries its feed number, and only numbers above
the last one published go out. That matters because, unlike SQLite's, these transactions
await Redis: a ``catch_up`` of the follower may run while a write is under way, and both
may find the same changes.
"""

from __future__ import annotations

import asyncio
import random
import secrets
import time
from collections.abc import Awaitable, Callable, Sequence
from typing import Any, TypeVar

from redis.asyncio import Redis
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import RedisError, WatchError

from switchboard.store import redis_feed
from switchboard.store.audit_words import AUDIT_COLUMNS
from switchboard.store.bus import EventBus
from switchboard.store.changes import FeedEvent, encode_event
from switchboard.store.protocol import NotFoundError, StoreError
from switchboard.store.redis_keys import Keys, encode
from switchboard.store.redis_tx import (
    LOST,
    Command,
    Tx,
    begin_multi,
    command,
    described,
    discard,
    lost_connection,
    pipeline,
    snapshot,
    unreachable,
    unsure,
)

T = TypeVar("T")
ATTEMPTS = 50
"""Tries before a write that keeps meeting other writers gives up (each try is a fresh
read of what it depends on, so only a storm of writes to the same data gets that far)."""
BACKOFF = 0.002
"""Seconds, doubled per conflict up to ``BACKOFF_CAP``, of which a random part is waited
before trying again: writers on several nodes that met once spread out instead of meeting
again at once."""
BACKOFF_CAP = 0.05


def new_epoch() -> str:
    return secrets.token_hex(8)


class RedisBase:
    """The shared plumbing; see the module's docstring."""

    def __init__(
        self, client: Redis, keys: Keys, bus: EventBus, where: str, epoch: str | None, seen: int
    ) -> None:
        self._client = client
        self._keys = keys
        self._bus = bus
        self._where = where
        """The Redis URL (without a password) and namespace, for messages."""
        self._epoch = epoch
        self._seen_seq = seen
        """The last change of the feed this process has published on its bus."""
        self._behind = False
        """Changes after ``_seen_seq`` are no longer kept (or the data was lost): only
        ``load()`` catches up."""
        self._handed: list[tuple[int, FeedEvent]] = []
        """Changes the last ``XREAD`` handed over (``wait_for_changes``), which the next
        ``catch_up`` publishes without asking Redis again."""
        self.on_write: Callable[[float], None] | None = None
        """Told each committed write's seconds, its turn and retries included (metrics)."""
        self._audited = asyncio.Lock()
        """Audited writes of this process take turns: they all meet on the version and
        the audit counter, so letting them race would only make them retry each other."""

    # --- reads ----------------------------------------------------------------------------

    async def _call(self, what: str, *args: object) -> Any:
        """One read command (or a write that needs no transaction: a counter, a marker)."""
        return await self._guard(what, lambda: command(self._client, *args))

    async def _snapshot(self, what: str, commands: Sequence[Command]) -> list[Any]:
        """Several reads answered at one moment (one ``MULTI``)."""
        return await self._guard(what, lambda: snapshot(self._client, commands))

    async def _guard(self, what: str, read: Callable[[], Awaitable[T]]) -> T:
        """Run ``read``, once more on a dropped connection (a pooled one that went stale
        when Redis restarted), with Redis's errors as StoreErrors."""
        for attempt in (1, 2):
            try:
                return await read()
            except RedisConnectionError as exc:
                if attempt == 2:
                    raise unreachable(self._where, what, exc, write=False) from exc
                await self._forget_idle()
            except LOST as exc:
                raise unreachable(self._where, what, exc, write=False) from exc
            except RedisError as exc:
                raise StoreError(f"{self._where}: cannot {what}: {described(exc)}") from None
        raise AssertionError("unreachable")  # pragma: no cover - the loop returns or raises

    async def _forget_idle(self) -> None:
        """Close the pool's idle connections: after one failed, the others likely did too."""
        await self._client.connection_pool.disconnect(inuse_connections=False)

    async def _require_person(self, tx: Tx, person_id: str) -> None:
        """NotFoundError unless ``person_id`` is in the directory (the people hash WATCHed,
        so a removal before ``EXEC`` makes the write start over)."""
        await tx.watch(self._keys.people)
        if not await tx.read("HEXISTS", self._keys.people, person_id):
            raise NotFoundError(f"person {person_id}")

    # --- writes ---------------------------------------------------------------------------

    async def _write(
        self,
        what: str,
        body: Callable[[Tx], Awaitable[T]],
        *,
        watch: Sequence[str] = (),
        audited: bool = True,
    ) -> T:
        """Run ``body`` in one optimistic transaction, again from its reads while other
        writers get in between; publish its events after the commit.

        ``watch``: the keys ``body`` reads (it may ``tx.watch`` more before reading them).
        ``audited``: the write may audit, bump the version and emit events; it then also
        watches the version, the audit counter and the epoch, and takes its turn with this
        process's other audited writes. Writes that do none of these (a session's last use,
        call records) skip that and meet no other writer.
        """
        started = time.perf_counter()
        if not audited:
            result = await self._attempts(what, body, watch, audited)
        else:
            async with self._audited:
                result = await self._attempts(what, body, watch, audited)
        if self.on_write is not None:
            self.on_write(time.perf_counter() - started)
        return result

    async def _attempts(
        self, what: str, body: Callable[[Tx], Awaitable[T]], watch: Sequence[str], audited: bool
    ) -> T:
        dropped = False
        for attempt in range(ATTEMPTS):
            pipe = pipeline(self._client)
            try:
                try:
                    tx = await self._begin(pipe, watch, audited)
                    result = await body(tx)
                    others = await self._others(tx) if tx.events else []
                except (WatchError, *LOST) as exc:
                    # Nothing was sent to commit yet: another try is safe, once, if the
                    # connection had merely gone stale.
                    stale = isinstance(exc, RedisConnectionError) or (
                        isinstance(exc, WatchError)
                        and isinstance(exc.__context__, RedisConnectionError)
                    )
                    if dropped or not stale:
                        raise unreachable(self._where, what, exc) from exc
                    dropped = True
                    await self._forget_idle()
                    continue
                begin_multi(pipe)
                self._queue(pipe, tx)
                try:
                    replies = await pipe.execute()
                except WatchError as exc:
                    if lost_connection(exc):
                        raise unsure(self._where, what, exc) from exc
                    # Another writer changed what this one read: read again, a moment later.
                    pause = min(BACKOFF_CAP, BACKOFF * 2**attempt)
                    await asyncio.sleep(random.uniform(0, pause))  # noqa: S311 - not a secret
                    continue
                except LOST as exc:
                    raise unsure(self._where, what, exc) from exc
            except StoreError:
                raise
            except RedisError as exc:
                # Not chained: redis-py's exception may quote the commands, secrets and all.
                raise StoreError(
                    f"{self._where}: cannot {what}; nothing was changed: {described(exc)}"
                ) from None
            except Exception as exc:
                raise StoreError(
                    f"{self._where}: cannot {what}; nothing was changed: {exc}"
                ) from exc
            finally:
                await discard(pipe)
            self._committed(tx, others, replies)
            return result
        raise StoreError(
            f"{self._where}: cannot {what}: other writers kept changing the same data "
            f"({ATTEMPTS} tries); nothing was changed, try again"
        )

    async def _begin(self, pipe: Any, watch: Sequence[str], audited: bool) -> Tx:
        if not audited:
            if watch:
                await pipe.watch(*watch)
            return Tx(pipe, audited=False)
        k = self._keys
        await pipe.watch(k.version, k.audit_seq, k.epoch, *watch)
        version, seq, epoch = await pipe.immediate_execute_command(
            "MGET", k.version, k.audit_seq, k.epoch
        )
        return Tx(pipe, int(version or 0), int(seq or 0), epoch)

    async def _others(self, tx: Tx) -> list[tuple[int, FeedEvent]]:
        """What others committed since this store last published, read in the write's
        transaction (the feed WATCHed from here on, so nothing slips in before ``EXEC``)."""
        await tx.watch(self._keys.feed)
        if self._behind or tx.epoch != self._epoch:
            self._behind = True
            return []
        seen = self._seen_seq
        entries = await tx.read("XRANGE", self._keys.feed, redis_feed.after(seen), "+")
        found = redis_feed.decode(entries)
        if found and found[0][0] != seen + 1:
            self._behind = True
            return []
        return found

    def _queue(self, pipe: Any, tx: Tx) -> None:
        """Queue the body's writes, then its audit entries, version, epoch and feed
        entries (last, so their ids are the last replies)."""
        k = self._keys
        for args in tx.writes:
            pipe.execute_command(*args)
        seq = tx.audit_seq
        for row in tx.entries:
            seq += 1
            _, actor, _, subject, *_ = row
            pipe.execute_command("HSET", k.audit, seq, encode((*AUDIT_COLUMNS, "seq"), (*row, seq)))
            pipe.execute_command("ZADD", k.audit_by_subject(subject), seq, seq)
            pipe.execute_command("ZADD", k.audit_by_actor(actor), seq, seq)
        if tx.entries:
            pipe.execute_command("SET", k.audit_seq, seq)
        if tx.version is not None:
            pipe.execute_command("SET", k.version, tx.version)
        epoch = tx.epoch
        if epoch is None and (tx.entries or tx.events or tx.version is not None):
            # The namespace's data is gone (flushed) or new: mark the new beginning.
            epoch = new_epoch()
            pipe.execute_command("SET", k.epoch, epoch)
        for event in tx.events:
            pipe.execute_command(*redis_feed.xadd(k.feed, encode_event(event), str(epoch)))

    def _committed(self, tx: Tx, others: list[tuple[int, FeedEvent]], replies: list[Any]) -> None:
        if not tx.events:
            return
        ids = replies[len(replies) - len(tx.events) :]
        own = [(redis_feed.number(i), e) for i, e in zip(ids, tx.events, strict=True)]
        self._publish([*others, *own])

    def _publish(self, changes: Sequence[tuple[int, FeedEvent]]) -> int:
        """Publish the changes not published yet, in order; how many that was."""
        fresh = [(seq, event) for seq, event in changes if seq > self._seen_seq]
        if fresh:
            self._seen_seq = fresh[-1][0]
        for _, event in fresh:
            self._bus.publish(event)
        return len(fresh)
