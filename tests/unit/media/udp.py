"""Free UDP port ranges on 127.0.0.1 for the tests that bind real sockets."""

from __future__ import annotations

import contextlib
import random
import socket

import pytest

HOST = "127.0.0.1"


def free_range(pairs: int) -> int:
    """An even first port of ``pairs`` RTP/RTCP pairs nobody holds right now."""
    rng = random.Random()  # noqa: S311 - picking test ports, not secrets
    for _ in range(200):
        first = rng.randrange(40000, 60000, 2)
        with contextlib.ExitStack() as stack:
            try:
                for port in range(first, first + 2 * pairs):
                    sock = stack.enter_context(socket.socket(socket.AF_INET, socket.SOCK_DGRAM))
                    sock.bind((HOST, port))
            except OSError:
                continue
        return first
    pytest.fail("no free UDP port range on 127.0.0.1")
