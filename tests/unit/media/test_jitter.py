"""The jitter buffer: tables for each rule, properties for arrival orders."""

from __future__ import annotations

import itertools

import pytest
from hypothesis import given
from hypothesis import strategies as st

from switchboard.media.jitter import JitterBuffer, Missing
from switchboard.media.rtp import RtpPacket


def packet(sequence: int, ssrc: int = 1) -> RtpPacket:
    sequence %= 0x10000
    return RtpPacket(0, sequence, sequence * 160, ssrc, sequence.to_bytes(2, "big"))


def feed(buffer: JitterBuffer, sequences: list[int], ssrc: int = 1) -> list[int | str]:
    """Push each packet and pop whatever is ready; ``"-5"`` marks Missing(5)."""
    out: list[int | str] = []
    for sequence in sequences:
        buffer.push(packet(sequence, ssrc))
        out.extend(drain(buffer))
    return out


def drain(buffer: JitterBuffer) -> list[int | str]:
    out: list[int | str] = []
    while (item := buffer.pop()) is not None:
        out.append(f"-{item.sequence}" if isinstance(item, Missing) else item.sequence)
    return out


def shown(items: list[RtpPacket | Missing]) -> list[int | str]:
    return [f"-{i.sequence}" if isinstance(i, Missing) else i.sequence for i in items]


CASES = [
    ("in order", [1, 2, 3, 4], [1, 2, 3, 4]),
    ("swapped pair", [1, 3, 2, 4], [1, 2, 3, 4]),
    ("overtaken by four", [1, 3, 4, 5, 6, 2, 7], [1, 2, 3, 4, 5, 6, 7]),
    ("lost one", [1, 3, 4, 5, 6, 7, 8], [1, "-2", 3, 4, 5, 6, 7, 8]),
    ("too late", [1, 3, 4, 5, 6, 7, 2, 8], [1, "-2", 3, 4, 5, 6, 7, 8]),
    ("duplicates", [1, 2, 2, 3, 1, 3], [1, 2, 3]),
    ("wrap", [65534, 65535, 1, 0, 2], [65534, 65535, 0, 1, 2]),
    ("loss across the wrap", [65535, 1, 2, 3, 4, 5], [65535, "-0", 1, 2, 3, 4, 5]),
]


@pytest.mark.parametrize(("arrivals", "out"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_rules(arrivals: list[int], out: list[int | str]) -> None:
    assert feed(JitterBuffer(depth=4), arrivals) == out


def test_counters() -> None:
    buffer = JitterBuffer(depth=2)
    assert feed(buffer, [1, 3, 3, 4, 5, 2, 1]) == [1, "-2", 3, 4, 5]
    assert (buffer.duplicates, buffer.lost, buffer.late) == (1, 1, 2)


def test_a_gap_waits_for_depth_later_frames() -> None:
    buffer = JitterBuffer(depth=3)
    assert feed(buffer, [10, 12, 13, 14]) == [10]
    assert feed(buffer, [15]) == ["-11", 12, 13, 14, 15]


def test_flush_gives_what_is_held_with_gaps() -> None:
    buffer = JitterBuffer(depth=4)
    assert feed(buffer, [1, 3, 5]) == [1]
    assert shown(buffer.flush()) == ["-2", 3, "-4", 5]
    assert buffer.pop() is None
    assert buffer.flush() == []


def test_a_new_source_releases_the_old_then_starts_afresh() -> None:
    buffer = JitterBuffer(depth=4)
    assert feed(buffer, [1, 3]) == [1]
    assert feed(buffer, [500, 501], ssrc=2) == ["-2", 3, 500, 501]
    assert buffer.resets == 1


def test_one_stray_packet_far_away_is_ignored() -> None:
    buffer = JitterBuffer(depth=4, max_jump=100)
    assert feed(buffer, [1, 2, 30000, 3, 4]) == [1, 2, 3, 4]
    assert buffer.strays == 1


def test_a_jump_that_continues_is_believed() -> None:
    """A sender that restarts its numbering keeps its SSRC: RFC 3550 A.1 resynchronises."""
    buffer = JitterBuffer(depth=4, max_jump=100)
    assert feed(buffer, [1, 2, 4, 30000, 30001, 30002]) == [1, 2, "-3", 4, 30000, 30001, 30002]
    assert buffer.resets == 1


def test_early_packets_overtaken_at_the_start_are_kept() -> None:
    buffer = JitterBuffer(depth=4)
    for sequence in [7, 5, 6, 4]:
        buffer.push(packet(sequence))
    assert drain(buffer) == [4, 5, 6, 7]


def test_settings_are_checked() -> None:
    with pytest.raises(ValueError, match="depth"):
        JitterBuffer(depth=0)
    with pytest.raises(ValueError, match="max_jump"):
        JitterBuffer(depth=5, max_jump=5)


@st.composite
def bounded_shuffle(draw: st.DrawFn) -> tuple[int, int, list[int]]:
    """Consecutive sequence numbers from a random start, each arriving at most ``depth``
    places behind where it belongs (packets overtaken by at most ``depth`` others)."""
    depth = draw(st.integers(1, 6))
    start = draw(st.integers(0, 0xFFFF))
    count = draw(st.integers(1, 80))
    delays = draw(st.lists(st.integers(0, depth), min_size=count, max_size=count))
    # Sorting by (i + delay) delays packet i by at most ``depth`` places.
    order = sorted(range(count), key=lambda i: (i + delays[i], i))
    return depth, start, [(start + i) % 0x10000 for i in order]


@given(bounded_shuffle())
def test_any_arrival_order_within_the_window_comes_out_in_order(
    case: tuple[int, int, list[int]],
) -> None:
    depth, start, arrivals = case
    buffer = JitterBuffer(depth=depth)
    first, rest = arrivals[0], arrivals[1:]
    expected = [(start + i) % 0x10000 for i in range(len(arrivals))]
    out = feed(buffer, [first, *rest]) + shown(buffer.flush())
    # Once the first arrival has been popped it fixes where the stream starts, so
    # frames overtaken by it are late; pushing everything before popping (below) keeps
    # even those.
    assert out == expected[expected.index(first) :]
    pushed_first = JitterBuffer(depth=depth)
    for sequence in arrivals:
        pushed_first.push(packet(sequence))
    assert drain(pushed_first) + shown(pushed_first.flush()) == expected
    assert buffer.lost == 0


@given(
    st.lists(st.integers(0, 120), max_size=150),
    st.integers(1, 6),
    st.integers(0, 0xFFFF),
)
def test_whatever_arrives_frames_come_out_once_consecutively(
    offsets: list[int], depth: int, start: int
) -> None:
    """Losses, duplicates, lateness in any mix: output is consecutive, no frame twice,
    and every frame released is a packet that was pushed."""
    buffer = JitterBuffer(depth=depth, max_jump=200)
    pushed = {(start + o) % 0x10000 for o in offsets}
    out = feed(buffer, [start + o for o in offsets]) + shown(buffer.flush())
    numbers = [int(str(x).lstrip("-")) for x in out]
    assert all((b - a) % 0x10000 == 1 for a, b in itertools.pairwise(numbers))
    frames = [x for x in out if isinstance(x, int)]
    assert len(frames) == len(set(frames))
    assert set(frames) <= pushed
