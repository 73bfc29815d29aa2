"""The Store contract, part 6: saved SIP registrations (issue 3).

What is special here: no version, no event, no audit entry (a phone registers every few
minutes); one address of record's bindings are replaced as a whole; what expired goes at
the next save; a save that cannot be stored whole stores nothing.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest

from switchboard.events import BindingsChanged, Event
from switchboard.sip.saved_bindings import SavedBinding
from switchboard.store.bus import EventBus
from switchboard.store.protocol import StoreError
from tests.contract.conftest import Backend
from tests.contract.values import T0

DESK = SavedBinding(
    "64001", "<sip:64001@192.168.1.20:5060>", T0 + timedelta(hours=1), "c1@desk", 7, "udp",
    "203.0.113.5", 40123, None,
)  # fmt: skip
APP = SavedBinding(
    "64001", '"Anna" <sip:64001@10.0.0.7:5080;transport=udp>;+sip.instance="<urn:x>"',
    T0 + timedelta(minutes=10), "c2@app", 1, "udp", "2001:db8::7", 5080, 0.5,
)  # fmt: skip
OTHER = replace(DESK, aor="64002", contact="<sip:64002@192.168.1.21>", call_id="c3")


async def test_bindings_read_back_equal_in_their_order(backend: Backend) -> None:
    version = await backend.store.version()
    await backend.store.save_bindings({"64001": [DESK, APP], "64002": [OTHER]}, T0)
    assert await backend.store.saved_bindings() == [DESK, APP, OTHER]
    assert await backend.store.version() == version
    assert backend.take_events() == []
    assert await backend.store.audit() == []


async def test_a_save_replaces_that_address_of_record_only(backend: Backend) -> None:
    await backend.store.save_bindings({"64001": [DESK, APP], "64002": [OTHER]}, T0)
    refreshed = replace(DESK, cseq=8, expires_at=T0 + timedelta(hours=2))
    await backend.store.save_bindings({"64001": [refreshed]}, T0)
    assert await backend.store.saved_bindings() == [refreshed, OTHER]
    await backend.store.save_bindings({"64002": []}, T0)  # unregistered
    assert await backend.store.saved_bindings() == [refreshed]


async def test_expired_bindings_go_at_the_next_save(backend: Backend) -> None:
    await backend.store.save_bindings({"64001": [DESK, APP], "64002": [OTHER]}, T0)
    # APP lapses after 10 minutes, DESK and OTHER after an hour.
    await backend.store.save_bindings({}, T0 + timedelta(minutes=30))
    assert await backend.store.saved_bindings() == [DESK, OTHER]


async def test_a_save_that_cannot_be_stored_whole_stores_nothing(backend: Backend) -> None:
    await backend.store.save_bindings({"64001": [DESK]}, T0)
    naive = replace(OTHER, expires_at=OTHER.expires_at.replace(tzinfo=None))
    with pytest.raises(StoreError, match="no time zone"):
        await backend.store.save_bindings({"64001": [], "64002": [naive]}, T0)
    misfiled = replace(OTHER, aor="64003")
    with pytest.raises(StoreError, match="saved under '64002'"):
        await backend.store.save_bindings({"64001": [], "64002": [misfiled]}, T0)
    no_port = replace(OTHER, port=0)  # refused by the database, inside the transaction
    with pytest.raises(StoreError, match="nothing was changed"):
        await backend.store.save_bindings({"64001": [], "64002": [no_port]}, T0)
    assert await backend.store.saved_bindings() == [DESK]


async def test_announced_changes_reach_every_process_including_the_writer(
    backend: Backend,
) -> None:
    """``serve --workers`` (issue 14): a save's announcements go on the change feed in its
    transaction; every other process publishes them when it catches up, and the writer
    publishes them exactly once too (SQLite when it catches up, in feed order; Redis as the
    write commits). A registrar applies them idempotently either way."""
    assert backend.open_peer is not None
    peer_seen: list[Event] = []
    peer_bus = EventBus()
    peer_bus.add_listener(peer_seen.append)
    peer = await backend.open_peer(peer_bus)
    tcp = replace(APP, transport="tcp", port=51000)
    change = BindingsChanged("64001", (DESK, tcp), ("<sip:64001@10.9.9.9>",))
    await backend.store.save_bindings({"64001": [DESK]}, T0, [change])
    assert await backend.store.saved_bindings() == [DESK]  # the table: what changes says
    for store in (peer, backend.store):
        while await store.catch_up():
            pass
    assert peer_seen == [change]
    assert backend.take_events() == [change]  # once, however it came
