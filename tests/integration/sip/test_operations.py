"""A running ``serve`` tells its operator what it is doing (issue 15): ``/readyz`` once SIP
listens, and ``/metrics`` counting the calls it carried, its registrations and its loop's
lag, read with an API token as Prometheus would."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Callable
from pathlib import Path

from tests.integration.sip.conftest import PASSWORDS, Switchboard
from tests.integration.sip.rawsip import RawClient, register
from tests.peers.sipp import SippResult, SippRun, SippServer, run, scenario

Factory = Callable[..., Switchboard]


def _cli(server: Switchboard, *args: str) -> str:
    command = [sys.executable, "-m", "switchboard", "--config", str(server.config)]
    command += ["--data", str(server.data_dir), *args]
    env = {k: v for k, v in os.environ.items() if not k.startswith("SWITCHBOARD_")}
    done = subprocess.run(command, capture_output=True, text=True, env=env, timeout=60, check=True)
    return done.stdout


def _get(url: str, token: str | None = None) -> tuple[int, str]:
    request = urllib.request.Request(url)  # noqa: S310 - http:// to the server under test
    if token:
        request.add_header("Authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
            return response.status, response.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode()


def test_readyz_and_metrics_of_a_serving_node(switchboard_factory: Factory) -> None:
    server = switchboard_factory(trunk="127.0.0.1:5999", trusted=("127.0.0.1/32",))
    deadline = time.monotonic() + 10
    status, body = _get(f"http://{server.http}/readyz")
    while status != 200 and time.monotonic() < deadline:  # the search index is being built
        time.sleep(0.05)
        status, body = _get(f"http://{server.http}/readyz")
    assert status == 200
    checks = {"store": "ok", "sip": "ok", "search": "ok"}
    assert json.loads(body) == {"ready": True, "checks": checks}

    client = RawClient.udp(server.host, server.port)
    try:
        for _ in range(2):
            client.send(client.request("INVITE", "51234"))
            final = client.final()
            assert final is not None
            assert final.status == 302
            client.ack(final, "51234")
    finally:
        client.close()
    _cli(server, "users", "add", "prometheus", "--role", "admin", "--no-password")
    token = re.search(r"sbt_\S+", _cli(server, "users", "token", "prometheus", "--name", "scrape"))
    assert token is not None
    assert _get(f"http://{server.http}/metrics")[0] == 401
    server.wait_logs("sip_call", count=2)
    status, text = _get(f"http://{server.http}/metrics", token.group())
    assert status == 200
    assert 'switchboard_calls_total{action="redirect",outcome="302"} 2.0' in text
    assert "switchboard_sip_registrations 0.0" in text
    assert "switchboard_sip_transactions_in_flight" in text
    lag = re.search(r"^switchboard_event_loop_lag_seconds_count (\S+)$", text, re.MULTILINE)
    assert lag is not None
    assert float(lag.group(1)) > 0


def test_sigterm_stops_a_busy_node_within_two_seconds_and_keeps_its_registrations(
    switchboard_factory: Factory, tmp_path: Path
) -> None:
    """Twenty calls ringing at a trunk that never answers, a phone registered and a
    receptionist's live stream open: SIGTERM still ends the process in under 2 s, cleanly,
    and the registration is saved for the next start."""
    with SippServer(scenario("uas_never_answer"), trace_dir=tmp_path / "trunk") as trunk:
        server = switchboard_factory(mode="proxy", trunk=trunk.address, trusted=("127.0.0.1/32",))
        phone = RawClient.udp(server.host, server.port, source="127.0.0.2")
        callers = RawClient.udp(server.host, server.port)
        try:
            answer = register(phone, "64123", PASSWORDS["64123"])
            assert answer is not None
            assert answer.status == 200
            for _ in range(20):
                callers.send(callers.request("INVITE", "51234"))
            ringing = 0
            while ringing < 20:  # each call is on its way to the trunk
                response = callers.receive(timeout=5)
                assert response is not None
                ringing += response.status == 100
            _cli(server, "users", "add", "desk", "--role", "receptionist", "--no-password")
            token = re.search(r"sbt_\S+", _cli(server, "users", "token", "desk", "--name", "t"))
            assert token is not None
            stream = urllib.request.Request(
                f"http://{server.http}/api/v1/events",
                headers={"Authorization": f"Bearer {token.group()}"},
            )
            with urllib.request.urlopen(stream, timeout=10) as events:  # noqa: S310
                events.readline()  # the stream is open
                started = time.monotonic()
                code = server.stop(timeout=10)
                took = time.monotonic() - started
        finally:
            phone.close()
            callers.close()
    assert code == 0
    assert took < 2.0, f"{took:.2f} s"
    saved = _cli(server, "phones", "registered")
    assert "64123" in saved


def test_over_its_cap_a_node_answers_503_with_retry_after_and_recovers(
    switchboard_factory: Factory, tmp_path: Path
) -> None:
    """SIPp calls at 400 a second into a trunk that never answers, on a node capped at 200
    transactions: those over the cap get 503 with Retry-After at once while the others
    ring to their timeout; memory stays small; when the load drops, every call is carried."""
    with SippServer(scenario("uas_never_answer"), trace_dir=tmp_path / "trunk") as trunk:
        server = switchboard_factory(
            mode="proxy",
            trunk=trunk.address,
            trusted=("127.0.0.1/32",),
            sip_lines="max_transactions = 200\n",
        )
        _cli(server, "users", "add", "prometheus", "--role", "admin", "--no-password")
        made = _cli(server, "users", "token", "prometheus", "--name", "scrape")
        token = re.search(r"sbt_\S+", made)
        assert token is not None
        flood = SippRun(
            scenario("uac_invite_any_final"),
            server.address,
            service="51234",
            calls=400,
            rate=400,
            keys={"caller": "0701112233"},
            timeout=40,
        )
        outcome: list[SippResult] = []
        thread = threading.Thread(target=lambda: outcome.append(run(flood, tmp_path / "flood")))
        thread.start()
        time.sleep(1.5)  # the cap is reached within the first second
        probe = RawClient.udp(server.host, server.port)
        try:
            probe.send(probe.request("INVITE", "51234"))
            refused = probe.final(timeout=5)
            assert refused is not None
            probe.ack(refused, "51234")
        finally:
            probe.close()
        assert refused.status == 503
        assert refused.headers.get("Retry-After") == "5"
        assert "tag=" in (refused.headers.get("To") or "")
        # The refused hold no place in the table: at most the cap's server transactions and
        # a client transaction to the trunk for each. (Kept like answered ones, the refusals
        # of the last 5 s would be there too: the table grew with the offered load.)
        _, text = _get(f"http://{server.http}/metrics", token.group())
        held = re.search(r"^switchboard_sip_transactions_in_flight (\S+)$", text, re.MULTILINE)
        assert held is not None
        assert float(held.group(1)) <= 2 * 200 + 20, held.group(0)
        rss = _rss_mb(server.process.pid)
        thread.join(60)
        [flooded] = outcome
        finals = [line for line in flooded.log_lines if line.startswith("final=")]
        assert finals.count("final=503") > 100, flooded.describe()
        assert finals.count("final=480") > 50  # the ones under the cap rang to their timeout
        assert len(finals) == 400  # every call got a final answer: none left hanging
        assert rss < 300, f"{rss:.0f} MB"
        # The calls under the cap rang to their timeout and are gone; what is answered
        # lingers for its retransmission window (RFC 3261 timer I, 5 s over UDP).
        time.sleep(6)
        calm = SippRun(
            scenario("uac_invite_any_final"),
            server.address,
            service="51234",
            calls=20,
            rate=20,
            keys={"caller": "0701112233"},
            timeout=30,
        )
        after = run(calm, tmp_path / "calm")
        assert [line for line in after.log_lines if line.startswith("final=")] == ["final=480"] * 20
    assert "sip_overloaded" in server.log_text()


def _rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1000
    return 0.0
