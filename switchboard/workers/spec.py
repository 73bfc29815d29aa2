"""What a worker process is told about itself: its index, how many there are, and the
sockets that reach the others.

The parent (``supervisor``) makes one connected pair of Unix datagram sockets per pair of
workers and hands each worker its ends as inherited file descriptors, named on the
command line of the hidden ``serve --worker I/N --worker-links PEER:FD,...`` options.
"""

from __future__ import annotations

from dataclasses import dataclass, field


class WorkerSpecError(ValueError):
    """A ``--worker`` or ``--worker-links`` value that the parent would never write."""


@dataclass(frozen=True, slots=True)
class WorkerSpec:
    index: int
    """0 .. count-1; worker 0 also runs what must run once (the calendar sync)."""
    count: int
    links: dict[int, int] = field(default_factory=dict)
    """Peer index -> the file descriptor of this worker's end of the pair to it."""

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

    def format_links(self) -> str:
        return ",".join(f"{peer}:{fd}" for peer, fd in sorted(self.links.items()))
