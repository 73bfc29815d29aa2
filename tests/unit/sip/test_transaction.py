"""The transaction layer against RFC 3261 §17 and RFC 6026, driven with explicit ``now``.

Every test feeds parsed messages (RFC 3261 §24-style text) and times; timers are read
through ``next_deadline`` and fired with ``fire(now)``, the way the server drives them.
Defaults: T1 = 0.5 s, T2 = 4 s, T4 = 5 s, so 64*T1 = 32 s.
"""

from __future__ import annotations

import heapq

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from switchboard.sip.build import response_to
from switchboard.sip.flow import Flow
from switchboard.sip.message import Headers, Request, Response, SipError, SipUri
from switchboard.sip.parse import parse_message, serialise
from switchboard.sip.transaction import (
    Arrival,
    ClientEvent,
    ClientTransaction,
    Send,
    ServerTransaction,
    State,
    TimerEntry,
    TransactionLayer,
    _TimerQueues,
)

UDP = Flow("udp", "192.0.2.101", 5060)
TCP = Flow("tcp", "192.0.2.101", 5060)
TO_TAG = "a6c85cf"


def _message(lines: list[str]) -> bytes:
    return "\r\n".join([*lines, "Content-Length: 0", "", ""]).encode()


def request(*lines: str) -> Request:
    msg = parse_message(_message(list(lines)))
    assert isinstance(msg, Request)
    return msg


def response(*lines: str) -> Response:
    msg = parse_message(_message(list(lines)))
    assert isinstance(msg, Response)
    return msg


def invite(branch: str = "z9hG4bK776asdhds", transport: str = "UDP") -> Request:
    return request(
        "INVITE sip:bob@biloxi.com SIP/2.0",
        f"Via: SIP/2.0/{transport} pc33.atlanta.com;branch={branch}",
        "Max-Forwards: 70",
        "To: Bob <sip:bob@biloxi.com>",
        "From: Alice <sip:alice@atlanta.com>;tag=1928301774",
        "Call-ID: a84b4c76e66710@pc33.atlanta.com",
        "CSeq: 314159 INVITE",
        "Contact: <sip:alice@pc33.atlanta.com>",
    )


def ack(branch: str, to: str = f"Bob <sip:bob@biloxi.com>;tag={TO_TAG}") -> Request:
    return request(
        "ACK sip:bob@biloxi.com SIP/2.0",
        f"Via: SIP/2.0/UDP pc33.atlanta.com;branch={branch}",
        "Max-Forwards: 70",
        f"To: {to}",
        "From: Alice <sip:alice@atlanta.com>;tag=1928301774",
        "Call-ID: a84b4c76e66710@pc33.atlanta.com",
        "CSeq: 314159 ACK",
    )


def cancel(branch: str = "z9hG4bK776asdhds", sent_by: str = "pc33.atlanta.com") -> Request:
    return request(
        "CANCEL sip:bob@biloxi.com SIP/2.0",
        f"Via: SIP/2.0/UDP {sent_by};branch={branch}",
        "Max-Forwards: 70",
        "To: Bob <sip:bob@biloxi.com>",
        "From: Alice <sip:alice@atlanta.com>;tag=1928301774",
        "Call-ID: a84b4c76e66710@pc33.atlanta.com",
        "CSeq: 314159 CANCEL",
    )


def bye(branch: str = "z9hG4bKnashds10") -> Request:
    return request(
        "BYE sip:alice@pc33.atlanta.com SIP/2.0",
        f"Via: SIP/2.0/UDP 192.0.2.4;branch={branch}",
        "Max-Forwards: 70",
        "From: Bob <sip:bob@biloxi.com>;tag=a6c85cf",
        "To: Alice <sip:alice@atlanta.com>;tag=1928301774",
        "Call-ID: a84b4c76e66710@pc33.atlanta.com",
        "CSeq: 231 BYE",
    )


def answer(req: Request, status: int, reason: str) -> Response:
    """What the TU answers, built the way the switchboard builds it."""
    return response_to(req, status, reason, to_tag=None if status == 100 else TO_TAG)


def sent(res: Response | Request, flow: Flow = UDP) -> list[Send]:
    return [Send(serialise(res), flow)]


def drive(
    layer: TransactionLayer, until: float
) -> list[tuple[float, list[Send], list[ClientEvent]]]:
    """Fire every timer up to ``until`` at its exact deadline; what each firing produced."""
    log: list[tuple[float, list[Send], list[ClientEvent]]] = []
    while (deadline := layer.next_deadline()) is not None and deadline <= until:
        sends, events = layer.fire(deadline)
        log.append((deadline, sends, events))
    return log


def state_of(tx: ServerTransaction | ClientTransaction) -> State:
    """The state now (a call, so mypy does not narrow it across the steps of a test)."""
    return tx.state


def last_of(tx: ServerTransaction) -> bytes | None:
    """The last response now (a call, so mypy does not narrow it across the steps)."""
    return tx.last


def new_server(req: Request, flow: Flow = UDP) -> tuple[TransactionLayer, ServerTransaction]:
    layer = TransactionLayer()
    arrival, tx, sends = layer.receive_request(req, flow, 0.0)
    assert (arrival, sends) == (Arrival.NEW, [])
    assert tx is not None
    return layer, tx


# -- INVITE server transaction (§17.2.1, RFC 6026 §7.1) ---------------------------------


def test_invite_server_starts_proceeding_and_absorbs_retransmission_before_any_answer() -> None:
    layer, tx = new_server(invite())
    assert state_of(tx) is State.PROCEEDING
    assert layer.receive_request(invite(), UDP, 0.2) == (Arrival.ABSORBED, tx, [])
    assert layer.next_deadline() is None


def test_invite_server_retransmission_resends_the_last_provisional() -> None:
    req = invite()
    layer, tx = new_server(req)
    trying, ringing = answer(req, 100, "Trying"), answer(req, 180, "Ringing")
    assert layer.respond(tx, trying, 0.0) == sent(trying)
    assert layer.receive_request(req, UDP, 0.3) == (Arrival.ABSORBED, tx, sent(trying))
    assert layer.respond(tx, ringing, 1.0) == sent(ringing)
    assert layer.receive_request(req, UDP, 1.5) == (Arrival.ABSORBED, tx, sent(ringing))
    assert state_of(tx) is State.PROCEEDING
    assert layer.next_deadline() is None  # provisionals are not retransmitted by the layer


# (id, flow, firing times of timer G up to H, final state time)
TIMER_G = [
    (
        "udp-t1-doubling-capped-at-t2",
        UDP,
        [0.5, 1.5, 3.5, 7.5, 11.5, 15.5, 19.5, 23.5, 27.5, 31.5],
    ),
    ("tcp-never-retransmits", TCP, []),
]


@pytest.mark.parametrize(("flow", "g_times"), [c[1:] for c in TIMER_G], ids=[c[0] for c in TIMER_G])
def test_invite_server_non_2xx_final_completes_and_timer_g_then_h(
    flow: Flow, g_times: list[float]
) -> None:
    req = invite(transport=flow.transport.upper())
    layer, tx = new_server(req, flow)
    busy = answer(req, 486, "Busy Here")
    assert layer.respond(tx, busy, 0.0) == sent(busy, flow)
    assert state_of(tx) is State.COMPLETED
    log = drive(layer, 40.0)
    retransmits = [(t, s) for t, s, _ in log if s]
    assert retransmits == [(t, sent(busy, flow)) for t in g_times]
    # Timer H (64*T1) ends it without an ACK; nothing fires after.
    assert log[-1] == (32.0, [], [])
    assert state_of(tx) is State.TERMINATED
    assert layer.servers == {}
    assert layer.next_deadline() is None


def test_invite_server_retransmission_in_completed_resends_the_final() -> None:
    req = invite()
    layer, tx = new_server(req)
    layer.respond(tx, answer(req, 180, "Ringing"), 0.0)
    decline = answer(req, 603, "Decline")
    layer.respond(tx, decline, 1.0)
    assert layer.receive_request(req, UDP, 1.2) == (Arrival.ABSORBED, tx, sent(decline))


def test_invite_server_ack_confirms_absorbs_and_timer_i_ends_it() -> None:
    req = invite()
    layer, tx = new_server(req)
    busy = answer(req, 486, "Busy Here")
    layer.respond(tx, busy, 10.0)
    assert layer.fire(10.5) == (sent(busy), [])  # G once, next at 11.5
    assert layer.receive_request(ack("z9hG4bK776asdhds"), UDP, 11.0) == (
        Arrival.ABSORBED,
        tx,
        [],
    )
    assert state_of(tx) is State.CONFIRMED
    # G and H are gone: the only timer left is I = T4 after the ACK.
    assert layer.next_deadline() == 16.0
    assert layer.fire(15.9) == ([], [])
    assert layer.receive_request(ack("z9hG4bK776asdhds"), UDP, 12.0) == (
        Arrival.ABSORBED,
        tx,
        [],
    )
    assert layer.fire(16.0) == ([], [])
    assert state_of(tx) is State.TERMINATED
    assert layer.servers == {}
    assert layer.next_deadline() is None


def test_an_ack_within_t1_leaves_no_timer_h_queued() -> None:
    """Timer H is queued only once G fires: the ACK of almost every call comes first, and
    an H queued at the answer would hold the transaction 64*T1 after the ACK cancelled it
    (about 128,000 of them at 4,000 calls/s)."""
    req = invite()
    layer, tx = new_server(req)
    layer.respond(tx, answer(req, 302, "Moved Temporarily"), 0.0)
    assert len(layer._timers) == 1  # G only; H waits beside it, unqueued
    layer.receive_request(ack("z9hG4bK776asdhds"), UDP, 0.1)
    assert len(layer._timers) == 2  # the cancelled G and I
    layer.fire(0.5)  # G's (cancelled) deadline passes: nothing queues H
    assert layer.next_deadline() == 5.1
    layer.fire(5.1)
    assert (state_of(tx), layer.servers, len(layer._timers)) == (State.TERMINATED, {}, 0)


def test_invite_server_ack_over_tcp_ends_at_once() -> None:
    req = invite(transport="TCP")
    layer, tx = new_server(req, TCP)
    layer.respond(tx, answer(req, 486, "Busy Here"), 0.0)
    assert layer.receive_request(ack("z9hG4bK776asdhds"), TCP, 0.1) == (
        Arrival.ABSORBED,
        tx,
        [],
    )
    assert state_of(tx) is State.TERMINATED
    assert layer.servers == {}
    assert layer.next_deadline() is None


def test_invite_server_2xx_accepted_absorbs_retransmissions_and_timer_l_ends_it() -> None:
    req = invite()
    layer, tx = new_server(req)
    ok = answer(req, 200, "OK")
    assert layer.respond(tx, ok, 5.0) == sent(ok)
    assert state_of(tx) is State.ACCEPTED
    # RFC 6026 §7.1: the INVITE retransmission is absorbed, the 2xx is the TU's business.
    assert layer.receive_request(req, UDP, 5.5) == (Arrival.ABSORBED, tx, [])
    # The ACK for a 2xx is its own transaction (new branch): end-to-end, for the TU.
    assert layer.receive_request(ack("z9hG4bK5d6e7f"), UDP, 6.0) == (Arrival.STRAY_ACK, None, [])
    # Even one reusing the INVITE's branch is not absorbed while Accepted.
    assert layer.receive_request(ack("z9hG4bK776asdhds"), UDP, 6.0) == (
        Arrival.STRAY_ACK,
        tx,
        [],
    )
    assert state_of(tx) is State.ACCEPTED
    assert drive(layer, 100.0) == [(37.0, [], [])]  # only timer L = 64*T1, no resends
    assert state_of(tx) is State.TERMINATED
    assert layer.servers == {}


def test_invite_server_tu_2xx_retransmission_goes_out_but_does_not_move_timer_l() -> None:
    req = invite()
    layer, tx = new_server(req)
    ok = answer(req, 200, "OK")
    layer.respond(tx, ok, 0.0)
    assert layer.respond(tx, ok, 0.5) == sent(ok)  # RFC 6026 §7.1: the TU's 2xx resend
    assert state_of(tx) is State.ACCEPTED
    assert layer.next_deadline() == 32.0


# (id, first final, late answer)
LATE = [
    ("after-non-2xx", 486, 200),
    ("after-non-2xx-a-provisional", 486, 180),
    ("after-2xx-a-non-2xx", 200, 487),
    ("after-2xx-a-provisional", 200, 180),
]


@pytest.mark.parametrize(("first", "late"), [c[1:] for c in LATE], ids=[c[0] for c in LATE])
def test_invite_server_late_answer_after_a_final_goes_nowhere(first: int, late: int) -> None:
    req = invite()
    layer, tx = new_server(req)
    layer.respond(tx, answer(req, first, "First"), 0.0)
    state = tx.state
    deadline = layer.next_deadline()
    assert layer.respond(tx, answer(req, late, "Late"), 1.0) == []
    assert (state_of(tx), layer.next_deadline()) == (state, deadline)


def test_non_invite_server_late_answer_after_final_goes_nowhere() -> None:
    req = bye()
    layer, tx = new_server(req)
    layer.respond(tx, answer(req, 200, "OK"), 0.0)
    assert layer.respond(tx, answer(req, 500, "Server Internal Error"), 0.1) == []
    assert layer.respond(tx, answer(req, 100, "Trying"), 0.1) == []


# -- non-INVITE server transaction (§17.2.2) --------------------------------------------


def test_non_invite_server_trying_absorbs_then_completed_resends_final_until_timer_j() -> None:
    req = bye()
    layer, tx = new_server(req)
    assert state_of(tx) is State.TRYING
    assert layer.receive_request(req, UDP, 0.4) == (Arrival.ABSORBED, tx, [])
    ok = answer(req, 200, "OK")
    assert layer.respond(tx, ok, 1.0) == sent(ok)
    assert state_of(tx) is State.COMPLETED
    assert layer.receive_request(req, UDP, 2.0) == (Arrival.ABSORBED, tx, sent(ok))
    assert layer.receive_request(req, UDP, 9.0) == (Arrival.ABSORBED, tx, sent(ok))
    assert drive(layer, 100.0) == [(33.0, [], [])]  # J = 64*T1, never a resend of its own
    assert state_of(tx) is State.TERMINATED
    assert layer.servers == {}
    # After J a copy of the request is a new transaction again.
    assert layer.receive_request(req, UDP, 34.0)[0] is Arrival.NEW


def test_non_invite_server_provisional_moves_to_proceeding_and_is_resent() -> None:
    req = bye()
    layer, tx = new_server(req)
    trying = answer(req, 100, "Trying")
    assert layer.respond(tx, trying, 0.0) == sent(trying)
    assert state_of(tx) is State.PROCEEDING
    assert layer.receive_request(req, UDP, 0.5) == (Arrival.ABSORBED, tx, sent(trying))
    ok = answer(req, 200, "OK")
    assert layer.respond(tx, ok, 1.0) == sent(ok)
    assert layer.receive_request(req, UDP, 1.5) == (Arrival.ABSORBED, tx, sent(ok))


def test_non_invite_server_over_tcp_ends_with_its_final() -> None:
    req = request(
        "OPTIONS sip:carol@chicago.com SIP/2.0",
        "Via: SIP/2.0/TCP pc33.atlanta.com;branch=z9hG4bKhjhs8ass877",
        "Max-Forwards: 70",
        "To: <sip:carol@chicago.com>",
        "From: Alice <sip:alice@atlanta.com>;tag=1928301774",
        "Call-ID: a84b4c76e66710",
        "CSeq: 63104 OPTIONS",
        "Accept: application/sdp",
    )
    layer, tx = new_server(req, TCP)
    ok = answer(req, 200, "OK")
    assert layer.respond(tx, ok, 0.0) == sent(ok, TCP)
    assert state_of(tx) is State.TERMINATED  # timer J is zero on a reliable transport
    assert layer.servers == {}
    assert layer.next_deadline() is None


# -- CANCEL (§9.2) ----------------------------------------------------------------------

# (id, cancel, matches the INVITE)
CANCELS = [
    ("same-branch-and-sent-by", cancel(), True),
    ("other-branch", cancel(branch="z9hG4bK000other"), False),
    ("other-sent-by", cancel(sent_by="pc34.atlanta.com"), False),
]


@pytest.mark.parametrize(
    ("cancel_request", "matches"), [c[1:] for c in CANCELS], ids=[c[0] for c in CANCELS]
)
def test_cancel_finds_its_invite(cancel_request: Request, matches: bool) -> None:
    layer, invite_tx = new_server(invite())
    arrival, cancel_tx, sends = layer.receive_request(cancel_request, UDP, 1.0)
    # The CANCEL is a non-INVITE transaction of its own, beside the INVITE's.
    assert (arrival, sends) == (Arrival.NEW, [])
    assert cancel_tx is not None
    assert cancel_tx is not invite_tx
    assert state_of(cancel_tx) is State.TRYING
    assert layer.find_invite(cancel_request) is (invite_tx if matches else None)


def test_cancel_finds_no_invite_once_it_ended() -> None:
    req = invite(transport="TCP")
    layer, tx = new_server(req, TCP)
    layer.respond(tx, answer(req, 486, "Busy Here"), 0.0)
    layer.receive_request(ack("z9hG4bK776asdhds"), TCP, 0.1)
    assert layer.find_invite(cancel()) is None


# -- INVITE client transaction (§17.1.1, RFC 6026 §8.4) ---------------------------------

OUT_BRANCH = "z9hG4bKnashds8"


def out_invite(transport: str = "UDP") -> Request:
    """The INVITE as the switchboard sends it on (two Vias, a Route set)."""
    return request(
        "INVITE sip:bob@192.0.2.4 SIP/2.0",
        f"Via: SIP/2.0/{transport} bigbox3.site3.atlanta.com;branch={OUT_BRANCH}",
        "Via: SIP/2.0/UDP pc33.atlanta.com;branch=z9hG4bK776asdhds;received=192.0.2.101",
        "Max-Forwards: 69",
        "Route: <sip:ss1.biloxi.example.com;lr>",
        "Route: <sip:ss2.biloxi.example.com;lr>",
        "Record-Route: <sip:bigbox3.site3.atlanta.com;lr>",
        "To: Bob <sip:bob@biloxi.com>",
        "From: Alice <sip:alice@atlanta.com>;tag=1928301774",
        "Call-ID: a84b4c76e66710@pc33.atlanta.com",
        "CSeq: 314159 INVITE",
        "Contact: <sip:alice@pc33.atlanta.com>",
    )


def reply(status: int, reason: str, method: str = "INVITE", branch: str = OUT_BRANCH) -> Response:
    """A response from downstream as it arrives: both Vias, the callee's To tag."""
    tag = "" if status == 100 else f";tag={TO_TAG}"
    number = 314159 if method in {"INVITE", "CANCEL"} else 1826
    return response(
        f"SIP/2.0 {status} {reason}",
        f"Via: SIP/2.0/UDP bigbox3.site3.atlanta.com;branch={branch}",
        "Via: SIP/2.0/UDP pc33.atlanta.com;branch=z9hG4bK776asdhds;received=192.0.2.101",
        f"To: Bob <sip:bob@biloxi.com>{tag}",
        "From: Alice <sip:alice@atlanta.com>;tag=1928301774",
        "Call-ID: a84b4c76e66710@pc33.atlanta.com",
        f"CSeq: {number} {method}",
    )


OWNER = object()


def new_client(
    req: Request, flow: Flow = UDP, now: float = 0.0
) -> tuple[TransactionLayer, ClientTransaction]:
    layer = TransactionLayer()
    tx, sends = layer.send_request(req, flow, now, OWNER)
    assert sends == [Send(serialise(req), flow)]
    assert tx.owner is OWNER
    return layer, tx


# (id, flow, state after send, timer A firing times)
TIMER_A = [
    ("udp-doubles-until-b", UDP, [0.5, 1.5, 3.5, 7.5, 15.5, 31.5]),
    ("tcp-never-retransmits", TCP, []),
]


@pytest.mark.parametrize(("flow", "a_times"), [c[1:] for c in TIMER_A], ids=[c[0] for c in TIMER_A])
def test_invite_client_timer_a_then_timer_b_timeout(flow: Flow, a_times: list[float]) -> None:
    req = out_invite(flow.transport.upper())
    layer, tx = new_client(req, flow)
    assert state_of(tx) is State.CALLING
    log = drive(layer, 100.0)
    assert log == [
        *[(t, [Send(serialise(req), flow)], []) for t in a_times],
        (32.0, [], [ClientEvent(tx, None)]),
    ]
    assert state_of(tx) is State.TERMINATED
    assert layer.clients == {}


def test_invite_client_provisional_stops_retransmissions_and_timer_b() -> None:
    layer, tx = new_client(out_invite())
    assert layer.fire(0.5) == ([Send(serialise(out_invite()), UDP)], [])
    ringing = reply(180, "Ringing")
    assert layer.receive_response(ringing, 0.7) == (ClientEvent(tx, ringing), [])
    assert state_of(tx) is State.PROCEEDING
    # §17.1.1.2: B only times out a transaction still Calling; a ringing callee may take
    # longer than 64*T1 to answer (the proxy's ring timeout ends those calls).
    assert drive(layer, 100.0) == []
    assert state_of(tx) is State.PROCEEDING
    again = reply(183, "Session Progress")
    assert layer.receive_response(again, 101.0) == (ClientEvent(tx, again), [])
    # Timer C (§16.6, > 3 min, reset by each provisional but 100) is the only guard left:
    # a branch whose callee never answers ends as a timeout instead of living forever.
    trying = reply(100, "Trying")
    assert layer.receive_response(trying, 150.0) == (ClientEvent(tx, trying), [])
    assert drive(layer, 1000.0) == [(281.0, [], [ClientEvent(tx, None)])]
    assert state_of(tx) is State.TERMINATED
    assert layer.clients == {}


def expected_ack(final: Response) -> Request:
    """§17.1.1.3, written out: the ACK for ``final`` to ``out_invite()``."""
    return request(
        "ACK sip:bob@192.0.2.4 SIP/2.0",
        f"Via: SIP/2.0/UDP bigbox3.site3.atlanta.com;branch={OUT_BRANCH}",
        "Max-Forwards: 70",
        "Route: <sip:ss1.biloxi.example.com;lr>",
        "Route: <sip:ss2.biloxi.example.com;lr>",
        "From: Alice <sip:alice@atlanta.com>;tag=1928301774",
        f"To: {final.headers.get('To')}",
        "Call-ID: a84b4c76e66710@pc33.atlanta.com",
        "CSeq: 314159 ACK",
    )


def test_invite_client_non_2xx_final_is_acked_per_17_1_1_3() -> None:
    layer, tx = new_client(out_invite())
    layer.receive_response(reply(180, "Ringing"), 1.0)
    busy = reply(486, "Busy Here")
    event, sends = layer.receive_response(busy, 2.0)
    assert event == ClientEvent(tx, busy)
    assert state_of(tx) is State.COMPLETED
    (ack_send,) = sends
    assert ack_send.flow == UDP
    ack_request = parse_message(ack_send.data)
    assert ack_request == expected_ack(busy)
    assert isinstance(ack_request, Request)
    assert ack_request.headers.get("To") == f"Bob <sip:bob@biloxi.com>;tag={TO_TAG}"
    # A retransmitted final is ACKed again, identically, and not delivered a second time.
    assert layer.receive_response(busy, 3.0) == (None, sends)
    assert layer.receive_response(reply(180, "Ringing"), 3.5) == (None, [])
    # Timer D: 32 s on UDP, then the transaction is gone.
    assert drive(layer, 100.0) == [(34.0, [], [])]
    assert state_of(tx) is State.TERMINATED
    assert layer.receive_response(busy, 40.0) == (None, [])


def test_invite_client_non_2xx_final_straight_from_calling_over_tcp_ends_at_once() -> None:
    layer, tx = new_client(out_invite("TCP"), TCP)
    unavailable = reply(480, "Temporarily Unavailable")
    event, sends = layer.receive_response(unavailable, 0.2)
    assert event == ClientEvent(tx, unavailable)
    assert len(sends) == 1
    assert sends[0].flow == TCP
    assert state_of(tx) is State.TERMINATED  # timer D is zero on a reliable transport
    assert layer.clients == {}
    assert layer.next_deadline() is None


def test_invite_client_2xx_accepted_delivers_retransmissions_until_timer_m() -> None:
    layer, tx = new_client(out_invite())
    ok = reply(200, "OK")
    assert layer.receive_response(ok, 1.0) == (ClientEvent(tx, ok), [])  # no ACK: the TU's
    assert state_of(tx) is State.ACCEPTED
    assert layer.receive_response(ok, 1.5) == (ClientEvent(tx, ok), [])
    assert layer.receive_response(reply(486, "Busy Here"), 1.6) == (None, [])
    assert drive(layer, 100.0) == [(33.0, [], [])]  # A and B stopped, M = 64*T1
    assert state_of(tx) is State.TERMINATED
    assert layer.receive_response(ok, 34.0) == (None, [])


# -- non-INVITE client transaction (§17.1.2) --------------------------------------------


def out_register(transport: str = "UDP") -> Request:
    return request(
        "REGISTER sip:registrar.biloxi.com SIP/2.0",
        f"Via: SIP/2.0/{transport} bobspc.biloxi.com:5060;branch={OUT_BRANCH}",
        "Max-Forwards: 70",
        "To: Bob <sip:bob@biloxi.com>",
        "From: Bob <sip:bob@biloxi.com>;tag=456248",
        "Call-ID: 843817637684230@998sdasdh09",
        "CSeq: 1826 REGISTER",
        "Contact: <sip:bob@192.0.2.4>",
        "Expires: 7200",
    )


# (id, flow, timer E firing times before F)
TIMER_E = [
    (
        "udp-doubles-to-t2",
        UDP,
        [0.5, 1.5, 3.5, 7.5, 11.5, 15.5, 19.5, 23.5, 27.5, 31.5],
    ),
    ("tcp-never-retransmits", TCP, []),
]


@pytest.mark.parametrize(("flow", "e_times"), [c[1:] for c in TIMER_E], ids=[c[0] for c in TIMER_E])
def test_non_invite_client_timer_e_then_timer_f_timeout(flow: Flow, e_times: list[float]) -> None:
    req = out_register(flow.transport.upper())
    layer, tx = new_client(req, flow)
    assert state_of(tx) is State.TRYING
    assert drive(layer, 100.0) == [
        *[(t, [Send(serialise(req), flow)], []) for t in e_times],
        (32.0, [], [ClientEvent(tx, None)]),
    ]
    assert state_of(tx) is State.TERMINATED
    assert layer.clients == {}


def test_non_invite_client_proceeding_retransmits_every_t2_until_timer_f() -> None:
    req = out_register()
    layer, tx = new_client(req)
    assert layer.fire(0.5) == ([Send(serialise(req), UDP)], [])  # next E at 1.5
    trying = reply(100, "Trying", "REGISTER")
    assert layer.receive_response(trying, 0.7) == (ClientEvent(tx, trying), [])
    assert state_of(tx) is State.PROCEEDING
    resend = [Send(serialise(req), UDP)]
    assert drive(layer, 100.0) == [
        *[(t, resend, []) for t in (1.5, 5.5, 9.5, 13.5, 17.5, 21.5, 25.5, 29.5)],
        (32.0, [], [ClientEvent(tx, None)]),
    ]


def test_non_invite_client_final_completes_absorbs_retransmission_until_timer_k() -> None:
    layer, tx = new_client(out_register())
    ok = reply(200, "OK", "REGISTER")
    assert layer.receive_response(ok, 2.0) == (ClientEvent(tx, ok), [])
    assert state_of(tx) is State.COMPLETED
    assert layer.receive_response(ok, 2.5) == (None, [])
    assert layer.receive_response(reply(100, "Trying", "REGISTER"), 2.6) == (None, [])
    assert drive(layer, 100.0) == [(7.0, [], [])]  # E and F stopped, K = T4
    assert state_of(tx) is State.TERMINATED
    assert layer.clients == {}


def test_a_final_answer_within_t1_leaves_no_timer_f_queued() -> None:
    """As timer H on the server side: F is queued only if E fires, so a relayed BYE
    answered at once is let go after K (T4), not held 64*T1 by a cancelled F."""
    layer, tx = new_client(out_register())
    assert len(layer._timers) == 1  # E only; F waits beside it, unqueued
    ok = reply(200, "OK", "REGISTER")
    layer.receive_response(ok, 0.1)
    assert len(layer._timers) == 2  # the cancelled E and K
    layer.fire(0.5)
    assert layer.next_deadline() == 5.1
    layer.fire(5.1)
    assert (state_of(tx), layer.clients, len(layer._timers)) == (State.TERMINATED, {}, 0)


def test_non_invite_client_final_over_tcp_ends_at_once() -> None:
    layer, tx = new_client(out_register("TCP"), TCP)
    ok = reply(200, "OK", "REGISTER")
    assert layer.receive_response(ok, 0.1) == (ClientEvent(tx, ok), [])
    assert state_of(tx) is State.TERMINATED
    assert layer.next_deadline() is None


# -- matching (§17.1.3) -----------------------------------------------------------------

# (id, response)
UNMATCHED = [
    ("unknown-branch", reply(200, "OK", branch="z9hG4bKunknown")),
    ("same-branch-other-method", reply(200, "OK", "CANCEL")),
    ("branch-of-a-second-via", reply(200, "OK", branch="z9hG4bK776asdhds")),
]


@pytest.mark.parametrize("stray", [c[1] for c in UNMATCHED], ids=[c[0] for c in UNMATCHED])
def test_response_matching_no_transaction_is_not_ours(stray: Response) -> None:
    layer, tx = new_client(out_invite())
    assert layer.receive_response(stray, 0.1) == (None, [])
    assert state_of(tx) is State.CALLING


def test_response_to_a_fresh_layer_is_not_ours() -> None:
    assert TransactionLayer().receive_response(reply(180, "Ringing"), 0.0) == (None, [])


def test_ack_for_a_built_request_uses_the_request_uri_and_top_via_only() -> None:
    req = Request(
        "INVITE",
        SipUri("192.0.2.4", user="bob"),
        Headers(
            (
                ("Via", f"SIP/2.0/UDP 192.0.2.1:5060;branch={OUT_BRANCH}"),
                ("Via", "SIP/2.0/UDP 192.0.2.101;branch=z9hG4bKcaller"),
                ("From", "<sip:alice@atlanta.com>;tag=1"),
                ("To", "<sip:bob@biloxi.com>"),
                ("Call-ID", "c1"),
                ("CSeq", "7 INVITE"),
            )
        ),
    )
    layer, _ = new_client(req)
    final = response_to(req, 404, "Not Found", to_tag="x9")
    _, sends = layer.receive_response(final, 0.1)
    assert sends == [
        Send(
            serialise(
                Request(
                    "ACK",
                    SipUri("192.0.2.4", user="bob"),
                    Headers(
                        (
                            ("Via", f"SIP/2.0/UDP 192.0.2.1:5060;branch={OUT_BRANCH}"),
                            ("Max-Forwards", "70"),
                            ("From", "<sip:alice@atlanta.com>;tag=1"),
                            ("To", "<sip:bob@biloxi.com>;tag=x9"),
                            ("Call-ID", "c1"),
                            ("CSeq", "7 ACK"),
                        )
                    ),
                )
            ),
            UDP,
        )
    ]


# -- property: one final per transaction, retransmissions identical ----------------------

FINALS = {"INVITE": (486, 603, 200), "BYE": (200, 481, 500)}

_action = st.one_of(
    st.just(("retransmit", 0.0)),
    st.just(("provisional", 0.0)),
    st.tuples(st.just("final"), st.integers(0, 2).map(float)),
    st.tuples(st.just("tick"), st.floats(0.0, 1.0, allow_nan=False)),
)


@settings(max_examples=200, deadline=None)
@given(method=st.sampled_from(["INVITE", "BYE"]), actions=st.lists(_action, max_size=30))
def test_one_final_per_transaction_and_identical_retransmissions(
    method: str, actions: list[tuple[str, float]]
) -> None:
    """Interleave retransmitted requests, provisionals, TU finals (any of three distinct
    ones, any number of times) and timer firings, staying below 64*T1: the first final
    is the only final that ever goes out, ``respond`` sends it once, and every
    retransmitted request gets exactly the bytes of the last response (nothing for an
    INVITE's 2xx, which is the TU's to retransmit)."""
    req = invite() if method == "INVITE" else bye()
    layer, tx = new_server(req)
    provisional = answer(req, 180 if method == "INVITE" else 100, "Ringing")
    now = 0.0
    first: bytes | None = None
    last: bytes | None = None
    everything: list[Send] = []
    for kind, value in actions:
        accepted = method == "INVITE" and first is not None and first.startswith(b"SIP/2.0 2")
        if kind == "tick":
            now += value
            sends, events = layer.fire(now)
            assert events == []
            if method == "INVITE" and first is not None and not accepted:
                assert all(s == Send(first, UDP) for s in sends)  # timer G
            else:
                assert sends == []
        elif kind == "retransmit":
            arrival, same, sends = layer.receive_request(req, UDP, now)
            assert (arrival, same) == (Arrival.ABSORBED, tx)
            assert sends == ([] if last is None or accepted else [Send(last, UDP)])
        elif kind == "provisional":
            sends = layer.respond(tx, provisional, now)
            if first is None:
                last = serialise(provisional)
            assert sends == ([] if first is not None else [Send(serialise(provisional), UDP)])
        else:
            final = answer(req, FINALS[method][int(value)], "Final")
            sends = layer.respond(tx, final, now)
            if first is None:
                first = last = serialise(final)
                assert sends == [Send(first, UDP)]
            elif accepted and final.status < 300:
                assert sends == [Send(first, UDP)]  # the TU's own 2xx resend, same bytes
            else:
                assert sends == []
        everything += sends
    finals = {s.data for s in everything if not s.data.startswith(b"SIP/2.0 1")}
    assert finals == (set() if first is None else {first})


def test_the_driver_is_told_only_of_deadlines_started_since_it_last_asked() -> None:
    """The server re-arms its one timer per message only when a sooner deadline began;
    the layer tells it the soonest new one, once."""
    req = invite()
    layer, tx = new_server(req)
    assert layer.take_new_deadline() is None  # a new transaction starts no timer yet
    layer.respond(tx, answer(req, 486, "Busy Here"), 10.0)
    assert layer.take_new_deadline() == 10.5  # G (T1), sooner than H (64*T1)
    assert layer.take_new_deadline() is None  # told once
    layer.receive_request(ack("z9hG4bK776asdhds"), UDP, 11.0)
    assert layer.take_new_deadline() == 16.0  # I = T4 after the ACK
    # G's entry is still queued but cancelled: the full look skips it.
    assert layer.next_deadline() == 16.0


def test_an_ack_known_only_by_its_via_is_absorbed_like_a_parsed_one() -> None:
    req = invite()
    layer, tx = new_server(req)
    via = "SIP/2.0/UDP pc33.atlanta.com;branch=z9hG4bK776asdhds"
    assert not layer.absorb_ack(via, UDP, 10.0)  # no final answer yet: parse it in full
    layer.respond(tx, answer(req, 486, "Busy Here"), 10.0)
    assert layer.absorb_ack(via, UDP, 11.0)
    assert state_of(tx) is State.CONFIRMED
    assert layer.next_deadline() == 16.0  # G and H stopped, I started
    assert layer.absorb_ack(via, UDP, 12.0)  # a retransmitted ACK: absorbed again
    assert not layer.absorb_ack(via.replace("776", "777"), UDP, 12.0)  # not ours
    assert not layer.absorb_ack("SIP/2.0/UDP pc33.atlanta.com;branch=1234", UDP, 12.0)


def test_an_ack_of_a_2xx_is_never_absorbed_from_its_via() -> None:
    """The ACK of a 2xx is a transaction of its own, end to end (§17.2.3): the TU gets it."""
    req = invite()
    layer, tx = new_server(req)
    layer.respond(tx, answer(req, 200, "OK"), 10.0)
    via = "SIP/2.0/UDP pc33.atlanta.com;branch=z9hG4bK776asdhds"
    assert not layer.absorb_ack(via, UDP, 11.0)
    assert state_of(tx) is State.ACCEPTED


# -- timer order across the per-duration queues -------------------------------------------


def busy_from(layer: TransactionLayer, branch: str, now: float) -> list[Send]:
    """A new INVITE server transaction answered 486 at ``now`` (G = T1, H = 64*T1); what a
    retransmission of that answer looks like."""
    req = invite(branch)
    _, tx, _ = layer.receive_request(req, UDP, now)
    assert tx is not None
    busy = answer(req, 486, "Busy Here")
    assert layer.respond(tx, busy, now) == sent(busy)
    return sent(busy)


def test_timers_of_different_durations_fire_in_deadline_order() -> None:
    """Each retransmit timer sits in the queue of its duration (0.5 s or 1 s here); the
    queue made first holds the later deadlines, so reading queue after queue would not do:
    one ``fire`` must merge them by deadline."""
    layer = TransactionLayer()
    first = busy_from(layer, "z9hG4bKfirst", 0.0)  # G 0.5
    assert layer.fire(0.5) == (first, [])  # G again at 1.5, now 1 s long
    register = [Send(serialise(out_register()), UDP)]
    layer.send_request(out_register(), UDP, 0.5, OWNER)  # E 1.0
    assert layer.fire(1.0) == (register, [])  # E again at 2.0, 1 s long
    invite_out = [Send(serialise(out_invite()), UDP)]
    layer.send_request(out_invite(), UDP, 1.2, OWNER)  # A 1.7, 0.5 s long
    second = busy_from(layer, "z9hG4bKsecond", 1.3)  # G 1.8, 0.5 s long
    assert layer.next_deadline() == 1.5
    assert layer.fire(2.0) == ([*first, *invite_out, *second, *register], [])
    assert layer.next_deadline() == 3.0  # A and the second's G, restarted at 2.0 for 1 s


def test_timers_due_at_the_same_instant_fire_in_start_order() -> None:
    layer = TransactionLayer()
    busy = busy_from(layer, "z9hG4bKfirst", 0.0)
    layer.fire(0.5)  # G again at 1.5 (1 s long), started before the client's A
    invite_out = [Send(serialise(out_invite()), UDP)]
    layer.send_request(out_invite(), UDP, 1.0, OWNER)  # A at 1.5 too, 0.5 s long
    assert layer.fire(1.5) == ([*busy, *invite_out], [])


def test_a_deadline_started_with_an_earlier_now_still_fires_first() -> None:
    """The clock passed in need not grow: a timer started 'earlier' than one of the same
    duration already queued is due first, and fires first."""
    layer = TransactionLayer()
    late = busy_from(layer, "z9hG4bKlate", 10.0)  # G 10.5
    early = busy_from(layer, "z9hG4bKearly", 5.0)  # G 5.5, queued behind 10.5
    assert layer.next_deadline() == 5.5
    assert layer.fire(5.4) == ([], [])
    assert layer.fire(10.5) == ([*early, *late], [])
    # Both G restarted at 10.5 for 1 s: the same deadline, in the order they fired.
    assert layer.next_deadline() == 11.5
    assert layer.fire(11.5) == ([*early, *late], [])


def test_cancelled_timers_are_skipped_by_fire_and_next_deadline() -> None:
    """Stopping a timer leaves its entry queued: ``fire`` and ``next_deadline`` each meet
    such entries first here (neither runs before the other to clear them away)."""
    layer = TransactionLayer()
    busy_from(layer, "z9hG4bKacked", 0.0)  # G 0.5, H 32
    layer.receive_request(ack("z9hG4bKacked"), UDP, 0.1)  # G and H stopped, I at 5.1
    client, _ = layer.send_request(out_invite(), UDP, 0.0, OWNER)  # A 0.5, B 32
    layer.receive_response(reply(180, "Ringing"), 0.3)  # A and B stopped, C at 180.3
    second = busy_from(layer, "z9hG4bKsecond", 0.2)  # G 0.7, H 32.2
    assert layer.fire(0.7) == (second, [])  # G again at 1.7
    layer.receive_request(ack("z9hG4bKsecond"), UDP, 1.0)  # G and H stopped, I at 6.0
    assert layer.next_deadline() == 5.1
    assert layer.fire(40.0) == ([], [])  # both I; the stopped H and B stay quiet
    assert layer.servers == {}
    assert (state_of(client), layer.next_deadline()) == (State.PROCEEDING, 180.3)


def test_the_ack_releases_the_request_and_the_end_releases_the_last_response() -> None:
    """Timer I keeps a confirmed transaction 5 s (a cancelled entry of G, or of H once G
    fired, may stay queued longer): the request is let go at the ACK (nothing may answer
    it again), the bytes of the last answer at the end (until then a retransmitted INVITE
    gets them)."""
    req = invite()
    layer, tx = new_server(req)
    layer.respond(tx, answer(req, 486, "Busy Here"), 0.0)
    assert tx.answered
    assert tx.request is req  # readable until the ACK
    layer.receive_request(ack("z9hG4bK776asdhds"), UDP, 0.1)
    assert tx.answered
    assert tx.last is not None  # Confirmed: a retransmitted INVITE still gets it
    with pytest.raises(SipError, match="released at the ACK"):
        _ = tx.request
    assert layer.respond(tx, answer(req, 500, "Late"), 0.2) == []
    layer.fire(5.1)
    assert (state_of(tx), last_of(tx)) == (State.TERMINATED, None)


# (kind, transaction, timer, now, duration): start, cancel or fire (at now)
_timer_step = st.tuples(
    st.sampled_from(["start", "cancel", "fire"]),
    st.integers(0, 3),
    st.sampled_from(["G", "H"]),
    st.floats(0.0, 60.0, allow_nan=False),  # any order: the clock may go back
    st.sampled_from([0.5, 1.0, 2.0, 32.0]),
)


@settings(max_examples=300, deadline=None)
@given(steps=st.lists(_timer_step, max_size=40))
def test_timer_queues_fire_exactly_like_one_heap(
    steps: list[tuple[str, int, str, float, float]],
) -> None:
    """Against the one heap they replace: the same earliest deadline after every step, the
    same entries fired in the same order, whatever the clock does."""
    txs = [ServerTransaction(("b", str(i), "INVITE"), invite(), UDP) for i in range(4)]
    queues = _TimerQueues()
    heap: list[TimerEntry] = []
    for seq, (kind, i, name, now, duration) in enumerate(steps):
        if kind == "start":
            txs[i].timers[name] = now + duration
            queues.push(txs[i], name, now + duration, duration)
            heapq.heappush(heap, (now + duration, seq, txs[i], name))
        elif kind == "cancel":
            txs[i].timers.pop(name, None)
        else:
            before = [dict(tx.timers) for tx in txs]
            expected = fire_one_heap(heap, now)
            after = [dict(tx.timers) for tx in txs]
            for tx, timers in zip(txs, before, strict=True):
                tx.timers = timers
            assert [(e[0], e[2:]) for e in fire_queues(queues, now)] == [
                (e[0], e[2:]) for e in expected
            ]
            assert [tx.timers for tx in txs] == after
        assert queues.earliest() == earliest_in_heap(heap)


def fire_queues(queues: _TimerQueues, now: float) -> list[TimerEntry]:
    """What ``TransactionLayer.fire`` does with the queues, minus the timers' effects."""
    fired: list[TimerEntry] = []
    queues.gather_due(now)
    while (entry := queues.pop_due(now)) is not None:
        if entry[2].timers.get(entry[3]) == entry[0]:
            del entry[2].timers[entry[3]]
            fired.append(entry)
    return fired


def fire_one_heap(heap: list[TimerEntry], now: float) -> list[TimerEntry]:
    """The layer's loop before the queues: pop what is due, fire what still counts."""
    fired: list[TimerEntry] = []
    while heap and heap[0][0] <= now:
        entry = heapq.heappop(heap)
        if entry[2].timers.get(entry[3]) == entry[0]:
            del entry[2].timers[entry[3]]
            fired.append(entry)
    return fired


def earliest_in_heap(heap: list[TimerEntry]) -> float | None:
    while heap and heap[0][2].timers.get(heap[0][3]) != heap[0][0]:
        heapq.heappop(heap)
    return heap[0][0] if heap else None
