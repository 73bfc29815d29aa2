"""Single sign-on with ``serve --workers`` (issue 14): the kernel may hand the callback to
a worker other than the one that started the flow; each worker keeps every flow under way,
and a flow taken anywhere is used everywhere."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from switchboard.http.oidc import FLOW_TTL, PendingFlow, PendingFlows

NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)


class Clock:
    def __init__(self) -> None:
        self.at = NOW

    def now(self) -> datetime:
        return self.at


class Other:
    """The other worker, as the relay reaches it: a ``FlowShare`` that applies at once."""

    def __init__(self, flows: PendingFlows) -> None:
        self.flows = flows

    def started(self, flow: PendingFlow) -> None:
        self.flows.adopt(flow)

    def taken(self, state: str) -> None:
        self.flows.forget(state)


def _pair(clock: Clock) -> tuple[PendingFlows, PendingFlows]:
    here, there = PendingFlows(clock), PendingFlows(clock)
    here.share, there.share = Other(there), Other(here)
    return here, there


def _flow(state: str) -> PendingFlow:
    return PendingFlow(state, "n", "v", "b", "https://sb.example/cb", NOW, "/reception")


def test_a_flow_started_on_one_worker_is_taken_on_the_other_once() -> None:
    here, there = _pair(Clock())
    here.add(_flow("s1"))
    assert there.take("s1") == _flow("s1")
    assert here.take("s1") is None  # used: a replayed callback finds nothing anywhere
    assert len(here) == len(there) == 0


def test_an_expired_flow_is_refused_wherever_it_is_taken() -> None:
    clock = Clock()
    here, there = _pair(clock)
    here.add(_flow("s2"))
    clock.at = NOW + FLOW_TTL + timedelta(seconds=1)
    assert there.take("s2") is None
    assert len(here) == 0
