"""Exactly once, proven by killing: ``followup run --once`` processes are
SIGKILLed at random moments (and right after a provider write, before the
state knows of it) and restarted, over a 40-day timeline of 30 interviews.
At the end the calendar and Drafts hold exactly what an undisturbed run
leaves: no duplicate, nothing missing."""

from __future__ import annotations

import email
import os
import random
import signal
import time
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from daemon import cli
from daemon.icalout import read_followup_ics

from .world import ME, World, ics_event

NY = ZoneInfo("America/New_York")
FIRST = datetime(2026, 10, 26, 9, 0, tzinfo=NY)  # spans the DST change of 2026-11-01
COMPANIES = ["Acme Corp", "Initech", "Globex", "Umbrella", "Hooli", "Stark Industries"]


def populate(world: World, seed: int = 7) -> None:
    rng = random.Random(seed)
    for n in range(30):
        company = COMPANIES[n % len(COMPANIES)]
        domain = company.split()[0].lower() + ".example"
        start = FIRST + timedelta(days=rng.randrange(0, 21), hours=rng.randrange(0, 8))
        people = [(f"Person {n}-{i}", f"p{n}.{i}@{domain}", "ACCEPTED") for i in range(rng.randrange(0, 3))]
        description = "We will make a decision within two weeks." if n % 4 == 0 else ""
        world.add(f"iv{n}", ics_event(f"iv{n}@x", f"Interview - {company}", start, 60,
                                      organizer=people[0][:2] if people else None,
                                      attendees=[*people, ("Me", ME, "ACCEPTED")], description=description))
    world.deliver("reply", (f"From: p3.0@{COMPANIES[3].split()[0].lower()}.example\r\nTo: {ME}\r\n"
                            "Subject: Re\r\nDate: Mon, 16 Nov 2026 10:00:00 -0500\r\n\r\nHi\r\n").encode())


def timeline():
    return [FIRST + timedelta(hours=12 * i) for i in range(2 * 40)]


def outcome(world: World):
    events = sorted(read_followup_ics(p.read_bytes()) for p in world.own_events())
    drafts = sorted(email.message_from_bytes(p.read_bytes())["X-Followup-Key"] for p in world.drafts_list())
    raw = sorted(p.read_bytes() for p in world.drafts_list())
    return events, drafts, raw


def run_child(world: World, now: datetime, die_after_write: bool) -> int:
    """Fork a process doing one pass; returns its raw wait status."""
    pid = os.fork()
    if pid == 0:  # child
        try:
            if die_after_write:
                from connectors.local.calendar import LocalCalendar
                from connectors.local.maildir import MaildirMailbox

                def dying(real):
                    def wrapper(self, *args):
                        result = real(self, *args)
                        os.kill(os.getpid(), signal.SIGKILL)  # written, but not yet recorded
                        return result
                    return wrapper

                LocalCalendar.create_event = dying(LocalCalendar.create_event)
                MaildirMailbox.create_draft = dying(MaildirMailbox.create_draft)
                LocalCalendar.delete_event = dying(LocalCalendar.delete_event)
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, 1)
            os.dup2(devnull, 2)
            code = cli.main(["--config", str(world.config), "run", "--once", "--now", now.isoformat()])
        except BaseException:
            code = 3
        os._exit(code)
    return pid


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork")
def test_killed_at_random_moments_every_follow_up_exists_exactly_once(tmp_path):
    calm = World(tmp_path / "calm")
    populate(calm)
    for now in timeline():
        assert calm.once(now) == 0
    expected = outcome(calm)
    assert len(expected[0]) >= 5 and len(expected[1]) > 20  # one call per company, many drafts

    world = World(tmp_path / "crashy")
    populate(world)
    rng = random.Random(2026)
    kills = after_write_kills = 0
    for now in timeline():
        while True:
            after_write = rng.random() < 0.3
            pid = run_child(world, now, after_write)
            if not after_write:
                time.sleep(rng.uniform(0, 0.06))  # a pass takes about 0.1 s
                try:
                    os.kill(pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
            _, status = os.waitpid(pid, 0)
            if os.WIFSIGNALED(status):
                kills += 1
                after_write_kills += after_write
                continue
            assert os.WEXITSTATUS(status) == 0, f"pass at {now} failed"
            break
    print(f"{kills} kills, {after_write_kills} of them right after a provider write")
    assert kills >= 200 and after_write_kills >= 20, (kills, after_write_kills)
    assert outcome(world) == expected
