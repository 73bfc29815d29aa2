"""Where the operator trunk is: its addresses, looked up at start and every minute.

An operator often gives its trunk as a host name. Looking the name up per call would
stall the event loop (or add a thread hop to every call), so ``TrunkAddresses`` looks it
up before the SIP edge serves and then once a ``refresh_seconds`` in a task of its own;
calls use the last answer. Decisions:

- **How** (RFC 3263 §4.2, UDP): a name written without a port is looked up by DNS SRV
  first (``_sip._udp.NAME``), its targets in RFC 2782 order (lowest priority first,
  weighted at random within a priority); without SRV records, and for a name written
  with a port, its A/AAAA addresses with that port (default 5060). NAPTR is not read.
- **Which address**: the first one of the family our socket can send to (an IPv4
  socket cannot reach an IPv6 address). Requests from *any* of the trunk's addresses
  are trusted, as a configured trunk address is.
- **A failed lookup keeps the last answer** and is logged (``trunk_unresolved``, with
  the name and the error): a DNS outage must not cut off mobile calls that worked a
  minute ago. Until a first answer arrives there is no trunk address: calls for a
  mobile are answered as when no trunk is configured.
- **A lookup that takes over ``lookup_timeout`` (5 s) counts as failed**: a resolver
  waiting on an unreachable name server must not hold up the start (the first lookup
  comes before serving) for its 30 s of retries.
- **An SRV query that fails** (no answer within 2 s, a server failure) is logged
  (``trunk_srv_failed``) and the name's A/AAAA addresses are used, as for a name without
  SRV records: a broken SRV setup must not take the trunk away when its name works.
- **Which resolver**: the system's (``/etc/hosts``, then DNS per ``/etc/resolv.conf``),
  or every lookup to the configured ``name_server``.
- **An IP address** is used as it is and never looked up.
- The 302's Contact keeps the *name*: the caller's side looks it up itself.
"""

from __future__ import annotations

import asyncio
import random
import socket
from collections.abc import Awaitable, Callable, Sequence

import dns.asyncresolver
import dns.exception
import dns.resolver
import structlog

from switchboard.sip_settings import HostPort, is_ip_address

log = structlog.get_logger("switchboard.sip")

REFRESH_SECONDS = 60.0
LOOKUP_TIMEOUT = 5.0
QUERY_TIMEOUT = 2.0
"""One DNS query's limit: an SRV query that gets no answer leaves time for A/AAAA."""
Target = tuple[str, int]
"""An IP address and port the trunk answers on."""
Resolve = Callable[[HostPort, int], Awaitable[list[Target]]]
"""(the trunk, socket family or AF_UNSPEC) -> its targets, most preferred first."""


class Rfc3263:
    """The trunk's targets by RFC 3263 §4.2 for UDP, from the system's resolver or from
    ``name_server``."""

    def __init__(
        self, name_server: HostPort | None = None, choose: random.Random | None = None
    ) -> None:
        try:
            self._dns = dns.asyncresolver.Resolver(configure=name_server is None)
        except dns.resolver.NoResolverConfiguration:
            # No /etc/resolv.conf: SRV queries fail (logged) and /etc/hosts still serves.
            self._dns = dns.asyncresolver.Resolver(configure=False)
        if name_server is not None:
            self._dns.nameservers = [name_server.host]
            self._dns.port = name_server.port
        self._own_server = name_server is not None
        self._choose = choose or random.Random()  # noqa: S311 - load spreading, not secrecy

    async def __call__(self, trunk: HostPort, family: int) -> list[Target]:
        if not trunk.port_given:
            records = await self._srv(f"_sip._udp.{trunk.host}")
            if records:
                return await self._srv_targets(trunk.host, records, family)
        return [(a, trunk.port) for a in await self._addresses(trunk.host, family)]

    async def _srv_targets(
        self, name: str, records: list[tuple[str, int]], family: int
    ) -> list[Target]:
        """Every SRV target's addresses, in the records' order; a target that does not
        resolve is passed over (that is what the next one is for)."""
        targets: list[Target] = []
        problems: list[str] = []
        for host, port in records:
            try:
                targets += [(a, port) for a in await self._addresses(host, family)]
            except OSError as exc:
                problems.append(f"{host}: {exc}")
        if not targets:
            raise OSError(f"no SRV target of {name} has an address ({'; '.join(problems)})")
        return targets

    async def _srv(self, query: str) -> list[tuple[str, int]]:
        """The SRV targets of ``query`` as (host, port), in RFC 2782 order; [] when the
        name has none (then the name's own addresses are used)."""
        try:
            answer = await self._dns.resolve(query, "SRV", lifetime=QUERY_TIMEOUT)
        except (dns.resolver.NXDOMAIN, dns.resolver.NoAnswer):
            return []
        except dns.exception.DNSException as exc:
            log.warning("trunk_srv_failed", query=query, error=str(exc))
            return []
        records = [
            (int(r.priority), int(r.weight), int(r.port), r.target.to_text(omit_final_dot=True))
            for r in answer
        ]
        return srv_order(records, self._choose)

    async def _addresses(self, host: str, family: int) -> list[str]:
        if not self._own_server:
            loop = asyncio.get_running_loop()
            infos = await loop.getaddrinfo(host, None, family=family, type=socket.SOCK_DGRAM)
            return [str(info[4][0]) for info in infos]
        kinds: tuple[str, ...] = ("A", "AAAA")
        if family in (socket.AF_INET, socket.AF_INET6):
            kinds = ("A",) if family == socket.AF_INET else ("AAAA",)
        found: list[str] = []
        for kind in kinds:
            try:
                answer = await self._dns.resolve(host, kind, lifetime=QUERY_TIMEOUT)
            except (dns.resolver.NXDOMAIN, dns.resolver.NoAnswer):
                continue
            except dns.exception.DNSException as exc:
                raise OSError(f"{kind} {host}: {exc}") from exc
            found += [r.to_text() for r in answer]
        if not found:
            raise OSError(f"{host} has no {' or '.join(kinds)} record")
        return found


def srv_order(
    records: Sequence[tuple[int, int, int, str]], choose: random.Random
) -> list[tuple[str, int]]:
    """(priority, weight, port, target) records as (target, port) in RFC 2782 order:
    priorities ascending; within one, each next target drawn with probability in
    proportion to its weight (weight 0: only once the weighted ones are drawn, unless
    all are 0). A target of "." says the service is not offered there: left out."""
    ordered: list[tuple[str, int]] = []
    for priority in sorted({r[0] for r in records}):
        group = [r for r in records if r[0] == priority and r[3] not in ("", ".")]
        while group:
            total = sum(r[1] for r in group)
            if total == 0:
                picked = group[0]
            else:
                point = choose.uniform(0, total)
                running = 0
                picked = group[-1]
                for r in group:
                    running += r[1]
                    if r[1] and point <= running:
                        picked = r
                        break
            ordered.append((picked[3], picked[2]))
            group.remove(picked)
    return ordered


class TrunkAddresses:
    def __init__(
        self,
        trunk: HostPort,
        *,
        family: int = socket.AF_UNSPEC,
        resolve: Resolve | None = None,
        refresh_seconds: float = REFRESH_SECONDS,
        lookup_timeout: float = LOOKUP_TIMEOUT,
        on_change: Callable[[tuple[Target, ...]], None] | None = None,
    ) -> None:
        self.trunk = trunk
        self.family = family
        self.refresh_seconds = refresh_seconds
        self.lookup_timeout = lookup_timeout
        self._resolve = resolve or Rfc3263()
        self._on_change = on_change
        self.fixed = is_ip_address(trunk.host)
        self.targets: tuple[Target, ...] = ((trunk.host, trunk.port),) if self.fixed else ()
        """Every current address and port of the trunk; the first is where requests go."""

    @property
    def addresses(self) -> tuple[str, ...]:
        """The trunk's addresses, each once (requests from any of them are trusted)."""
        return tuple(dict.fromkeys(address for address, _ in self.targets))

    async def refresh(self) -> bool:
        """Look the name up once; True when it answered. A failed or empty answer keeps
        the targets as they were (and is logged)."""
        if self.fixed:
            return True
        try:
            async with asyncio.timeout(self.lookup_timeout):
                found = await self._resolve(self.trunk, self.family)
        except TimeoutError:  # first: it is an OSError too
            error = f"no answer within {self.lookup_timeout:g} s"
            log.error("trunk_unresolved", trunk=self.trunk.host, error=error)
            return False
        except OSError as exc:  # socket.gaierror included
            log.error("trunk_unresolved", trunk=self.trunk.host, error=str(exc))
            return False
        targets = tuple(dict.fromkeys(t for t in found if is_ip_address(t[0])))
        if not targets:
            log.error("trunk_unresolved", trunk=self.trunk.host, error="no usable address")
            return False
        if targets != self.targets:
            self.targets = targets
            address, port = targets[0]
            log.info(
                "trunk_resolved",
                trunk=self.trunk.host,
                address=address,
                port=port,
                count=len(targets),
            )
            if self._on_change is not None:
                self._on_change(targets)
        return True

    async def run(self, sleep: Callable[[float], Awaitable[None]] | None = None) -> None:
        """Look the name up every ``refresh_seconds`` until cancelled (an address: never)."""
        if self.fixed:
            return
        wait = sleep or asyncio.sleep
        while True:
            await wait(self.refresh_seconds)
            await self.refresh()
