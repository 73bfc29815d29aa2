"""The receptionist's search at region scale: 100,000 people (issue 15).

Usage: .venv/bin/python bench/search_region.py [--people 100000] [--rounds 20] [--record]

Generates the region directory of ``tests/fixtures/region.py`` (deterministic), then:
- builds the index in a worker thread, as ``SearchCache`` does, with the garbage collector
  settled as ``serve`` settles it, while a 10 ms timer on the event loop measures how late
  it fires (the loop's lag: what a SIP answer would wait);
- measures the index's memory (tracemalloc: what stays allocated, and the peak while
  building) and the process's resident size before and after;
- runs a set of receptionist queries (names, prefixes from one letter, typos, Nordic
  letters, units, titles, every dialled form of a number) ``--rounds`` times and reports
  p50 / p99 / max per query kind;
- and the same with ``OVERLAY_MAX`` people changed since the build (the overlay at its
  largest).
The reference in the same run is a bare scan: every person's folded name checked with
``in`` for one word, the least any search without an index must do.
"""

from __future__ import annotations

import argparse
import asyncio
import platform
import resource
import sys
import time
import tracemalloc
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from switchboard.directory.model import Person  # noqa: E402
from switchboard.directory.search import SearchIndex, fold  # noqa: E402
from switchboard.http.search_cache import OVERLAY_MAX  # noqa: E402
from switchboard.live.collector import settle  # noqa: E402
from switchboard.live.loop_watch import worst_lag  # noqa: E402
from tests.fixtures.region import REGION_PLAN, region_people  # noqa: E402

QUERIES = {
    "name": ["anna andersson", "johan berg", "fatima haddad", "søren ærø", "lars lindqvist"],
    "one letter": ["a", "j", "s"],
    "prefix": ["ann", "joh", "lindq", "hemtj", "sjuksk"],
    "typo": ["andersen anna", "lindqvst", "johanson", "handlaggare", "sjukskoterka"],
    "nordic": ["åsa", "asa", "ødegård", "odegard", "märta"],
    "unit or title": ["socialtjänsten norr", "rektor", "biblioteket centrum", "chef"],
    "number": ["12345", "0106012345", "+46106012345", "010-601 23 45", "6012345", "+46700001234"],
}


def rss_mb() -> float:
    with open("/proc/self/statm") as statm:
        pages = int(statm.read().split()[1])
    return pages * resource.getpagesize() / 1e6


async def build_while_ticking(people: list[Person]) -> tuple[SearchIndex, float, float]:
    """The index built in a thread; its seconds, and the worst lateness of a 10 ms timer."""
    start = time.perf_counter()
    index, worst = await worst_lag(asyncio.to_thread(SearchIndex, people, REGION_PLAN))
    return index, time.perf_counter() - start, worst


def timings(index: SearchIndex, rounds: int) -> dict[str, list[float]]:
    out: dict[str, list[float]] = {}
    for kind, queries in QUERIES.items():
        samples = out.setdefault(kind, [])
        for _ in range(rounds):
            for q in queries:
                start = time.perf_counter()
                index.search(q)
                samples.append((time.perf_counter() - start) * 1000)
    return out


def percentile(samples: list[float], pct: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, round(pct / 100 * (len(ordered) - 1)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--people", type=int, default=100_000)
    parser.add_argument("--rounds", type=int, default=20)
    parser.add_argument("--record", action="store_true", help="append to bench/RESULTS.md")
    args = parser.parse_args()

    people = region_people(args.people)
    settle()  # as serve does once it is ready: the directory is frozen
    rest = rss_mb()
    index, build_s, lag = asyncio.run(build_while_ticking(people))
    after_build = rss_mb()
    results = timings(index, args.rounds)
    after_searches = rss_mb()
    # Memory apart, last: tracemalloc slows allocation (the build) several times over and
    # its own bookkeeping grows the process.
    tracemalloc.start()
    second = SearchIndex(people, REGION_PLAN)
    kept, peak = (n / 1e6 for n in tracemalloc.get_traced_memory())
    tracemalloc.stop()
    del second

    changed = [replace(p, name=p.name + " Nyström") for p in people[:OVERLAY_MAX]]
    start = time.perf_counter()
    overlay = SearchIndex(changed, REGION_PLAN)
    overlay_ms = (time.perf_counter() - start) * 1000
    overlay_results = timings(overlay, max(1, args.rounds // 4))

    folded = [fold(p.name) for p in people]
    bare: list[float] = []
    for _ in range(args.rounds):
        start = time.perf_counter()
        _ = [n for n in folded if "anna" in n]
        bare.append((time.perf_counter() - start) * 1000)

    lines = [
        f"\n### Search at region scale ({datetime.now(UTC).date().isoformat()}, {platform.node()}, "
        f"{platform.python_implementation()} {platform.python_version()}, "
        f"{platform.machine()})\n",
        f"Command: `.venv/bin/python bench/search_region.py --people {args.people} "
        f"--rounds {args.rounds}`\n",
        f"- {args.people:,} people (tests/fixtures/region.py), {len(index):,} indexed.",
        f"- Build in a worker thread: {build_s:.2f} s; the event loop's 10 ms timer was at "
        f"most {lag * 1000:.1f} ms late meanwhile.",
        f"- Index memory (tracemalloc, a second build): {kept:.1f} MB kept, {peak:.1f} MB at "
        f"the peak of the build; process RSS {rest:.0f} MB at rest with the directory, "
        f"{after_build:.0f} MB after the build, {after_searches:.0f} MB after the searches.",
        f"- Overlay of {OVERLAY_MAX} changed people: built in {overlay_ms:.1f} ms on the loop.",
        "",
        "| queries | p50 ms | p99 ms | max ms |",
        "|---|---:|---:|---:|",
    ]
    for kind, samples in results.items():
        lines.append(
            f"| {kind} | {percentile(samples, 50):.2f} | {percentile(samples, 99):.2f} "
            f"| {max(samples):.2f} |"
        )
    everything = [s for samples in results.values() for s in samples]
    lines.append(
        f"| **all** | {percentile(everything, 50):.2f} | {percentile(everything, 99):.2f} "
        f"| {max(everything):.2f} |"
    )
    overlay_all = [s for samples in overlay_results.values() for s in samples]
    lines.append(
        f"| overlay ({OVERLAY_MAX} people), all | {percentile(overlay_all, 50):.2f} "
        f"| {percentile(overlay_all, 99):.2f} | {max(overlay_all):.2f} |"
    )
    lines.append(
        f"| reference: bare scan of {args.people:,} folded names for one word "
        f"| {percentile(bare, 50):.2f} | {percentile(bare, 99):.2f} | {max(bare):.2f} |"
    )
    text = "\n".join(lines) + "\n"
    print(text)
    if args.record:
        with (REPO / "bench" / "RESULTS.md").open("a", encoding="utf-8") as results_file:
            results_file.write(text)


if __name__ == "__main__":
    main()
