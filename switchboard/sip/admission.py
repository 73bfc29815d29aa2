"""Who is read at all: asked per datagram, and per message framed on a TCP connection,
before anything is parsed (issue 3, issue 17).

Trusted peers (configured CIDR blocks, the trunk) always pass. Everyone else passes
their own token bucket (``rate_limit`` a second); one over it is muted for a moment, and
one that stays over it for ``FLOOD_BAN_AFTER`` seconds is banned for ``flood_ban``
seconds, logged once per source and burst. A source blocked after failed digests
(``failures``, which the server's authentication feeds) gets silence too. Whatever the
state, a muted, throttled or banned source's INVITE to an emergency number is read (it
is still challenged like any call); a digest block holds even for that: that source
guesses passwords. The rest of a flood costs a dict look-up per packet.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable

import structlog

from switchboard.settings.sip import IpNetwork, SipSettings, is_ip_address
from switchboard.sip.ratelimit import AuthFailureLimiter, FloodBans, SourceRateLimiter

log = structlog.get_logger("switchboard.sip")

FLOOD_BAN_AFTER = 3
"""Seconds in a row a source may be over its rate limit before it is banned (a burst
shorter than that, a registration storm behind one NAT, is only throttled)."""
MAX_MUTED = 100_000
MAX_TRUST_CACHE = 10_000


class Admission:
    def __init__(self, settings: SipSettings, emergency_forms: Iterable[str]) -> None:
        self.settings = settings
        self.failures = AuthFailureLimiter()
        """Failed digests per source: the server's authentication records them."""
        self.flood = SourceRateLimiter(settings.rate_limit, 2.0 * settings.rate_limit)
        self.bans = (
            FloodBans(FLOOD_BAN_AFTER, float(settings.flood_ban)) if settings.flood_ban else None
        )
        self.networks: list[IpNetwork] = list(settings.trusted)
        if settings.trunk is not None and is_ip_address(settings.trunk.host):
            self.networks.append(ipaddress.ip_network(settings.trunk.host))
        self._muted: dict[str, float] = {}
        self._emergency_users = frozenset(form.encode() for form in emergency_forms)
        self._trust_cache: dict[str, bool] = {}

    def trust_trunk(self, addresses: Iterable[str]) -> None:
        """The trunk's name now leads to ``addresses``: trusted, and the old ones not."""
        trunk_networks = [ipaddress.ip_network(address) for address in addresses]
        self.networks = [*self.settings.trusted, *trunk_networks]
        self._trust_cache.clear()

    def trusted(self, host: str) -> bool:
        known = self._trust_cache.get(host)
        if known is not None:
            return known
        try:
            address = ipaddress.ip_address(host)
        except ValueError:
            return False
        verdict = any(address in network for network in self.networks)
        if len(self._trust_cache) >= MAX_TRUST_CACHE:
            self._trust_cache.clear()  # bounded: spoofed sources cannot grow it
        self._trust_cache[host] = verdict
        return verdict

    def admit(self, host: str, now: float, data: bytes) -> bool:
        """Whether to read what ``host`` sent (``data``: only glanced at, for 112)."""
        if self.trusted(host):
            return True  # the trunk and configured peers carry everyone's calls
        until = self._muted.get(host)
        if until is not None:
            if now < until:
                return self._emergency(data)
            del self._muted[host]
        if self.failures.blocked(host, now):
            self._muted[host] = now + 1.0
            return False  # a ban after failed digests holds: that source guesses passwords
        if self.flood.allow(host, now):
            return True
        if len(self._muted) >= MAX_MUTED:
            self._muted.clear()  # bounded; a cleared entry only costs a bucket check
        ban = self.bans.refused(host, now) if self.bans is not None else None
        if ban is None:
            self._muted[host] = now + 0.05
        else:
            self._muted[host] = ban.until
            log.warning(
                "sip_flood_blocked",
                source=host,
                rate_limit=self.settings.rate_limit,
                over_seconds=ban.over_seconds,
                ban_seconds=self.settings.flood_ban,
            )
        return self._emergency(data)

    def is_emergency(self, user: str | None) -> bool:
        """Whether a Request-URI user part is an emergency number, in any form phones dial."""
        return user is not None and user.encode() in self._emergency_users

    def _emergency(self, data: bytes) -> bool:
        """Whether raw bytes start an INVITE to an emergency number (``sip:112@...``)."""
        if not data.startswith(b"INVITE "):
            return False
        head = data[7:96]
        colon = head.find(b":")
        if colon < 0:
            return False
        user = head[colon + 1 :]
        for stop in (b"@", b";", b" "):
            end = user.find(stop)
            if end >= 0:
                user = user[:end]
        return user in self._emergency_users
