"""The trunk's targets by DNS, as RFC 3263 §4.2 says for UDP (``trunk.py`` keeps them).

- A name written without a port is looked up by DNS SRV first (``_sip._udp.NAME``), its
  targets in RFC 2782 order (lowest priority first, weighted at random within a
  priority), each with its own port; a target that does not resolve is passed over.
- Without SRV records, and for a name written with a port, the name's A/AAAA addresses
  are used with that port (default 5060). NAPTR is not read.
- **An SRV query that fails** (no answer within 2 s, a server failure) is logged
  (``trunk_srv_failed``) and the name's A/AAAA addresses are used, as for a name without
  SRV records: a broken SRV setup must not take the trunk away when its name works.
- **Which resolver**: the system's (``/etc/hosts``, then DNS per ``/etc/resolv.conf``),
  or every query to the configured ``name_server``.
"""

from __future__ import annotations

import asyncio
import random
import socket
from collections.abc import Sequence

import dns.asyncresolver
import dns.exception
import dns.resolver
import structlog

from switchboard.settings.sip import HostPort

log = structlog.get_logger("switchboard.sip")

QUERY_TIMEOUT = 2.0
"""One DNS query's limit: an SRV query that gets no answer leaves time for A/AAAA."""
Target = tuple[str, int]
"""An IP address and port the trunk answers on."""


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
