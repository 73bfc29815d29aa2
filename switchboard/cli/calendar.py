"""`switchboard calendar explain SOURCE`: what a calendar feed says at an instant, and why (R7).

The administrator's answer to "why is Anna shown as away?": the feed is read (a file or an
http(s)/webcal URL), expanded and mapped by the same code the calendar sync uses, and
explained through the same resolve() that routes calls. The URL is only ever printed masked:
a feed address is a secret.
"""

from __future__ import annotations

import argparse
import json
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import structlog

from switchboard.calendar_sync import CalendarError
from switchboard.calendar_sync.fetch import fetch_feed, mask_url
from switchboard.calendar_sync.ics import FeedResult, parse_feed
from switchboard.cli.time import parse_instant
from switchboard.directory.hours import HoursError, WorkingHours
from switchboard.http.render import instant
from switchboard.live.engine import Engine, EngineError
from switchboard.presence.calendar import Explanation, explain

log = structlog.get_logger()

# Enough history for an absence that began weeks ago, enough future for its return time.
_BEFORE = timedelta(days=62)
_AFTER = timedelta(days=366)


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("source", metavar="SOURCE", help="an .ics file, or an http(s)/webcal URL")
    p.add_argument("--at", metavar="ISO8601", help="at this instant instead of now")
    p.add_argument("--tz", metavar="ZONE", help="IANA zone for floating and all-day times")
    p.add_argument("--owner", metavar="EMAIL", help="the calendar owner, for their answers")
    p.add_argument("--hours", metavar="HOURS", help="working hours, e.g. 'mon-fri 08:00-16:30'")
    p.add_argument("--language", choices=["sv", "nb", "en"], help="referral code table")
    p.add_argument("--timeout", type=float, default=30.0, help="seconds for a URL (default 30)")
    p.add_argument("--max-bytes", type=int, default=20 * 1024 * 1024, help="size limit for a URL")


def _is_url(source: str) -> bool:
    return source.lower().startswith(("http://", "https://", "webcal://"))


async def _read(args: argparse.Namespace) -> tuple[str, bytes]:
    source: str = args.source
    if _is_url(source):
        got = await fetch_feed(source, max_bytes=args.max_bytes, timeout=args.timeout)
        return mask_url(source), got.data or b""
    try:
        return source, Path(source).read_bytes()  # noqa: ASYNC240 - the CLI runs nothing else
    except OSError as exc:
        raise CalendarError(source, f"cannot read the file: {exc.strerror}") from None


def _zone(args: argparse.Namespace, engine: Engine) -> ZoneInfo:
    if not args.tz:
        return engine.settings.zone
    try:
        return ZoneInfo(args.tz)
    except (ZoneInfoNotFoundError, ValueError):
        raise EngineError(f"--tz {args.tz!r} is not an IANA time zone (Europe/Oslo)") from None


def _hours(args: argparse.Namespace, engine: Engine) -> WorkingHours:
    if not args.hours:
        return engine.settings.default_hours
    try:
        return WorkingHours.parse(args.hours)
    except HoursError as exc:
        raise EngineError(f"--hours: {exc}") from None


def explanation_dict(
    got: Explanation, feed: FeedResult, source: str, at: datetime, zone: ZoneInfo
) -> dict[str, Any]:
    out: dict[str, Any] = {
        "source": source,
        "at": instant(at, zone),
        "busy": got.busy,
        "kind": got.kind.value,
        "until": instant(got.until, zone),
        "reason": got.reason.value if got.reason else None,
        "referral_kind": got.referral_kind.value if got.referral_kind else None,
        "show_subject": got.show_subject,
    }
    if got.show_subject:
        out["subject"] = got.subject
    out["next_change"] = instant(got.next_change, zone)
    out["explanation"] = got.detail
    out["items"] = len(feed.items)
    out["problems"] = [{"uid": p.uid, "line": p.line, "what": p.what} for p in feed.problems]
    return out


async def cmd_calendar_explain(args: argparse.Namespace, engine: Engine) -> int:
    zone = _zone(args, engine)
    hours = _hours(args, engine)
    now = engine.clock.now()
    at = parse_instant(args.at, now, zone) if args.at else now
    source, data = await _read(args)
    try:
        feed = parse_feed(
            data, window_start=at - _BEFORE, window_end=at + _AFTER, default_zone=zone
        )
    except CalendarError as exc:
        raise CalendarError(source, exc.problem) from None
    language = args.language or engine.settings.language
    got = explain(
        feed.items,
        at,
        args.owner,
        zone,
        hours,
        language=language,
        secrets=engine.secret_numbers(),  # R18: a subject is masked here too
    )
    log.info(
        "calendar_explained",
        source=source,
        items=len(feed.items),
        problems=len(feed.problems),
        busy=got.busy,
    )
    print(json.dumps(explanation_dict(got, feed, source, at, zone), ensure_ascii=False, indent=2))
    return 0


async def cmd_calendar_health(args: argparse.Namespace, engine: Engine) -> int:
    """`switchboard calendar health`: each configured source's health as the running server's
    worker last wrote it (``calendar-health.json`` in the data directory), as JSON."""
    path = Path(args.data_dir) / "calendar-health.json"
    configured = [s.name for s in engine.settings.calendars]
    try:
        written = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        written = []
    except (OSError, ValueError) as exc:
        raise CalendarError(str(path), f"cannot read the health file: {exc}") from None
    by_name = {h.get("source"): h for h in written if isinstance(h, dict)}
    out = [by_name.get(name, {"source": name, "never_run": True}) for name in configured]
    print(json.dumps(out, ensure_ascii=False, indent=2))
    failing = any(h.get("failures", 0) or h.get("never_run") for h in out)
    return 1 if failing else 0
