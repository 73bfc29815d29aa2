"""Which worker handles a SIP message: the one that owns its Call-ID (issue 14).

With ``serve --workers N`` every worker reads from the same port, and the kernel picks
the reader of each datagram by its 4-tuple (source and destination address and port).
That keeps one phone on one worker, but a trunk, a Kamailio in front, or SIPp sends every
call from one address and port: all of them would land on one worker. So the kernel's
choice only decides who *reads*; who *handles* a message is the owner of its Call-ID,
``crc32(Call-ID) % N``, the same in every process. The reader passes anything it does
not own, raw, with the flow it came from, to the owner (``workers.relay``), which
handles it as if it had read it: every message of a call (retransmissions, ACK, CANCEL,
BYE, and the answers to the requests we send for it) meets the same transactions and
dialogs, whichever worker the kernel chose. Requests we start ourselves (a confirmation
leg, an unsolicited NOTIFY) get a Call-ID that this worker owns (``SipCore.new_call_id``).

Answers leave from the owner's own socket on the shared port, so over UDP they look
the same whoever sends them. A TCP connection belongs to the worker that accepted (or
opened) it; the owner asks that worker to write on it (``send``) or to keep it open for
a registration (``keep``).

One exception: a REGISTER is handled where it is read. It makes no dialog and no
transaction of ours depends on it later, its retransmissions arrive the way it did (one
source, so one socket; one connection over TCP), and the bindings it makes reach every
worker through the change feed anyway. Phones refresh registrations all day long; none
of that needs to cross.

The Call-ID is read from the raw bytes: the usual spelling with ``str.find``, any other
(case, the compact ``i:``, spaces before the colon) with one regular expression. A
message without one is handled where it was read (it gets its ``400`` there).
"""

from __future__ import annotations

import asyncio
import re
import zlib
from collections import OrderedDict
from collections.abc import Callable

from switchboard.sip.digest import DigestAuthenticator
from switchboard.sip.flow import Flow
from switchboard.sip.ratelimit import AuthFailureLimiter
from switchboard.sip.transport import Receiver, SipTransport
from switchboard.workers.frames import AuthCleared, AuthFailed, FlowFrame, Kind, NonceUsed
from switchboard.workers.relay import Relay

_CANONICAL = b"\nCall-ID:"
_ANY_SPELLING = re.compile(rb"\n(?:call-id|i)[ \t]*:([^\n]*)", re.IGNORECASE)
MAX_TCP_FLOWS = 4096


def call_id_of(data: bytes) -> bytes | None:
    """The Call-ID value in a message's header block, as sent (trimmed); None if none."""
    end = data.find(b"\r\n\r\n")
    head = data if end < 0 else data[:end]
    at = head.find(_CANONICAL)
    if at >= 0:
        start = at + len(_CANONICAL)
        stop = head.find(b"\n", start)
        value = head[start:] if stop < 0 else head[start:stop]
    else:
        found = _ANY_SPELLING.search(head)
        if found is None:
            return None
        value = found.group(1)
    return value.strip() or None


def owner_of(call_id: bytes, count: int) -> int:
    """The worker (0 .. count-1) that handles every message with this Call-ID."""
    return zlib.crc32(call_id) % count


class Steering:
    """This worker's side of steering: who owns what, and passing on what is not ours."""

    def __init__(self, relay: Relay) -> None:
        self.relay = relay
        self.index = relay.index
        self.count = relay.spec.count
        self._tcp_owner: OrderedDict[tuple[str, int], int] = OrderedDict()
        """TCP flows another worker passed us messages from: it holds the connection."""

    def owner(self, data: bytes) -> int:
        if data.startswith(b"REGISTER "):
            return self.index
        call_id = call_id_of(data)
        return self.index if call_id is None else zlib.crc32(call_id) % self.count

    def owns(self, call_id: str) -> bool:
        return zlib.crc32(call_id.encode()) % self.count == self.index

    def steered(self, receive: Receiver) -> Receiver:
        """What the transport calls instead of ``receive``: ours to ``receive``, the rest
        to its owner."""
        pass_on = self.pass_on

        def read(data: bytes, flow: Flow, now: float) -> None:
            if not pass_on(data, flow):
                receive(data, flow, now)

        return read

    def join(
        self,
        receive: Receiver,
        transport: SipTransport,
        auth: DigestAuthenticator,
        failures: AuthFailureLimiter,
    ) -> list[Callable[[], None]]:
        """Take what the other workers send this one: messages it owns (to ``receive``, as
        if read here), writes and keeps for TCP connections it holds, and what they learn
        of digests (failures, successes, nonces used). Returns the undo steps."""
        loop = asyncio.get_running_loop()
        relay = self.relay

        def frame(frame: FlowFrame) -> None:
            now = loop.time()
            if frame.kind is Kind.MESSAGE:
                receive(frame.payload, self.arrived(frame), now)
            elif frame.kind is Kind.SEND:
                transport.send_here(frame.payload, Flow("tcp", frame.host, frame.port))
            elif frame.kind is Kind.KEEP:
                transport.keep_here(Flow("tcp", frame.host, frame.port), now + frame.seconds)

        def failed(note: AuthFailed, _sender: int) -> None:
            failures.record_failure(note.source, loop.time())

        def cleared(note: AuthCleared, _sender: int) -> None:
            failures.forget(note.source)

        def used(note: NonceUsed, _sender: int) -> None:
            auth.heard_use(note.nonce, note.nc, loop.time())

        def unhook() -> None:
            relay.on_flow(None)
            auth.on_use = None

        relay.on_flow(frame)
        auth.on_use = lambda nonce, nc: relay.note(NonceUsed(nonce, nc))
        return [
            unhook,
            relay.listen(AuthFailed, failed),
            relay.listen(AuthCleared, cleared),
            relay.listen(NonceUsed, used),
        ]

    def digest_failed(self, source: str) -> None:
        """A digest from ``source`` failed here: the other workers count it too."""
        self.relay.note(AuthFailed(source))

    def digest_passed(self, source: str, failures: AuthFailureLimiter) -> None:
        """A digest from ``source`` passed here: its failures are forgotten everywhere."""
        if failures.knows(source):
            self.relay.note(AuthCleared(source))

    def pass_on(self, data: bytes, flow: Flow) -> bool:
        """Pass ``data`` to its owner if that is another worker (True); False: ours."""
        owner = self.owner(data)
        if owner == self.index:
            return False
        self.relay.forward(owner, data, flow.transport, flow.host, flow.port)
        return True

    def arrived(self, frame: FlowFrame) -> Flow:
        """The flow a passed-on message came from; remembers who holds a TCP one."""
        flow = Flow(frame.transport, frame.host, frame.port)
        if frame.transport == "tcp":
            key = (frame.host, frame.port)
            self._tcp_owner[key] = frame.sender
            self._tcp_owner.move_to_end(key)
            if len(self._tcp_owner) > MAX_TCP_FLOWS:
                self._tcp_owner.popitem(last=False)
        return flow

    # -- what the transport cannot do itself (``transport.Elsewhere``) -------------------

    def send(self, data: bytes, flow: Flow) -> None:
        """Bytes for a TCP connection this worker does not hold: to the worker that passed
        us its messages, or to every other worker (only the holder writes them)."""
        owner = self._tcp_owner.get((flow.host, flow.port))
        self.relay.send_tcp(data, flow.host, flow.port, owner)

    def keep(self, flow: Flow, seconds: float) -> None:
        owner = self._tcp_owner.get((flow.host, flow.port))
        self.relay.keep_tcp(flow.host, flow.port, seconds, owner)
