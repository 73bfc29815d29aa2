"""What a worker is told about itself (issue 14): the hidden options the parent writes."""

from __future__ import annotations

import pytest

from switchboard.workers.spec import WorkerSpec, WorkerSpecError


def test_the_parent_s_options_read_back() -> None:
    spec = WorkerSpec.parse("1/3", "0:7,2:9")
    assert spec == WorkerSpec(1, 3, {0: 7, 2: 9})
    assert (spec.first, spec.peers, spec.format_links()) == (False, (0, 2), "0:7,2:9")
    assert WorkerSpec.parse("0/2", "1:4").first


@pytest.mark.parametrize(
    ("worker", "links"),
    [
        ("1", ""),
        ("a/2", ""),
        ("2/2", ""),
        ("0/2", "1"),
        ("0/2", "1:x"),
        ("0/3", "1:5"),
        ("0/2", "0:5"),
    ],
    ids=[
        "no-count",
        "not-a-number",
        "index-too-high",
        "link-no-fd",
        "link-bad-fd",
        "a-link-missing",
        "link-to-itself",
    ],
)
def test_what_the_parent_never_writes_is_refused(worker: str, links: str) -> None:
    with pytest.raises(WorkerSpecError):
        WorkerSpec.parse(worker, links)
