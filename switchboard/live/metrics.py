"""What the process is doing, for Prometheus (issue 15): ``/metrics`` serves ``expose()``.

One registry per process, made by the wiring place (``app.py``) and handed to what counts:
calls by action and outcome (the call recorder), routing decisions and their time (the
engine), directory searches (the search cache), the event loop's lag (``LoopWatch``), store
writes, and, read at each scrape, SIP transactions in flight, registrations and the
calendar sources' health. ``prometheus_client`` writes the text format; its process
collector adds memory, CPU and open files. Never a number or a name in a label: labels are
actions, outcomes, source kinds and source names from the configuration.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from typing import Any

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    ProcessCollector,
    generate_latest,
)
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

FAST = (0.00001, 0.00002, 0.00005, 0.0001, 0.0002, 0.0005, 0.001, 0.002, 0.005, 0.01, 0.05)
"""Buckets for work that takes microseconds (a routing decision)."""
SLOW = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1.0, 5.0)
"""Buckets for work that takes milliseconds (a search, a store write, the loop's lag)."""


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        ProcessCollector(registry=self.registry)
        r = self.registry
        self.calls = Counter(
            "switchboard_calls",
            "Calls carried, by what the switchboard did and the final SIP status",
            ["action", "outcome"],
            registry=r,
        )
        self.route_seconds = Histogram(
            "switchboard_route_decision_seconds",
            "Time to decide where a call goes (the live view and the routing core)",
            buckets=FAST,
            registry=r,
        )
        self.search_seconds = Histogram(
            "switchboard_search_seconds", "Directory searches", buckets=SLOW, registry=r
        )
        self.store_write_seconds = Histogram(
            "switchboard_store_write_seconds",
            "Store writes from the web, the CLI and the calendar, commit included",
            buckets=SLOW,
            registry=r,
        )
        self.loop_lag_seconds = Histogram(
            "switchboard_event_loop_lag_seconds",
            "How late a 10 ms timer on the event loop fired",
            buckets=SLOW,
            registry=r,
        )
        self.loop_lag_max = Gauge(
            "switchboard_event_loop_lag_max_seconds",
            "The longest event-loop lag in the last window (10 s)",
            registry=r,
        )
        self.overload_refusals = Counter(
            "switchboard_overload_refusals",
            "Requests refused with 503 because the node was at its cap, by edge",
            ["edge"],
            registry=r,
        )

    def gauge(self, name: str, documentation: str, read: Callable[[], float]) -> None:
        """A gauge read at each scrape (what a server holds: transactions, bindings)."""
        Gauge(name, documentation, registry=self.registry).set_function(read)

    def calendar(self, read: Callable[[], list[Mapping[str, Any]]]) -> None:
        """The calendar sources' health (``live.health.HealthBoard.all``), per source."""
        self.registry.register(_CalendarCollector(read))

    def expose(self) -> tuple[bytes, str]:
        """The text exposition and its content type."""
        return generate_latest(self.registry), CONTENT_TYPE_LATEST


class _CalendarCollector(Collector):
    def __init__(self, read: Callable[[], list[Mapping[str, Any]]]) -> None:
        self._read = read

    def collect(self) -> Iterator[GaugeMetricFamily]:
        lag = GaugeMetricFamily(
            "switchboard_calendar_sync_lag_seconds",
            "Seconds since each calendar source last synchronised successfully",
            labels=["source", "kind"],
        )
        failures = GaugeMetricFamily(
            "switchboard_calendar_sync_failures",
            "Consecutive failed rounds of each calendar source (0 after a success)",
            labels=["source", "kind"],
        )
        for entry in self._read():
            labels = [str(entry.get("source", "")), str(entry.get("type", ""))]
            seconds = entry.get("lag")
            if isinstance(seconds, int | float):
                lag.add_metric(labels, float(seconds))
            failures.add_metric(labels, float(entry.get("failures", 0) or 0))
        yield lag
        yield failures
