"""Where the operator trunk is: its addresses, looked up at start and every minute.

An operator often gives its trunk as a host name. Looking the name up per call would
stall the event loop (or add a thread hop to every call), so ``TrunkAddresses`` looks it
up before the SIP edge serves and then once a ``refresh_seconds`` in a task of its own;
calls use the last answer. Decisions:

- **Which address**: the resolver's first one of the family our socket can send to (an
  IPv4 socket cannot reach an IPv6 address), in the resolver's order (RFC 6724). Requests
  from *any* of the trunk's addresses are trusted, as a configured trunk address is.
- **A failed lookup keeps the last answer** and is logged (``trunk_unresolved``, with
  the name and the error): a DNS outage must not cut off mobile calls that worked a
  minute ago. Until a first answer arrives there is no trunk address: calls for a
  mobile are answered as when no trunk is configured.
- **A lookup that takes over ``lookup_timeout`` (5 s) counts as failed**: a resolver
  waiting on an unreachable name server must not hold up the start (the first lookup
  comes before serving) for its 30 s of retries.
- **An IP address** is used as it is and never looked up.
- **No SRV or NAPTR** (RFC 3263): the port is the configured one (default 5060).
- The 302's Contact keeps the *name*: the caller's side looks it up itself.
"""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Awaitable, Callable

import structlog

from switchboard.sip_settings import HostPort, is_ip_address

log = structlog.get_logger("switchboard.sip")

REFRESH_SECONDS = 60.0
LOOKUP_TIMEOUT = 5.0
Resolve = Callable[[str, int, int], Awaitable[list[str]]]
"""(name, port, socket family or AF_UNSPEC) -> the addresses, in the resolver's order."""


async def system_resolve(name: str, port: int, family: int) -> list[str]:
    """The system resolver (getaddrinfo, on the loop's executor: /etc/hosts, DNS)."""
    loop = asyncio.get_running_loop()
    infos = await loop.getaddrinfo(name, port, family=family, type=socket.SOCK_DGRAM)
    return [str(info[4][0]) for info in infos]


class TrunkAddresses:
    def __init__(
        self,
        trunk: HostPort,
        *,
        family: int = socket.AF_UNSPEC,
        resolve: Resolve = system_resolve,
        refresh_seconds: float = REFRESH_SECONDS,
        lookup_timeout: float = LOOKUP_TIMEOUT,
        on_change: Callable[[tuple[str, ...]], None] | None = None,
    ) -> None:
        self.trunk = trunk
        self.family = family
        self.refresh_seconds = refresh_seconds
        self.lookup_timeout = lookup_timeout
        self._resolve = resolve
        self._on_change = on_change
        self.fixed = is_ip_address(trunk.host)
        self.addresses: tuple[str, ...] = (trunk.host,) if self.fixed else ()
        """Every current address of the trunk; the first is where requests go."""

    async def refresh(self) -> bool:
        """Look the name up once; True when it answered. A failed or empty answer keeps
        the addresses as they were (and is logged)."""
        if self.fixed:
            return True
        try:
            async with asyncio.timeout(self.lookup_timeout):
                found = await self._resolve(self.trunk.host, self.trunk.port, self.family)
        except TimeoutError:  # first: it is an OSError too
            error = f"no answer within {self.lookup_timeout:g} s"
            log.error("trunk_unresolved", trunk=self.trunk.host, error=error)
            return False
        except OSError as exc:  # socket.gaierror included
            log.error("trunk_unresolved", trunk=self.trunk.host, error=str(exc))
            return False
        addresses = tuple(dict.fromkeys(a for a in found if is_ip_address(a)))
        if not addresses:
            log.error("trunk_unresolved", trunk=self.trunk.host, error="no usable address")
            return False
        if addresses != self.addresses:
            self.addresses = addresses
            log.info(
                "trunk_resolved", trunk=self.trunk.host, address=addresses[0], count=len(addresses)
            )
            if self._on_change is not None:
                self._on_change(addresses)
        return True

    async def run(self, sleep: Callable[[float], Awaitable[None]] | None = None) -> None:
        """Look the name up every ``refresh_seconds`` until cancelled (an address: never)."""
        if self.fixed:
            return
        wait = sleep or asyncio.sleep
        while True:
            await wait(self.refresh_seconds)
            await self.refresh()
