"""What ``media_load.py`` measured, summarised and written as Markdown (issue 13).

Kept apart from the runner: the numbers' definitions live here, next to the tables that
show them, and the tests can feed made-up streams through them.
"""

from __future__ import annotations

from array import array
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

FRAME_TS = 160
"""RTP timestamp units in one 20 ms frame at 8 kHz."""
TS_NS = 125_000
"""One RTP timestamp unit at 8 kHz, in ns."""

JITTER_TARGET_MS = 5.0
FIRST_RTP_TARGET_MS = 50.0
STREAMS_TARGET = 2000
MIN_SAMPLES = 50
"""A stream's own p99 is shown only from this many samples in the window (1 s of audio)."""


@dataclass(eq=False, slots=True)
class Stream:
    """The RTP one call received, and what the current measurement window saw of it."""

    ssrc: int | None = None
    first_seq: int = 0
    last_seq: int = 0
    last_ts: int = 0
    last_ns: int = 0
    first_ns: int = 0
    packets: int = 0
    lost: int = 0
    disorder: int = 0
    """Duplicates and packets older than the newest seen (not counted as lost)."""
    foreign: int = 0
    jumps: list[tuple[int, int]] = field(default_factory=list)
    """(index of the packet after the jump, timestamp frames moved) where the timestamp
    moved by more than the sequence number did; index = sequence offset from the first."""
    window: int = -1
    """The measurement window the counters below belong to (-1: none)."""
    w_packets: int = 0
    w_lost: int = 0
    w_samples: array[int] = field(default_factory=lambda: array("q"))
    w_jumps: list[tuple[int, int]] = field(default_factory=list)

    def packet(self, seq: int, ts: int, ssrc: int, arrived: int, window: int) -> bool:
        """Take one packet; True when it opened the stream's part of ``window`` (>= 0)."""
        opened = False
        if window >= 0 and self.window != window:
            self.window = window
            self.w_packets = self.w_lost = 0
            self.w_samples = array("q")
            self.w_jumps = []
            opened = True
        if self.ssrc is None:
            self.ssrc, self.first_seq, self.first_ns = ssrc, seq, arrived
            self.last_seq, self.last_ts, self.last_ns = seq, ts, arrived
            self.packets = 1
            self.w_packets += window >= 0
            return opened
        if ssrc != self.ssrc:
            self.foreign += 1
            return opened
        step = (seq - self.last_seq) & 0xFFFF
        if step == 0 or step >= 0x8000:
            self.disorder += 1
            return opened
        self.packets += 1
        moved = (ts - self.last_ts) & 0xFFFFFFFF
        if moved != FRAME_TS * step:
            jump = ((seq - self.first_seq) & 0xFFFF, moved // FRAME_TS - step)
            self.jumps.append(jump)
            if window >= 0:
                self.w_jumps.append(jump)
        if window >= 0:
            self.w_packets += 1
            if step == 1:
                self.w_samples.append(abs(arrived - self.last_ns - moved * TS_NS))
            else:
                self.w_lost += step - 1
        self.lost += step - 1
        self.last_seq, self.last_ts, self.last_ns = seq, ts, arrived
        return opened

    @property
    def span(self) -> int:
        """Packets from the first to the last received, lost ones included."""
        return ((self.last_seq - self.first_seq) & 0xFFFF) + 1 if self.ssrc is not None else 0


def percentile(values: Sequence[float], pct: float) -> float | None:
    """Nearest-rank percentile of sorted ``values``; None without any."""
    if not values:
        return None
    rank = max(1, -(-len(values) * pct // 100))
    return values[int(rank) - 1]


@dataclass(frozen=True)
class Jitter:
    """Jitter over many streams' samples (ns in, ms out) and the streams' own p99s."""

    samples: int
    p50_ms: float | None
    p99_ms: float | None
    max_ms: float | None
    worst_stream_p99_ms: float | None
    streams_over_target: int
    streams_judged: int

    @classmethod
    def of(cls, streams: Iterable[Stream]) -> Jitter:
        pooled: array[int] = array("q")
        own: list[float] = []
        for stream in streams:
            pooled.extend(stream.w_samples)
            if len(stream.w_samples) >= MIN_SAMPLES:
                own.append(_ms(percentile(sorted(stream.w_samples), 99)))
        values = sorted(pooled)
        over = sum(p > JITTER_TARGET_MS for p in own)
        return cls(
            len(values),
            _ms(percentile(values, 50)),
            _ms(percentile(values, 99)),
            _ms(values[-1] if values else None),
            max(own) if own else None,
            over,
            len(own),
        )


def _ms(ns: float | None) -> float | None:
    return None if ns is None else ns / 1e6


@dataclass(frozen=True)
class StreamStep:
    """One measurement window of one sender at one number of streams."""

    sender: str
    """``switchboard`` (while SIPp routes) or ``bare`` (bare_streams.py, nothing else)."""
    streams: int
    mean_active: float
    window_s: float
    packets: int
    lost: int
    short_calls: int
    """Calls the switchboard ended in the window before all their frames were sent (their
    missing tails are in ``lost``): hung up for RTP silence while the sender lagged."""
    disorder: int
    stalls: int
    """Timestamp jumps that are not the pause between two prompts: the pacer skipped."""
    skipped_frames: int
    jitter: Jitter
    sender_cpu_s: float
    sender_ticks_s: float
    farm_cpu_s: float
    sipp_cpu_s: float
    busy_s: float
    """CPU the whole machine used in the window (/proc/stat, all cores, 10 ms ticks)."""
    socket_drops: int
    calls_started: int = 0
    calls_answered: int = 0
    calls_failed: int = 0
    first_rtp_ms: tuple[float, ...] = ()
    """INVITE sent to first RTP of the calls started in the window, less the callers' own
    delay between the 200 and the ACK."""
    routing_rate: int = 0
    routing_ok: int = 0
    routing_failed: int = 0
    routing_p99_ms: float | None = None
    routing_max_ms: float | None = None

    @property
    def cores(self) -> float:
        return self.sender_cpu_s / self.window_s if self.window_s else 0.0

    @property
    def others_cpu_s(self) -> float:
        """CPU of everything else on the machine in the window: the noise."""
        return max(0.0, self.busy_s - self.sender_cpu_s - self.farm_cpu_s - self.sipp_cpu_s)

    @property
    def clean(self) -> bool:
        """Within the issue's bound: jitter p99 under 5 ms, nothing lost or skipped, and
        (while routing) every routed call answered."""
        p99 = self.jitter.p99_ms
        return (
            p99 is not None
            and p99 < JITTER_TARGET_MS
            and self.lost == 0
            and self.stalls == 0
            and self.routing_failed == 0
            and self.calls_failed == 0
        )


def stalls_of(streams: Iterable[Stream], expected: frozenset[int]) -> tuple[int, int]:
    """(stalls, frames skipped): timestamp jumps in the window at a packet index other
    than the ``expected`` prompt boundaries."""
    stalls = skipped = 0
    for stream in streams:
        for index, frames in stream.w_jumps:
            if index not in expected:
                stalls += 1
                skipped += frames
    return stalls, skipped


@dataclass(frozen=True)
class FirstRtp:
    calls: int
    failed: int
    invite_to_200_ms: list[float] = field(default_factory=list)
    ack_delay_ms: list[float] = field(default_factory=list)
    """200 arriving to our ACK leaving: the farm's own reaction, part of the total."""
    ack_to_rtp_ms: list[float] = field(default_factory=list)
    invite_to_rtp_ms: list[float] = field(default_factory=list)


@dataclass(frozen=True)
class Snapshot:
    """The server at one moment: memory, descriptors, sockets."""

    label: str
    calls_done: int
    rss_mb: float
    pss_mb: float
    fds: int
    udp_sockets: int
    rtp_ports_bound: int
    threads: int


@dataclass(frozen=True)
class Growth:
    calls: int
    answered: int
    failed: int
    hold_s: float
    rate: float
    settle_s: float
    snapshots: list[Snapshot]


# --- Markdown ---------------------------------------------------------------------------

LEGEND = """How to read it:
- *jitter*: per pair of consecutive packets of a stream, |Δ arrival - Δ RTP timestamp|
  (|Δt - 20 ms| for back-to-back frames); arrival is the kernel's stamp as the packet is
  queued at the receiver, on loopback the moment the sender sent it. p50/p99/max pool
  every pair in the window; *worst stream p99* is the highest of the streams' own p99s
  (streams with at least 50 pairs in the window).
- *lost*: sequence numbers never received, and frames missing at the end of a call the
  switchboard ended (a whole call has as many packets as the warm-up call had; such
  calls counted in brackets: a sender that lags real time hangs up for RTP silence
  after 30 s).
- *stalls (frames)*: RTP timestamp jumps other than the pause between two prompts: the
  sender's pacer woke more than 3 ticks late and skipped (frames skipped in brackets).
- *sender CPU*: the switchboard's process (all threads), or bare_streams.py, over the
  window, from the kernel's CPU clock. *CPU µs per packet* subtracts, for the
  switchboard, the routing-only row (0 streams): it is the cost of the streams and of
  answering the calls that carry them.
- *calls started / failed*: announcement calls the callers started in the window (a
  caller redials as the switchboard's BYE ends its call) and those refused or unanswered;
  *first RTP*: INVITE sent to first RTP of those calls (count in brackets), less the
  callers' own delay from the 200 to their ACK (up to 5 ms: they read their sockets
  every 5 ms while streams run).
- *routed*: SIPp's INVITE→302 calls in the window, successful / failed, p99 response ms
  (SIPp counts whole ms).
- *farm / SIPp / others CPU*: the receiving process (this runner), SIPp, and everything
  else the machine ran in the window (/proc/stat busy time minus the rest): two cores
  are 200 %, so "others" is the noise; *drops*: datagrams the kernel dropped on the
  farm's sockets (non-zero drops would make "lost" the harness's fault).
- *within bound*: p99 < 5 ms, nothing lost or skipped, no failed call, routed or
  answered."""


def _f(value: float | None, digits: int = 2) -> str:
    return "-" if value is None else f"{value:.{digits}f}"


def streams_table(steps: Sequence[StreamStep]) -> str:
    """How evenly and how completely the streams arrived."""
    lines = [
        "| sender | streams (mean active) | jitter p50 / p99 / max ms | worst stream p99 ms "
        f"| streams p99 > {JITTER_TARGET_MS:g} ms | packets | lost | stalls (frames) "
        "| within bound |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---|",
    ]
    for s in steps:
        j = s.jitter
        bound = ("yes" if s.clean else "**no**") if s.streams else "-"
        lines.append(
            f"| {s.sender} | {s.streams} ({s.mean_active:.0f}) | {_f(j.p50_ms)} / "
            f"{_f(j.p99_ms)} / {_f(j.max_ms, 1)} | {_f(j.worst_stream_p99_ms)} | "
            f"{j.streams_over_target} of {j.streams_judged} | {s.packets} | {s.lost}"
            f"{f' ({s.short_calls} calls)' if s.short_calls else ''} | "
            f"{s.stalls} ({s.skipped_frames}) | {bound} |"
        )
    return "\n".join(lines)


def cost_table(steps: Sequence[StreamStep]) -> str:
    """What the streams cost the sender, what else happened, and who else used the CPU."""
    base = next((s for s in steps if s.sender == "switchboard" and s.streams == 0), None)
    lines = [
        "| sender | streams | sender CPU % of a core | CPU µs per packet "
        "| calls started / failed | first RTP p50 / p99 ms | routed ok / failed, p99 ms "
        "| farm / SIPp / others CPU % | drops |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for s in steps:
        ours = s.sender == "switchboard"
        extra = base.cores * s.window_s if (base is not None and ours) else 0.0
        per_packet = (s.sender_cpu_s - extra) * 1e6 / s.packets if s.packets else None
        routed = (
            f"{s.routing_ok} / {s.routing_failed}, {_f(s.routing_p99_ms, 0)}"
            if s.routing_rate
            else "-"
        )
        calls = f"{s.calls_started} / {s.calls_failed}" if ours else "-"
        first = sorted(s.first_rtp_ms)
        first_text = (
            f"{_f(percentile(first, 50), 1)} / {_f(percentile(first, 99), 1)} ({len(first)})"
            if first
            else "-"
        )
        lines.append(
            f"| {s.sender} | {s.streams} | {100 * s.cores:.0f} | {_f(per_packet)} | {calls} | "
            f"{first_text} | {routed} | {_pct(s.farm_cpu_s, s)} / {_pct(s.sipp_cpu_s, s)} / "
            f"{_pct(s.others_cpu_s, s)} | {s.socket_drops} |"
        )
    return "\n".join(lines)


def _pct(cpu_s: float, step: StreamStep) -> str:
    return f"{100 * cpu_s / step.window_s:.0f}" if step.window_s else "-"


def first_rtp_table(result: FirstRtp) -> str:
    lines = [
        "| interval | p50 ms | p99 ms | max ms |",
        "|---|---:|---:|---:|",
    ]
    for name, values in (
        ("INVITE sent → 200 received", result.invite_to_200_ms),
        ("200 received → ACK sent (the callers' own delay)", result.ack_delay_ms),
        ("ACK sent → first RTP received", result.ack_to_rtp_ms),
        ("**INVITE sent → first RTP received**", result.invite_to_rtp_ms),
    ):
        ordered = sorted(values)
        lines.append(
            f"| {name} | {_f(percentile(ordered, 50))} | {_f(percentile(ordered, 99))} | "
            f"{_f(ordered[-1] if ordered else None)} |"
        )
    return "\n".join(lines)


def growth_table(result: Growth) -> str:
    lines = [
        "| when | calls done | RSS MB | PSS MB | open fds | UDP sockets | of them RTP ports "
        "| threads |",
        "|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    lines += [
        f"| {s.label} | {s.calls_done} | {s.rss_mb:.1f} | {s.pss_mb:.1f} | {s.fds} | "
        f"{s.udp_sockets} | {s.rtp_ports_bound} | {s.threads} |"
        for s in result.snapshots
    ]
    return "\n".join(lines)


def verdicts(
    steps: Sequence[StreamStep], first: FirstRtp | None, growth: Growth | None
) -> list[str]:
    """One line per target of the issue, with the number it was judged on."""
    out = []
    ours = [s for s in steps if s.sender == "switchboard" and s.streams]
    if ours:
        clean = [s.streams for s in ours if s.clean]
        first_bad = next((s for s in ours if not s.clean), None)
        best = max(clean) if clean else 0
        crossed = (
            f"; first outside the bound at {first_bad.streams} (p99 "
            f"{_f(first_bad.jitter.p99_ms)} ms, {first_bad.lost} lost, {first_bad.stalls} stalls)"
            if first_bad
            else ""
        )
        met = "met" if best >= STREAMS_TARGET else "not met"
        out.append(
            f"Streams while routing: {met} — largest clean step {best} streams "
            f"(target ≥ {STREAMS_TARGET}){crossed}."
        )
    if first is not None and first.invite_to_rtp_ms:
        p99 = percentile(sorted(first.invite_to_rtp_ms), 99) or 0.0
        met = "met" if p99 < FIRST_RTP_TARGET_MS else "not met"
        out.append(
            f"INVITE to first RTP: {met} — p99 {p99:.1f} ms over {len(first.invite_to_rtp_ms)} "
            f"calls (target < {FIRST_RTP_TARGET_MS:g} ms)."
        )
    if growth is not None and len(growth.snapshots) >= 2:
        before, after = growth.snapshots[0], growth.snapshots[-1]
        grown = after.fds > before.fds or after.udp_sockets > before.udp_sockets
        ports = after.rtp_ports_bound
        out.append(
            f"No growth after {growth.calls} calls: fds {before.fds} → {after.fds}, UDP sockets "
            f"{before.udp_sockets} → {after.udp_sockets}, RTP ports still bound {ports}, "
            f"RSS {before.rss_mb:.1f} → {after.rss_mb:.1f} MB "
            f"({'growth' if grown or ports else 'no descriptor or port growth'})."
        )
    return out
