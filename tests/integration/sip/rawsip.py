"""A bare UDP/TCP SIP client for tests that need to see exact bytes and headers.

SIPp proves interoperability; this proves details (which headers, which status, what a
hostile packet gets) without a scenario file per case. Responses are parsed with our own
parser, which has its own tests; the assertions are about what the server chose to say.
"""

from __future__ import annotations

import os
import socket
import time
from dataclasses import dataclass, field

from switchboard.sip.message import Headers, Response
from switchboard.sip.parse import ParseError, StreamFramer, parse_message


def new_id() -> str:
    return os.urandom(6).hex()


@dataclass
class RawClient:
    host: str
    port: int
    sock: socket.socket
    transport: str = "udp"
    """``udp``, or ``tcp``: one connection, responses framed by Content-Length."""
    _framer: StreamFramer = field(default_factory=StreamFramer)
    _frames: list[bytes] = field(default_factory=list)

    @classmethod
    def udp(cls, host: str, port: int, source: str = "127.0.0.1") -> RawClient:
        sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        sock.bind((source, 0))
        return cls(host, port, sock)

    @classmethod
    def tcp(cls, host: str, port: int, source: str = "127.0.0.1") -> RawClient:
        sock = socket.create_connection((host, port), timeout=5.0, source_address=(source, 0))
        return cls(host, port, sock, "tcp")

    @property
    def local_port(self) -> int:
        return int(self.sock.getsockname()[1])

    @property
    def local_host(self) -> str:
        return str(self.sock.getsockname()[0])

    def close(self) -> None:
        self.sock.close()

    def send(self, data: bytes) -> None:
        if self.transport == "tcp":
            self.sock.sendall(data)
        else:
            self.sock.sendto(data, (self.host, self.port))

    def _next(self, timeout: float) -> bytes | None:
        if self.transport == "udp":
            self.sock.settimeout(timeout)
            try:
                return self.sock.recvfrom(65535)[0]
            except TimeoutError:
                return None
        deadline = time.monotonic() + timeout
        while not self._frames:
            left = deadline - time.monotonic()
            if left <= 0:
                return None
            self.sock.settimeout(left)
            try:
                chunk = self.sock.recv(65535)
            except TimeoutError:
                return None
            if not chunk:
                return None  # the server hung up
            self._frames += self._framer.feed(chunk)
        return self._frames.pop(0)

    def receive(self, timeout: float = 2.0) -> Response | None:
        data = self._next(timeout)
        if data is None:
            return None
        try:
            message = parse_message(data)
        except ParseError:
            # The answer to a request without From, To, Call-ID or CSeq lacks them too
            # (it copies what there was): read it line by line, as a client would.
            return _lenient_response(data)
        assert isinstance(message, Response), data
        return message

    def final(self, timeout: float = 5.0) -> Response | None:
        """The first final (>= 200) response within ``timeout``."""
        deadline = time.monotonic() + timeout
        while (left := deadline - time.monotonic()) > 0:
            response = self.receive(left)
            if response is None:
                return None
            if response.status >= 200:
                return response
        return None

    def ack(self, response: Response, user: str = "x") -> None:
        """ACK a non-2xx final answer to an INVITE (RFC 3261 §17.1.1.3), ending its
        retransmissions."""
        h = response.headers
        number = (h.get("CSeq") or "1").split()[0]
        lines = [
            f"ACK sip:{user}@{self.host}:{self.port} SIP/2.0",
            f"Via: {h.get_all('Via')[0]}",
            "Max-Forwards: 70",
            f"From: {h.get('From')}",
            f"To: {h.get('To')}",
            f"Call-ID: {h.get('Call-ID')}",
            f"CSeq: {number} ACK",
            "Content-Length: 0",
            "",
            "",
        ]
        self.send("\r\n".join(lines).encode())

    def request(
        self,
        method: str,
        user: str | None,
        *,
        headers: tuple[tuple[str, str], ...] = (),
        from_user: str = "caller",
        call_id: str | None = None,
        cseq: int = 1,
        body: bytes = b"",
        branch: str | None = None,
        to_user: str | None = None,
    ) -> bytes:
        target = f"{user}@" if user else ""
        lines = [
            f"{method} sip:{target}{self.host}:{self.port} SIP/2.0",
            f"Via: SIP/2.0/{self.transport.upper()} {self.local_host}:{self.local_port}"
            f";branch=z9hG4bK{branch or new_id()}",
            "Max-Forwards: 70",
            f"From: <sip:{from_user}@{self.local_host}:{self.local_port}>;tag={new_id()}",
            f"To: <sip:{to_user or user or 'x'}@{self.host}:{self.port}>",
            f"Call-ID: {call_id or new_id()}",
            f"CSeq: {cseq} {method}",
            f"Contact: <sip:{from_user}@{self.local_host}:{self.local_port}>",
        ]
        lines += [f"{name}: {value}" for name, value in headers]
        lines += [f"Content-Length: {len(body)}", "", ""]
        return "\r\n".join(lines).encode() + body


def trunk_call(host: str, port: int, extension: str) -> tuple[int, str]:
    """One INVITE for ``extension`` from this machine (a trusted trunk in the tests): its
    final status (302: rung; 480: a referral) and the Reason header, ACKed."""
    client = RawClient.udp(host, port)
    try:
        client.send(client.request("INVITE", extension))
        final = client.final()
        assert final is not None
        client.ack(final, extension)
        return final.status, final.headers.get("Reason") or ""
    finally:
        client.close()


def register(
    client: RawClient,
    user: str,
    password: str,
    algorithm: str = "MD5",
    *,
    call_id: str | None = None,
    expires: int | None = None,
    cseq: int = 1,
) -> Response | None:
    """REGISTER, answer the 401 with a digest computed here; the final answer.
    ``call_id`` and ``cseq``: the phone's (a refresh reuses the Call-ID with a higher
    CSeq); ``expires``: an ``Expires`` header (0 unregisters)."""
    call_id = call_id or new_id()
    extra = (("Expires", str(expires)),) if expires is not None else ()
    client.send(client.request("REGISTER", user, call_id=call_id, cseq=cseq, headers=extra))
    challenge = client.final()
    assert challenge is not None
    assert challenge.status == 401
    uri = f"sip:{user}@{client.host}:{client.port}"
    answer = digest_answer(
        challenge.headers.get_all("WWW-Authenticate"),
        "REGISTER",
        uri,
        user,
        password,
        algorithm=algorithm,
    )
    client.send(
        client.request(
            "REGISTER",
            user,
            call_id=call_id,
            cseq=cseq + 1,
            headers=(*extra, ("Authorization", answer)),
        )
    )
    return client.final()


def _lenient_response(data: bytes) -> Response:
    head, _, body = data.partition(b"\r\n\r\n")
    first, *lines = head.decode().split("\r\n")
    version, status, reason = first.split(" ", 2)
    assert version == "SIP/2.0", first
    items = tuple((n.strip(), v.strip()) for n, _, v in (line.partition(":") for line in lines))
    return Response(int(status), reason, Headers(items), body)


def _params(challenge: str) -> dict[str, str]:
    scheme, _, rest = challenge.partition(" ")
    assert scheme.lower() == "digest", challenge
    out: dict[str, str] = {}
    for part in rest.split(","):
        name, _, value = part.strip().partition("=")
        out[name.lower()] = value.strip('"')
    return out


def challenged_algorithms(challenges: tuple[str, ...]) -> list[str]:
    """The ``algorithm`` of each challenge, in the order offered (none written: MD5)."""
    return [_params(c).get("algorithm", "MD5").upper() for c in challenges]


def digest_answer(
    challenges: tuple[str, ...],
    method: str,
    uri: str,
    user: str,
    password: str,
    nc: int = 1,
    *,
    algorithm: str = "MD5",
) -> str:
    """An ``Authorization`` value (MD5 or SHA-256) computed here, independently of the
    server's code, for the challenge of that algorithm."""
    import hashlib

    offered = [c for c in challenges if _params(c).get("algorithm", "MD5").upper() == algorithm]
    assert offered, f"no {algorithm} challenge in {challenges}"
    p = _params(offered[0])
    realm, nonce = p["realm"], p["nonce"]

    def h(text: str) -> str:
        if algorithm == "SHA-256":
            return hashlib.sha256(text.encode()).hexdigest()
        return hashlib.md5(text.encode(), usedforsecurity=False).hexdigest()

    cnonce = new_id()
    count = f"{nc:08x}"
    response = h(
        f"{h(f'{user}:{realm}:{password}')}:{nonce}:{count}:{cnonce}:auth:{h(f'{method}:{uri}')}"
    )
    return (
        f'Digest username="{user}", realm="{realm}", nonce="{nonce}", uri="{uri}", '
        f'response="{response}", algorithm={algorithm}, qop=auth, nc={count}, cnonce="{cnonce}"'
    )
