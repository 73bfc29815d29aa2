"""`switchboard demo`: seed a demo directory and show what callers get right now.

The demo directory is chosen by the config file's name (configs/demo/<name>-people.csv),
so the SML example gets Swedish municipalities and the Norwegian one Norwegians. Running it
again resets the demo people's availability; it refuses to touch a data directory that
holds anyone else unless forced.
"""

from __future__ import annotations

import shlex
from collections.abc import Sequence
from datetime import timedelta
from pathlib import Path

from switchboard.cli.demo_accounts import (
    DemoPhone,
    print_demo_accounts,
    seed_demo_accounts,
    seed_demo_phone,
)
from switchboard.http.render import decision_dict
from switchboard.live.engine import Engine, EngineError
from switchboard.presence.model import BusyClass, CalendarSegment, Reason, Referral, ReferralKind
from switchboard.routing.model import Call
from switchboard.settings.resources import bundled

DEMO_ACTOR = "demo"
CALENDAR_SOURCE = "demo-calendar"


def _demo_file(engine: Engine) -> Path:
    name = f"configs/demo/{engine.settings.source.stem}-people.csv"
    try:
        return bundled(name)
    except FileNotFoundError:
        raise EngineError(f"there is no demo directory for {engine.settings.source}") from None


async def run_demo(
    engine: Engine,
    data_dir: Path,
    *,
    force: bool,
    command: Sequence[str] = ("switchboard",),
    now_option: str | None = None,
) -> DemoPhone:
    """Seed and print what callers get. ``command`` (``cli.run_command``: the running
    script's absolute path and the options this demo was given) and ``now_option`` (the
    demo's ``--now``) start the commands it prints, so they run as printed (issue 16)."""
    pinned = shlex.join([*command, *(("--now", now_option) if now_option else ())])
    path = _demo_file(engine)
    data = path.read_bytes()
    planned = await engine.import_directory(
        data, str(path), DEMO_ACTOR, dry_run=True, keep_people=True
    )
    demo_ids = {p.person_id for p in planned.parsed}
    strangers = [p for p in engine.view.people() if p.person_id not in demo_ids]
    if strangers and not force:
        raise EngineError(
            f"{data_dir} already holds {len(strangers)} people who are not in the demo; "
            "use another --data directory, or --force"
        )
    outcome = await engine.import_directory(data, str(path), DEMO_ACTOR)
    await _seed_availability(engine)
    from switchboard.cli.users import service

    accounts = await seed_demo_accounts(engine, service(engine))
    phone = await seed_demo_phone(engine)
    now = engine.clock.now()
    zone = engine.settings.zone
    r = outcome.result
    counts = f"{r.created} created, {r.updated} updated, {r.unchanged} unchanged" if r else ""
    print(f"Demo directory {path.name} imported into {data_dir} ({counts}).")
    print(f"What a caller gets at {now.astimezone(zone):%Y-%m-%d %H:%M %Z}:\n")
    for person in engine.view.people():
        if person.extension is None:
            print(f"  {'-':>6}  {person.name:<20} (no extension: reached on the mobile only)")
            continue
        d = decision_dict(engine.route(Call(person.extension), now), zone)
        what = d.get("announcement") or ", ".join(
            f"{t['kind']} {t['address']}" for t in d.get("targets", [])
        )
        print(f"  {person.extension:>6}  {person.name:<20} {d['action']:<9} {what}")
    org = engine.settings.organisations[0]
    if not org.hours.is_working(now, zone):
        nxt = org.hours.next_start(now, zone)
        when = f"{nxt.astimezone(zone):%Y-%m-%dT%H:%M}" if nxt else "a working day"
        print(
            f"\nIt is outside working hours ({org.hours.format()}), so most calls get the "
            f"schedule's referral (R8). To see a working day:\n"
            f"  {shlex.join([*command, '--now', when, 'demo'])}"
        )
    first = phone.callee.extension
    print(
        "\nTry:\n"
        f"  {pinned} route {first}\n"
        f"  {pinned} presence set {first} --reason meeting --for 1h\n"
        f"  {pinned} route --at 20:00 {first}\n"
        f"  {pinned} directory list"
    )
    print_demo_accounts(engine, accounts)
    print(
        "\nDemo phone (demo only: the password is public):\n"
        f"  {phone.user:<10} {phone.password:<22} SIP digest user and password "
        f"({phone.owner.name})"
    )
    return phone


async def _seed_availability(engine: Engine) -> None:
    """A realistic morning: someone at lunch, someone in a meeting, someone on holiday."""
    now = engine.clock.now()
    people = [p for p in engine.view.people() if p.extension]
    for p in people:
        await engine.clear(p, DEMO_ACTOR)
        await engine.set_calendar(p, CALENDAR_SOURCE, (), DEMO_ACTOR)
    if len(people) > 0:
        await engine.set_referral(
            people[0], Referral(Reason.LUNCH, until=now + timedelta(minutes=45)), DEMO_ACTOR
        )
    if len(people) > 1:
        meeting = CalendarSegment(
            now - timedelta(minutes=15),
            now + timedelta(hours=1),
            BusyClass.BUSY,
            Reason.MEETING,
            label="Ledningsgrupp",
        )
        await engine.set_calendar(people[1], CALENDAR_SOURCE, (meeting,), DEMO_ACTOR)
    if len(people) > 2:
        holiday = CalendarSegment(
            now - timedelta(days=1),
            now + timedelta(days=4),
            BusyClass.OOF,
            Reason.HOLIDAY,
            private=True,
        )
        await engine.set_calendar(people[2], CALENDAR_SOURCE, (holiday,), DEMO_ACTOR)
    if len(people) > 3:
        await engine.set_referral(
            people[3],
            Referral(Reason.TRAINING, ReferralKind.OPEN, now + timedelta(hours=2)),
            DEMO_ACTOR,
        )
