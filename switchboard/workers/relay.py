"""This worker's ends of the socket pairs to the others: frames out, frames in.

Connected pairs of Unix datagram sockets (``socketpair``), made by the parent and
inherited: only the workers of one ``serve`` hold them, nothing is named in the file
system, and a connected pair is not held to ``net.unix.max_dgram_qlen`` (10 datagrams
on this kernel: a bound socket that anyone may ``sendto`` refuses the 11th queued
frame; a pair queues until the socket buffer is full). Each datagram is one frame, so
a SIP message up to 64 KiB crosses whole and in order.

Frames for one peer wait until the end of the event loop's current step (``call_soon``)
and leave together in one datagram (``frames.pack``): a burst of SIP datagrams read here
costs the peer one wake-up and one receive, not one per message; a lone message waits for
nothing but the step that read it. Reading drains up to ``BATCH`` datagrams per wake-up,
as the SIP UDP socket does. Sending never waits: a datagram that finds the buffer full is
dropped and counted (over UDP the sender retransmits; the log says how many went), like
a datagram lost on a network.
"""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Callable
from typing import Any, TypeVar

import structlog

from switchboard.workers.frames import (
    FlowFrame,
    FrameError,
    Kind,
    Note,
    NoteFrame,
    decode,
    flow_frame,
    keep_frame,
    note_frame,
    pack,
    unpack,
)
from switchboard.workers.spec import WorkerSpec

log = structlog.get_logger("switchboard.workers")

N = TypeVar("N", bound=Note)
FlowHandler = Callable[[FlowFrame], None]

BUFFER = 4 * 1024 * 1024
MAX_DATAGRAM = 256 * 1024
"""Frames for one peer leave once this much waits (and at the end of the loop's step)."""
READ_SIZE = MAX_DATAGRAM + 70_000
"""The largest datagram: a batch just under the limit and one more whole SIP message.
Read into one buffer kept for it: ``recv(READ_SIZE)`` would allocate that much per
datagram, past malloc's mmap threshold (128 KiB), and cost 16 µs instead of 2."""


class Relay:
    BATCH = 256

    def __init__(self, spec: WorkerSpec) -> None:
        self.spec = spec
        self._sockets: dict[int, socket.socket] = {}
        self._loop: asyncio.AbstractEventLoop | None = None
        self._notes: dict[type[Any], list[Callable[[Any, int], None]]] = {}
        self._flow: FlowHandler | None = None
        self._waiting: dict[int, list[bytes]] = {}
        self._waiting_bytes: dict[int, int] = {}
        self._flush_due = False
        self._buffer = bytearray(READ_SIZE)
        self._view = memoryview(self._buffer)
        self.dropped = 0
        """Frames that found a peer's buffer full (or the peer gone) and were dropped."""

    @property
    def index(self) -> int:
        return self.spec.index

    @property
    def peers(self) -> tuple[int, ...]:
        return self.spec.peers

    # -- lifecycle ------------------------------------------------------------------

    def start(self) -> None:
        """Adopt the inherited sockets and start reading them (on the running loop)."""
        loop = asyncio.get_running_loop()
        self._loop = loop
        for peer, fd in sorted(self.spec.links.items()):
            sock = socket.socket(fileno=fd)
            if sock.family != socket.AF_UNIX or sock.type != socket.SOCK_DGRAM:
                sock.detach()
                raise OSError(f"fd {fd} for worker {peer} is no Unix datagram socket")
            sock.setblocking(False)
            for option in (socket.SO_SNDBUF, socket.SO_RCVBUF):
                sock.setsockopt(socket.SOL_SOCKET, option, BUFFER)
            self._sockets[peer] = sock
            loop.add_reader(sock.fileno(), self._drain, peer, sock)

    def close(self) -> None:
        self.flush()
        sockets, self._sockets = self._sockets, {}
        for sock in sockets.values():
            if self._loop is not None:
                self._loop.remove_reader(sock.fileno())
            sock.close()

    # -- who handles what -------------------------------------------------------------

    def on_flow(self, handler: FlowHandler | None) -> None:
        """The one handler of ``MESSAGE``, ``SEND`` and ``KEEP`` frames (the SIP edge)."""
        self._flow = handler

    def listen(self, kind: type[N], handler: Callable[[N, int], None]) -> Callable[[], None]:
        """Call ``handler(note, sender)`` for every note of ``kind``; returns the undo."""
        handlers = self._notes.setdefault(kind, [])
        handlers.append(handler)
        return lambda: handlers.remove(handler)

    # -- sending ----------------------------------------------------------------------

    def forward(self, peer: int, data: bytes, transport: str, host: str, port: int) -> None:
        """A SIP message read here that ``peer`` owns, with the flow it came from."""
        self._send(peer, flow_frame(Kind.MESSAGE, self.index, transport, host, port, data))

    def send_tcp(self, data: bytes, host: str, port: int, peer: int | None) -> None:
        """Bytes for a TCP connection held by ``peer`` (None: whoever holds it)."""
        frame = flow_frame(Kind.SEND, self.index, "tcp", host, port, data)
        self._to(peer, frame)

    def keep_tcp(self, host: str, port: int, seconds: float, peer: int | None) -> None:
        """Keep the TCP connection held by ``peer`` (None: whoever) open ``seconds``."""
        self._to(peer, keep_frame(self.index, "tcp", host, port, seconds))

    def note(self, note: Note, peer: int | None = None) -> None:
        """Tell ``peer`` (None: every other worker)."""
        self._to(peer, note_frame(self.index, note))

    def _to(self, peer: int | None, frame: bytes) -> None:
        if peer is not None:
            self._send(peer, frame)
            return
        for other in self._sockets:
            self._send(other, frame)

    def _send(self, peer: int, frame: bytes) -> None:
        if peer not in self._sockets:
            return
        waiting = self._waiting.setdefault(peer, [])
        waiting.append(frame)
        size = self._waiting_bytes.get(peer, 0) + len(frame)
        self._waiting_bytes[peer] = size
        if size >= MAX_DATAGRAM or self._loop is None:
            self._send_now(peer)
        elif not self._flush_due:
            self._flush_due = True
            self._loop.call_soon(self.flush)

    def flush(self) -> None:
        """Send every frame still waiting (the loop does this after each step)."""
        self._flush_due = False
        for peer in list(self._waiting):
            self._send_now(peer)

    def _send_now(self, peer: int) -> None:
        frames = self._waiting.pop(peer, None)
        self._waiting_bytes.pop(peer, None)
        sock = self._sockets.get(peer)
        if not frames or sock is None:
            return
        try:
            sock.send(pack(frames))
        except (BlockingIOError, InterruptedError):
            self._dropped(peer, "buffer full", len(frames))
        except OSError as exc:
            self._dropped(peer, str(exc), len(frames))

    def _dropped(self, peer: int, why: str, frames: int) -> None:
        before, self.dropped = self.dropped, self.dropped + frames
        if before == 0 or before // 1000 != self.dropped // 1000:
            log.warning("worker_frame_dropped", peer=peer, reason=why, dropped=self.dropped)

    # -- receiving --------------------------------------------------------------------

    def _drain(self, peer: int, sock: socket.socket) -> None:
        for _ in range(self.BATCH):
            try:
                size = sock.recv_into(self._buffer)
                data = bytes(self._view[:size])
            except (BlockingIOError, InterruptedError):
                return
            except OSError as exc:
                log.warning("worker_frame_unreadable", peer=peer, error=str(exc))
                return
            try:
                frames = [decode(raw) for raw in unpack(data)]
            except FrameError as exc:
                log.error("worker_frame_malformed", peer=peer, problem=str(exc))
                continue
            for frame in frames:
                if isinstance(frame, NoteFrame):
                    for handler in tuple(self._notes.get(type(frame.note), ())):
                        self._run(peer, handler, frame.note, frame.sender)
                elif self._flow is not None:
                    self._run(peer, self._flow, frame)

    @staticmethod
    def _run(peer: int, handler: Callable[..., None], *args: Any) -> None:
        """One handler's failure must not stop the others, nor the frames after it."""
        try:
            handler(*args)
        except Exception:
            log.exception("worker_frame_failed", peer=peer)
