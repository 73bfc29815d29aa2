"""The reference for the media benchmark: a bare asyncio sender, all streams on one timer.

Usage: python bench/bare_streams.py PORTS_FILE [--host 127.0.0.1] [--seconds 30]

``PORTS_FILE`` holds one destination port per line (``media_load.py`` writes its
receivers' ports there). For each, one UDP socket bound on loopback (as the switchboard's
port pool binds one per call) sends a 172-byte RTP packet (12-byte header, 160 bytes of
µ-law silence, PCMU) every 20 ms. One timer drives them all, on absolute deadlines: tick
``n`` is due at ``start + n * 20 ms`` and wakes with ``loop.call_at``; a wake-up more
than 3 ticks late skips to the present, as the switchboard's pacer does, and the RTP
timestamps jump accordingly. Nothing else: no pacer object, channel, endpoint, transport
or per-packet object, just ``struct.pack_into`` and ``socket.sendto``. What this costs
and how evenly it sends is the floor for a Python sender on this machine.

uvloop when installed, as ``switchboard serve`` uses it. Prints one JSON line at the end:
ticks run, stalls (late wake-ups skipped), send errors (a full socket buffer).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import os
import socket
import struct
from pathlib import Path

INTERVAL = 0.020
FRAME_TS = 160
MAX_LATE = 3
PAYLOAD = b"\xff" * 160
"""20 ms of µ-law silence."""


async def send(ports: list[int], host: str, seconds: float) -> dict[str, int]:
    loop = asyncio.get_running_loop()
    socks = []
    for _ in ports:
        sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        sock.bind((host, 0))
        sock.setblocking(False)
        socks.append(sock)
    destinations = [(host, port) for port in ports]
    packets = []
    for _ in ports:
        seq, ts, ssrc = struct.unpack("!HII", os.urandom(10))
        packets.append(bytearray(struct.pack("!BBHII", 0x80, 0, seq, ts, ssrc) + PAYLOAD))
    bases = [struct.unpack_from("!HI", packet, 2) for packet in packets]
    streams = list(zip(socks, packets, destinations, bases, strict=True))
    start = loop.time() + INTERVAL
    last = math.floor(seconds / INTERVAL)
    done: asyncio.Future[None] = loop.create_future()
    stats = {"ticks": 0, "stalls": 0, "send_errors": 0, "streams": len(ports)}
    sent = 0  # packets per stream so far: the sequence number's offset

    def tick(n: int) -> None:
        nonlocal sent
        behind = math.floor((loop.time() - start) / INTERVAL) - n
        if behind > MAX_LATE:
            stats["stalls"] += 1
            n += behind
        for sock, packet, destination, (seq, ts) in streams:
            struct.pack_into(
                "!HI", packet, 2, (seq + sent) & 0xFFFF, (ts + n * FRAME_TS) & 0xFFFFFFFF
            )
            try:
                sock.sendto(packet, destination)
            except (BlockingIOError, ConnectionRefusedError):
                stats["send_errors"] += 1
        sent += 1
        stats["ticks"] += 1
        if n + 1 > last:
            done.set_result(None)
        else:
            loop.call_at(start + (n + 1) * INTERVAL, tick, n + 1)

    loop.call_at(start, tick, 0)
    try:
        await done
    finally:
        for sock in socks:
            sock.close()
    return stats


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("ports_file", type=Path, help="one destination port per line")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--seconds", type=float, default=30.0, help="how long to send")
    args = parser.parse_args()
    ports = [int(line) for line in args.ports_file.read_text().split()]
    run = asyncio.run
    try:
        import uvloop  # optional, as for switchboard serve

        run = uvloop.run
    except ImportError:
        pass
    stats = run(send(ports, args.host, args.seconds))
    print(json.dumps(stats), flush=True)


if __name__ == "__main__":
    main()
