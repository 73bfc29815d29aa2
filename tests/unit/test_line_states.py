"""Line state (issue 3): the bus hears of a person's first call and their last, nothing between."""

from __future__ import annotations

from pathlib import Path

import pytest

from switchboard.directory.model import Person
from switchboard.events import Event, LineStateChanged
from switchboard.live.lines import LineStates
from switchboard.live.view import LiveView
from switchboard.settings.config import load_settings
from switchboard.store.bus import EventBus
from switchboard.store.protocol import StoreState

REPO = Path(__file__).resolve().parents[2]
ANNA = Person("p1", "Anna Berg", "64123", "+46701740605", "anna@sotenas.example", "sotenas")


class Recorder:
    """A real bus with a listener that keeps what was published."""

    def __init__(self) -> None:
        self.bus = EventBus()
        self.events: list[Event] = []
        self.bus.add_listener(self.events.append)

    def take(self) -> list[Event]:
        taken, self.events[:] = list(self.events), []
        return taken


@pytest.fixture
def recorder() -> Recorder:
    return Recorder()


@pytest.fixture
def lines(recorder: Recorder) -> LineStates:
    return LineStates(recorder.bus)


def test_first_call_publishes_in_call_with_one_call(recorder: Recorder, lines: LineStates) -> None:
    lines.changed("p1", True)
    assert recorder.take() == [LineStateChanged("p1", True, 1)]
    assert (lines.in_call("p1"), lines.calls("p1")) == (True, 1)


def test_a_second_concurrent_call_and_ending_one_of_two_publish_nothing(
    recorder: Recorder, lines: LineStates
) -> None:
    lines.changed("p1", True)
    recorder.take()

    lines.changed("p1", True)
    assert recorder.take() == []
    assert (lines.in_call("p1"), lines.calls("p1")) == (True, 2)

    lines.changed("p1", False)
    assert recorder.take() == []
    assert (lines.in_call("p1"), lines.calls("p1")) == (True, 1)


def test_ending_the_last_call_publishes_out_of_call_with_zero(
    recorder: Recorder, lines: LineStates
) -> None:
    lines.changed("p1", True)
    lines.changed("p1", True)
    lines.changed("p1", False)
    recorder.take()

    lines.changed("p1", False)
    assert recorder.take() == [LineStateChanged("p1", False, 0)]
    assert (lines.in_call("p1"), lines.calls("p1")) == (False, 0)


def test_ending_a_call_when_none_is_open_neither_goes_negative_nor_publishes(
    recorder: Recorder, lines: LineStates
) -> None:
    lines.changed("p1", False)
    assert recorder.take() == []
    assert (lines.in_call("p1"), lines.calls("p1")) == (False, 0)

    # A stray end must not eat the next real call: it still counts as the first.
    lines.changed("p1", True)
    assert recorder.take() == [LineStateChanged("p1", True, 1)]
    assert lines.calls("p1") == 1


def test_people_are_counted_apart(recorder: Recorder, lines: LineStates) -> None:
    lines.changed("p1", True)
    lines.changed("p2", True)
    lines.changed("p1", False)
    assert recorder.take() == [
        LineStateChanged("p1", True, 1),
        LineStateChanged("p2", True, 1),
        LineStateChanged("p1", False, 0),
    ]
    assert (lines.in_call("p1"), lines.calls("p1")) == (False, 0)
    assert (lines.in_call("p2"), lines.calls("p2")) == (True, 1)


def test_someone_never_seen_is_not_in_a_call(lines: LineStates) -> None:
    assert (lines.in_call("nobody"), lines.calls("nobody")) == (False, 0)


@pytest.mark.parametrize(
    "event",
    [LineStateChanged("p1", True, 1), LineStateChanged("p1", False, 0, version=7)],
    ids=["version-0", "version-ahead"],
)
def test_the_live_view_ignores_line_state_without_touching_its_version(
    event: LineStateChanged,
) -> None:
    """Line state is not a store event: it must neither move the version nor mark a gap."""
    view = LiveView(
        load_settings(REPO / "configs" / "sml.toml"), StoreState(1, (ANNA,), {}, {}, {}, ())
    )
    view.apply(event)
    assert (view.version, view.stale) == (1, False)
    assert view.person("p1") == ANNA


# -- several workers (issue 14) -------------------------------------------------------------


def test_other_workers_calls_count_apart_and_together(
    recorder: Recorder, lines: LineStates
) -> None:
    lines.changed("p1", True, worker=1)
    lines.changed("p1", True)  # one here too
    lines.changed("p1", False, worker=2)  # an end worker 2 never started: nothing
    assert (lines.calls("p1"), lines.carried(), lines.carried(1)) == (2, {"p1": 1}, {"p1": 1})
    lines.changed("p1", False, worker=1)
    lines.changed("p1", False)
    assert recorder.take() == [LineStateChanged("p1", True, 1), LineStateChanged("p1", False, 0)]


def test_a_restarted_worker_carries_no_calls_and_a_snapshot_replaces_its_count(
    recorder: Recorder, lines: LineStates
) -> None:
    lines.changed("p1", True, worker=1)
    lines.changed("p2", True, worker=1)
    lines.changed("p2", True)
    recorder.take()
    lines.replace(1, {})  # worker 1 started again: its calls are gone
    assert recorder.take() == [LineStateChanged("p1", False, 0)]
    assert (lines.calls("p1"), lines.calls("p2")) == (0, 1)
    lines.replace(1, {"p1": 2, "p2": 1})  # its answer to our hello
    assert recorder.take() == [LineStateChanged("p1", True, 2)]
    assert (lines.calls("p1"), lines.calls("p2"), lines.carried()) == (2, 2, {"p2": 1})
