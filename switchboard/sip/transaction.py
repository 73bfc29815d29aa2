"""The transaction layer, sans-I/O (RFC 3261 §17, with the RFC 6026 'Accepted' states).

The layer takes an event (a parsed message or the current time) and returns what to
send; only the transport touches sockets. Timers carry RFC 3261's names (A..K, with C
as §16.6 names the proxy's, plus L and M from RFC 6026); their deadlines sit in one FIFO
per timer duration that the driver reads through ``next_deadline`` and fires with
``fire(now)``. No method reads a clock.

Server transactions absorb retransmitted requests (the last response goes out again) and
ACKs to non-2xx finals (hop-by-hop, §17.2.1). Client transactions retransmit over UDP,
time out (B, C, F), and ACK non-2xx finals themselves (§17.1.1.3).
"""

from __future__ import annotations

import heapq
import itertools
from collections import deque
from dataclasses import dataclass
from enum import Enum

from switchboard.routing.values import quick_init
from switchboard.sip.flow import Flow
from switchboard.sip.message import MAGIC_COOKIE, Headers, Request, Response, SipError
from switchboard.sip.parse import cseq, serialise, top_via

T1 = 0.5
"""Round-trip estimate (§17.1.1.1)."""
T2 = 4.0
"""Longest retransmit interval for non-INVITE requests and INVITE responses."""
T4 = 5.0
"""Longest time a message stays in the network."""
TIMER_C = 180.0
"""How long a ringing client INVITE may wait for its final answer (§16.6 step 11: more
than 3 minutes); reset by every provisional. A guard, not a ring timeout: the TU's own
ring timeout CANCELs long before, and this ends branches whose callee never answers."""


class State(Enum):
    TRYING = "trying"
    CALLING = "calling"
    PROCEEDING = "proceeding"
    ACCEPTED = "accepted"
    COMPLETED = "completed"
    CONFIRMED = "confirmed"
    TERMINATED = "terminated"


# Tuples, not sets: a member is found by identity, where a set would hash it through
# Enum's __hash__, a Python-level call.
_UNANSWERED = (State.TRYING, State.PROCEEDING)
_ANSWERED = (State.COMPLETED, State.CONFIRMED, State.TERMINATED)
"""A server transaction whose final answer went (a late answer of the TU goes nowhere)."""


@quick_init
@dataclass(frozen=True, slots=True)
class Send:
    data: bytes
    flow: Flow


@quick_init
@dataclass(frozen=True, slots=True)
class ClientEvent:
    """What a client transaction tells its owner: a response, or a timeout (B, C or F)."""

    transaction: ClientTransaction
    response: Response | None


class Arrival(Enum):
    NEW = "new"
    """A new server transaction: the TU must answer it."""
    ABSORBED = "absorbed"
    """A retransmission or a hop-by-hop ACK, handled here."""
    STRAY_ACK = "stray_ack"
    """An ACK for a 2xx (a new transaction of its own, §17.2.3): end-to-end, for the TU."""


ServerKey = tuple[str, str, str]
ClientKey = tuple[str, str]


def plain_branch_and_sent_by(via: str) -> tuple[str, str] | None:
    """A Via value's branch and sent-by, read with ``str`` methods on the common shape
    (``SIP/2.0/UDP host:port;...;branch=z9hG4bK...``); None for any other shape."""
    _, _, rest = via.partition(" ")
    sent_by, _, params = rest.partition(";")
    start = params.find("branch=")
    if start >= 0 and " " not in sent_by and (start == 0 or params[start - 1] == ";"):
        return params[start + 7 :].partition(";")[0].strip(), sent_by.strip()
    return None


def _branch_and_sent_by(request: Request) -> tuple[str, str]:
    """The top Via's branch and sent-by: every request needs them, and a full Via parse
    costs several times more than the common shape's. Odd shapes take the full parser."""
    plain = plain_branch_and_sent_by(request.headers.get("Via") or "")
    if plain is not None:
        return plain
    via = top_via(request)
    return via.branch or "", f"{via.host}:{via.port or ''}"


def server_key(request: Request) -> ServerKey:
    """§17.2.3: branch + sent-by + method, with ACK matching its INVITE."""
    method = "INVITE" if request.method == "ACK" else request.method
    branch, sent_by = _branch_and_sent_by(request)
    if not branch.startswith(MAGIC_COOKIE):
        # RFC 2543 peers: no usable branch; fall back on the dialog-ish identifiers.
        number = cseq(request).number
        branch = f"{request.headers.get('Call-ID')}|{number}|{request.uri}"
    return (branch, sent_by, method)


_H_UNQUEUED = "H (not queued)"
"""Where a UDP INVITE server transaction keeps timer H's deadline until G first fires."""
_F_UNQUEUED = "F (not queued)"
"""Where a UDP non-INVITE client transaction keeps timer F's deadline until E first fires."""


class ServerTransaction:
    __slots__ = ("_request", "flow", "interval", "invite", "key", "last", "state", "timers")

    def __init__(self, key: ServerKey, request: Request, flow: Flow) -> None:
        self.key = key
        self._request: Request | None = request
        self.flow = flow
        self.invite = request.method == "INVITE"
        self.state = State.PROCEEDING if self.invite else State.TRYING
        self.last: bytes | None = None
        self.interval = T1
        self.timers: dict[str, float] = {}

    @property
    def request(self) -> Request:
        """The request that began the transaction, until its final answer is acknowledged
        (``answered`` is then true and nothing may answer it again)."""
        if self._request is None:
            raise SipError(f"transaction {self.key[0]}: its request was released at the ACK")
        return self._request

    @property
    def answered(self) -> bool:
        """Whether the final answer went: a later answer of the TU goes nowhere."""
        return self.state in _ANSWERED


class ClientTransaction:
    __slots__ = ("data", "flow", "interval", "key", "owner", "request", "state", "timers")

    def __init__(self, key: ClientKey, request: Request, flow: Flow, owner: object) -> None:
        self.key = key
        self.request = request
        self.data = serialise(request)
        self.flow = flow
        self.owner = owner
        """Opaque to the layer: whoever sent the request (a proxy branch, say)."""
        self.state = State.CALLING if request.method == "INVITE" else State.TRYING
        self.interval = T1
        self.timers: dict[str, float] = {}

    @property
    def invite(self) -> bool:
        return self.request.method == "INVITE"


Transaction = ServerTransaction | ClientTransaction
TimerEntry = tuple[float, int, Transaction, str]
"""(deadline, start order, transaction, timer name): ordered by deadline, ties by start."""


def _live(entry: TimerEntry) -> bool:
    """An entry counts while its transaction still runs and still waits for this very
    deadline: cancelling or restarting a timer only edits ``tx.timers``, so stale entries
    are found and dropped when they reach the front instead of being searched for."""
    deadline, _, tx, name = entry
    return tx.timers.get(name) == deadline and tx.state is not State.TERMINATED


class _TimerQueues:
    """Every pending timer entry, in one FIFO per timer duration.

    A timer starts at ``now + duration`` and the driver's clock does not go back, so the
    deadlines of one duration arrive in order and a deque is a priority queue with O(1)
    push and pop. One heap of all timers cost O(log n) per step instead, with n near
    150,000 under load (when timer H was still queued at every answer; it now joins a
    queue only when G fires first). There are only a handful of durations, so the
    earliest deadline is among a few FIFO heads.

    Correctness never rests on the clock: an entry that would break its FIFO's order (the
    clock passed in went back) goes to a small heap beside them instead."""

    __slots__ = ("_fifos", "_out_of_order", "_seq")

    def __init__(self) -> None:
        self._fifos: dict[float, deque[TimerEntry]] = {}
        self._out_of_order: list[TimerEntry] = []
        self._seq = itertools.count()

    def __len__(self) -> int:
        """Entries held, cancelled ones included: what a measurement wants to see."""
        return len(self._out_of_order) + sum(len(fifo) for fifo in self._fifos.values())

    def push(self, tx: Transaction, name: str, deadline: float, duration: float) -> None:
        """Queue a timer behind the others of its duration, or in the heap when its
        deadline comes before theirs: a FIFO stays in order whatever ``now`` was."""
        entry = (deadline, next(self._seq), tx, name)
        fifo = self._fifos.get(duration)
        if fifo is None:
            fifo = self._fifos[duration] = deque()
        if fifo and deadline < fifo[-1][0]:
            heapq.heappush(self._out_of_order, entry)
        else:
            fifo.append(entry)

    def earliest(self) -> float | None:
        """The earliest live deadline; the dead entries in front of it are dropped."""
        soonest: float | None = None
        for fifo in self._fifos.values():
            while fifo and not _live(fifo[0]):
                fifo.popleft()
            if fifo and (soonest is None or fifo[0][0] < soonest):
                soonest = fifo[0][0]
        heap = self._out_of_order
        while heap and not _live(heap[0]):
            heapq.heappop(heap)
        if heap and (soonest is None or heap[0][0] < soonest):
            soonest = heap[0][0]
        return soonest

    def gather_due(self, now: float) -> None:
        """Move the live entries due by ``now`` from the FIFOs into the heap, which then
        holds every due entry in (deadline, start) order for ``pop_due``. Gathering once is
        enough: a timer that the firing restarts falls a positive interval after ``now``."""
        heap = self._out_of_order
        for fifo in self._fifos.values():
            while fifo and fifo[0][0] <= now:
                entry = fifo.popleft()
                if _live(entry):
                    heapq.heappush(heap, entry)

    def pop_due(self, now: float) -> TimerEntry | None:
        """The next entry due by ``now`` (after ``gather_due``), live or not; None: none."""
        heap = self._out_of_order
        return heapq.heappop(heap) if heap and heap[0][0] <= now else None


class TransactionLayer:
    def __init__(self, t1: float = T1, t2: float = T2, t4: float = T4) -> None:
        self.t1, self.t2, self.t4 = t1, t2, t4
        self.servers: dict[ServerKey, ServerTransaction] = {}
        self.clients: dict[ClientKey, ClientTransaction] = {}
        self._timers = _TimerQueues()
        self._soonest_new: float | None = None

    # -- timers ---------------------------------------------------------------------

    def _start(self, tx: Transaction, name: str, now: float, duration: float) -> None:
        """(Re)start timer ``name`` to fire ``duration`` after ``now``: the duration, not
        just the deadline, picks the FIFO that keeps the timer's entry in order."""
        self._queue(tx, name, now + duration, duration)

    def _queue(self, tx: Transaction, name: str, deadline: float, fifo: float) -> None:
        """Queue timer ``name`` for ``deadline`` in the FIFO of timers started ``fifo``
        before their deadlines (the entries of one FIFO arrive in deadline order)."""
        tx.timers[name] = deadline
        self._timers.push(tx, name, deadline, fifo)
        if self._soonest_new is None or deadline < self._soonest_new:
            self._soonest_new = deadline

    def take_new_deadline(self) -> float | None:
        """The earliest deadline started since the last call, if any. Whoever runs the
        clock re-arms only when this is earlier than what it waits for already; a timer
        that fires for a cancelled deadline finds nothing and asks ``next_deadline``."""
        soonest, self._soonest_new = self._soonest_new, None
        return soonest

    def next_deadline(self) -> float | None:
        """The earliest deadline of a timer still running (cancelled ones are skipped)."""
        return self._timers.earliest()

    def fire(self, now: float) -> tuple[list[Send], list[ClientEvent]]:
        """Fire every running timer due by ``now``, earliest first (ties: start order),
        including any that one of them starts already due."""
        sends: list[Send] = []
        events: list[ClientEvent] = []
        self._timers.gather_due(now)
        while (entry := self._timers.pop_due(now)) is not None:
            if not _live(entry):
                continue  # cancelled by a timer that fired before it
            _, _, tx, name = entry
            del tx.timers[name]
            if isinstance(tx, ServerTransaction):
                self._fire_server(tx, name, now, sends)
            else:
                self._fire_client(tx, name, now, sends, events)
        return sends, events

    def _queue_deferred(self, tx: Transaction, marker: str, name: str) -> None:
        """Queue a 64*T1 timeout (H, F) whose deadline waited under ``marker`` beside its
        retransmission timer (G, E), which has just fired for the first time.

        Over UDP the timeout is queued only then: most transactions get their ACK or
        final answer within T1, and a timeout queued at the start would stay 64*T1 in its
        FIFO after being cancelled, keeping the ended transaction alive that long. The
        first firings of G and E come in the order their transactions started (one T1
        FIFO), so these deadlines arrive in order too, in a FIFO of their own."""
        deadline = tx.timers.pop(marker, None)
        if deadline is not None:
            self._queue(tx, name, deadline, 64 * self.t1 - self.t1)

    def _fire_server(self, tx: ServerTransaction, name: str, now: float, out: list[Send]) -> None:
        if name == "G" and tx.state is State.COMPLETED and tx.last is not None:
            self._queue_deferred(tx, _H_UNQUEUED, "H")  # no ACK within T1
            out.append(Send(tx.last, tx.flow))
            tx.interval = min(2 * tx.interval, self.t2)
            self._start(tx, "G", now, tx.interval)
        elif name in {"H", "I", "J", "L"}:
            self._end_server(tx)

    def _fire_client(
        self,
        tx: ClientTransaction,
        name: str,
        now: float,
        out: list[Send],
        events: list[ClientEvent],
    ) -> None:
        if name == "A" and tx.state is State.CALLING:
            out.append(Send(tx.data, tx.flow))
            tx.interval *= 2
            self._start(tx, "A", now, tx.interval)
        elif name == "E" and tx.state in _UNANSWERED:
            self._queue_deferred(tx, _F_UNQUEUED, "F")  # no final answer within T1
            out.append(Send(tx.data, tx.flow))
            tx.interval = self.t2 if tx.state is State.PROCEEDING else min(2 * tx.interval, self.t2)
            self._start(tx, "E", now, tx.interval)
        elif (name == "B" and tx.state is State.CALLING) or (
            name == "F" and tx.state in _UNANSWERED
        ):
            # §17.1.1.2: B times out an INVITE still Calling only; once the callee answered
            # with a provisional, the call may ring as long as the TU lets it (up to C).
            self._end_client(tx)
            events.append(ClientEvent(tx, None))
        elif name == "C" and tx.state is State.PROCEEDING:
            # §16.8: a transaction that never got its final answer is treated as a 408.
            self._end_client(tx)
            events.append(ClientEvent(tx, None))
        elif name in {"D", "K", "M"}:
            self._end_client(tx)

    def _end_server(self, tx: ServerTransaction) -> None:
        """The last response goes: only a running transaction resends it, and a cancelled
        timer's entry (H, once G fired, stays queued up to 64*T1) would keep those bytes
        alive until it is dropped. The request stays: its owner reads ``tx.request``
        after the end (the reply a TU builds, the call record)."""
        tx.state = State.TERMINATED
        tx.last = None
        tx.timers.clear()
        self.servers.pop(tx.key, None)

    def _end_client(self, tx: ClientTransaction) -> None:
        tx.state = State.TERMINATED
        tx.timers.clear()
        self.clients.pop(tx.key, None)

    # -- server side ----------------------------------------------------------------

    def receive_request(
        self, request: Request, flow: Flow, now: float
    ) -> tuple[Arrival, ServerTransaction | None, list[Send]]:
        key = server_key(request)
        tx = self.servers.get(key)
        if request.method == "ACK":
            if tx is None or tx.state is State.ACCEPTED:
                return Arrival.STRAY_ACK, tx, []
            self._acknowledged(tx, flow, now)
            return Arrival.ABSORBED, tx, []
        if tx is not None:
            # A retransmission: the last response goes out again (§17.2.1, §17.2.2).
            resend = tx.last is not None and tx.state is not State.ACCEPTED
            return Arrival.ABSORBED, tx, [Send(tx.last, tx.flow)] if resend and tx.last else []
        tx = ServerTransaction(key, request, flow)
        self.servers[key] = tx
        return Arrival.NEW, tx, []

    def absorb_ack(self, via: str, flow: Flow, now: float) -> bool:
        """Absorb an ACK known only by its top Via (the transport read nothing else) when
        it acknowledges one of our non-2xx final answers: matching needs the branch and
        sent-by alone (§17.2.3), the ACK gets no answer, and it is most of what arrives.
        False when it is anything else: the caller parses it in full and hands it on."""
        plain = plain_branch_and_sent_by(via)
        if plain is None or not plain[0].startswith(MAGIC_COOKIE):
            return False
        tx = self.servers.get((plain[0], plain[1], "INVITE"))
        if tx is None or tx.state not in (State.COMPLETED, State.CONFIRMED):
            return False
        self._acknowledged(tx, flow, now)
        return True

    def _acknowledged(self, tx: ServerTransaction, flow: Flow, now: float) -> None:
        """§17.2.1: the ACK of a non-2xx final stops G and H; I absorbs its retransmissions."""
        if tx.state is State.COMPLETED:
            tx.state = State.CONFIRMED
            tx.timers.pop("G", None)
            tx.timers.pop("H", None)
            tx.timers.pop(_H_UNQUEUED, None)
            # Timer I keeps the transaction 5 s for the ACK's retransmissions, which need
            # nothing of the request: letting it go now frees a call's message at once
            # instead of leaving it to the garbage collector's young generation.
            tx._request = None
            if flow.reliable:
                self._end_server(tx)
            else:
                self._start(tx, "I", now, self.t4)

    def find_invite(self, cancel: Request) -> ServerTransaction | None:
        """The INVITE transaction a CANCEL refers to (§9.2: same branch and sent-by)."""
        branch, sent_by, _ = server_key(cancel)
        return self.servers.get((branch, sent_by, "INVITE"))

    def respond(self, tx: ServerTransaction, response: Response, now: float) -> list[Send]:
        if tx.answered:
            return []  # a final answer was already given; a late TU answer goes nowhere
        data = serialise(response)
        status = response.status
        if tx.state is State.ACCEPTED:
            # RFC 6026 §7.1: once a 2xx went out, only the TU's 2xx retransmissions pass;
            # a late 1xx or non-2xx must not follow it, and timer L keeps its deadline.
            return [Send(data, tx.flow)] if 200 <= status < 300 else []
        if status < 200:
            tx.last = data
            if not tx.invite:
                tx.state = State.PROCEEDING
            return [Send(data, tx.flow)]
        tx.last = data
        if tx.invite and status < 300:
            tx.state = State.ACCEPTED
            self._start(tx, "L", now, 64 * self.t1)
        elif tx.invite:
            tx.state = State.COMPLETED
            if tx.flow.reliable:
                self._start(tx, "H", now, 64 * self.t1)
            else:
                tx.interval = self.t1
                self._start(tx, "G", now, self.t1)
                # H runs from now but is queued only if G fires (no ACK within T1): the
                # ACK of almost every call comes first, and an H queued now would stay
                # 64*T1 in its FIFO after the ACK cancelled it, holding the transaction.
                # G stays due before H, so the earliest deadline is always a queued one.
                tx.timers[_H_UNQUEUED] = now + 64 * self.t1
        else:
            tx.state = State.COMPLETED
            if tx.flow.reliable:
                self._end_server(tx)
            else:
                self._start(tx, "J", now, 64 * self.t1)
        return [Send(data, tx.flow)]

    # -- client side ----------------------------------------------------------------

    def send_request(
        self, request: Request, flow: Flow, now: float, owner: object
    ) -> tuple[ClientTransaction, list[Send]]:
        """Start a client transaction; the request's top Via must carry a fresh branch."""
        branch = top_via(request).branch or ""
        tx = ClientTransaction((branch, request.method), request, flow, owner)
        self.clients[tx.key] = tx
        if tx.invite:
            if not flow.reliable:
                self._start(tx, "A", now, self.t1)
            self._start(tx, "B", now, 64 * self.t1)
        elif flow.reliable:
            self._start(tx, "F", now, 64 * self.t1)
        else:
            self._start(tx, "E", now, self.t1)
            tx.timers[_F_UNQUEUED] = now + 64 * self.t1  # queued if E fires (see there)
        return tx, [Send(tx.data, flow)]

    def receive_response(
        self, response: Response, now: float
    ) -> tuple[ClientEvent | None, list[Send]]:
        """Match a response to its client transaction (§17.1.3); None: not ours."""
        branch = top_via(response).branch or ""
        tx = self.clients.get((branch, cseq(response).method))
        if tx is None or tx.state is State.TERMINATED:
            return None, []
        status = response.status
        if tx.invite:
            return self._invite_response(tx, response, status, now)
        if tx.state is State.COMPLETED:
            return None, []
        if status < 200:
            tx.state = State.PROCEEDING
            return ClientEvent(tx, response), []
        tx.state = State.COMPLETED
        tx.timers.clear()
        if tx.flow.reliable:
            self._end_client(tx)
        else:
            self._start(tx, "K", now, self.t4)
        return ClientEvent(tx, response), []

    def _invite_response(
        self, tx: ClientTransaction, response: Response, status: int, now: float
    ) -> tuple[ClientEvent | None, list[Send]]:
        if status < 200:
            if tx.state is State.CALLING:
                tx.state = State.PROCEEDING
                tx.timers.pop("A", None)
                tx.timers.pop("B", None)
            if tx.state is State.PROCEEDING:
                if status != 100 or "C" not in tx.timers:  # §16.6: a 100 does not reset C
                    self._start(tx, "C", now, TIMER_C)
                return ClientEvent(tx, response), []
            return None, []
        if status < 300:
            first = tx.state is not State.ACCEPTED
            if first:
                tx.state = State.ACCEPTED
                tx.timers.clear()
                self._start(tx, "M", now, 64 * self.t1)
            # Retransmitted 2xx go to the TU too (RFC 6026 §8.4): they are end-to-end.
            return ClientEvent(tx, response), []
        ack = Send(serialise(ack_for(tx.request, response)), tx.flow)
        if tx.state is State.COMPLETED:
            return None, [ack]
        if tx.state is State.ACCEPTED:
            return None, []
        tx.state = State.COMPLETED
        tx.timers.clear()
        if tx.flow.reliable:
            self._end_client(tx)
        else:
            self._start(tx, "D", now, 32.0)
        return ClientEvent(tx, response), [ack]

    def cancel_timers(self, tx: ClientTransaction) -> None:
        """Forget a client INVITE whose branch was cancelled and finally answered."""
        self._end_client(tx)


def ack_for(request: Request, response: Response) -> Request:
    """The hop-by-hop ACK to a non-2xx final response (RFC 3261 §17.1.1.3)."""
    h = request.headers
    items: list[tuple[str, str]] = [("Via", h.get_all("Via")[0])]
    items.append(("Max-Forwards", "70"))
    items.extend(("Route", r) for r in h.get_all("Route"))
    items.append(("From", h.get("From") or ""))
    items.append(("To", response.headers.get("To") or ""))
    items.append(("Call-ID", h.get("Call-ID") or ""))
    items.append(("CSeq", f"{cseq(request).number} ACK"))
    return Request("ACK", request.uri, Headers(tuple(items)))
