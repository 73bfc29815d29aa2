"""CPU per call of the SIP edge itself, in process: no sockets, no event-loop wake-ups.

``sip_load.py`` measures the whole server under SIPp; this measures what our code costs
per call, so a change to the call path can be judged in seconds and profiled. It seeds
the demo directory like ``sip_load.py`` (the dialled extension set available: "ring the
mobile"), builds the real ``SipServer`` with the call recorder and JSON logging (to
/dev/null) as ``switchboard serve`` does, but with a transport that keeps what is sent,
then feeds it INVITEs shaped like SIPp's and the ACKs of their 302s:

    .venv/bin/python bench/sip_inprocess.py [--calls 20000] [--profile]

It prints process CPU µs per INVITE and per ACK (best of ``--rounds``). ``--profile``
prints cProfile's top functions instead (cProfile slows calls down; read its shares, not
its times). ``--held 40 --rate 4000`` shows instead what the server holds in steady
state: calls on a simulated clock, timers fired, then the transactions and timer entries
still held and the memory they take.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import gc
import os
import pstats
import subprocess
import sys
import tempfile
import time
import tracemalloc
from dataclasses import replace
from pathlib import Path

from switchboard.app import open_runtime
from switchboard.calls.recorder import CallRecorder
from switchboard.logs import configure_logging
from switchboard.settings.config import load_settings
from switchboard.settings.sip import parse_network, parse_trunk
from switchboard.sip.calls import CallHandler
from switchboard.sip.core import SipCore
from switchboard.sip.flow import Flow
from switchboard.sip.proxy import Proxy
from switchboard.sip.server import SipServer

REPO = Path(__file__).resolve().parents[1]
CALLER = Flow("udp", "127.0.0.1", 5070)
SDP = (
    "v=0\r\no=bench 53655765 2353687637 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\n"
    "t=0 0\r\nm=audio 6000 RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\n"
)


class KeptSends:
    """The transport: keeps the last datagram sent (the 302 the ACK must match)."""

    def __init__(self) -> None:
        self.sent = 0
        self.last = b""

    def send(self, data: bytes, flow: Flow) -> bool:
        self.sent += 1
        self.last = data
        return True


def invite(n: int, dial: str) -> bytes:
    return (
        f"INVITE sip:{dial}@127.0.0.1:5060 SIP/2.0\r\n"
        f"Via: SIP/2.0/UDP 127.0.0.1:5070;branch=z9hG4bK-{n}-1-0\r\n"
        f'From: "bench" <sip:bench@127.0.0.1:5070>;tag={n}SIPpTag001\r\n'
        f"To: <sip:{dial}@127.0.0.1:5060>\r\n"
        f"Call-ID: {n}-bench@127.0.0.1\r\nCSeq: 1 INVITE\r\n"
        "Contact: <sip:bench@127.0.0.1:5070>\r\nMax-Forwards: 70\r\nSubject: load\r\n"
        f"Content-Type: application/sdp\r\nContent-Length: {len(SDP)}\r\n\r\n{SDP}"
    ).encode()


def ack(n: int, dial: str, answer: bytes) -> bytes:
    to = next(line for line in answer.split(b"\r\n") if line.startswith(b"To:")).decode()
    return (
        f"ACK sip:{dial}@127.0.0.1:5060 SIP/2.0\r\n"
        f"Via: SIP/2.0/UDP 127.0.0.1:5070;branch=z9hG4bK-{n}-1-0\r\n"
        f'From: "bench" <sip:bench@127.0.0.1:5070>;tag={n}SIPpTag001\r\n'
        f"{to}\r\nCall-ID: {n}-bench@127.0.0.1\r\nCSeq: 1 ACK\r\nMax-Forwards: 70\r\n"
        "Content-Length: 0\r\n\r\n"
    ).encode()


def seed(config: Path, data: Path, dial: str) -> None:
    base = [sys.executable, "-m", "switchboard", "--config", str(config), "--data", str(data)]
    for step in (["demo", "--seed-only"], ["presence", "available", dial]):
        subprocess.run(base + step, check=True, capture_output=True)  # noqa: S603


async def measure(args: argparse.Namespace, data: Path) -> None:
    loaded = load_settings(args.config)
    # As sip_load.py starts the server: the trunk where mobiles go, SIPp's address trusted.
    sip_settings = loaded.sip.with_overrides(
        trunk=parse_trunk("127.0.0.1:5090"), trusted=(parse_network("127.0.0.1/32"),)
    )
    # No timer fires here, so every round's transactions stay held: without a higher cap
    # the overload control (bench/sip_overload.py measures it) would answer 503 by round 3.
    sip_settings = replace(sip_settings, max_transactions=10_000_000)
    settings = replace(loaded, sip=sip_settings)
    async with open_runtime(settings, data) as runtime:
        engine = runtime.engine
        recorder = CallRecorder(engine.store, engine.view, engine.clock)
        sip = SipServer(settings.sip, engine, recorder=recorder)
        sent = KeptSends()
        sip.core = SipCore(sip.layer, sent, ("127.0.0.1", 5060), sip._arm)  # type: ignore[arg-type]
        sip.proxy = Proxy(sip.core, lambda _person, _in_call: None)
        sip.calls = CallHandler(
            sip.core, engine, sip.registrar, sip.settings, sip.media, sip.proxy, recorder
        )
        if args.held:
            await held(sip, sent, recorder, args)
            return
        loop = asyncio.get_running_loop()
        for n in range(200):  # warm: caches, first-use imports
            sip.receive(invite(-n - 1, args.dial), CALLER, loop.time())
            sip.receive(ack(-n - 1, args.dial, sent.last), CALLER, loop.time())
        gc.collect()
        gc.freeze()
        gc.set_threshold(200_000, 50, 100)  # as switchboard serve settles it
        best: tuple[float, float] | None = None
        for round_ in range(args.rounds):
            first = (round_ + 1) * args.calls
            invites = [invite(first + n, args.dial) for n in range(args.calls)]
            answers: list[bytes] = []
            profiler = cProfile.Profile() if args.profile else None
            if profiler:
                profiler.enable()
            started = time.process_time()
            for data_ in invites:
                sip.receive(data_, CALLER, loop.time())
                answers.append(sent.last)
            invite_s = time.process_time() - started
            acks = [ack(first + n, args.dial, a) for n, a in enumerate(answers)]
            started = time.process_time()
            for data_ in acks:
                sip.receive(data_, CALLER, loop.time())
            ack_s = time.process_time() - started
            if profiler:
                profiler.disable()
                pstats.Stats(profiler, stream=sys.stdout).sort_stats("tottime").print_stats(30)
                return
            if not answers[-1].startswith(b"SIP/2.0 302"):
                raise SystemExit(f"expected a 302, got {answers[-1][:40]!r}")
            per_call = (invite_s * 1e6 / args.calls, ack_s * 1e6 / args.calls)
            best = per_call if best is None or sum(per_call) < sum(best) else best
            await asyncio.sleep(0)  # let the recorder and the log writer run
        assert best is not None  # noqa: S101 - rounds >= 1
        print(f"INVITE {best[0]:.1f} µs, ACK {best[1]:.1f} µs per call (best of {args.rounds})")


async def held(
    sip: SipServer, sent: KeptSends, recorder: CallRecorder, args: argparse.Namespace
) -> None:
    """What the server holds in steady state at ``--rate`` calls/s, on a simulated clock:
    each call an INVITE and, 1 ms after its 302, the ACK; timers fired every 10 ms, as
    the server's timer grid does. After ``--held`` simulated seconds it prints the
    transactions still held, the timer entries queued and the memory traced since the
    start (tracemalloc), which is what the transaction layer keeps alive. Call records
    and log lines leave once a simulated second, as the server's tasks write them."""
    clock = [0.0]
    sip.core.now = lambda: clock[0]  # type: ignore[method-assign] # answers read it too
    # The timers are fired here, on the simulated clock, never by the event loop.
    sip.core._on_change = sip._arm = lambda: None  # type: ignore[method-assign]
    tracemalloc.start()
    base = tracemalloc.get_traced_memory()[0]
    calls = int(args.held * args.rate)
    next_fire = 0.0
    for n in range(calls):
        now = clock[0] = n / args.rate
        while next_fire <= now:
            sip.layer.fire(next_fire)
            next_fire += 0.01
        if n % int(args.rate) == 0:
            await recorder.flush()
            await asyncio.sleep(0)  # the log writer's turn
        sip.receive(invite(n, args.dial), CALLER, now)
        clock[0] = now + 0.001
        sip.receive(ack(n, args.dial, sent.last), CALLER, now + 0.001)
    sip.layer.fire(calls / args.rate)
    await recorder.flush()
    await asyncio.sleep(0)
    traced = (tracemalloc.get_traced_memory()[0] - base) / 1e6
    tracemalloc.stop()
    print(
        f"after {args.held:g} s at {args.rate:g} calls/s: {len(sip.layer.servers)} "
        f"transactions held, {len(sip.layer._timers)} timer entries queued, "
        f"{traced:.1f} MB traced"
    )


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--calls", type=int, default=20_000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--dial", default="64123")
    parser.add_argument("--config", type=Path, default=REPO / "configs" / "sml.toml")
    parser.add_argument("--profile", action="store_true", help="cProfile's top 30 instead")
    parser.add_argument(
        "--held",
        type=float,
        metavar="SECONDS",
        help="instead: what is held after SECONDS of calls at --rate (simulated clock)",
    )
    parser.add_argument("--rate", type=float, default=4000.0, help="calls/s for --held")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="sip-inprocess-") as work:
        data = Path(work) / "data"
        seed(args.config, data, args.dial)
        with open(os.devnull, "w") as devnull:
            sys.stderr = devnull  # the JSON call lines go here: written, not shown
            configure_logging(level="INFO", json=True)
            sys.stderr = sys.__stderr__
            asyncio.run(measure(args, data))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
