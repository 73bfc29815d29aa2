"""The ``[sip]`` table of the config file: where the SIP edge listens and whom it trusts.

Kept apart from ``config.py`` so the SIP knobs live next to their validation; the command
line (``switchboard serve --sip-listen ...``) overrides them one by one.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass, field, replace
from enum import StrEnum
from typing import Any

from switchboard.directory.destinations import PREMIUM_AND_SATELLITE, read_e164_prefix
from switchboard.directory.short_numbers import read_short_number

IpNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network


class SipMode(StrEnum):
    REDIRECT = "redirect"
    """Answer INVITE with 302 and the targets; the caller's side does the rest."""
    PROXY = "proxy"
    """Forward statefully, ring targets in parallel, handle no-answer and CANCEL."""


@dataclass(frozen=True, slots=True)
class HostPort:
    host: str
    port: int
    port_given: bool = field(default=True, compare=False)
    """False when the text named no port and ``port`` is the default: a trunk name is then
    looked up by DNS SRV first (RFC 3263 §4.2)."""

    def __str__(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{host}:{self.port}"


def parse_host_port(text: str, default_port: int | None = 5060) -> HostPort:
    """``host:port``, ``[v6]:port`` or (with a default port) ``host``; ValueError if bad."""
    text = text.strip()
    if text.startswith("["):
        host, sep, rest = text[1:].partition("]")
        port_text = rest[1:] if rest.startswith(":") else ""
        if not sep or (rest and not rest.startswith(":")):
            raise ValueError(f"expected [address]:port, got {text!r}")
    elif text.count(":") == 1:
        host, _, port_text = text.partition(":")
    else:
        host, port_text = text, ""
    if not host:
        raise ValueError(f"no host in {text!r}")
    if not port_text:
        if default_port is None:
            raise ValueError(f"no port in {text!r} (write host:port)")
        return HostPort(host, default_port, port_given=False)
    if not port_text.isdigit() or not 0 <= int(port_text) <= 65535:
        raise ValueError(f"port must be a number 0-65535, got {port_text!r}")
    return HostPort(host, int(port_text))


def parse_trunk(text: str) -> HostPort:
    """The operator trunk: an IP address or a host name (resolved at start and every
    minute, never per call: ``switchboard.sip.trunk``), and a port (default 5060)."""
    trunk = parse_host_port(text)
    if trunk.port == 0:
        raise ValueError(f"the trunk needs a port 1-65535, not 0 ({text.strip()!r})")
    if not is_ip_address(trunk.host) and not is_host_name(trunk.host):
        raise ValueError(
            f"not an IP address or a host name: {trunk.host!r} (labels of letters, "
            "digits and '-', separated by dots)"
        )
    return trunk


def parse_name_server(text: str) -> HostPort:
    """A DNS server: an IP address and port (default 53)."""
    server = parse_host_port(text, default_port=53)
    if not is_ip_address(server.host) or server.port == 0:
        raise ValueError(f"a name server is an IP address and a port 1-65535, not {text!r}")
    return server


def is_ip_address(text: str) -> bool:
    try:
        ipaddress.ip_address(text)
    except ValueError:
        return False
    return True


def is_host_name(text: str) -> bool:
    """A DNS name as RFC 1123 writes it (a trailing dot allowed), all-numeric top label
    refused (that is a mistyped address, not a name)."""
    labels = text[:-1].split(".") if text.endswith(".") else text.split(".")
    if not 0 < len(text) <= 253 or labels[-1].isdigit():
        return False
    return all(
        0 < len(label) <= 63
        and label.isascii()
        and label.replace("-", "").isalnum()
        and not label.startswith("-")
        and not label.endswith("-")
        for label in labels
    )


def parse_network(text: str) -> IpNetwork:
    try:
        return ipaddress.ip_network(text.strip(), strict=False)
    except ValueError:
        raise ValueError(f"not an address or CIDR block: {text!r}") from None


@dataclass(frozen=True, slots=True)
class SipSettings:
    listen: HostPort = HostPort("127.0.0.1", 5060)
    mode: SipMode = SipMode.REDIRECT
    trunk: HostPort | None = None
    """The mobile operator's SIP trunk: where calls to mobile numbers go. Always trusted."""
    name_server: HostPort | None = None
    """The DNS server for the trunk's name (an IP address, port 53 by default); None: the
    system's resolver (``/etc/hosts``, ``/etc/resolv.conf``)."""
    trusted: tuple[IpNetwork, ...] = ()
    """Peers whose requests need no digest (the trunk, a Kamailio front)."""
    realm: str = "switchboard"
    advertise: HostPort | None = None
    """The address written into Via and Record-Route; default: the bound address."""
    blocked_destinations: tuple[str, ...] = ()
    """Number prefixes, as dialled nationally, that employees may not call (premium rate)."""
    blocked_international: tuple[str, ...] = PREMIUM_AND_SATELLITE
    """E.164 prefixes nobody calls out to: international premium and satellite ranges
    (``directory.destinations``); a list written in the file replaces the default."""
    emergency_numbers: tuple[str, ...] | None = None
    """Short numbers that always go out with a callback number (112); None: the
    country's defaults (``directory.short_numbers``)."""
    service_numbers: tuple[str, ...] | None = None
    """Public service short numbers (1177, 114 14) that go out past the destination
    policy; None: the country's defaults."""
    rate_limit: int = 200
    """Requests per second one source may send before being dropped (burst: twice that)."""
    flood_ban: int = 60
    """Seconds a source that stays over ``rate_limit`` (3 s in a row) gets silence; 0:
    never banned, only throttled to the rate."""
    max_transactions: int = 50_000
    """Server transactions held at once; a new request beyond gets 503 with Retry-After
    (issue 15). About 2 KB each; the default is twice what 1,000 proxied calls a second
    ringing 25 s hold, and bounds that table at about 100 MB (docs/operations.md)."""
    tcp_idle: int = 60
    """Seconds a TCP connection may go without a SIP message before it is closed, unless
    a registration lasts on it (its keep-alives then hold it, RFC 5626)."""
    digest_algorithms: tuple[str, ...] = ("MD5",)
    """Offered in this order (RFC 8760 §2.3) to every phone not set up SHA-256 only.
    MD5 alone by default, so common phones work as shipped: SIPp 3.6 answers only the
    first challenge and knows only MD5, and Debian's baresip 1.0 gives up on any SHA-256
    challenge at all, even one after MD5. A fleet that handles several challenges may say
    ``["SHA-256", "MD5"]``; one phone at a time can be set up SHA-256 only instead
    (``phones password --sha256-only``; docs/sip.md, *Digest*)."""

    def with_overrides(
        self,
        *,
        listen: HostPort | None = None,
        mode: SipMode | None = None,
        trunk: HostPort | None = None,
        trusted: tuple[IpNetwork, ...] | None = None,
    ) -> SipSettings:
        return replace(
            self,
            listen=listen or self.listen,
            mode=mode or self.mode,
            trunk=trunk or self.trunk,
            trusted=trusted if trusted else self.trusted,
        )


SIP_KEYS = {
    "listen",
    "mode",
    "trunk",
    "name_server",
    "trusted",
    "realm",
    "advertise",
    "blocked_destinations",
    "blocked_international",
    "emergency_numbers",
    "service_numbers",
    "rate_limit",
    "flood_ban",
    "tcp_idle",
    "max_transactions",
    "digest_algorithms",
}


def parse_sip(table: dict[str, Any], fail: Any) -> SipSettings:
    """Build SipSettings from the ``[sip]`` table; ``fail(key, problem)`` makes the error."""

    def text(key: str) -> str | None:
        value = table.get(key)
        if value is not None and not isinstance(value, str):
            raise fail(key, f"must be a string in quotes, got {value!r}")
        return value

    def strings(key: str) -> tuple[str, ...]:
        value = table.get(key, [])
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise fail(key, 'must be a list of strings, e.g. ["10.0.0.0/8"]')
        return tuple(value)

    def host_port(key: str) -> HostPort | None:
        value = text(key)
        if value is None:
            return None
        try:
            return parse_host_port(value)
        except ValueError as exc:
            raise fail(key, str(exc)) from None

    settings = SipSettings()
    listen = host_port("listen") or settings.listen
    mode_text = text("mode") or SipMode.REDIRECT.value
    try:
        mode = SipMode(mode_text)
    except ValueError:
        raise fail("mode", f"must be 'redirect' or 'proxy', got {mode_text!r}") from None
    trusted: list[IpNetwork] = []
    for value in strings("trusted"):
        try:
            trusted.append(parse_network(value))
        except ValueError as exc:
            raise fail("trusted", str(exc)) from None
    blocked = strings("blocked_destinations")
    for prefix in blocked:
        if not (prefix.isdigit() and prefix.isascii()):
            raise fail("blocked_destinations", f"prefixes are digits, got {prefix!r}")
    international = settings.blocked_international
    if "blocked_international" in table:
        try:
            international = tuple(
                dict.fromkeys(
                    read_e164_prefix(v, max_digits=15) for v in strings("blocked_international")
                )
            )
        except ValueError as exc:
            raise fail("blocked_international", str(exc)) from None
    short: dict[str, tuple[str, ...] | None] = {}
    for key in ("emergency_numbers", "service_numbers"):
        if key not in table:
            short[key] = None
            continue
        try:
            short[key] = tuple(read_short_number(v) for v in strings(key))
        except ValueError as exc:
            raise fail(key, str(exc)) from None
    realm = text("realm") or settings.realm
    rate = table.get("rate_limit", settings.rate_limit)
    if isinstance(rate, bool) or not isinstance(rate, int) or not 1 <= rate <= 100_000:
        raise fail("rate_limit", f"must be a whole number 1-100000, got {rate!r}")
    flood_ban = table.get("flood_ban", settings.flood_ban)
    if isinstance(flood_ban, bool) or not isinstance(flood_ban, int) or not 0 <= flood_ban <= 86400:
        raise fail("flood_ban", f"must be whole seconds 0-86400 (0: no ban), got {flood_ban!r}")
    tcp_idle = table.get("tcp_idle", settings.tcp_idle)
    if isinstance(tcp_idle, bool) or not isinstance(tcp_idle, int) or not 1 <= tcp_idle <= 3600:
        raise fail("tcp_idle", f"must be whole seconds 1-3600, got {tcp_idle!r}")
    most = table.get("max_transactions", settings.max_transactions)
    if isinstance(most, bool) or not isinstance(most, int) or not 100 <= most <= 10_000_000:
        raise fail("max_transactions", f"must be a whole number 100-10000000, got {most!r}")
    algorithms = strings("digest_algorithms") or settings.digest_algorithms
    for name in algorithms:
        if name not in {"SHA-256", "MD5"}:
            raise fail("digest_algorithms", f"'SHA-256' and 'MD5' are supported, got {name!r}")
    if len(set(algorithms)) != len(algorithms):
        raise fail("digest_algorithms", "name each algorithm once")
    trunk_text = text("trunk")
    try:
        trunk = parse_trunk(trunk_text) if trunk_text is not None else None
    except ValueError as exc:
        raise fail("trunk", str(exc)) from None
    server_text = text("name_server")
    try:
        name_server = parse_name_server(server_text) if server_text is not None else None
    except ValueError as exc:
        raise fail("name_server", str(exc)) from None
    return SipSettings(
        listen=listen,
        mode=mode,
        trunk=trunk,
        name_server=name_server,
        trusted=tuple(trusted),
        realm=realm,
        advertise=host_port("advertise"),
        blocked_destinations=blocked,
        blocked_international=international,
        emergency_numbers=short["emergency_numbers"],
        service_numbers=short["service_numbers"],
        rate_limit=rate,
        flood_ban=flood_ban,
        tcp_idle=tcp_idle,
        max_transactions=most,
        digest_algorithms=algorithms,
    )
