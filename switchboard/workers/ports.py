"""One listening port shared by every worker (SO_REUSEPORT, Linux).

Each worker binds its own UDP and TCP sockets to the same address with ``SO_REUSEPORT``;
the kernel spreads datagrams by their 4-tuple and connections as they arrive. Port 0
(the tests, ``--sip-listen 127.0.0.1:0``) is chosen by the first worker before anything
binds it: ``unused_port`` binds without ``SO_REUSEPORT``, which fails on a port anyone
holds, and lets go, so the workers then bind that port together. Letting the kernel pick
under ``SO_REUSEPORT`` could hand out a port another process of the same user shares,
and join its group: its datagrams would reach us.
"""

from __future__ import annotations

import socket
import sys

ATTEMPTS = 50


def supported() -> bool:
    """Whether the kernel spreads work over sockets sharing a port (Linux only: BSDs and
    macOS accept ``SO_REUSEPORT`` but hand everything to one socket)."""
    return sys.platform == "linux" and hasattr(socket, "SO_REUSEPORT")


def unused_port(host: str, *, udp: bool) -> int:
    """A port nobody holds on ``host`` for TCP, and for UDP too when ``udp``."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    for _ in range(ATTEMPTS):
        with socket.socket(family, socket.SOCK_STREAM) as tcp:
            tcp.bind((host, 0))
            port = int(tcp.getsockname()[1])
            if not udp:
                return port
            with socket.socket(family, socket.SOCK_DGRAM) as datagrams:
                try:
                    datagrams.bind((host, port))
                except OSError:
                    continue
                return port
    raise OSError(f"no port on {host} is free for both UDP and TCP")


def reuse_port(sock: socket.socket) -> None:
    """Share ``sock``'s port with the other workers; before ``bind``."""
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
