"""Callers for the media benchmark: raw SIP over UDP, RTP timed by the kernel (issue 13).

``media_load.py`` drives a ``Farm`` from its own process (never the server's). A farm
holds one SIP socket and any number of *slots*: a UDP socket whose port goes into an
INVITE's SDP, so the switchboard's RTP for that call comes to it. A slot carries one call
at a time and, when asked, starts a new one as soon as its call ends (a steady number of
streams although each announcement ends with a BYE after a few seconds).

The SIP is the least a UAC must do (RFC 3261): INVITE with an SDP offer (PCMU and
telephone-event, ``m=audio`` on the slot's port), retransmitted at T1, 2T1 ... until a
response; ACK for a 2xx (new branch, to the Contact) and for a failure (same branch);
``200`` to the far end's BYE; our own BYE, retransmitted until its 200. The callers send
no RTP: what is measured is the switchboard's sending.

Every RTP packet is stamped by the kernel as it is queued on the slot's socket
(``SO_TIMESTAMPNS``, CLOCK_REALTIME, ns). On loopback that happens inside the sender's
``sendto``, so a stamp is the moment the switchboard sent the packet, whatever this process
was doing then: the farm's own scheduling adds nothing to the jitter it reports, as long
as no socket buffer overflows (the kernel's per-socket drop counters, read from
``/proc/net/udp``, say whether one did).

Per call (``media_report.Stream``), from consecutive packets *i* and *i+1*: the jitter
sample ``|(arrival[i+1] - arrival[i]) - (timestamp[i+1] - timestamp[i]) / 8 kHz|``, which
for back-to-back frames is ``|Δt - 20 ms|``; lost packets from sequence gaps (and a call
that ended by BYE before all its frames came); *timestamp jumps* where the timestamp
moves by more than one frame: expected between two prompts (the pacer restarts a stream
at the next tick), otherwise a stall that the pacer skipped.

The loop is a plain ``epoll`` loop rather than asyncio: at 100,000 packets a second a
protocol callback per datagram costs more CPU than the thing measured, and kernel stamps
make this loop's timing irrelevant. Every wait has a deadline and every drain a count.
"""

from __future__ import annotations

import contextlib
import heapq
import itertools
import os
import select
import socket
import struct
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import Enum
from pathlib import Path

from media_report import Stream  # what one call's RTP showed: defined with the tables

SO_TIMESTAMPNS = 35
"""Linux ``SO_TIMESTAMPNS`` (asm-generic/socket.h): not exported by Python's ``socket``;
the control message of the same number carries a ``struct timespec``."""
CMSG_ROOM = socket.CMSG_SPACE(16)
T1 = 0.5
INVITE_GIVE_UP = 8.0
"""A call with no final answer by then failed (timer B would wait 32 s; a bench won't)."""
BYE_GIVE_UP = 4.0
DRAIN = 64
"""Datagrams read from one socket per wake-up, so one busy socket cannot starve others."""
RCVBUF = 1 << 18

Address = tuple[str, int]


class State(Enum):
    INVITING = "inviting"
    ANSWERED = "answered"
    BYE_SENT = "bye sent"
    ENDED = "ended"


@dataclass(eq=False)
class Slot:
    sock: socket.socket
    port: int
    inode: int
    stream: Stream | None = None
    call: Call | None = None
    replace: bool = False
    """Start a new call as soon as this one ends (steady streams)."""
    hold: float | None = None
    """Hang up this many seconds after the 200 (None: wait for the far end's BYE)."""


@dataclass(eq=False)
class Call:
    number: int
    call_id: str
    slot: Slot
    branch: str
    invite: bytes
    sent_ns: int
    """time.time_ns() when the INVITE first left (the kernel's clock for RTP stamps)."""
    state: State = State.INVITING
    provisional: bool = False
    status: int = 0
    to: str = ""
    target: str = ""
    answered_ns: int = 0
    """Kernel stamp of the first 200's arrival."""
    acked_ns: int = 0
    """time.time_ns() when our ACK left."""
    ended_ns: int = 0
    ended_by: str = ""
    bye: bytes = b""
    stream: Stream = field(default_factory=Stream)

    @property
    def first_rtp_ns(self) -> int | None:
        return self.stream.first_ns if self.stream.ssrc is not None else None


@dataclass
class Counters:
    started: int = 0
    answered: int = 0
    refused: dict[int, int] = field(default_factory=dict)
    timeouts: int = 0
    ended_far: int = 0
    ended_near: int = 0
    bye_timeouts: int = 0
    stray: int = 0
    """RTP on a slot with no stream (after its call ended), or not RTP at all."""


class Farm:
    """Callers towards ``server`` (the switchboard's SIP address), dialling ``dial``."""

    def __init__(self, server: Address, dial: str, *, host: str = "127.0.0.1") -> None:
        self.server = server
        self.dial = dial
        self.host = host
        self.epoll = select.epoll()
        self.sip = self._bind()
        self.sip_port = self.sip.getsockname()[1]
        self.epoll.register(self.sip.fileno(), select.EPOLLIN)
        self.slots: dict[int, Slot] = {}
        self.calls: dict[str, Call] = {}
        self.ended: list[Call] = []
        self.counters = Counters()
        self.window = -1
        self.window_streams: list[Stream] = []
        self.window_short = 0
        """Calls the far end ended in the window with fewer packets than a whole call."""
        self.expected_packets: int | None = None
        """Packets in a whole announcement call (learned from a warm-up call); a call
        the far end ends with fewer lost its tail."""
        self.keep_ended = True
        self.batch = 0.0
        self._timers: list[tuple[float, int, Callable[[], None]]] = []
        self._order = itertools.count()
        self._numbers = itertools.count(1)
        self._run = os.urandom(3).hex()

    # -- sockets ----------------------------------------------------------------------

    def _bind(self) -> socket.socket:
        sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, RCVBUF)
        sock.setsockopt(socket.SOL_SOCKET, SO_TIMESTAMPNS, 1)
        sock.bind((self.host, 0))
        sock.setblocking(False)
        return sock

    def add_slots(self, count: int) -> list[Slot]:
        added = []
        for _ in range(count):
            sock = self._bind()
            slot = Slot(sock, sock.getsockname()[1], os.fstat(sock.fileno()).st_ino)
            self.slots[sock.fileno()] = slot
            self.epoll.register(sock.fileno(), select.EPOLLIN)
            added.append(slot)
        return added

    def close(self) -> None:
        for slot in self.slots.values():
            slot.sock.close()
        self.slots.clear()
        self.sip.close()
        self.epoll.close()

    def socket_drops(self) -> int:
        """Datagrams the kernel dropped on the farm's sockets (full buffers), so far."""
        inodes = {slot.inode for slot in self.slots.values()}
        inodes.add(os.fstat(self.sip.fileno()).st_ino)
        drops = 0
        for line in Path("/proc/net/udp").read_text().splitlines()[1:]:
            fields = line.split()
            if len(fields) >= 13 and int(fields[9]) in inodes:
                drops += int(fields[12])
        return drops

    # -- timers and the loop ------------------------------------------------------------

    def at(self, when: float, action: Callable[[], None]) -> None:
        """Run ``action`` once at ``when`` (time.monotonic())."""
        heapq.heappush(self._timers, (when, next(self._order), action))

    def run(self, deadline: float, until: Callable[[], bool] | None = None) -> bool:
        """Serve sockets and timers until ``until()`` holds (True) or ``deadline`` (False)."""
        poll = self.epoll.poll
        sip_fd = self.sip.fileno()
        slots = self.slots
        timers = self._timers
        while True:
            now = time.monotonic()
            if until is not None and until():
                return True
            if now >= deadline:
                return False
            for _ in range(10_000):
                if not timers or timers[0][0] > now:
                    break
                heapq.heappop(timers)[2]()
            wake = min(timers[0][0] if timers else deadline, deadline)
            if self.batch > 0:
                time.sleep(max(0.0, min(self.batch, wake - now)))
            for fd, _ in poll(max(0.0, min(wake - now, 0.05)), 4096):
                if fd == sip_fd:
                    self._sip_ready()
                elif (slot := slots.get(fd)) is not None:
                    self._rtp_ready(slot)

    def _rtp_ready(self, slot: Slot) -> None:
        sock, stream, window = slot.sock, slot.stream, self.window
        for _ in range(DRAIN):
            try:
                data, ancillary, _, _ = sock.recvmsg(2048, CMSG_ROOM)
            except BlockingIOError:
                return
            if stream is None or len(data) < 12 or not ancillary:
                self.counters.stray += 1
                continue
            sec, nsec = struct.unpack_from("qq", ancillary[0][2])
            seq, ts, ssrc = struct.unpack_from("!HII", data, 2)
            if stream.packet(seq, ts, ssrc, sec * 1_000_000_000 + nsec, window):
                self.window_streams.append(stream)

    # -- measurement windows ----------------------------------------------------------

    def open_window(self, number: int) -> None:
        """From now, packets count towards window ``number``; streams ended since the last
        window are forgotten."""
        self.window = number
        self.window_streams = []
        self.window_short = 0
        self.ended.clear()

    def close_window(self) -> list[Stream]:
        self.window = -1
        return self.window_streams

    # -- calls --------------------------------------------------------------------------

    def start_call(self, slot: Slot) -> Call:
        number = next(self._numbers)
        call_id = f"mb-{self._run}-{number}@{self.host}"
        branch = f"z9hG4bK-mb{self._run}-{number}"
        sdp = (
            f"v=0\r\no=bench {number} 1 IN IP4 {self.host}\r\ns=-\r\nc=IN IP4 {self.host}\r\n"
            f"t=0 0\r\nm=audio {slot.port} RTP/AVP 0 101\r\na=rtpmap:0 PCMU/8000\r\n"
            "a=rtpmap:101 telephone-event/8000\r\na=fmtp:101 0-15\r\na=ptime:20\r\n"
            "a=sendrecv\r\n"
        )
        server = f"{self.server[0]}:{self.server[1]}"
        invite = (
            f"INVITE sip:{self.dial}@{server} SIP/2.0\r\n"
            f"Via: SIP/2.0/UDP {self.host}:{self.sip_port};branch={branch}\r\n"
            "Max-Forwards: 70\r\n"
            f"From: <sip:0701234{number % 1000:03d}@{self.host}>;tag=mb{number}\r\n"
            f"To: <sip:{self.dial}@{server}>\r\nCall-ID: {call_id}\r\nCSeq: 1 INVITE\r\n"
            f"Contact: <sip:bench@{self.host}:{self.sip_port}>\r\n"
            f"Content-Type: application/sdp\r\nContent-Length: {len(sdp)}\r\n\r\n{sdp}"
        ).encode()
        call = Call(number, call_id, slot, branch, invite, time.time_ns())
        slot.call = call
        slot.stream = call.stream
        self.calls[call_id] = call
        self.counters.started += 1
        self._send(invite)
        self._retransmit_invite(call, T1, time.monotonic() + INVITE_GIVE_UP)
        return call

    def hang_up(self, call: Call) -> None:
        """BYE from the caller (RFC 3261 §15.1.1), retransmitted until its 200."""
        if call.state is not State.ANSWERED:
            return
        call.state = State.BYE_SENT
        call.bye = (
            f"BYE {call.target} SIP/2.0\r\n"
            f"Via: SIP/2.0/UDP {self.host}:{self.sip_port};branch={call.branch}-bye\r\n"
            f"Max-Forwards: 70\r\nFrom: <sip:0701234{call.number % 1000:03d}@{self.host}>"
            f";tag=mb{call.number}\r\n{call.to}\r\nCall-ID: {call.call_id}\r\n"
            "CSeq: 2 BYE\r\nContent-Length: 0\r\n\r\n"
        ).encode()
        self._send(call.bye)
        self._retransmit_bye(call, T1, time.monotonic() + BYE_GIVE_UP)

    def hang_up_all(self, timeout: float) -> bool:
        """BYE every answered call; forget the ones still ringing; wait for the 200s."""
        for slot in self.slots.values():
            slot.replace = False
        for call in list(self.calls.values()):
            if call.state is State.ANSWERED:
                self.hang_up(call)
        return self.run(time.monotonic() + timeout, lambda: not self.calls)

    def active(self) -> int:
        return sum(call.state is State.ANSWERED for call in self.calls.values())

    def _send(self, data: bytes) -> None:
        with contextlib.suppress(BlockingIOError):  # a full buffer: the retransmission
            self.sip.sendto(data, self.server)

    def _retransmit_invite(self, call: Call, interval: float, give_up: float) -> None:
        def again() -> None:
            if call.state is not State.INVITING or call.provisional:
                return
            if time.monotonic() >= give_up:
                self.counters.timeouts += 1
                self._finish(call, "no answer")
                return
            self._send(call.invite)
            self._retransmit_invite(call, min(interval * 2, 4.0), give_up)

        self.at(time.monotonic() + interval, again)

    def _retransmit_bye(self, call: Call, interval: float, give_up: float) -> None:
        def again() -> None:
            if call.state is not State.BYE_SENT:
                return
            if time.monotonic() >= give_up:
                self.counters.bye_timeouts += 1
                self._finish(call, "bye unanswered")
                return
            self._send(call.bye)
            self._retransmit_bye(call, min(interval * 2, 4.0), give_up)

        self.at(time.monotonic() + interval, again)

    def _finish(self, call: Call, why: str) -> None:
        if call.state is State.ENDED:
            return
        call.state = State.ENDED
        call.ended_by = why
        call.ended_ns = time.time_ns()
        self.calls.pop(call.call_id, None)
        slot = call.slot
        if slot.call is call:
            self._rtp_ready(slot)  # what the socket still holds belongs to this call
            slot.call = None
            slot.stream = None
        stream = call.stream
        if why == "far end" and self.expected_packets and stream.window == self.window >= 0:
            missing = max(0, self.expected_packets - stream.span)
            stream.w_lost += missing
            self.window_short += missing > 0
        if self.keep_ended:
            self.ended.append(call)
        if slot.replace and slot.call is None:
            if why in ("far end", "near end"):
                self.start_call(slot)
            else:  # refused or unanswered: do not hammer an overloaded server
                self.at(time.monotonic() + 1.0, lambda: self._restart(slot))

    def _restart(self, slot: Slot) -> None:
        if slot.replace and slot.call is None:
            self.start_call(slot)

    # -- SIP in -------------------------------------------------------------------------

    def _sip_ready(self) -> None:
        for _ in range(DRAIN):
            try:
                data, ancillary, _, _ = self.sip.recvmsg(65535, CMSG_ROOM)
            except BlockingIOError:
                return
            arrived = time.time_ns()
            if ancillary:
                sec, nsec = struct.unpack_from("qq", ancillary[0][2])
                arrived = sec * 1_000_000_000 + nsec
            head = data.partition(b"\r\n\r\n")[0].decode("utf-8", "replace").split("\r\n")
            headers = _headers(head[1:])
            call = self.calls.get(headers.get("call-id", [""])[0])
            if head[0].startswith("SIP/2.0 "):
                if call is not None:
                    self._response(call, int(head[0].split()[1]), headers, arrived)
            elif head[0].startswith("BYE ") and call is not None:
                self._send(_ok(headers))
                self.counters.ended_far += 1
                self._finish(call, "far end")
            elif head[0].startswith(("BYE ", "OPTIONS ", "NOTIFY ", "INFO ")):
                self._send(_ok(headers))  # a retransmitted BYE of a call already ended

    def _response(self, call: Call, status: int, headers: dict[str, list[str]], at: int) -> None:
        method = headers.get("cseq", ["0 ?"])[0].split()[-1]
        if method == "BYE":
            if call.state is State.BYE_SENT and status >= 200:
                self.counters.ended_near += 1
                self._finish(call, "near end")
            return
        if method != "INVITE":
            return
        to = "To: " + headers.get("to", [""])[0]
        if status < 200:
            call.provisional = True
            return
        if 200 <= status < 300:
            if call.state is State.INVITING:
                call.state, call.status, call.to, call.answered_ns = State.ANSWERED, status, to, at
                contact = headers.get("contact", [""])[0]
                call.target = contact.partition("<")[2].partition(">")[0] or contact
                self.counters.answered += 1
                slot = call.slot
                if slot.hold is not None:
                    self.at(time.monotonic() + slot.hold, lambda: self.hang_up(call))
            if call.target:  # the first 200 or a retransmission: ACK each (§13.2.2.4)
                ack = (
                    f"ACK {call.target} SIP/2.0\r\n"
                    f"Via: SIP/2.0/UDP {self.host}:{self.sip_port};branch={call.branch}-ack\r\n"
                    f"Max-Forwards: 70\r\nFrom: <sip:0701234{call.number % 1000:03d}@"
                    f"{self.host}>;tag=mb{call.number}\r\n{call.to}\r\n"
                    f"Call-ID: {call.call_id}\r\nCSeq: 1 ACK\r\nContent-Length: 0\r\n\r\n"
                ).encode()
                self._send(ack)
                call.acked_ns = call.acked_ns or time.time_ns()
            return
        if call.state is State.INVITING:  # a failure: ACK it on the INVITE's branch (§17.1.1.3)
            server = f"{self.server[0]}:{self.server[1]}"
            ack = (
                f"ACK sip:{self.dial}@{server} SIP/2.0\r\n"
                f"Via: SIP/2.0/UDP {self.host}:{self.sip_port};branch={call.branch}\r\n"
                f"Max-Forwards: 70\r\nFrom: <sip:0701234{call.number % 1000:03d}@{self.host}>"
                f";tag=mb{call.number}\r\n{to}\r\nCall-ID: {call.call_id}\r\n"
                "CSeq: 1 ACK\r\nContent-Length: 0\r\n\r\n"
            ).encode()
            self._send(ack)
            call.status = status
            self.counters.refused[status] = self.counters.refused.get(status, 0) + 1
            self._finish(call, f"refused {status}")


_COMPACT = {"i": "call-id", "f": "from", "t": "to", "v": "via", "m": "contact"}


def _headers(lines: list[str]) -> dict[str, list[str]]:
    headers: dict[str, list[str]] = {}
    for line in lines:
        name, sep, value = line.partition(":")
        if sep:
            key = name.strip().lower()
            headers.setdefault(_COMPACT.get(key, key), []).append(value.strip())
    return headers


def _ok(headers: dict[str, list[str]]) -> bytes:
    """``200 OK`` to a request, its Via, From, To, Call-ID and CSeq copied (§8.2.6.2)."""
    lines = ["SIP/2.0 200 OK"]
    lines += [f"Via: {via}" for via in headers.get("via", [])]
    for name in ("From", "To", "Call-ID", "CSeq"):
        lines += [f"{name}: {value}" for value in headers.get(name.lower(), [])]
    return ("\r\n".join(lines) + "\r\nContent-Length: 0\r\n\r\n").encode()
