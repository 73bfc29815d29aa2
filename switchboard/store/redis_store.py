"""Redis as the shared store: several switchboard nodes (or processes) on one directory,
one availability and one change feed (issue 14).

``RedisStore`` implements the whole ``Store`` protocol and passes the same contract suite as
SQLite (``tests/contract``). It is made of parts as the SQLite store is: the directory and
SIP credentials (``redis_directory``), availability and policy (``redis_presence``),
accounts (``redis_accounts``), calls (``redis_calls``), voicemail (``redis_voicemail``),
saved registrations (``redis_bindings``) and the audit trail (``redis_audit``); this module
opens it, loads a node's state and follows the feed. Key layout: ``redis_keys``; how a
write commits: ``redis_tx`` and ``redis_base``.

Following: ``wait_for_changes`` blocks in ``XREAD`` on the feed stream, so it returns the
moment another node's write commits (a few hundred microseconds on one machine), and
``catch_up`` then reads what came after this store's position in one ``MULTI`` with the
namespace's epoch, so a store whose data was lost or flushed is told to reload rather than
apply a numbering that started over.

Durability is Redis's: see ``persistence_warnings`` and docs/redis.md.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any

from redis.exceptions import RedisError

from switchboard.directory.model import Person
from switchboard.store import codec, feed, redis_feed
from switchboard.store.bus import EventBus
from switchboard.store.protocol import ImportResult, StoreError, StoreState, follow_to_end
from switchboard.store.redis_accounts import RedisAccounts
from switchboard.store.redis_audit import RedisAudit
from switchboard.store.redis_base import new_epoch
from switchboard.store.redis_bindings import RedisBindings
from switchboard.store.redis_calls import RedisCalls
from switchboard.store.redis_directory import RedisDirectory, person_from_json
from switchboard.store.redis_keys import Keys, load
from switchboard.store.redis_own_calendars import RedisOwnCalendars
from switchboard.store.redis_plans import RedisPlans, plans_from
from switchboard.store.redis_presence import RedisPresence
from switchboard.store.redis_tx import (
    LOST,
    TIMEOUT,
    command,
    connect,
    redacted,
    snapshot,
    unreachable,
)
from switchboard.store.redis_voicemail import RedisVoicemail

MINIMUM_VERSION = (7, 0)
"""``XADD key 0-*`` (feed numbers without gaps) came with Redis 7.0."""
LONGEST_WAIT = TIMEOUT / 2
"""``wait_for_changes`` blocks at most this long per call: a blocked ``XREAD`` must answer
within the client's socket timeout, or the wait itself would look like a dead Redis."""


IMPORT_APART_AT = 500
"""People above which an import runs apart (``_import_apart``): about 12 ms on the loop."""


class RedisStore(
    RedisDirectory,
    RedisPresence,
    RedisPlans,
    RedisAccounts,
    RedisCalls,
    RedisVoicemail,
    RedisBindings,
    RedisOwnCalendars,
    RedisAudit,
):
    """The ``Store`` protocol on Redis. Create it with ``await RedisStore.open(...)``."""

    @classmethod
    async def open(
        cls, url: str, namespace: str, bus: EventBus, password: str | None = None
    ) -> RedisStore:
        """Connect to the Redis at ``url`` and use the keys of ``namespace``.

        StoreUnavailableError when Redis does not answer; StoreError for a Redis older than
        7.0 or a namespace that cannot be used.
        """
        keys = Keys(namespace)
        where = f"{redacted(url)} (namespace {namespace})"
        client = connect(url, password)
        try:
            info = await _checked(where, "connect", command(client, "INFO", "server"))
            version = tuple(int(n) for n in str(info.get("redis_version", "0.0")).split(".")[:2])
            if version < MINIMUM_VERSION:
                raise StoreError(
                    f"{where}: Redis {info.get('redis_version')} is too old; the switchboard "
                    "needs Redis 7.0 or newer"
                )
            await _checked(where, "connect", command(client, "SET", keys.epoch, new_epoch(), "NX"))
            epoch, newest = await _checked(
                where,
                "connect",
                snapshot(
                    client, [("GET", keys.epoch), ("XREVRANGE", keys.feed, "+", "-", "COUNT", 1)]
                ),
            )
        except BaseException:
            await client.aclose()
            raise
        store = cls(client, keys, bus, where, epoch, redis_feed.newest(newest))

        async def open_twin(twin_bus: EventBus) -> RedisStore:
            twin = await cls.open(url, namespace, twin_bus, password)
            twin._open_twin = None  # the twin's import is the direct one
            return twin

        store._open_twin = open_twin
        return store

    _open_twin: Callable[[EventBus], Awaitable[RedisStore]] | None = None
    """Opens another store on the same Redis and namespace, with connections of its own
    (``open`` sets it): what a large import runs on, apart from this event loop."""

    async def import_people(self, people: list[Person], actor: str, at: datetime) -> ImportResult:
        if len(people) <= IMPORT_APART_AT or self._open_twin is None:
            return await super().import_people(people, actor, at)
        return await self._import_apart(self._open_twin, people, actor, at)

    async def _import_apart(
        self,
        open_twin: Callable[[EventBus], Awaitable[RedisStore]],
        people: list[Person],
        actor: str,
        at: datetime,
    ) -> ImportResult:
        """A large import on connections of its own, in a thread with its own event loop,
        as another process's import would be; then this store follows the feed to it.

        One ``MULTI`` of a region's import is hundreds of thousands of commands, and
        redis-py reads their replies one by one in Python without yielding: 0.5 s of a
        held event loop per 20,000 people. Apart, the loop keeps answering meanwhile, and
        takes the import's events from the feed a batch per turn, as the follower does.
        """

        async def importing() -> ImportResult:
            twin = await open_twin(EventBus())  # nobody listens: this store publishes
            try:
                return await twin.import_people(people, actor, at)
            finally:
                await twin.close()

        result = await asyncio.to_thread(asyncio.run, importing())
        await follow_to_end(self)
        return result

    @property
    def where(self) -> str:
        """The Redis URL (without a password) and namespace, for messages and logs."""
        return self._where

    # --- reads ----------------------------------------------------------------------------

    async def load(self) -> StoreState:
        k = self._keys
        await self._call("load", "SET", k.epoch, new_epoch(), "NX")
        (
            version,
            people,
            manual,
            calendar,
            templates,
            exceptions,
            credentials,
            newest,
            epoch,
            plans,
        ) = await self._snapshot(
            "load",
            [
                ("GET", k.version),
                ("HGETALL", k.people),
                ("HGETALL", k.manual),
                ("HGETALL", k.calendar),
                ("HGETALL", k.templates),
                ("GET", k.exceptions),
                ("HGETALL", k.credentials),
                ("XREVRANGE", k.feed, "+", "-", "COUNT", 1),
                ("GET", k.epoch),
                ("HGETALL", k.plans),
            ],
        )
        self._seen_seq = redis_feed.newest(newest)
        self._epoch = epoch
        self._behind = False
        self._handed = []
        return StoreState(
            int(version or 0),
            tuple(person_from_json(people[pid]) for pid in sorted(people)),
            {
                pid: codec.manual_from_row(load(manual[pid], "manual status"))
                for pid in sorted(manual)
            },
            {
                pid: {
                    source: tuple(codec.segment_from_row(r) for r in rows)
                    for source, rows in load(calendar[pid], "calendar").items()
                }
                for pid in sorted(calendar)
            },
            {
                pid: tuple(codec.template_from_row(r) for r in load(templates[pid], "templates"))
                for pid in sorted(templates)
            },
            tuple(
                codec.exception_from_row(r)
                for r in ([] if exceptions is None else load(exceptions, "policy exceptions"))
            ),
            {
                user: codec.credential_from_row(load(credentials[user], "SIP credential"))
                for user in sorted(credentials)
            },
            {pid: plans_from(plans[pid]) for pid in sorted(plans)},
        )

    async def version(self) -> int:
        return int(await self._call("read the version", "GET", self._keys.version) or 0)

    # --- following the feed ---------------------------------------------------------------

    async def wait_for_changes(self, seconds: float) -> None:
        """Block in ``XREAD`` until the feed moves past this store's position; keep what it
        hands over for ``catch_up`` when it follows on from there in this store's epoch."""
        block = max(1, round(min(seconds, LONGEST_WAIT) * 1000))
        seen = self._seen_seq
        reply = await self._call(
            "wait for changes",
            "XREAD",
            "COUNT",
            feed.BATCH,
            "BLOCK",
            block,
            "STREAMS",
            self._keys.feed,
            f"0-{seen}",
        )
        entries = redis_feed.read_reply(reply)
        if entries and redis_feed.stamped(entries, self._epoch):
            found = redis_feed.decode(entries)
            if found[0][0] == seen + 1:
                self._handed = found

    async def catch_up(self, limit: int = feed.BATCH) -> int | None:
        if self._behind:
            return None
        handed, self._handed = self._handed, []
        ready = [(seq, event) for seq, event in handed[:limit] if seq > self._seen_seq]
        if ready and ready[0][0] == self._seen_seq + 1:
            return self._publish(ready)  # what XREAD handed over: no need to ask again
        k = self._keys
        seen = self._seen_seq
        epoch, entries, newest = await self._snapshot(
            "follow the change feed",
            [
                ("GET", k.epoch),
                ("XRANGE", k.feed, redis_feed.after(seen), "+", "COUNT", limit),
                ("XREVRANGE", k.feed, "+", "-", "COUNT", 1),
            ],
        )
        found = redis_feed.decode(entries)
        lost = epoch != self._epoch or redis_feed.newest(newest) < seen
        if lost or (found and found[0][0] != seen + 1):
            # Trimmed past this store's position, or the data went (the epoch changed).
            self._behind = True
            return None
        return self._publish(found)

    async def persistence_warnings(self) -> list[str]:
        """What in Redis's configuration would lose changes it acknowledged, in words that
        say what to set (empty: nothing). ``serve`` logs each at start-up."""
        try:
            config = await command(self._client, "CONFIG", "GET", "append*")
            memory = await command(self._client, "CONFIG", "GET", "maxmemory*")
        except LOST as exc:
            where = self._where
            raise unreachable(where, "read the persistence settings", exc, write=False) from exc
        except RedisError as exc:  # CONFIG is often renamed or refused on managed Redis
            return [
                f"cannot read Redis's persistence settings ({exc}); make sure it runs with "
                "appendonly yes, appendfsync everysec (or always) and maxmemory-policy "
                "noeviction, or a crash of Redis loses acknowledged changes"
            ]
        return _persistence_problems(config, memory)

    async def close(self) -> None:
        """Close the connections; closing twice is harmless."""
        await self._client.aclose()


async def _checked(where: str, what: str, call: Any) -> Any:
    try:
        return await call
    except LOST as exc:
        raise unreachable(where, what, exc, write=False) from exc
    except StoreError:
        raise
    except Exception as exc:
        raise StoreError(f"{where}: cannot {what}: {exc}") from exc


def _persistence_problems(config: dict[str, str], memory: dict[str, str]) -> list[str]:
    found: list[str] = []
    if config.get("appendonly") != "yes":
        found.append(
            "Redis runs with appendonly no: acknowledged changes live only in memory until "
            "the next snapshot, and a crash or restart of Redis loses them. Set appendonly "
            "yes with appendfsync everysec (loses at most about a second) or appendfsync "
            "always (loses nothing)"
        )
    elif config.get("appendfsync") == "no":
        found.append(
            "Redis runs with appendfsync no: the operating system decides when the "
            "append-only file reaches the disk, so a power loss can take tens of seconds of "
            "acknowledged changes. Set appendfsync everysec (loses at most about a second) "
            "or always (loses nothing)"
        )
    policy = memory.get("maxmemory-policy", "noeviction")
    if memory.get("maxmemory", "0") != "0" and policy != "noeviction":
        found.append(
            f"Redis runs with maxmemory-policy {policy}: when full it deletes keys, which "
            "here are people, referrals and the audit trail. Set maxmemory-policy "
            "noeviction (writes are then refused when full, and say so)"
        )
    return found
