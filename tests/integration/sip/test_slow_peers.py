"""Slow and idle TCP peers against the real server (issue 17).

Connections nobody registered on close after ``tcp_idle`` seconds of silence; a phone's
connection stays while its registration lasts. Hundreds of connections dribbling part of
a header from one address cost that address nothing of its rate: its next real request
is answered at once. Loopback only, bounded in connections and seconds.
"""

from __future__ import annotations

import asyncio
import os
import socket
import time
from collections.abc import Callable

from tests.integration.sip.conftest import PASSWORDS, Switchboard
from tests.integration.sip.rawsip import RawClient, register

Factory = Callable[..., Switchboard]
SLOW_SOURCE = "127.0.0.2"


def _closed(sock: socket.socket, within: float) -> bool:
    sock.settimeout(within)
    try:
        while sock.recv(65535):
            pass
    except TimeoutError:
        return False
    except ConnectionError:
        return True
    return True


def test_silent_connections_close_and_a_phones_connection_stays(
    switchboard_factory: Factory,
) -> None:
    server = switchboard_factory(sip_lines="tcp_idle = 2\n")
    phone = RawClient.tcp(server.host, server.port)
    silent = socket.create_connection((server.host, server.port), timeout=5.0)
    try:
        answer = register(phone, "51234", PASSWORDS["51234"])
        assert answer is not None
        assert answer.status == 200
        started = time.monotonic()
        assert _closed(silent, 5.0)
        assert 1.5 <= time.monotonic() - started <= 4.5
        time.sleep(max(0.0, started + 4.0 - time.monotonic()))  # twice tcp_idle, quiet
        phone.send(phone.request("OPTIONS", None))
        alive = phone.final(timeout=2.0)
        assert alive is not None
        assert alive.status == 200
    finally:
        phone.close()
        silent.close()
    closed = [line for line in server.logs() if line.get("event") == "tcp_closed"]
    assert [line["reason"] for line in closed] == ["idle"]


def _options(server: Switchboard, host: str) -> bytes:
    tag = os.urandom(4).hex()
    return (
        f"OPTIONS sip:{server.host}:{server.port} SIP/2.0\r\n"
        f"Via: SIP/2.0/TCP {host}:5999;branch=z9hG4bK{tag}\r\n"
        f"From: <sip:a@{host}>;tag={tag}\r\nTo: <sip:{server.host}>\r\n"
        f"Call-ID: {tag}\r\nCSeq: 1 OPTIONS\r\nMax-Forwards: 70\r\nContent-Length: 0\r\n\r\n"
    ).encode()


async def _dribble(server: Switchboard, stop: asyncio.Event, offset: float) -> None:
    """One slow connection: a byte of a header every 0.2 s, never a whole one. The
    connections start ``offset`` apart, so the bytes come steadily, not in bursts."""
    _, writer = await asyncio.open_connection(server.host, server.port, local_addr=(SLOW_SOURCE, 0))
    head = _options(server, SLOW_SOURCE)[:60]
    await asyncio.sleep(offset)
    try:
        for byte in head:
            if stop.is_set():
                break
            writer.write(bytes([byte]))
            await writer.drain()
            await asyncio.sleep(0.2)
    finally:
        writer.close()


async def _ask(server: Switchboard) -> float | None:
    """Seconds until a new connection from the slow address gets its 200; None: none."""
    started = time.monotonic()
    reader, writer = await asyncio.open_connection(
        server.host, server.port, local_addr=(SLOW_SOURCE, 0)
    )
    try:
        writer.write(_options(server, SLOW_SOURCE))
        await writer.drain()
        data = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 1.0)
    except TimeoutError:
        return None
    finally:
        writer.close()
    assert data.startswith(b"SIP/2.0 200 "), data
    return time.monotonic() - started


async def test_slow_connections_do_not_delay_their_sources_next_request(
    switchboard_factory: Factory,
) -> None:
    server = await asyncio.to_thread(switchboard_factory)
    stop = asyncio.Event()
    slow = [asyncio.create_task(_dribble(server, stop, n * 0.2 / 500)) for n in range(500)]
    try:
        await asyncio.sleep(2.0)  # 500 connections, 2,500 header bytes a second
        waits = []
        for _ in range(5):
            waits.append(await _ask(server))
            await asyncio.sleep(0.2)
    finally:
        stop.set()
        await asyncio.gather(*slow, return_exceptions=True)
    assert None not in waits, waits
    assert max(w for w in waits if w is not None) < 0.5, waits
