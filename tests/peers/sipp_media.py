"""SIPp calls that carry media: a caller that presses keys and speaks, a phone that answers.

The scenarios (``uac_invite_media_dtmf``, ``uac_invite_media_message``,
``uac_invite_late_offer``, ``uas_answer_media``) take their timings, their SDP port and
their key as ``-key`` values; ``media_call`` fills them in, and for the message scenario
writes the caller's words as raw mu-law where SIPp's ``rtp_stream`` finds them (its
working directory, the trace directory). Facts behind the choices: tests/peers/README.md,
"Media with the peers".
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from tests.peers.audio import RATE, Samples, read_wav, ulaw_encode
from tests.peers.sipp import SippRun, SippServer, scenario
from tests.peers.tools import LOOPBACK, free_port, missing, port_in_use

PCAP_DIR = Path("/usr/share/sip-tester")
"""Debian's sip-tester ships dtmf_2833_0..9, _star and _pound here: one RFC 4733 event
each, PT 101, 10 packets over 140 ms, the last three with the E bit (duration 2240)."""
MESSAGE_FILE = "message.ulaw"
"""The file name uac_invite_media_message.xml streams (rtp_stream takes no -key)."""
PACKET_BYTES = 160
"""20 ms of G.711 at 8 kHz: rtp_stream's packet size for PT 0."""

_PCAP_NAMES = {"*": "star", "#": "pound"}


def dtmf_pcap(digit: str) -> Path:
    """The pcap SIPp plays for ``digit`` (0-9, * or #), or skip/fail if it is missing."""
    if len(digit) != 1 or not (digit.isdigit() or digit in _PCAP_NAMES):
        raise ValueError(f"no RFC 4733 pcap for {digit!r}: one of 0-9, * or #")
    path = PCAP_DIR / f"dtmf_2833_{_PCAP_NAMES.get(digit, digit)}.pcap"
    if not path.is_file():
        missing(f"{path} not found (install the Debian package sip-tester)")
    return path


def free_media_port() -> int:
    """A port ``p`` with ``p`` and ``p + 2`` free: SIPp binds -mp and -mp+2 (video),
    whether it echoes or not."""
    for _ in range(100):
        port = free_port("udp")
        if port < 65534 and not port_in_use(port + 2, "udp"):
            return port
    raise RuntimeError(f"no free media port pair (p, p+2) on {LOOPBACK} after 100 tries")


def write_message(samples: Samples, directory: Path) -> Path:
    """``samples`` as raw mu-law in ``directory``/message.ulaw, padded with mu-law
    silence to whole 20 ms packets (rtp_stream fills a short last packet from the file's
    start, which would replay the first milliseconds)."""
    payload = ulaw_encode(samples)
    short = -len(payload) % PACKET_BYTES
    path = directory / MESSAGE_FILE
    path.write_bytes(payload + b"\xff" * short)
    return path


def media_call(
    scenario_name: str,
    remote: str,
    trace_dir: Path,
    *,
    service: str = "sipp",
    digit: str | None = None,
    message: Path | None = None,
    rtp_port: int | None = None,
    rtp_echo: bool = False,
    listen: float = 1.0,
    after_key: float = 0.5,
    bye_wait: float = 0.0,
    timeout: float = 20.0,
    extra_args: Sequence[str] = (),
) -> SippRun:
    """A ``SippRun`` of a media caller scenario, ready for ``run``/``run_async`` with the
    same ``trace_dir``.

    ``digit`` is pressed after ``listen`` seconds (none if None) and ``after_key`` seconds
    pass; the message scenario then speaks ``message`` (a WAV; required there); the
    caller waits up to ``bye_wait`` seconds more for the far end's BYE before sending its
    own. A far-end BYE is taken at any time (``SippResult.log_lines`` ends with
    ``hangup=far`` or ``hangup=near``). Waits tick in 100 ms steps.
    ``rtp_port`` is the SDP's audio port: an ``RtpSink`` to capture what the far end
    sends; None means SIPp's own media port, where ``rtp_echo`` sends it back.
    The global ``timeout`` must cover listen + key + message + bye_wait.
    """
    trace_dir.mkdir(parents=True, exist_ok=True)
    media_port = free_media_port()
    keys = {
        "rtp_port": str(rtp_port or media_port),
        "dtmf_pcap": str(dtmf_pcap(digit or "1")),
        "press": "yes" if digit is not None else "no",
        "listen_ms": _ms(listen),
        "after_key_ms": _ms(after_key),
        "bye_wait_ms": _ms(bye_wait),
        "message_ms": "0",
    }
    if scenario_name.removesuffix(".xml") == "uac_invite_media_message":
        if message is None:
            raise ValueError("uac_invite_media_message needs a message WAV to speak")
        samples = read_wav(message)
        write_message(samples, trace_dir)
        # Wait for the whole file to be sent, plus two packets of slack.
        keys["message_ms"] = _ms(len(samples) / RATE + 0.04)
    args = ["-mp", str(media_port), *(["-rtp_echo"] if rtp_echo else []), *extra_args]
    return SippRun(
        scenario(scenario_name),
        remote,
        service=service,
        keys=keys,
        timeout=timeout,
        extra_args=tuple(args),
    )


def media_answerer(
    trace_dir: Path,
    *,
    rtp_port: int | None = None,
    max_calls: int | None = None,
) -> SippServer:
    """A ``SippServer`` running uas_answer_media: it answers PCMU + telephone-event.

    With ``rtp_port`` (an ``RtpSink``'s port) the caller's RTP goes to the test; without,
    it goes to SIPp's media port with ``-rtp_echo``, so the caller hears itself.
    """
    media_port = free_media_port()
    args = ["-mp", str(media_port)]
    if rtp_port is None:
        args.append("-rtp_echo")
    return SippServer(
        scenario("uas_answer_media"),
        keys={"rtp_port": str(rtp_port or media_port)},
        trace_dir=trace_dir,
        max_calls=max_calls,
        extra_args=args,
    )


def _ms(seconds: float) -> str:
    return str(max(round(seconds * 1000), 0))
