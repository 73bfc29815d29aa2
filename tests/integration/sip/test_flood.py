"""A flood of INVITEs from one untrusted source, against the real server (issue 17).

500 INVITEs a second from 127.0.0.2 (loopback; Linux routes all of 127/8 to lo) for
8 seconds, 4,000 in all, paced against absolute deadlines. The token bucket answers the
first burst; a source that stays over its rate for 3 seconds is banned, so answers fall
to nothing well within 10 seconds; one WARNING line names it; the ban ends when the
configured ``flood_ban`` says; a bystander polling from 127.0.0.1 meanwhile gets every
answer, quickly.
"""

from __future__ import annotations

import socket
import statistics
import threading
import time
from collections.abc import Callable

from tests.integration.sip.conftest import Switchboard
from tests.integration.sip.rawsip import RawClient

Factory = Callable[..., Switchboard]
FLOODER = "127.0.0.2"
RATE = 500
SECONDS = 8
BAN = 6


def _invite(server: Switchboard, port: int, n: int) -> bytes:
    return (
        f"INVITE sip:51234@{server.host}:{server.port} SIP/2.0\r\n"
        f"Via: SIP/2.0/UDP {FLOODER}:{port};branch=z9hG4bKflood{n}\r\n"
        f"From: <sip:x@{FLOODER}>;tag=f{n}\r\nTo: <sip:51234@{server.host}>\r\n"
        f"Call-ID: flood-{n}\r\nCSeq: 1 INVITE\r\nMax-Forwards: 70\r\n"
        "Content-Length: 0\r\n\r\n"
    ).encode()


class Flood:
    """Sends the INVITEs from one thread and notes, from another, which got an answer
    (a 407 is retransmitted until ACKed, so answers are counted once per Call-ID)."""

    def __init__(self, server: Switchboard) -> None:
        self.server = server
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind((FLOODER, 0))
        self.sock.settimeout(0.2)
        self.sent_at: dict[str, float] = {}
        self.answered: set[str] = set()
        self.done = threading.Event()

    def send(self) -> None:
        port = self.sock.getsockname()[1]
        packets = [_invite(self.server, port, n) for n in range(RATE * SECONDS)]
        start = time.monotonic()
        batch = RATE // 10
        for index in range(0, len(packets), batch):
            # Paced against absolute deadlines: 50 every 100 ms.
            time.sleep(max(0.0, start + index / RATE - time.monotonic()))
            now = time.monotonic() - start
            for n in range(index, index + batch):
                self.sent_at[f"flood-{n}"] = now
                self.sock.sendto(packets[n], (self.server.host, self.server.port))

    def receive(self) -> None:
        while not self.done.is_set():
            try:
                data = self.sock.recv(65535)
            except TimeoutError:
                continue
            start = data.find(b"Call-ID: ")
            if start >= 0:
                self.answered.add(data[start + 9 : data.find(b"\r\n", start)].decode())

    def answered_share(self, since: float, until: float) -> float:
        sent = [c for c, at in self.sent_at.items() if since <= at < until]
        return sum(c in self.answered for c in sent) / len(sent)


def test_a_flood_is_banned_logged_once_and_bystanders_do_not_notice(
    switchboard_factory: Factory,
) -> None:
    server = switchboard_factory(sip_lines=f"flood_ban = {BAN}\n")
    flood = Flood(server)
    bystander = RawClient.udp(server.host, server.port)
    receiver = threading.Thread(target=flood.receive)
    sender = threading.Thread(target=flood.send)
    waits: list[float | None] = []
    try:
        receiver.start()
        sender.start()
        while sender.is_alive():
            asked = time.monotonic()
            bystander.send(bystander.request("OPTIONS", None))
            answer = bystander.final(timeout=1.0)
            waits.append(None if answer is None else time.monotonic() - asked)
            time.sleep(0.05)
        sender.join()
        time.sleep(0.5)  # the last answers in flight
        banned_share = flood.answered_share(5.0, SECONDS)
        first_share = flood.answered_share(0.0, 0.5)
        # The ban runs out BAN seconds after it began (within the flood's 4th second).
        deadline = time.monotonic() + BAN
        back = None
        while back is None and time.monotonic() < deadline:
            probe = RawClient.udp(server.host, server.port, source=FLOODER)
            try:
                probe.send(probe.request("OPTIONS", None))
                back = probe.final(timeout=0.5)
            finally:
                probe.close()
    finally:
        flood.done.set()
        receiver.join()
        flood.sock.close()
        bystander.close()
    assert first_share > 0.9, f"the first burst is answered: {first_share:.0%}"
    assert banned_share < 0.1, f"{banned_share:.0%} answered from the 5th second on"
    assert back is not None, "the ban did not end"
    assert back.status == 200
    answered = [w for w in waits if w is not None]
    assert len(answered) == len(waits), f"{len(waits) - len(answered)} bystander requests lost"
    assert statistics.median(answered) < 0.05, statistics.median(answered)
    lines = server.wait_logs("sip_flood_blocked")
    assert [(x["level"], x["source"], x["ban_seconds"]) for x in lines] == [
        ("warning", FLOODER, BAN)
    ]
