"""pyVoIP 1.6.8 (GPL-3.0, test-only) as a second, naive SIP phone.

pyVoIP is threaded: ``VoIPPhone.start()`` registers synchronously, a receive thread starts
about 1 s later, every incoming call runs the callback on its own ``Timer`` thread, and RTP
runs on more threads. This wrapper keeps all of that inside one object whose ``stop()``
always returns within a bound, and turns call progress into a list of state names a test
can assert on.

Quirks (PEERS.md): it sends everything to the registrar address (never to a Via or a
Contact), expects ``100 Trying`` before anything else, ignores 302, and ACKs a 200 with a
random To-tag (upstream #312). Use it for register / call / answered / BYE only.
"""

from __future__ import annotations

import hashlib
import secrets
import threading
import warnings
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from tests.peers.tools import LOOPBACK, Peer, free_port, free_port_pair, missing, wait_for

if TYPE_CHECKING:
    from pyVoIP.VoIP import VoIPCall, VoIPPhone


class PyVoipError(Exception):
    """pyVoIP failed to register, call or stop as the test expected."""


def _import_pyvoip() -> Any:
    """Import pyVoIP, or skip/fail the test if it is missing.

    Its RTP module imports ``audioop``, deprecated in 3.11 (a DeprecationWarning that
    pytest turns into an error here); the warning is about pyVoIP, not us.
    """
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        try:
            import pyVoIP.VoIP
        except ImportError as exc:
            missing(f"pyVoIP is not importable ({exc}); install the `test` extra")
            raise
    return pyVoIP.VoIP


@dataclass
class CallLog:
    """The states one call went through, in order (``DIALING``, ``ANSWERED``, ``ENDED``)."""

    states: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def note(self, state: str) -> None:
        with self.lock:
            if not self.states or self.states[-1] != state:
                self.states.append(state)

    def snapshot(self) -> tuple[str, ...]:
        with self.lock:
            return tuple(self.states)


def _md5(text: str) -> str:
    return hashlib.md5(text.encode(), usedforsecurity=False).hexdigest()


def answer_register_with_qop(sip: Any, user: str, password: str) -> None:
    """Make pyVoIP's REGISTER answer a digest challenge with ``qop=auth``.

    pyVoIP 1.6.8 always answers in RFC 2069 style (no ``qop``, ``nc``, ``cnonce``), even
    when the challenge offers ``qop="auth"``; RFC 3261 §22.4 says a client MUST then send
    ``qop``, and a server with replay protection (the switchboard) refuses the old form.
    Only the ``Authorization`` line of its REGISTER is rewritten (MD5, like pyVoIP's own);
    everything else it sends stays pyVoIP's.
    """
    original = sip.gen_register

    def gen_register(request: Any, deregister: bool = False) -> str:
        message: str = original(request, deregister)
        realm = request.authentication["realm"]
        nonce = request.authentication["nonce"]
        uri = f"sip:{sip.server};transport=UDP"  # the uri pyVoIP itself digests
        cnonce, nc = secrets.token_hex(8), "00000001"  # every REGISTER gets a new nonce
        ha1 = _md5(f"{user}:{realm}:{password}")
        response = _md5(f"{ha1}:{nonce}:{nc}:{cnonce}:auth:{_md5(f'REGISTER:{uri}')}")
        header = (
            f'Authorization: Digest username="{user}", realm="{realm}", nonce="{nonce}", '
            f'uri="{uri}", response="{response}", algorithm=MD5, qop=auth, nc={nc}, '
            f'cnonce="{cnonce}"'
        )
        lines = message.split("\r\n")
        return "\r\n".join(header if x.startswith("Authorization:") else x for x in lines)

    sip.gen_register = gen_register


class PyVoipPhone(Peer):
    """``with PyVoipPhone("alice", "pw", "127.0.0.1", port) as phone:``

    Registers to ``server_host:server_port`` with digest on enter; answers incoming calls
    when ``auto_answer`` (each answered call is recorded in ``incoming``); ``stop()``
    hangs up, un-registers and closes its sockets within ``stop_timeout``.
    """

    def __init__(
        self,
        user: str,
        password: str,
        server_host: str,
        server_port: int,
        *,
        auto_answer: bool = True,
        register_timeout: int = 3,
        stop_timeout: float = 5.0,
        my_ip: str = LOOPBACK,
        qop_auth: bool = False,
    ) -> None:
        """``my_ip``: the address it binds and announces (any 127.x works on Linux, so a
        test can put it on an address the server trusts). ``qop_auth``: see
        ``answer_register_with_qop``."""
        self.user = user
        self.stop_timeout = stop_timeout
        self.sip_port = free_port("udp")
        rtp_low = free_port_pair("udp")
        self.incoming: list[CallLog] = []
        self._auto_answer = auto_answer
        self._calls: list[VoIPCall] = []
        self._voip = _import_pyvoip()
        self._phone: VoIPPhone = self._voip.VoIPPhone(
            server_host,
            server_port,
            user,
            password,
            myIP=my_ip,
            callCallback=self._on_incoming,
            sipPort=self.sip_port,
            rtpPortLow=rtp_low,
            rtpPortHigh=rtp_low + 1,
        )
        # Seconds pyVoIP waits for each registrar answer (default 30 s): keep tests short.
        self._phone.sip.register_timeout = register_timeout
        if qop_auth:
            answer_register_with_qop(self._phone.sip, user, password)

    @property
    def status(self) -> str:
        """``REGISTERED``, ``REGISTERING``, ``INACTIVE``, ``FAILED`` (pyVoIP's PhoneStatus)."""
        return str(self._phone.get_status().value)

    def start(self) -> PyVoipPhone:
        """Register (blocking, bounded by ``register_timeout``); raise if refused."""
        try:
            self._phone.start()
        except Exception as exc:
            raise PyVoipError(
                f"pyVoIP {self.user} could not register: {type(exc).__name__}: {exc}"
            ) from exc
        if self.status != "REGISTERED":
            self.stop()
            raise PyVoipError(f"pyVoIP {self.user} ended in status {self.status}")
        return self

    def _on_incoming(self, call: VoIPCall) -> None:
        """Runs on pyVoIP's per-call Timer thread, about 1 s after the INVITE."""
        log = CallLog()
        log.note(call.state.value)
        self.incoming.append(log)
        self._calls.append(call)
        if self._auto_answer:
            call.answer()
        self._follow(call, log, until=("ENDED",), timeout=30.0)

    def _follow(self, call: VoIPCall, log: CallLog, until: tuple[str, ...], timeout: float) -> None:
        def reached() -> bool:
            log.note(call.state.value)
            return call.state.value in until

        try:
            wait_for(reached, timeout, 0.02, f"pyVoIP call to reach {until}")
        except TimeoutError:
            return

    def call(self, number: str, timeout: float = 5.0) -> CallLog:
        """Dial ``number`` via the registrar and wait until answered or ended.

        Returns the log of states; it keeps updating while the call lives (``hangup``).
        """
        call = self._phone.call(number)
        self._calls.append(call)
        log = CallLog()
        log.note(call.state.value)
        self._follow(call, log, until=("ANSWERED", "ENDED"), timeout=timeout)
        return log

    def hangup(self, log: CallLog | None = None) -> None:
        """Hang up every answered call (BYE, RFC 3261 15.1.1)."""
        for call in list(self._calls):
            if call.state.value == "ANSWERED":
                call.hangup()
                if log is not None:
                    log.note(call.state.value)

    def stop(self) -> None:
        """Stop the phone within ``stop_timeout``: pyVoIP's own stop un-registers and can
        block on a dead registrar, so it runs on a helper thread we wait for."""
        stopper = threading.Thread(target=self._phone.stop, name=f"pyvoip-stop-{self.user}")
        stopper.start()
        stopper.join(self.stop_timeout)
        if stopper.is_alive():
            self._phone.sip.NSD = False
            self._phone.sip._close_sockets()
            raise PyVoipError(f"pyVoIP {self.user} did not stop within {self.stop_timeout}s")
