"""RTP ports from a configured range, each handed out as a bound UDP socket.

A media firewall rule or a NAT mapping covers a range (say 20000-20999), so every RTP
socket comes from it. RFC 3550 §11 puts RTP on an even port and RTCP on the next odd one;
the pool hands out even ports only and so keeps each pair together, though only the RTP
socket is bound (the switchboard sends no RTCP).

Binding is the test of "free": a port someone else holds fails to bind and is skipped.
Ports are handed out round-robin, so a port just released is the last to be reused and
stray packets of the call that had it do not land in the next one. ``reserved()`` is a
``with`` block that releases the port however the call ends (BYE, CANCEL, timeout or an
exception), and releasing twice, or a stale handle of a port since handed out again,
does nothing.
"""

from __future__ import annotations

import contextlib
import errno
import ipaddress
import socket
from collections.abc import Iterator
from dataclasses import dataclass

from switchboard.media.errors import MediaError

_TAKEN = (errno.EADDRINUSE, errno.EACCES)


class PortsExhaustedError(MediaError):
    """Every port of the range is in use: the caller gets a 503, the operator a wider range."""


@dataclass(frozen=True, slots=True, eq=False)
class RtpPort:
    """An even port and the UDP socket bound to it; hand the socket to the event loop."""

    host: str
    port: int
    socket: socket.socket


def share_of(first: int, last: int, index: int, count: int) -> tuple[int, int]:
    """Worker ``index`` of ``count``'s part of the range ``first``-``last`` (``serve
    --workers``): whole even/odd pairs, none shared, so no worker spends binds on ports
    another holds (a full pool tries every port of its range)."""
    pairs = (last - first + 1) // 2
    if pairs < count:
        raise MediaError(
            f"RTP ports {first}-{last} hold {pairs} pairs: too few for {count} workers"
        )
    start = first + 2 * (pairs * index // count)
    end = first + 2 * (pairs * (index + 1) // count) - 1
    return start, end


class PortPool:
    """Even ports of ``first``-``last`` on ``host`` (an IP address, as the SDP will say)."""

    def __init__(self, host: str, first: int, last: int) -> None:
        try:
            family = socket.AF_INET6 if ipaddress.ip_address(host).version == 6 else socket.AF_INET
        except ValueError:
            raise MediaError(f"RTP host {host!r} must be an IP address to bind to") from None
        if not 1024 <= first <= last <= 65535:
            raise MediaError(f"RTP ports {first}-{last}: need 1024 <= first <= last <= 65535")
        self.host = host
        self.first = first
        self.last = last
        self._family = family
        start = first + (first & 1)
        self._ports = list(range(start, last, 2))  # so that p + 1 <= last, for RTCP
        if not self._ports:
            raise MediaError(
                f"RTP ports {first}-{last} hold no even/odd pair; give a range of at least 2"
            )
        self._next = 0
        self._in_use: dict[int, RtpPort] = {}

    @property
    def size(self) -> int:
        """How many RTP/RTCP pairs the range holds."""
        return len(self._ports)

    @property
    def in_use(self) -> int:
        return len(self._in_use)

    def allocate(self) -> RtpPort:
        """The next free even port, bound; ``PortsExhaustedError`` when none will bind."""
        count = len(self._ports)
        # Every port held by a call here: refuse at once, without walking the range (a
        # switchboard at its limit refuses each further call, and a refusal must be cheap).
        if len(self._in_use) < count:
            for step in range(count):
                index = (self._next + step) % count
                port = self._ports[index]
                if port in self._in_use:
                    continue
                sock = self._bind(port)
                if sock is None:
                    continue
                self._next = (index + 1) % count
                handle = RtpPort(self.host, port, sock)
                self._in_use[port] = handle
                return handle
        raise PortsExhaustedError(
            f"all {count} RTP ports of {self.first}-{self.last} on {self.host} are in use "
            f"({len(self._in_use)} by calls here, the rest by other programs); "
            "widen the RTP port range or take fewer calls"
        )

    def release(self, handle: RtpPort) -> None:
        """Close the socket (if its owner has not) and give the port back."""
        handle.socket.close()
        if self._in_use.get(handle.port) is handle:
            del self._in_use[handle.port]

    @contextlib.contextmanager
    def reserved(self) -> Iterator[RtpPort]:
        """``with pool.reserved() as rtp:`` a port for exactly as long as the block runs."""
        handle = self.allocate()
        try:
            yield handle
        finally:
            self.release(handle)

    def _bind(self, port: int) -> socket.socket | None:
        sock = socket.socket(self._family, socket.SOCK_DGRAM)
        try:
            sock.setblocking(False)
            sock.bind((self.host, port))
        except OSError as exc:
            sock.close()
            if exc.errno in _TAKEN:
                return None
            raise MediaError(
                f"cannot bind RTP port {port} on {self.host}: {exc.strerror}; "
                "is the RTP host an address of this machine?"
            ) from None
        return sock
