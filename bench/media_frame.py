"""What one 20 ms frame costs on the media edge, in CPU µs.

Usage: .venv/bin/python bench/media_frame.py [--number 20000] [--repeat 7]

Times each step a frame goes through, best of ``--repeat`` runs of ``--number`` calls:
G.711 encode (160 samples) and decode (160 bytes) for both laws, RTP parse and
serialise of a 172-byte packet, the whole receive path of the endpoint (parse, checks,
jitter buffer, decode, callback) for in-order packets, and the pacer's work per tick for
500 streams. Numbers go in docs/media.md when they change.
"""

from __future__ import annotations

import argparse
import asyncio
import platform
import struct
import timeit
from collections.abc import Callable
from functools import partial

from switchboard.media.g711 import Codec, decode, encode
from switchboard.media.offer_answer import Negotiated
from switchboard.media.pacing import Pacer
from switchboard.media.ports import PortPool
from switchboard.media.rtp import RtpPacket, parse, serialise
from switchboard.media.sdp import Direction
from switchboard.media.stream import RtpEndpoint


def best(fn: Callable[[], object], number: int, repeat: int) -> float:
    return min(timeit.repeat(fn, number=number, repeat=repeat)) / number * 1e6


class Stream:
    def tick(self, frame: int) -> None:
        pass


async def receive_path(number: int, repeat: int) -> float:
    pool = PortPool("127.0.0.1", 47000, 47999)
    negotiated = Negotiated(Codec.PCMU, 0, 101, "127.0.0.1", 40000, 20, Direction.SENDRECV)
    heard: list[bytes] = []
    endpoint = RtpEndpoint(
        pool, pool.allocate(), negotiated, loop=asyncio.get_running_loop(), on_audio=heard.append
    )
    payload = bytes(range(160))
    datagrams = [serialise(RtpPacket(0, s & 0xFFFF, s * 160, 7, payload)) for s in range(65536)]
    state = {"i": 0}
    source = ("127.0.0.1", 40000)

    def one() -> None:
        i = state["i"]
        state["i"] = i + 1
        endpoint.datagram(datagrams[i & 0xFFFF], source, 0.0)
        heard.clear()

    try:
        return best(one, number, repeat)
    finally:
        endpoint.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--number", type=int, default=20000)
    parser.add_argument("--repeat", type=int, default=7)
    args = parser.parse_args()
    n, r = args.number, args.repeat
    pcm = struct.pack("<160h", *[(i * 997) % 60000 - 30000 for i in range(160)])
    rows: list[tuple[str, float]] = []
    for codec in Codec:
        payload = encode(pcm, codec)
        coded = partial(encode, pcm, codec)
        decoded = partial(decode, payload, codec)
        rows.append((f"G.711 {codec.name} encode, 160 samples", best(coded, n, r)))
        rows.append((f"G.711 {codec.name} decode, 160 bytes", best(decoded, n, r)))
    packet = RtpPacket(0, 1234, 567890, 0xDEADBEEF, encode(pcm, Codec.PCMU), True)
    data = serialise(packet)
    rows.append(("RTP parse, 172 bytes", best(lambda: parse(data), n, r)))
    rows.append(("RTP serialise, 172 bytes", best(lambda: serialise(packet), n, r)))
    rows.append(("endpoint receive path, per packet", asyncio.run(receive_path(n, r))))
    pacer = Pacer(0.0)
    streams = [Stream() for _ in range(500)]
    for stream in streams:
        pacer.add(stream, -1.0)
    state = {"tick": 0}

    def tick() -> None:
        state["tick"] += 1
        for stream, frame in pacer.due(pacer.deadline(state["tick"])):
            stream.tick(frame)

    rows.append(("pacer tick for 500 streams, per stream", best(tick, n // 50, r) / 500))
    print(f"# {platform.python_implementation()} {platform.python_version()}, {platform.machine()}")
    for name, micros in rows:
        print(f"{name:45} {micros:7.2f} µs")


if __name__ == "__main__":
    main()
