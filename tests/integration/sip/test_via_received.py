"""Answers tell a client where its request came from (RFC 3261 §18.2.1, RFC 3581 §4).

A phone behind NAT writes its private address in the Via and asks with ``rport``; the
answer's top Via carries ``received`` (the address we saw) and ``rport`` (the port), the
way the phone learns its public address. A Via that already names the source, without
``rport``, comes back byte for byte.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest

from tests.integration.sip.conftest import Switchboard
from tests.integration.sip.rawsip import RawClient, new_id

Factory = Callable[..., Switchboard]


@pytest.mark.parametrize("transport", ["udp", "tcp"])
def test_answers_carry_received_and_rport(switchboard_factory: Factory, transport: str) -> None:
    server = switchboard_factory(trusted=("127.0.0.1/32",))
    opened = RawClient.udp if transport == "udp" else RawClient.tcp
    client = opened(server.host, server.port)
    port = client.local_port
    mine = f"SIP/2.0/{transport.upper()} 127.0.0.1:{port};branch=z9hG4bK"
    natted = f"SIP/2.0/{transport.upper()} 10.20.30.40:5060;branch=z9hG4bK"
    try:
        answers = {}
        for name, via, extra in [
            ("plain", mine, ""),
            ("rport", mine, ";rport"),
            ("behind-nat", natted, ";rport"),
            ("other-address", natted, ""),
        ]:
            branch = new_id()
            text = client.request("OPTIONS", None, branch=branch).decode()
            ours = f"{mine}{branch}"
            sent = f"{via}{branch}{extra}"
            client.send(text.replace(f"Via: {ours}", f"Via: {sent}").encode())
            response = client.final()
            assert response is not None, name
            assert response.status == 200, (name, response.status)
            answers[name] = (sent, response.headers.get_all("Via"))
        # A malformed request's 400 is stamped too.
        text = client.request("OPTIONS", None, branch="x" + new_id(), cseq=1).decode()
        text = text.replace("CSeq: 1 OPTIONS", "CSeq: one OPTIONS").replace(
            f"127.0.0.1:{port};branch=", "10.20.30.40:5060;rport;branch=", 1
        )
        client.send(text.encode())
        bad = client.final()
    finally:
        client.close()
    received = f";received=127.0.0.1;rport={port}"
    assert answers["plain"][1] == (answers["plain"][0],)
    assert answers["rport"][1] == (answers["rport"][0].removesuffix(";rport") + received,)
    assert answers["behind-nat"][1] == (answers["behind-nat"][0].removesuffix(";rport") + received,)
    assert answers["other-address"][1] == (answers["other-address"][0] + ";received=127.0.0.1",)
    assert bad is not None
    assert bad.status == 400
    assert (bad.headers.get("Via") or "").endswith(received)
