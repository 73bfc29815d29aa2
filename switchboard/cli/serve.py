"""``switchboard serve`` and the serving half of ``switchboard demo``.

The flags override the config file's ``[sip]`` and ``[http]`` tables one by one. Once
every server listens, one JSON line goes to stdout (``{"ready": {...}}``) for scripts and
tests to wait for; the demo also says in words where to point a browser and a phone.
"""

from __future__ import annotations

import argparse
import asyncio
import importlib
import json
import os
import sys
import time
from collections.abc import Callable, Coroutine
from dataclasses import replace
from datetime import timedelta
from typing import TYPE_CHECKING, Any, cast

from switchboard.cli.time import parse_instant
from switchboard.clock import Clock, ShiftedClock, SystemClock
from switchboard.settings.config import ConfigError, Settings
from switchboard.settings.sip import (
    SipMode,
    parse_host_port,
    parse_network,
    parse_trunk,
)
from switchboard.workers.spec import WorkerSpec, WorkerSpecError

MAX_WORKERS = 64

if TYPE_CHECKING:
    from switchboard.cli.demo_accounts import DemoPhone


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--sip-listen", metavar="HOST:PORT", help="SIP address (config [sip] listen)")
    p.add_argument(
        "--http-listen", metavar="HOST:PORT", help="web and API address (config [http] listen)"
    )
    p.add_argument(
        "--sip-mode", choices=("redirect", "proxy"), help="answer INVITE with 302 or proxy"
    )
    p.add_argument("--trunk", metavar="HOST:PORT", help="the operator trunk mobile calls go to")
    p.add_argument(
        "--trusted",
        metavar="CIDR",
        action="append",
        help="a peer that needs no digest (repeatable; replaces the config's list)",
    )


def add_worker_arguments(p: argparse.ArgumentParser) -> None:
    """``serve --workers N``, and the hidden options its parent gives each worker."""
    p.add_argument(
        "--workers",
        type=_worker_count,
        default=1,
        metavar="N",
        help="processes sharing the SIP and web ports (Linux; default 1: one process)",
    )
    p.add_argument("--worker", help=argparse.SUPPRESS)
    p.add_argument("--worker-links", default="", help=argparse.SUPPRESS)
    p.add_argument("--worker-epoch", type=float, help=argparse.SUPPRESS)


def _worker_count(text: str) -> int:
    if not text.isdigit() or not 1 <= int(text) <= MAX_WORKERS:
        raise argparse.ArgumentTypeError(f"expected 1 to {MAX_WORKERS}, not {text!r}")
    return int(text)


def _flag(name: str, parse: Callable[[str], Any], value: str) -> Any:
    try:
        return parse(value)
    except ValueError as exc:
        raise ConfigError("command line", name, str(exc)) from None


def _http_listen(text: str) -> Any:
    return parse_host_port(text, default_port=None)


def run_serve(
    args: argparse.Namespace,
    settings: Settings,
    announce: Callable[[dict[str, str]], None] | None = None,
) -> int:
    workers = getattr(args, "workers", 1)
    if workers > 1 and not getattr(args, "worker", None):
        return _supervise(args, workers)
    from switchboard.app import serve  # the servers load only when serving

    sip = settings.sip.with_overrides(
        listen=_flag("--sip-listen", parse_host_port, args.sip_listen) if args.sip_listen else None,
        mode=SipMode(args.sip_mode) if args.sip_mode else None,
        trunk=_flag("--trunk", parse_trunk, args.trunk) if args.trunk else None,
        trusted=tuple(_flag("--trusted", parse_network, t) for t in args.trusted or ()),
    )
    http = settings.http.with_overrides(
        listen=_flag("--http-listen", _http_listen, args.http_listen) if args.http_listen else None
    )
    args.data_dir.mkdir(parents=True, exist_ok=True)

    def ready(addresses: dict[str, str]) -> None:
        print(json.dumps({"ready": addresses}), flush=True)
        if announce is not None:
            announce(addresses)

    clock: Clock = SystemClock()
    if args.now:
        start = parse_instant(args.now, clock.now(), settings.zone)
        epoch = getattr(args, "worker_epoch", None)
        if epoch is not None and getattr(args, "worker", None):
            # Every worker's clock says --now at the instant the parent started, not at
            # its own start: their clocks agree to the millisecond, not to the second.
            start += timedelta(seconds=time.time() - epoch)
        clock = ShiftedClock(start)
    worker = None
    if getattr(args, "worker", None):
        try:
            worker = WorkerSpec.parse(args.worker, args.worker_links).with_secret_from(0)
        except WorkerSpecError as exc:
            raise ConfigError("command line", "--worker", str(exc)) from None
    main = serve(
        replace(settings, sip=sip, http=http),
        args.data_dir,
        ready=ready,
        clock=clock,
        worker=worker,
    )
    runner = _event_loop_runner()
    runner(main)
    return 0


def _supervise(args: argparse.Namespace, workers: int) -> int:
    """``serve --workers N`` (N > 1): this process only starts and watches the workers."""
    from switchboard.workers import ports
    from switchboard.workers.supervisor import Supervisor

    if not ports.supported():
        raise ConfigError(
            "command line", "--workers", "needs Linux, whose SO_REUSEPORT spreads work"
        )

    def ready(addresses: dict[str, str]) -> None:
        print(json.dumps({"ready": addresses}), flush=True)

    command = [sys.executable, "-m", "switchboard", *args.argv]
    supervisor = Supervisor(command, workers, ready, console_logs=sys.stderr.isatty())
    return supervisor.run()


def _event_loop_runner() -> Callable[[Coroutine[Any, Any, None]], None]:
    """uvloop when installed (the ``fast`` extra) and not turned off with
    ``SWITCHBOARD_EVENT_LOOP=asyncio``; the standard loop otherwise. Never required."""
    if os.environ.get("SWITCHBOARD_EVENT_LOOP", "") != "asyncio":
        try:
            # Imported by name: an optional extra that mypy (and CI) need not have.
            uvloop = importlib.import_module("uvloop")
        except ImportError:
            pass
        else:
            return cast(Callable[[Coroutine[Any, Any, None]], None], uvloop.run)
    return asyncio.run


def announce_demo(addresses: dict[str, str], phone: DemoPhone) -> None:
    web = addresses.get("http", "")
    print(
        f"\nThe switchboard is running.\n"
        f"  Web:  http://{web}/  (sign in with a demo account above;\n"
        f"        the employee's page is /me, the receptionist's screen /reception)\n"
        f"{phone.announcement(addresses.get('sip', ''))}"
        f"Ctrl-C stops it.",
        flush=True,
    )
