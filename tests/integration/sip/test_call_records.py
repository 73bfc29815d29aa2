"""The SIP edge writes one call record per call (R19), through the real server process.

``switchboard serve`` runs as a subprocess (see conftest); raw SIP over loopback places
the calls; after SIGTERM (a clean stop flushes the recorder's buffer) the test reads the
SQLite file directly, as nothing in the API may read call records but an approved list.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from contextlib import closing

from switchboard.calls.recorder import hash_call_id
from switchboard.sip.message import Response
from tests.integration.sip.conftest import Switchboard
from tests.integration.sip.rawsip import RawClient

Factory = Callable[..., Switchboard]
FATIMA_SECRET_MOBILE = "+46701740623"  # noqa: S105 - a phone number


def _call(server: Switchboard, extension: str, from_user: str, call_id: str) -> Response:
    client = RawClient.udp(server.host, server.port)
    try:
        client.send(client.request("INVITE", extension, from_user=from_user, call_id=call_id))
        final = client.final()
        assert final is not None
        client.ack(final)
        return final
    finally:
        client.close()


def test_each_call_leaves_one_record_and_a_secret_mobile_is_never_stored(
    switchboard_factory: Factory,
) -> None:
    server = switchboard_factory(trunk="127.0.0.1:5999", trusted=("127.0.0.1/32",))
    johan = _call(server, "51234", "0701112233", "rec-johan@test")  # available: 302
    anna = _call(server, "64123", FATIMA_SECRET_MOBILE, "rec-anna@test")  # at lunch: 480
    nobody = _call(server, "99999", "0701112233", "rec-nobody@test")  # not ours
    assert (johan.status, anna.status, nobody.status) == (302, 480, 404)
    assert server.stop() == 0
    text = server.log_text()
    assert FATIMA_SECRET_MOBILE not in text

    with closing(sqlite3.connect(server.data_dir / "switchboard.db")) as conn:
        rows = conn.execute(
            "SELECT call_id_hash, direction, other_party, action, outcome, ended_at, "
            "started_at FROM call_records ORDER BY id"
        ).fetchall()
        dump = repr(conn.execute("SELECT * FROM call_records").fetchall())
    assert [r[:5] for r in rows] == [
        (hash_call_id("rec-johan@test"), "in", "+46701112233", "redirect", 302),
        (hash_call_id("rec-anna@test"), "in", "secret", "announce", 480),
    ]
    assert all(r[5] is not None and r[5] >= r[6] for r in rows)
    assert FATIMA_SECRET_MOBILE[3:] not in dump
    assert "rec-anna@test" not in dump  # the Call-ID is kept only as its hash
