"""``/healthz``, ``/readyz`` and ``/metrics`` (issue 15)."""

from __future__ import annotations

import asyncio
import time

import pytest

from switchboard.live.loop_watch import LoopWatch
from switchboard.live.metrics import Metrics
from switchboard.routing.model import Call
from switchboard.store.protocol import StoreError
from tests.http.conftest import Env


async def test_healthz_answers_anyone_and_says_nothing_more(env: Env) -> None:
    response = await env.client.get("/healthz")
    assert response.status == 200
    assert await response.json() == {"status": "alive"}


async def test_readyz_names_what_is_not_ready(env: Env, monkeypatch: pytest.MonkeyPatch) -> None:
    response = await env.client.get("/readyz")
    assert response.status == 503  # no SIP server here
    assert await response.json() == {
        "ready": False,
        "checks": {"store": "ok", "sip": "not listening"},
    }
    env.runtime.readiness.sip_bound = True
    response = await env.client.get("/readyz")
    assert response.status == 200
    assert (await response.json())["ready"] is True

    env.runtime.readiness.calendar_running = False
    body = await (await env.client.get("/readyz")).json()
    assert body["checks"]["calendar"] == "stopped"
    env.runtime.readiness.calendar_running = True

    # Until the search index is built, a receptionist's first search would wait for it.
    built = False
    env.runtime.readiness.search_built = lambda: built
    response = await env.client.get("/readyz")
    assert response.status == 503
    assert (await response.json())["checks"]["search"] == "building the index"
    built = True
    response = await env.client.get("/readyz")
    assert response.status == 200
    assert (await response.json())["checks"]["search"] == "ok"

    async def unreachable() -> int:
        raise StoreError("redis://10.0.0.9:6379: connection refused")

    monkeypatch.setattr(env.runtime.engine.store, "version", unreachable)
    response = await env.client.get("/readyz")
    assert response.status == 503
    body = await response.json()
    assert body["checks"]["store"] == "unreachable"
    assert "10.0.0.9" not in str(body)  # where the store is stays in the log


async def test_metrics_are_for_administrators_and_count_what_happened(env: Env) -> None:
    assert (await env.client.get("/metrics", headers=env.headers["anonymous"])).status == 401
    assert (await env.client.get("/metrics", headers=env.headers["receptionist"])).status == 403

    await env.client.get("/api/v1/people?q=anna", headers=env.headers["receptionist"])
    engine = env.runtime.engine
    anna = env.person("64123")
    routed = _value(env, "switchboard_route_decision_seconds_count")
    for _ in range(3):
        engine.route(Call(caller="+46701234567", dialled=anna.extension or ""))
    assert _value(env, "switchboard_route_decision_seconds_count") == routed + 3
    await env.runtime.engine.store.set_manual(anna.person_id, None, "test", engine.clock.now())

    response = await env.client.get("/metrics", headers=env.headers["admin"])
    assert response.status == 200
    assert response.headers["Content-Type"].startswith("text/plain")
    text = await response.text()
    assert "switchboard_search_seconds_count 1.0" in text
    assert "switchboard_store_write_seconds_count" in text
    assert "process_resident_memory_bytes" in text
    assert "46701234567" not in text  # no number in any label


def _value(env: Env, name: str) -> float:
    body, _ = env.runtime.metrics.expose()
    line = next(line for line in body.decode().splitlines() if line.startswith(name + " "))
    return float(line.split()[-1])


async def test_the_loop_watch_records_a_stall() -> None:
    metrics = Metrics()
    watch = LoopWatch(metrics, tick=0.005, window=0.3)
    async with asyncio.TaskGroup() as group:
        task = group.create_task(watch.run())
        await asyncio.sleep(0.05)
        asyncio.get_running_loop().call_soon(time.sleep, 0.12)  # holds the loop: a stall
        await asyncio.sleep(0.35)  # past the end of the window with the stall
        task.cancel()
    assert watch.last_window >= 0.1
    body, _ = metrics.expose()
    assert b"switchboard_event_loop_lag_max_seconds" in body
    count = next(
        line
        for line in body.decode().splitlines()
        if line.startswith("switchboard_event_loop_lag_seconds_count")
    )
    assert float(count.split()[-1]) > 10
