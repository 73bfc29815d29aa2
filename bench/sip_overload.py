"""SIP overload: INVITEs at multiples of a sustainable rate, then back (issue 15).

Usage (from the repository root, with the project's venv; needs Debian ``sip-tester``):

    .venv/bin/python bench/sip_overload.py [--rate 150] [--phases 1:8,3:8,6:8,1:6,1:6]
        [--max-transactions 1000] [--record]

One ``switchboard serve`` in redirect mode on the demo directory (``configs/sml.toml``,
seeded with ``demo``, the dialled 64123 set available so each INVITE gets a 302), with
``[sip] max_transactions`` set to ``--max-transactions`` (0: the default, 50,000). Then
SIPp (``scenarios/uac_302_or_503.xml``: INVITE -> 302 or 503 -> ACK) runs each phase
``MULTIPLE:SECONDS`` one after the other at ``MULTIPLE x --rate`` calls a second. Per
phase: calls sent, carried (302), refused (503, and how many of those had ``Retry-After``),
failed otherwise (no answer, or another one), the serve process's VmRSS sampled every
0.5 s (the series, compactly, and its max) and the largest
``switchboard_sip_transactions_in_flight`` seen in ``/metrics`` meanwhile (read every
0.5 s with an admin's token). Two 1x phases at the end show whether refusals stop when
the load drops, and how soon.

Prints a Markdown block; ``--record`` appends it to bench/RESULTS.md.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

BENCH = Path(__file__).resolve().parent
REPO = BENCH.parent
sys.path.insert(0, str(BENCH))

from region_ops import machine  # noqa: E402
from sip_load import LOOPBACK, free_sip_port, free_udp_port, options_probe, spawned, tool  # noqa: E402

SCENARIO = BENCH / "scenarios" / "uac_302_or_503.xml"


@dataclass
class Sampler:
    """VmRSS and the transactions in flight every 0.5 s, from a thread, until stopped."""

    pid: int
    metrics: str
    token: str
    rss: list[float] = field(default_factory=list)
    transactions: list[float] = field(default_factory=list)
    stop: threading.Event = field(default_factory=threading.Event)

    def run(self) -> None:
        request = urllib.request.Request(  # noqa: S310 - http:// to the server under test
            self.metrics, headers={"Authorization": f"Bearer {self.token}"}
        )
        while not self.stop.wait(0.5):
            for line in Path(f"/proc/{self.pid}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    self.rss.append(int(line.split()[1]) / 1000)
            with contextlib.suppress(OSError):
                with urllib.request.urlopen(request, timeout=2) as answer:  # noqa: S310
                    found = re.search(
                        r"^switchboard_sip_transactions_in_flight (\S+)$",
                        answer.read().decode(),
                        re.MULTILINE,
                    )
                if found:
                    self.transactions.append(float(found[1]))

    def take(self) -> tuple[list[float], list[float]]:
        rss, self.rss = self.rss, []
        transactions, self.transactions = self.transactions, []
        return rss, transactions


@dataclass(frozen=True)
class Phase:
    multiple: float
    rate: int
    seconds: float
    sent: int
    carried: int
    refused: int
    with_retry_after: int
    failed: int
    rss: list[float]
    transactions: list[float]

    def row(self) -> str:
        share = 100 * self.refused / self.sent if self.sent else 0.0
        series = " ".join(f"{r:.0f}" for r in self.rss[::2])  # one a second
        most = max(self.transactions, default=0)
        return (
            f"| {self.multiple:g}x | {self.rate} | {self.seconds:.1f} | {self.sent} | "
            f"{self.carried} | {self.refused} ({share:.0f} %) | {self.with_retry_after} | "
            f"{self.failed} | {max(self.rss, default=0):.0f} | {most:.0f} | {series} |"
        )


def cli(base: list[str], *args: str) -> str:
    done = subprocess.run([*base, *args], capture_output=True, text=True, check=False)  # noqa: S603
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(args)}: {done.stderr.strip()}")
    return done.stdout


def run_phase(
    port: int, multiple: float, base_rate: int, seconds: float, work: Path, sampler: Sampler
) -> Phase:
    rate = round(base_rate * multiple)
    calls = round(rate * seconds)
    step = work / f"phase-{len(list(work.glob('phase-*')))}-{multiple:g}x"
    step.mkdir()
    cmd = [
        tool("sipp", None), f"{LOOPBACK}:{port}", "-sf", str(SCENARIO), "-s", "64123",
        "-i", LOOPBACK, "-p", str(free_udp_port()), "-r", str(rate), "-m", str(calls),
        "-trace_stat", "-stf", "stat.csv", "-trace_logs", "-nostdin",
        "-buff_size", str(1 << 20), "-timeout", f"{int(seconds) + 20}s", "-timeout_error",
    ]  # fmt: skip
    sampler.take()
    started = time.monotonic()
    with (step / "sipp.log").open("wb") as out:
        subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=out, cwd=step, check=False)  # noqa: S603
    took = time.monotonic() - started
    rss, transactions = sampler.take()
    text = "".join(f.read_text() for f in step.glob("*_logs.log"))
    stat = (step / "stat.csv").read_text().splitlines()
    columns = dict(zip(stat[0].split(";"), stat[-1].split(";"), strict=False))
    carried = text.count("final=302")
    refused = text.count("final=503")
    return Phase(
        multiple,
        rate,
        took,
        int(columns.get("TotalCallCreated", calls)),
        carried,
        refused,
        len(re.findall(r"final=503 retry=5\b", text)),
        int(columns.get("FailedCall(C)", 0)),
        rss,
        transactions,
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rate", type=int, default=150, help="calls a second at 1x")
    parser.add_argument("--phases", default="1:8,3:8,6:8,1:6,1:6", help="MULTIPLE:SECONDS,...")
    parser.add_argument("--max-transactions", type=int, default=1000, help="0: the default")
    parser.add_argument("--record", action="store_true")
    parser.add_argument("--keep", action="store_true", help="keep the work directory (logs)")
    args = parser.parse_args()
    phases = [(float(m), float(s)) for m, s in (p.split(":") for p in args.phases.split(","))]
    now = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    header = [
        f"## SIP overload: 503s and memory at multiples of a rate (issue 15) ({now})",
        f"- Command: `.venv/bin/python bench/sip_overload.py {' '.join(sys.argv[1:])}`",
        f"- Machine: {machine()}",
    ]
    work = Path(tempfile.mkdtemp(prefix="sip-overload-"))
    config = work / "sml.toml"  # the stem names the demo directory (configs/demo/sml-*)
    text = (REPO / "configs" / "sml.toml").read_text(encoding="utf-8")
    if args.max_transactions:
        text = text.replace("[sip]\n", f"[sip]\nmax_transactions = {args.max_transactions}\n", 1)
    config.write_text(text, encoding="utf-8")
    base = [sys.executable, "-m", "switchboard", "--config", str(config), "--data", str(work / "d")]
    cli(base, "demo", "--seed-only")
    cli(base, "presence", "available", "64123")
    cli(base, "users", "add", "prometheus", "--role", "admin", "--no-password")
    found = re.search(r"sbt_\S+", cli(base, "users", "token", "prometheus", "--name", "scrape"))
    if found is None:
        raise RuntimeError("users token printed no token")
    port = free_sip_port()
    http_port = free_sip_port()
    command = [*base, "--log-level", "INFO", "serve", "--sip-listen", f"{LOOPBACK}:{port}"]
    command += ["--http-listen", f"{LOOPBACK}:{http_port}", "--sip-mode", "redirect"]
    command += ["--trunk", f"{LOOPBACK}:5999", "--trusted", f"{LOOPBACK}/32"]
    log = work / "serve.log"
    results: list[Phase] = []
    with spawned(command, log, work) as server:
        options_probe(port, server, log, 30)
        sampler = Sampler(server.pid, f"http://{LOOPBACK}:{http_port}/metrics", found.group())
        threading.Thread(target=sampler.run, daemon=True).start()
        time.sleep(2)
        at_rest = max(sampler.take()[0], default=0.0)
        for multiple, seconds in phases:
            results.append(run_phase(port, multiple, args.rate, seconds, work, sampler))
            print(results[-1].row(), file=sys.stderr, flush=True)
        sampler.stop.set()
    overloaded = log.read_text(errors="replace").count("sip_overloaded")
    if not args.keep:
        shutil.rmtree(work, ignore_errors=True)
    cap = args.max_transactions or 50_000
    lines = [
        *header,
        f"- serve in redirect mode on the demo directory, `[sip] max_transactions = {cap}`"
        f"{'' if args.max_transactions else ' (the default)'}; 1x = {args.rate} INVITEs/s; "
        f"RSS at rest {at_rest:.0f} MB; `sip_overloaded` logged {overloaded} times",
        "",
        "| phase | offered /s | s | sent | carried (302) | refused (503) | with Retry-After: 5 "
        "| failed otherwise | RSS max MB | transactions max | RSS MB, one a second |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|",
        *(p.row() for p in results),
        "",
        f"Load average at the end: {' '.join(f'{x:.2f}' for x in os.getloadavg())}.",
    ]
    text = "\n".join(lines) + "\n"
    print(text)
    if args.record:
        with (BENCH / "RESULTS.md").open("a", encoding="utf-8") as out:
            out.write("\n" + text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
