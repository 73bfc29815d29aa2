"""Two switchboard nodes behind Kamailio on loopback (issue 14), ports chosen at run time.

The nodes are real ``switchboard serve`` processes on one seeded SQLite data directory (the
demo directory at Monday 10:00, as in tests/integration/sip): both read the same
directory and presence. A write on one node reaching the other's live view needs the
store's change feed (issue 14, built elsewhere); until then these tests change nothing
while the nodes run. Each node trusts Kamailio's address, as a deployment does.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import pytest

from switchboard.accounts.model import Role
from switchboard.app import open_runtime
from switchboard.clock import FixedClock
from switchboard.live.engine import Engine
from switchboard.settings.config import load_settings
from tests.integration.sip.conftest import MONDAY_10, Switchboard, seed, start_switchboard
from tests.peers.kamailio import Node
from tests.peers.tools import LOOPBACK

Prepare = Callable[[Engine], Awaitable[None]]
"""A change to the seeded store before the nodes start (they cannot see one made later
until the change feed lands)."""


async def _accounts_and_changes(
    config: Path, data_dir: Path, prepare: Prepare | None
) -> tuple[str, str]:
    """Bearer tokens of a ``router`` account for Kamailio (docs/api.md) and of a
    receptionist (who sets referrals over HTTP); then ``prepare``, at Monday 10:00."""
    clock = FixedClock(datetime.fromisoformat(MONDAY_10))
    async with open_runtime(load_settings(config), data_dir, clock) as runtime:
        accounts = runtime.accounts
        tokens = []
        for username, role in (("kamailio", Role.ROUTER), ("desk", Role.RECEPTIONIST)):
            account = await accounts.add_account(username, None, {role}, None, None, "test")
            tokens.append(await accounts.create_token(account.account_id, "cluster", "test"))
        if prepare is not None:
            await prepare(runtime.engine)
        return tokens[0], tokens[1]


@dataclass
class Cluster:
    directory: Path
    config: Path
    data_dir: Path
    token: str
    """The router account's bearer token (for http-route.cfg's environment)."""
    desk_token: str
    """A receptionist's bearer token, to set referrals through a node's API."""
    mode: str
    trunk: str | None
    nodes: list[Switchboard] = field(default_factory=list)

    def start_node(self, sip_listen: str = f"{LOOPBACK}:0") -> Switchboard:
        directory = self.directory / f"node{len(self.nodes)}"
        directory.mkdir()
        node = start_switchboard(
            directory,
            mode=self.mode,
            trunk=self.trunk,
            trusted=(f"{LOOPBACK}/32",),
            config=self.config,
            data_dir=self.data_dir,
            sip_listen=sip_listen,
        )
        self.nodes.append(node)
        return node

    def kamailio_nodes(self) -> list[Node]:
        return [Node(n.address, n.http) for n in self.nodes]

    def stop(self) -> None:
        for node in self.nodes:
            if not node.stopped:
                node.stop()


def kill(node: Switchboard) -> None:
    """SIGKILL: the node is gone at once, with no goodbye to anyone."""
    node.process.kill()
    node.process.wait(10)
    node.stopped = True
    if node.process.stdout is not None:
        node.process.stdout.close()


ClusterFactory = Callable[..., Cluster]


@pytest.fixture
def cluster_factory(tmp_path: Path) -> Iterator[ClusterFactory]:
    started: list[Cluster] = []

    def factory(
        *,
        nodes: int = 2,
        mode: str = "redirect",
        trunk: str | None = None,
        prepare: Prepare | None = None,
        store: str = "",
    ) -> Cluster:
        """``store``: a ``[store]`` table for the nodes (default: one SQLite directory)."""
        directory = tmp_path / f"cluster{len(started)}"
        directory.mkdir()
        config, data_dir = seed(directory, tables=store)
        token, desk_token = asyncio.run(_accounts_and_changes(config, data_dir, prepare))
        cluster = Cluster(directory, config, data_dir, token, desk_token, mode, trunk)
        started.append(cluster)
        for _ in range(nodes):
            cluster.start_node()
        return cluster

    yield factory
    for cluster in started:
        cluster.stop()
