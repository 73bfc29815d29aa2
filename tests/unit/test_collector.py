"""The collector stays out of bulk work and freezes what it made (issue 15)."""

from __future__ import annotations

import gc
import threading

import pytest

from switchboard.live import collector


def test_bulk_work_pauses_the_collector_and_freezes_what_it_made() -> None:
    assert gc.isenabled()
    made: list[object] = []
    frozen_before = gc.get_freeze_count()
    with collector.bulk_work():
        assert not gc.isenabled()
        made.extend([i] for i in range(1000))  # tracked objects: lists
    assert gc.isenabled()
    assert gc.get_freeze_count() >= frozen_before + len(made)


def test_the_collector_resumes_only_when_the_last_bulk_work_ends() -> None:
    inner_started = threading.Event()
    outer_may_end = threading.Event()
    seen: list[bool] = []

    def other_thread() -> None:
        with collector.bulk_work():
            inner_started.set()
            outer_may_end.wait(5)
        seen.append(gc.isenabled())  # the main thread's work is still under way

    with collector.bulk_work():
        thread = threading.Thread(target=other_thread)
        thread.start()
        inner_started.wait(5)
        outer_may_end.set()
        thread.join(5)
        assert not gc.isenabled()
    assert seen == [False]
    assert gc.isenabled()


def test_bulk_work_that_fails_still_resumes_the_collector() -> None:
    with pytest.raises(ValueError, match="a bad file"), collector.bulk_work():
        raise ValueError("a bad file")
    assert gc.isenabled()
