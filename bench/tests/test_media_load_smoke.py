"""The media benchmark's runner (issue 13): its numbers on made-up packets, then for real.

Not collected by the default ``pytest`` run (``testpaths = ["tests"]``). Run it on purpose:

    .venv/bin/pytest bench/tests -q -p no:cacheprovider

The smoke test needs SIPp (Debian ``sip-tester``) and ``espeak-ng``: without them it skips
locally and fails when ``CI=true``.
"""

# ruff: noqa: S101, S603

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import media_load
import media_report
from media_report import FRAME_TS, Jitter, Stream, stalls_of
from rtp_callers import Farm
from test_sip_load_smoke import require

BENCH = Path(media_load.__file__).resolve().parent
MS = 1_000_000


def feed(stream: Stream, packets: list[tuple[int, int, float]], window: int = 0) -> None:
    """(sequence, timestamp, arrival ms) in arrival order."""
    for seq, ts, at in packets:
        stream.packet(seq & 0xFFFF, ts & 0xFFFFFFFF, 0xABCD, round(at * MS), window)


def test_jitter_is_arrival_against_timestamp_and_gaps_are_lost() -> None:
    stream = Stream()
    # Frames every 20 ms across the sequence wrap; one 3 ms late; one lost; a duplicate.
    feed(stream, [(65534, 0, 0.0), (65535, 160, 20.0), (0, 320, 43.0), (1, 480, 60.0)])
    feed(stream, [(3, 800, 100.0), (3, 800, 100.5), (4, 960, 120.0)])
    assert sorted(stream.w_samples) == [0, 0, 3 * MS, 3 * MS]  # the gap gives no sample
    assert (stream.w_lost, stream.lost, stream.disorder) == (1, 1, 1)
    assert stream.w_packets == 6
    assert stream.span == 7  # 65534 .. 4, the lost one included
    assert stream.jumps == []


def test_a_jump_between_prompts_is_expected_and_any_other_is_a_stall() -> None:
    stream = Stream()
    ticks = [*range(5), *range(6, 10), *range(14, 16)]  # a prompt pause, then a stall
    feed(stream, [(n, tick * FRAME_TS, tick * 20.0) for n, tick in enumerate(ticks)])
    assert stream.jumps == [(5, 1), (9, 4)]
    assert set(stream.w_samples) == {0}  # the jumps are on time: no jitter, no loss
    assert stalls_of([stream], frozenset({5})) == (1, 4)
    assert stalls_of([stream], frozenset()) == (2, 5)


def test_a_new_window_starts_the_counts_afresh() -> None:
    stream = Stream()
    feed(stream, [(n, n * FRAME_TS, n * 20.0) for n in range(3)], window=0)
    opened = stream.packet(3, 3 * FRAME_TS, 0xABCD, 60 * MS, 1)
    assert opened
    assert (stream.w_packets, len(stream.w_samples), stream.packets) == (1, 1, 4)
    assert not stream.packet(4, 4 * FRAME_TS, 0xABCD, 80 * MS, 1)
    assert not stream.packet(5, 5 * FRAME_TS, 0xABCD, 100 * MS, -1)  # between windows
    assert stream.w_packets == 2


def test_pooled_percentiles_and_each_streams_own_p99() -> None:
    steady, shaky = Stream(), Stream()
    feed(steady, [(n, n * FRAME_TS, n * 20.0) for n in range(101)])
    feed(shaky, [(n, n * FRAME_TS, n * 20.0 + (8.0 if n % 10 == 5 else 0.0)) for n in range(101)])
    jitter = Jitter.of([steady, shaky])
    assert jitter.samples == 200
    assert (jitter.p50_ms, jitter.max_ms) == (0.0, 8.0)
    assert jitter.p99_ms == 8.0  # 20 of 200 samples are 8 ms
    assert jitter.worst_stream_p99_ms == 8.0
    assert (jitter.streams_over_target, jitter.streams_judged) == (1, 2)


def test_the_farm_measures_the_bare_reference(tmp_path: Path) -> None:
    """bare_streams.py sends 20 streams for about 2 s; the farm receives them all, in
    order, stamped by the kernel, and nothing is dropped on its sockets."""
    farm = Farm(("127.0.0.1", 9), "-")
    try:
        slots = farm.add_slots(20)
        for slot in slots:
            slot.stream = Stream()
        ports = tmp_path / "ports"
        ports.write_text("\n".join(str(slot.port) for slot in slots))
        with subprocess.Popen(
            [sys.executable, str(BENCH / "bare_streams.py"), str(ports), "--seconds", "2"],
            stdout=subprocess.PIPE,
            text=True,
        ) as bare:
            farm.open_window(0)
            farm.run(time.monotonic() + 20, lambda: bare.poll() is not None)
            farm.run(time.monotonic() + 0.2)
            out, _ = bare.communicate(timeout=10)
        streams = farm.close_window()
        stats = json.loads(out)
        assert stats["streams"] == 20
        assert len(streams) == 20
        for stream in streams:
            assert stream.packets == stats["ticks"] >= 90
            assert stream.lost == 0
            assert len(stream.jumps) == stats["stalls"]
        assert farm.socket_drops() == 0
        assert Jitter.of(streams).samples == 20 * (stats["ticks"] - 1)
    finally:
        farm.close()


def test_media_load_smoke(tmp_path: Path) -> None:
    """Every part with tiny numbers against the real switchboard: 10 announcement streams
    while SIPp routes 50 calls/s, the reference at 10, 5 first-RTP calls, 20 short calls."""
    require("sipp", "sip-tester")
    require("espeak-ng", "espeak-ng")
    out = tmp_path / "media.json"
    done = subprocess.run(
        [sys.executable, str(BENCH / "media_load.py"), "--streams", "10", "--window", "2",
         "--ramp", "1", "--routing-rate", "50", "--first-rtp-calls", "5",
         "--growth-calls", "20", "--growth-warmup", "5", "--growth-rate", "20",
         "--settle", "1", "--json", str(out)],
        capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    data = json.loads(out.read_text())
    routing, ours, bare = data["streams"]
    assert (routing["sender"], routing["streams"], routing["packets"]) == ("switchboard", 0, 0)
    assert routing["routing_ok"] == 100
    assert routing["routing_failed"] == 0
    assert (ours["sender"], ours["streams"], bare["sender"], bare["streams"]) == (
        "switchboard", 10, "bare", 10,
    )  # fmt: skip
    for step in (ours, bare):
        assert step["packets"] >= 10 * 50, step  # 2 s of 10 streams, less a little
        assert step["lost"] == 0, step
        assert step["jitter"]["p50_ms"] is not None
        assert step["sender_cpu_s"] > 0
    assert ours["routing_ok"] == 100
    first = data["first_rtp"]
    assert len(first["invite_to_rtp_ms"]) == 5
    assert first["failed"] == 0
    assert all(0 < ms < 1000 for ms in first["invite_to_rtp_ms"])
    growth = data["growth"]
    assert (growth["answered"], growth["failed"]) == (20, 0)
    assert [s["rtp_ports_bound"] for s in growth["snapshots"]][-1] == 0
    assert "| switchboard | 10 (10) |" in done.stdout
    assert "INVITE sent → first RTP received" in done.stdout
    assert media_report.STREAMS_TARGET == 2000
