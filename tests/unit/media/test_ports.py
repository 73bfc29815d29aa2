"""The RTP port pool, on real sockets bound to 127.0.0.1 in a random high range."""

from __future__ import annotations

import socket

import pytest

from switchboard.media.errors import MediaError
from switchboard.media.ports import PortPool, PortsExhaustedError, share_of
from tests.unit.media.udp import HOST, free_range


@pytest.fixture
def pool() -> PortPool:
    first = free_range(4)
    return PortPool(HOST, first, first + 7)


def test_ports_are_even_bound_and_in_range(pool: PortPool) -> None:
    held = [pool.allocate() for _ in range(pool.size)]
    try:
        ports = [h.port for h in held]
        assert pool.size == 4
        assert len(set(ports)) == 4
        for h in held:
            assert h.port % 2 == 0
            assert pool.first <= h.port < h.port + 1 <= pool.last
            assert h.socket.getsockname() == (HOST, h.port)
            assert h.socket.type == socket.SOCK_DGRAM
            assert not h.socket.getblocking()
        assert pool.in_use == 4
        with pytest.raises(PortsExhaustedError, match=r"all 4 RTP ports .*\(4 by calls here"):
            pool.allocate()
    finally:
        for h in held:
            pool.release(h)
    assert pool.in_use == 0


def test_a_released_port_is_the_last_to_come_back(pool: PortPool) -> None:
    first = pool.allocate()
    pool.release(first)
    following = []
    for _ in range(pool.size - 1):
        with pool.reserved() as rtp:
            following.append(rtp.port)
    assert first.port not in following
    with pool.reserved() as rtp:
        assert rtp.port == first.port  # the round comes back to it


def test_ports_held_by_another_program_are_skipped(pool: PortPool) -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as other:
        other.bind((HOST, pool.first + 2))
        held = [pool.allocate(), pool.allocate(), pool.allocate()]
        assert pool.first + 2 not in [h.port for h in held]
        with pytest.raises(PortsExhaustedError, match="all 4 RTP ports") as caught:
            pool.allocate()
        assert "3 by calls here" in str(caught.value)
        assert f"{pool.first}-{pool.last} on {HOST}" in str(caught.value)
        for h in held:
            pool.release(h)


def test_releasing_twice_or_late_harms_nobody(pool: PortPool) -> None:
    handles = [pool.allocate() for _ in range(pool.size)]
    stale = handles[0]
    pool.release(stale)
    pool.release(stale)
    again = pool.allocate()
    assert again.port == stale.port
    pool.release(stale)  # a late release from the old call must not free the new one
    assert pool.in_use == pool.size
    with pytest.raises(PortsExhaustedError):
        pool.allocate()
    for h in [again, *handles[1:]]:
        pool.release(h)


def test_the_with_block_releases_on_an_exception(pool: PortPool) -> None:
    held = []

    def call() -> None:
        with pool.reserved() as rtp:
            held.append(rtp)
            raise RuntimeError("call failed")

    with pytest.raises(RuntimeError, match="call failed"):
        call()
    assert pool.in_use == 0
    assert held[0].socket.fileno() == -1  # closed


def test_an_odd_first_port_starts_at_the_next_even_one() -> None:
    first = free_range(2)
    pool = PortPool(HOST, first - 1, first + 3)
    assert pool.size == 2
    with pool.reserved() as rtp:
        assert rtp.port == first


BAD = [
    ("not an address", "localhost", 20000, 20999, "must be an IP address"),
    ("reversed", HOST, 21000, 20000, "need 1024 <= first <= last"),
    ("privileged", HOST, 80, 2000, "need 1024"),
    ("no pair", HOST, 20001, 20002, "no even/odd pair"),
]


@pytest.mark.parametrize(
    ("host", "first", "last", "says"), [b[1:] for b in BAD], ids=[b[0] for b in BAD]
)
def test_bad_settings_are_refused(host: str, first: int, last: int, says: str) -> None:
    with pytest.raises(MediaError, match=says):
        PortPool(host, first, last)


def test_an_address_not_of_this_machine_fails_at_once() -> None:
    pool = PortPool("192.0.2.1", 40000, 40999)  # TEST-NET-1: never local
    with pytest.raises(MediaError, match="is the RTP host an address of this machine") as caught:
        pool.allocate()
    assert not isinstance(caught.value, PortsExhaustedError)


def test_ipv6_loopback() -> None:
    try:
        with socket.socket(socket.AF_INET6, socket.SOCK_DGRAM) as probe:
            probe.bind(("::1", 0))
    except OSError:
        pytest.skip("no IPv6 loopback here")
    first = free_range(2)
    pool = PortPool("::1", first, first + 3)
    try:
        rtp = pool.allocate()
    except PortsExhaustedError:
        pytest.skip("the IPv6 ports of the range are taken")
    assert rtp.socket.family == socket.AF_INET6
    assert rtp.socket.getsockname()[:2] == ("::1", rtp.port)
    pool.release(rtp)


def test_workers_share_a_range_in_whole_pairs_none_twice() -> None:
    """``serve --workers`` (issue 14): each worker binds only its own part of the range."""
    parts = [share_of(20000, 20999, i, 3) for i in range(3)]
    assert parts == [(20000, 20331), (20332, 20665), (20666, 20999)]
    ports = [p for first, last in parts for p in range(first, last + 1)]
    assert ports == list(range(20000, 21000))  # every port once
    assert all(first % 2 == 0 and last % 2 == 1 for first, last in parts)
    with pytest.raises(MediaError, match="too few for 4 workers"):
        share_of(20000, 20005, 0, 4)
