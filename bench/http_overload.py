"""The web under overload: what the cap of requests in flight buys (issue 15).

Usage: .venv/bin/python bench/http_overload.py [--seconds 5] [--clients 16,64,256,1024]
       [--caps 256,1000000] [--record]

For each cap (1,000,000 is "no cap"), runs ``switchboard serve`` on the demo directory with
``[http] max_in_flight`` set to it, then, for each number of concurrent clients, keeps that
many directory searches (``GET /api/v1/people?q=...`` with a receptionist's token, the
screen's most frequent request) in flight for ``--seconds``, and reports answers per
second, their latency p50/p99, how many were refused (503) and the server's resident
memory at the end of the step. Clients and server share this machine's cores.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import re
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import aiohttp

REPO = Path(__file__).resolve().parents[1]
QUERIES = ["anna", "berg", "sotenas", "hadad", "64123", "lund", "nilsson", "skola"]


def _cli(config: Path, data: Path, *args: str) -> str:
    command = [sys.executable, "-m", "switchboard", "--config", str(config), "--data", str(data)]
    env = {k: v for k, v in os.environ.items() if not k.startswith("SWITCHBOARD_")}
    return subprocess.run(  # noqa: S603 - our own command line, no shell
        [*command, *args], capture_output=True, text=True, env=env, check=True, timeout=120
    ).stdout


def rss_mb(pid: int) -> float:
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1000
    return 0.0


async def load(url: str, token: str, clients: int, seconds: float) -> dict[str, float]:
    latencies: list[float] = []
    refused = 0
    failed = 0
    end = time.monotonic() + seconds
    headers = {"Authorization": f"Bearer {token}"}
    connector = aiohttp.TCPConnector(limit=0)
    async with aiohttp.ClientSession(connector=connector, headers=headers) as session:

        async def client(n: int) -> None:
            nonlocal refused, failed
            i = n
            while time.monotonic() < end:
                q = QUERIES[i % len(QUERIES)]
                i += 1
                start = time.monotonic()
                try:
                    async with session.get(f"{url}/api/v1/people?q={q}") as response:
                        await response.read()
                        if response.status == 503:
                            refused += 1
                            await asyncio.sleep(0.05)
                            continue
                        if response.status != 200:
                            failed += 1
                            continue
                except aiohttp.ClientError:
                    failed += 1
                    continue
                latencies.append(time.monotonic() - start)

        await asyncio.gather(*(client(n) for n in range(clients)))
    latencies.sort()

    def pct(p: float) -> float:
        return (
            latencies[min(len(latencies) - 1, int(p * len(latencies)))] * 1000 if latencies else 0.0
        )

    return {
        "answered": len(latencies) / seconds,
        "p50": pct(0.5),
        "p99": pct(0.99),
        "refused": refused,
        "failed": failed,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--clients", default="16,64,256,1024")
    parser.add_argument("--caps", default="256,1000000")
    parser.add_argument("--record", action="store_true")
    args = parser.parse_args()
    rows: list[str] = []
    work = Path(tempfile.mkdtemp(prefix="http-overload-"))
    try:
        for cap in (int(c) for c in args.caps.split(",")):
            folder = work / f"cap{cap}"
            folder.mkdir()
            config = folder / "sml.toml"
            base = (REPO / "configs" / "sml.toml").read_text(encoding="utf-8")
            config.write_text(
                base + f"\n[http]\nmax_in_flight = {cap}\n\n[media]\nenabled = false\n",
                encoding="utf-8",
            )
            data = folder / "data"
            _cli(config, data, "demo", "--seed-only", "--force")
            _cli(config, data, "users", "add", "bench", "--role", "receptionist", "--no-password")
            token_line = _cli(config, data, "users", "token", "bench", "--name", "bench")
            found = re.search(r"sbt_\S+", token_line)
            if found is None:
                raise RuntimeError("users token printed no token")
            token = found.group()
            command = [sys.executable, "-m", "switchboard", "--config", str(config)]
            command += ["--data", str(data), "serve", "--sip-listen", "127.0.0.1:0"]
            command += ["--http-listen", "127.0.0.1:0"]
            server = subprocess.Popen(  # noqa: S603 - our own command line, no shell
                command, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True
            )
            if server.stdout is None:
                raise RuntimeError("serve has no stdout to say it is ready on")
            ready = json.loads(server.stdout.readline())["ready"]
            url = f"http://{ready['http']}"
            try:
                for clients in (int(c) for c in args.clients.split(",")):
                    result = asyncio.run(load(url, token, clients, args.seconds))
                    shown = "none" if cap >= 1_000_000 else str(cap)
                    rows.append(
                        f"| {shown} | {clients} | {result['answered']:.0f} | {result['p50']:.1f} "
                        f"| {result['p99']:.1f} | {result['refused']:.0f} | {result['failed']:.0f} "
                        f"| {rss_mb(server.pid):.0f} |"
                    )
                    print(rows[-1], flush=True)
            finally:
                server.terminate()
                server.wait(20)
                server.stdout.close()
    finally:
        shutil.rmtree(work, ignore_errors=True)
    text = (
        f"\n### Web under overload ({datetime.now(UTC).date().isoformat()}, {platform.node()}, "
        f"CPython {platform.python_version()}, {os.cpu_count()} cores shared by clients and "
        "server)\n\n"
        f"Command: `.venv/bin/python bench/http_overload.py --seconds {args.seconds:g} "
        f"--clients {args.clients} --caps {args.caps}`\n\n"
        "| cap | clients | answered/s | p50 ms | p99 ms | refused (503) | failed "
        "| server RSS MB |\n"
        "|---|---:|---:|---:|---:|---:|---:|---:|\n" + "\n".join(rows) + "\n"
    )
    print(text)
    if args.record:
        with (REPO / "bench" / "RESULTS.md").open("a", encoding="utf-8") as results:
            results.write(text)


if __name__ == "__main__":
    main()
