"""What a worker process is told about itself: its index, how many there are, and the
sockets that reach the others.

The parent (``supervisor``) makes one connected pair of Unix datagram sockets per pair of
workers and hands each worker its ends as inherited file descriptors, named on the
command line of the hidden ``serve --worker I/N --worker-links PEER:FD,...`` options.
It also writes the workers' shared secret (``SECRET_BYTES`` random bytes: the SIP digest
nonces one worker issues must verify on all) as the first bytes of each worker's stdin,
a pipe nobody else holds, so it is never on a command line or in the environment.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field

SECRET_BYTES = 32


class WorkerSpecError(ValueError):
    """A ``--worker`` or ``--worker-links`` value that the parent would never write."""


@dataclass(frozen=True, slots=True)
class WorkerSpec:
    index: int
    """0 .. count-1; worker 0 also runs what must run once (the calendar sync)."""
    count: int
    links: dict[int, int] = field(default_factory=dict)
    """Peer index -> the file descriptor of this worker's end of the pair to it."""
    secret: bytes = field(default=b"", repr=False)
    """Shared by every worker of one parent (the SIP digest nonces' key)."""

    def __post_init__(self) -> None:
        if not 0 <= self.index < self.count:
            raise WorkerSpecError(f"worker {self.index} of {self.count}: no such worker")
        expected = set(range(self.count)) - {self.index}
        if self.links and set(self.links) != expected:
            raise WorkerSpecError(
                f"worker {self.index} of {self.count} needs links to {sorted(expected)}, "
                f"not {sorted(self.links)}"
            )

    @property
    def first(self) -> bool:
        return self.index == 0

    @property
    def peers(self) -> tuple[int, ...]:
        return tuple(i for i in range(self.count) if i != self.index)

    @classmethod
    def parse(cls, worker: str, links: str = "") -> WorkerSpec:
        """``"1/2"`` and ``"0:5"`` (peer:fd, comma-separated), as the parent writes them."""
        index_text, slash, count_text = worker.partition("/")
        if not slash or not index_text.isdigit() or not count_text.isdigit():
            raise WorkerSpecError(f"--worker {worker!r}: expected INDEX/COUNT, like 1/2")
        found: dict[int, int] = {}
        for part in filter(None, links.split(",")):
            peer, colon, fd = part.partition(":")
            if not colon or not peer.isdigit() or not fd.isdigit():
                raise WorkerSpecError(f"--worker-links {links!r}: expected PEER:FD,...")
            found[int(peer)] = int(fd)
        return cls(int(index_text), int(count_text), found)

    def with_secret_from(self, fd: int = 0) -> WorkerSpec:
        """This spec with the secret the parent wrote on ``fd`` (stdin)."""
        secret = b""
        while len(secret) < SECRET_BYTES:
            chunk = os.read(fd, SECRET_BYTES - len(secret))
            if not chunk:
                raise WorkerSpecError("the parent closed stdin before writing the secret")
            secret += chunk
        return WorkerSpec(self.index, self.count, self.links, secret)

    def format_links(self) -> str:
        return ",".join(f"{peer}:{fd}" for peer, fd in sorted(self.links.items()))
