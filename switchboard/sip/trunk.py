"""Where the operator trunk is: its addresses, looked up at start and every minute.

An operator often gives its trunk as a host name. Looking the name up per call would
stall the event loop (or add a thread hop to every call), so ``TrunkAddresses`` looks it
up before the SIP edge serves and then once a ``refresh_seconds`` in a task of its own;
calls use the last answer. Decisions:

- **How**: ``trunk_dns.Rfc3263`` (RFC 3263 §4.2: SRV, then A/AAAA).
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
- **An IP address** is used as it is and never looked up.
- The 302's Contact keeps the *name*: the caller's side looks it up itself.
"""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Awaitable, Callable

import structlog

from switchboard.settings.sip import HostPort, is_ip_address
from switchboard.sip.trunk_dns import Rfc3263, Target

log = structlog.get_logger("switchboard.sip")

REFRESH_SECONDS = 60.0
LOOKUP_TIMEOUT = 5.0
Resolve = Callable[[HostPort, int], Awaitable[list[Target]]]
"""(the trunk, socket family or AF_UNSPEC) -> its targets, most preferred first."""


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
