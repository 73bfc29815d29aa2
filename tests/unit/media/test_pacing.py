"""Pacing on a fake clock: absolute deadlines, bounded catch-up, streams coming and going."""

from __future__ import annotations

import asyncio
import itertools
import random
from dataclasses import dataclass, field

import pytest
from hypothesis import given
from hypothesis import strategies as st

from switchboard.media.pacing import FRAME_SECONDS, LoopTimer, Paced, Pacer, Ticker

START = 1000.0


@dataclass(eq=False)
class Recorder:
    """A paced stream that notes each frame and the time it was asked for it."""

    clock: FakeTimer | None = None
    frames: list[int] = field(default_factory=list)
    times: list[float] = field(default_factory=list)

    def tick(self, frame: int) -> None:
        self.frames.append(frame)
        if self.clock is not None:
            self.times.append(self.clock.now)


def test_sixty_seconds_on_time_is_three_thousand_frames_on_the_grid() -> None:
    pacer = Pacer(START)
    stream = Recorder()
    assert pacer.add(stream, START - 0.001) == 0
    for _ in range(3000):
        now = pacer.next_deadline
        for s, frame in pacer.due(now):
            assert s is stream
            assert now == START + frame * FRAME_SECONDS  # the same float, computed afresh
            s.tick(frame)
    assert stream.frames == list(range(3000))
    assert pacer.stalls == 0


def test_late_wake_ups_do_not_add_up() -> None:
    """Wake up to 15 ms late every time: relative sleeps would drift by ~22 s over a
    minute; absolute deadlines keep frame n within 15 ms of START + n * 20 ms."""
    rng = random.Random(7)  # noqa: S311 - reproducible lateness
    pacer = Pacer(START)
    stream = Recorder()
    pacer.add(stream, START - 0.001)
    sent: list[tuple[int, float]] = []
    while len(stream.frames) < 3000:
        now = pacer.next_deadline + rng.uniform(0.0, 0.015)
        for s, frame in pacer.due(now):
            s.tick(frame)
            sent.append((frame, now))
    assert stream.frames == list(range(3000))
    for frame, now in sent:
        assert 0.0 <= now - (START + frame * FRAME_SECONDS) <= 0.015 + 1e-9
    assert pacer.stalls == 0


def test_a_short_delay_catches_up_a_long_one_skips() -> None:
    pacer = Pacer(START, max_late=3)
    stream = Recorder()
    pacer.add(stream, START - 0.001)
    assert [f for _, f in pacer.due(START)] == [0]
    assert [f for _, f in pacer.due(START + 3 * FRAME_SECONDS)] == [1, 2, 3]  # 3 due: burst
    assert pacer.stalls == 0
    assert [f for _, f in pacer.due(START + 10 * FRAME_SECONDS)] == [10]  # 7 due: skip
    assert (pacer.stalls, pacer.skipped) == (1, 6)
    assert pacer.next_deadline == START + 11 * FRAME_SECONDS


def test_a_stream_joining_mid_tick_starts_at_the_next_tick() -> None:
    pacer = Pacer(START)
    early, late = Recorder(), Recorder()
    pacer.add(early, START - 0.001)
    for n in range(3):
        assert pacer.due(START + n * FRAME_SECONDS) == [(early, n)]
    assert pacer.add(late, START + 2.5 * FRAME_SECONDS) == 3
    assert pacer.due(START + 3 * FRAME_SECONDS) == [(early, 3), (late, 0)]


def test_many_streams_share_the_grid() -> None:
    pacer = Pacer(START)
    streams = [Recorder() for _ in range(200)]
    joined = {}
    for i, stream in enumerate(streams):
        joined[id(stream)] = pacer.add(stream, START + i * 0.0071)
    for _ in range(100):
        now = pacer.next_deadline
        for paced, frame in pacer.due(now):
            assert now == pacer.deadline(joined[id(paced)] + frame)
            paced.tick(frame)
    for stream in streams:
        assert stream.frames == list(range(len(stream.frames)))
    assert sum(len(s.frames) for s in streams) > 100 * 100


def test_removed_streams_stop_and_removing_twice_is_harmless() -> None:
    pacer = Pacer(START)
    a, b = Recorder(), Recorder()
    pacer.add(a, START)
    pacer.add(b, START)
    pacer.remove(a)
    pacer.remove(a)
    assert [s for s, _ in pacer.due(START + FRAME_SECONDS)] == [b]
    assert a not in pacer
    assert len(pacer) == 1


def test_idle_time_is_no_stall() -> None:
    pacer = Pacer(START)
    assert pacer.due(START + 500.0) == []
    stream = Recorder()
    first = pacer.add(stream, START + 1000.001)
    assert [f for _, f in pacer.due(pacer.deadline(first))] == [0]
    assert pacer.stalls == 0


def test_settings_are_checked() -> None:
    with pytest.raises(ValueError, match="interval"):
        Pacer(0.0, interval=0.0)
    with pytest.raises(ValueError, match="max_late"):
        Pacer(0.0, max_late=0)


@given(st.floats(0.0, 1e6), st.integers(0, 10**6), st.sampled_from([0.01, 0.02, 0.03]))
def test_a_deadline_is_due_exactly_at_itself(start: float, tick: int, interval: float) -> None:
    pacer = Pacer(start, interval=interval)
    deadline = pacer.deadline(tick)
    assert pacer.tick_at(deadline) == tick
    assert pacer.tick_at(pacer.deadline(tick + 1)) == tick + 1


# -- the asyncio driver, on a fake timer -------------------------------------------------


class FakeTimer:
    """Time moves only when the ticker sleeps: to the deadline, plus chosen lateness."""

    def __init__(self, now: float = START, lateness: list[float] | None = None) -> None:
        self.now = now
        self.lateness = lateness or []
        self.sleeps = 0

    def time(self) -> float:
        return self.now

    async def sleep_until(self, deadline: float) -> None:
        self.sleeps += 1
        late = self.lateness.pop(0) if self.lateness else 0.0
        self.now = max(self.now, deadline) + late
        await asyncio.sleep(0)


@dataclass(eq=False)
class Until:
    """Records like ``Recorder`` and removes itself after ``count`` frames."""

    ticker: Ticker
    count: int
    timer: FakeTimer
    frames: list[int] = field(default_factory=list)
    times: list[float] = field(default_factory=list)
    done: asyncio.Event = field(default_factory=asyncio.Event)

    def tick(self, frame: int) -> None:
        self.frames.append(frame)
        self.times.append(self.timer.now)
        if len(self.frames) == self.count:
            self.ticker.remove(self)
            self.done.set()


async def run_until(ticker: Ticker, *events: asyncio.Event) -> None:
    async with asyncio.TaskGroup() as tg:
        task = tg.create_task(ticker.run())
        for event in events:
            await event.wait()
        task.cancel()


async def test_the_ticker_sends_three_thousand_frames_at_their_deadlines() -> None:
    timer = FakeTimer()
    ticker = Ticker(timer=timer)
    stream = Until(ticker, 3000, timer)
    first = ticker.add(stream)
    await run_until(ticker, stream.done)
    assert stream.frames == list(range(3000))
    assert stream.times == [ticker.pacer.deadline(first + n) for n in range(3000)]
    assert timer.sleeps == 3000


async def test_the_ticker_catches_up_then_skips() -> None:
    timer = FakeTimer(lateness=[0.0, 0.045, 0.0, 0.5])
    ticker = Ticker(timer=timer, max_late=3)
    stream = Until(ticker, 8, timer)
    ticker.add(stream)
    await run_until(ticker, stream.done)
    # 45 ms late: frames 1-3 together; then 500 ms late: one frame, 25 numbers on.
    assert stream.frames == [0, 1, 2, 3, 4, 30, 31, 32]
    assert ticker.pacer.stalls == 1


async def test_streams_added_and_removed_during_a_tick() -> None:
    timer = FakeTimer()
    ticker = Ticker(timer=timer)
    victim = Until(ticker, 10**6, timer)
    later = Until(ticker, 3, timer)

    @dataclass(eq=False)
    class Meddler:
        frames: list[int] = field(default_factory=list)

        def tick(self, frame: int) -> None:
            self.frames.append(frame)
            if frame == 2:
                ticker.remove(victim)  # victim comes after us in this very tick
                ticker.add(later)
                ticker.remove(self)

    meddler: Paced = Meddler()
    first = ticker.add(meddler)
    ticker.add(victim)
    await run_until(ticker, later.done)
    assert victim.frames == [0, 1]
    assert later.frames == [0, 1, 2]
    assert later.times[0] == ticker.pacer.deadline(first + 3)  # the tick after the meddling


async def test_phases_spread_the_streams_and_keep_each_on_its_own_20_ms_grid() -> None:
    timer = FakeTimer()
    ticker = Ticker(timer=timer, phases=4)
    streams = [Until(ticker, 50, timer) for _ in range(8)]
    for stream in streams:
        ticker.add(stream)
    assert [len(p) for p in ticker.pacers] == [2, 2, 2, 2]
    await run_until(ticker, *(s.done for s in streams))
    for stream in streams:
        assert stream.frames == list(range(50))
        gaps = {round(b - a, 9) for a, b in itertools.pairwise(stream.times)}
        assert gaps == {0.02}  # every stream keeps its 20 ms, with no drift
    firsts = sorted({round(s.times[0], 9) for s in streams})
    steps = [round(b - a, 9) for a, b in itertools.pairwise(firsts)]
    assert steps == [0.005, 0.005, 0.005]  # the four phases are 5 ms apart
    # Each wake-up sent one phase's two streams, not all eight at once.
    assert timer.sleeps == 4 * 50
    assert ticker.stalls == 0


async def test_a_stream_added_again_is_paced_once() -> None:
    timer = FakeTimer()
    ticker = Ticker(timer=timer, phases=2)
    stream = Until(ticker, 5, timer)
    ticker.add(stream)
    ticker.add(stream)
    assert sum(len(p) for p in ticker.pacers) == 1
    await run_until(ticker, stream.done)
    assert stream.frames == [0, 1, 2, 3, 4]


async def test_an_idle_ticker_sleeps_until_a_stream_arrives() -> None:
    timer = FakeTimer()
    ticker = Ticker(timer=timer)
    stream = Until(ticker, 2, timer)
    async with asyncio.TaskGroup() as tg:
        task = tg.create_task(ticker.run())
        for _ in range(5):
            await asyncio.sleep(0)
        assert timer.sleeps == 0
        timer.now += 100.0
        ticker.add(stream)
        await stream.done.wait()
        task.cancel()
    assert stream.frames == [0, 1]
    assert ticker.pacer.stalls == 0


async def test_the_loop_timer_wakes_at_the_absolute_deadline() -> None:
    timer = LoopTimer()
    deadline = timer.time() + 0.01
    await timer.sleep_until(deadline)
    assert timer.time() >= deadline
    waiter = asyncio.ensure_future(timer.sleep_until(timer.time() + 10.0))
    await asyncio.sleep(0)
    waiter.cancel()
    with pytest.raises(asyncio.CancelledError):
        await waiter
