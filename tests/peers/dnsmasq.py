"""dnsmasq (Debian ``dnsmasq-base``) as a real DNS server on loopback, for the trunk's
name (RFC 3263): SRV and A records given per test, authoritative for ``.test`` (any
other name there is NXDOMAIN), nothing forwarded anywhere.

    with Dnsmasq(srv=[("_sip._udp.trunk.test", "sbc.trunk.test", 5999, 10, 100)],
                 hosts=[("sbc.trunk.test", "127.0.0.1")]) as dns:
        dns.address  # "127.0.0.1:PORT", for the switchboard's [sip] name_server
"""

from __future__ import annotations

import os
import socket
import subprocess
import time
from collections.abc import Sequence
from types import TracebackType

from tests.peers.tools import LOOPBACK, free_port, require_tool

Srv = tuple[str, str, int, int, int]
"""(service name, target, port, priority, weight)"""


class Dnsmasq:
    def __init__(
        self,
        *,
        srv: Sequence[Srv] = (),
        hosts: Sequence[tuple[str, str]] = (),
        unanswered: Sequence[str] = (),
    ) -> None:
        sbin = "/usr/sbin/dnsmasq"  # where Debian puts it, often not on a user's PATH
        found = sbin if os.access(sbin, os.X_OK) else None
        self.binary = found or require_tool("dnsmasq", "Debian dnsmasq-base")
        self.port = free_port("udp")
        self.srv = list(srv)
        self.hosts = list(hosts)
        self.unanswered = list(unanswered)
        """Domains whose queries dnsmasq forwards to a port where nothing listens: they
        get no answer in time (a broken name server), except for the host records."""
        self.process: subprocess.Popen[str] | None = None

    @property
    def address(self) -> str:
        return f"{LOOPBACK}:{self.port}"

    def command(self) -> list[str]:
        command = [
            self.binary,
            "--keep-in-foreground",
            "--no-resolv",
            "--no-hosts",
            "--no-poll",
            "--log-facility=-",
            "--pid-file=",
            "--user=root",  # as root, no switch to a user the machine may lack
            "--bind-interfaces",
            f"--listen-address={LOOPBACK}",
            f"--port={self.port}",
            "--local=/test/",  # authoritative for .test: unknown names are NXDOMAIN
        ]
        command += [f"--srv-host={n},{t},{p},{prio},{w}" for n, t, p, prio, w in self.srv]
        command += [f"--host-record={name},{address}" for name, address in self.hosts]
        command += [f"--server=/{domain}/{LOOPBACK}#9" for domain in self.unanswered]
        return command

    def __enter__(self) -> Dnsmasq:
        self.process = subprocess.Popen(
            self.command(), stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
        )
        deadline = time.monotonic() + 5
        while not self._answers():
            if self.process.poll() is not None or time.monotonic() > deadline:
                output = self._stop()
                raise RuntimeError(f"dnsmasq did not start on udp {self.address}:\n{output}")
            time.sleep(0.05)
        return self

    def _answers(self) -> bool:
        """Whether a query gets any answer (a bare DNS header, id 1, one question)."""
        query = (
            b"\x00\x01\x01\x00\x00\x01\x00\x00\x00\x00\x00\x00\x04ping\x04test\x00\x00\x01\x00\x01"
        )
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
            sock.settimeout(0.2)
            sock.sendto(query, (LOOPBACK, self.port))
            try:
                return sock.recv(512)[:2] == b"\x00\x01"
            except OSError:
                return False

    def _stop(self) -> str:
        process, self.process = self.process, None
        if process is None:
            return ""
        process.terminate()
        try:
            output, _ = process.communicate(timeout=5)
        except subprocess.TimeoutExpired:
            process.kill()
            output, _ = process.communicate()
        return output

    def __exit__(
        self,
        kind: type[BaseException] | None,
        value: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self._stop()
