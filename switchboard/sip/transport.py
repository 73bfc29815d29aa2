"""UDP and TCP on one address (RFC 3261 §18): bytes in, bytes out, nothing else.

Each complete message goes to one callback with its ``Flow`` and receive time. TCP
connections are framed by Content-Length (``StreamFramer``); a connection that sends an
incomplete header block for too long, or no message for ``tcp_idle`` seconds, is closed,
unless a registration was made over it (``keep``): a phone's connection is its way in,
kept alive by CRLF keep-alives (RFC 5626 §4.4.1, each ping answered with a pong).
Responses and requests to a TCP flow reuse its connection (phones behind NAT can only be
reached that way).

With ``serve --workers`` every worker binds the same address with ``SO_REUSEPORT``
(``bind(reuse_port=True)``), and a TCP connection another worker holds is written to
through it (``Elsewhere``, the steering of ``steering.py``).

Protocol classes, not ``start_server`` handlers: asyncio creates no tasks here, so nothing
runs unowned (every task of the process lives in the app's TaskGroup).
"""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol, cast

import structlog

from switchboard.sip.flow import Flow
from switchboard.sip.parse import ParseError, StreamFramer
from switchboard.workers import ports

log = structlog.get_logger("switchboard.sip")

Receiver = Callable[[bytes, Flow, float], None]
Admit = Callable[[str, float, bytes], bool]
"""Asked per datagram, and per message framed on a TCP connection, with the source address
before anything else (the bytes only for a glance at what a refused source asks: an
emergency call passes). A refused message is dropped unread. A TCP chunk that completes
no message is not asked about: part of a header is no request, and a source holding many
slow connections must not use up its own rate (and lock out its next real request)."""


def _admit_all(host: str, now: float, data: bytes) -> bool:
    return True


class Elsewhere(Protocol):
    """Another worker holding a TCP connection this one does not (``serve --workers``)."""

    def send(self, data: bytes, flow: Flow) -> None: ...

    def keep(self, flow: Flow, seconds: float) -> None: ...


@dataclass(frozen=True, slots=True)
class TransportLimits:
    tcp_idle: float = 60.0
    """Seconds a TCP connection may go without a complete message, unless a registration
    lasts on it (``SipTransport.keep``). Keep-alive CRLFs do not count: they are how a
    registered phone holds its connection, and how a stranger would hold ours."""
    tcp_header_timeout: float = 10.0
    """Seconds an incomplete message may sit in a TCP buffer before the connection closes."""
    max_tcp_connections: int = 4096


class _Udp:
    """A non-blocking UDP socket drained in batches from one reader callback.

    asyncio's datagram transport runs one event-loop turn per datagram; under a flood
    that turn is most of the cost, the socket buffer fills and the kernel drops packets
    from *every* source alike. Draining up to ``BATCH`` datagrams per wake-up keeps the
    per-packet cost of a rate-limited (dropped) datagram to a recvfrom and a dict lookup.
    """

    BATCH = 256
    RCVBUF = 4 * 1024 * 1024

    def __init__(
        self,
        sock: socket.socket,
        receive: Receiver,
        loop: asyncio.AbstractEventLoop,
        admit: Admit = _admit_all,
    ):
        self.sock = sock
        self.receive = receive
        self.admit = admit
        self.loop = loop
        self.reading = False

    def start_reading(self) -> None:
        if not self.reading:
            self.loop.add_reader(self.sock.fileno(), self._drain)
            self.reading = True

    @classmethod
    def bind(
        cls,
        host: str,
        port: int,
        receive: Receiver,
        loop: asyncio.AbstractEventLoop,
        admit: Admit = _admit_all,
        *,
        reuse_port: bool = False,
    ) -> _Udp:
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        sock = socket.socket(family, socket.SOCK_DGRAM)
        try:
            if reuse_port:
                ports.reuse_port(sock)
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, cls.RCVBUF)
            sock.setblocking(False)
            sock.bind((host, port))
        except OSError:
            sock.close()
            raise
        return cls(sock, receive, loop, admit)

    def _drain(self) -> None:
        recvfrom = self.sock.recvfrom
        receive = self.receive
        admit = self.admit
        now = self.loop.time()
        for _ in range(self.BATCH):
            try:
                data, addr = recvfrom(65535)
            except (BlockingIOError, InterruptedError):
                return
            except OSError as exc:
                # ICMP port unreachable and friends: the transaction timers handle loss.
                log.debug("udp_error", error=str(exc))
                continue
            if admit(addr[0], now, data):
                receive(data, Flow("udp", addr[0], addr[1]), now)

    def sendto(self, data: bytes, address: tuple[str, int]) -> None:
        try:
            self.sock.sendto(data, address)
        except (BlockingIOError, InterruptedError):
            log.info("udp_send_dropped", reason="socket buffer full")
        except OSError as exc:
            log.info("udp_send_failed", error=str(exc))

    def close(self) -> None:
        if self.reading:
            self.loop.remove_reader(self.sock.fileno())
        self.sock.close()


class _Tcp(asyncio.Protocol):
    def __init__(self, owner: SipTransport) -> None:
        self.owner = owner
        self.framer = StreamFramer()
        self.transport: asyncio.Transport | None = None
        self.flow: Flow | None = None
        self.last_message = 0.0
        """When the last complete message arrived (or the connection was made)."""
        self.kept_until = 0.0
        """Until when a registration made over this connection lasts (``keep``)."""
        self.partial_since: float | None = None
        self.watchdog: asyncio.TimerHandle | None = None
        self.pongs = 0

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.Transport, transport)
        peer = transport.get_extra_info("peername")
        self.flow = Flow("tcp", str(peer[0]), int(peer[1]))
        if not self.owner.adopt(self):
            self.transport.abort()
            return
        self.last_message = self.owner.loop.time()
        self._arm()

    def _arm(self) -> None:
        self.watchdog = self.owner.loop.call_later(1.0, self._check)

    def _check(self) -> None:
        now = self.owner.loop.time()
        limits = self.owner.limits
        stuck = self.partial_since is not None and now - self.partial_since > (
            limits.tcp_header_timeout
        )
        idle = now - self.last_message > limits.tcp_idle and now >= self.kept_until
        if stuck or idle:
            log.info("tcp_closed", reason="incomplete" if stuck else "idle", peer=str(self.flow))
            if self.transport is not None:
                self.transport.abort()
            return
        self._arm()

    def data_received(self, data: bytes) -> None:
        now = self.owner.loop.time()
        flow = self.flow
        # Every chunk is framed, and admission asked per message: skipping bytes of a
        # stream would glue the rest of a message to the next one.
        try:
            messages = self.framer.feed(data)
        except ParseError as exc:
            log.info("tcp_framing_error", peer=str(self.flow), problem=exc.problem)
            if self.transport is not None:
                self.transport.abort()
            return
        if not self.framer.has_partial:
            self.partial_since = None
        elif messages or self.partial_since is None:
            # The limit is per message: a busy stream whose writes never end on a message
            # boundary always has a partial one, yet none of them is stuck.
            self.partial_since = now
        if self.framer.pings > self.pongs:
            self._pong()
        if flow is None or not messages:
            return
        self.last_message = now
        admit = self.owner.admit
        for message in messages:
            if admit(flow.host, now, message):
                self.owner.receive(message, flow, now)

    def _pong(self) -> None:
        """RFC 5626 §4.4.1: a CRLFCRLF ping is answered at once with a CRLF pong."""
        count = self.framer.pings - self.pongs
        self.pongs = self.framer.pings
        self.send(b"\r\n" * min(count, 4))  # a burst of pings needs no more pongs

    def connection_lost(self, exc: Exception | None) -> None:
        if self.watchdog is not None:
            self.watchdog.cancel()
        self.owner.forget(self)

    def send(self, data: bytes) -> None:
        if self.transport is not None and not self.transport.is_closing():
            self.transport.write(data)


class SipTransport:
    """Listens on UDP and TCP at one host:port and sends along flows."""

    def __init__(
        self,
        receive: Receiver,
        limits: TransportLimits | None = None,
        admit: Admit = _admit_all,
        elsewhere: Elsewhere | None = None,
    ) -> None:
        self.receive = receive
        self.admit = admit
        self.elsewhere = elsewhere
        self.limits = limits or TransportLimits()
        self.loop = asyncio.get_running_loop()
        self._udp: _Udp | None = None
        self._tcp_server: asyncio.Server | None = None
        self._connections: dict[tuple[str, int], _Tcp] = {}
        self.address: tuple[str, int] = ("", 0)

    async def start(self, host: str, port: int) -> tuple[str, int]:
        """``bind``, then ``serve`` at once."""
        address = await self.bind(host, port)
        await self.serve()
        return address

    async def bind(self, host: str, port: int, *, reuse_port: bool = False) -> tuple[str, int]:
        """Bind UDP, then TCP on the same port (port 0 picks one free for both), without
        reading yet: whoever handles the messages may need the bound address first, and
        a message read before it is ready would be lost half-handled. ``reuse_port``:
        shared with the other workers (``workers.ports``; port 0 is chosen first)."""
        for _ in range(20):
            chosen = ports.unused_port(host, udp=True) if reuse_port and not port else port
            udp = _Udp.bind(
                host, chosen, self.receive, self.loop, self.admit, reuse_port=reuse_port
            )
            bound = udp.sock.getsockname()
            try:
                server = await self.loop.create_server(
                    lambda: _Tcp(self),
                    host,
                    int(bound[1]),
                    reuse_address=True,
                    reuse_port=reuse_port or None,
                    start_serving=False,
                )
            except OSError:
                udp.close()
                if port:
                    raise
                continue
            self._udp, self._tcp_server = udp, server
            self.address = (str(bound[0]), int(bound[1]))
            return self.address
        raise OSError("no port free for both UDP and TCP")

    async def serve(self) -> None:
        """Start reading datagrams and accepting connections on what ``bind`` bound."""
        if self._udp is None or self._tcp_server is None:
            raise RuntimeError("bind before serve")
        self._udp.start_reading()
        await self._tcp_server.start_serving()

    def adopt(self, conn: _Tcp) -> bool:
        if len(self._connections) >= self.limits.max_tcp_connections or conn.flow is None:
            return False
        self._connections[(conn.flow.host, conn.flow.port)] = conn
        return True

    def keep(self, flow: Flow, until: float) -> None:
        """A registration over ``flow`` lasts until ``until`` (loop time): its connection
        stays open that long, however quiet (the phone reaches us and we it only along
        it). A later registration may only lengthen that."""
        if flow.transport != "tcp":
            return
        conn = self._connections.get((flow.host, flow.port))
        if conn is not None:
            conn.kept_until = max(conn.kept_until, until)
        elif self.elsewhere is not None:
            self.elsewhere.keep(flow, until - self.loop.time())

    def keep_here(self, flow: Flow, until: float) -> None:
        """``keep`` for a connection another worker was asked about: ours or nobody's."""
        conn = self._connections.get((flow.host, flow.port))
        if conn is not None and flow.transport == "tcp":
            conn.kept_until = max(conn.kept_until, until)

    def forget(self, conn: _Tcp) -> None:
        if conn.flow is not None:
            key = (conn.flow.host, conn.flow.port)
            if self._connections.get(key) is conn:
                del self._connections[key]

    def send(self, data: bytes, flow: Flow) -> bool:
        """Send along a flow; False when a TCP flow has no open connection (here or, with
        workers, passed to the others: one of them may hold it)."""
        if flow.transport == "udp":
            if self._udp is not None:
                self._udp.sendto(data, (flow.host, flow.port))
            return True
        conn = self._connections.get((flow.host, flow.port))
        if conn is None:
            if self.elsewhere is None:
                return False
            self.elsewhere.send(data, flow)
            return True
        conn.send(data)
        return True

    def send_here(self, data: bytes, flow: Flow) -> None:
        """Write on a TCP connection another worker asked us to: ours, or nobody's."""
        conn = self._connections.get((flow.host, flow.port))
        if conn is not None:
            conn.send(data)

    async def connect(self, flow: Flow) -> None:
        """Open a TCP connection for an outgoing request (e.g. to a TCP trunk)."""
        if (flow.host, flow.port) in self._connections:
            return
        await self.loop.create_connection(
            lambda: _Tcp(self), flow.host, flow.port, family=socket.AF_UNSPEC
        )

    async def close(self) -> None:
        if self._tcp_server is not None:
            self._tcp_server.close()
        for conn in list(self._connections.values()):
            if conn.transport is not None:
                conn.transport.abort()
        if self._tcp_server is not None:
            await self._tcp_server.wait_closed()
        if self._udp is not None:
            self._udp.close()
