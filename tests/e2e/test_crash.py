"""Exactly once, proven by killing: ``followup run --once`` processes are
SIGKILLed at random moments (and right after a provider write, before the
state knows of it) and restarted, over a timeline of many interviews. At the
end the calendar and Drafts hold exactly what an undisturbed run leaves: no
duplicate, nothing missing. Once on local folders, once on Radicale and
Dovecot."""

from __future__ import annotations

import email
import os
import random
import signal
import time
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from daemon.app import cli
from daemon.ics.icalout import read_followup_ics

from .world import ME, World, ics_event

pytestmark = [pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork"), pytest.mark.slow]

NY = ZoneInfo("America/New_York")
FIRST = datetime(2026, 10, 26, 9, 0, tzinfo=NY)  # spans the DST change of 2026-11-01
COMPANIES = ["Acme Corp", "Initech", "Globex", "Umbrella", "Hooli", "Stark Industries"]
REPLY = (f"From: p3.0@umbrella.example\r\nTo: {ME}\r\nSubject: Re\r\n"
         "Date: Mon, 16 Nov 2026 10:00:00 -0500\r\nMessage-ID: <r@umbrella.example>\r\n\r\nHi\r\n").encode()


def populate(add: Callable[[str, bytes], object], count: int, seed: int = 7) -> None:
    rng = random.Random(seed)
    for n in range(count):
        company = COMPANIES[n % len(COMPANIES)]
        domain = company.split()[0].lower() + ".example"
        start = FIRST + timedelta(days=rng.randrange(0, 21), hours=rng.randrange(0, 8))
        people = [(f"Person {n}-{i}", f"p{n}.{i}@{domain}", "ACCEPTED") for i in range(rng.randrange(0, 3))]
        description = "We will make a decision within two weeks." if n % 4 == 0 else ""
        add(f"iv{n}", ics_event(f"iv{n}@x", f"Interview - {company}", start, 60,
                                organizer=people[0][:2] if people else None,
                                attendees=[*people, ("Me", ME, "ACCEPTED")], description=description))


def timeline(days: int = 40, hours: int = 12):
    return [FIRST + timedelta(hours=hours * i) for i in range(days * 24 // hours)]


def run_child(config: Path, now: datetime, die_after: list[tuple[type, str]]) -> int:
    """Fork a process doing one pass; with ``die_after`` it kills itself
    right after the first of those provider writes, before recording it."""
    pid = os.fork()
    if pid == 0:  # child
        try:
            for cls, name in die_after:
                def dying(self, *args, _real=getattr(cls, name)):
                    result = _real(self, *args)
                    os.kill(os.getpid(), signal.SIGKILL)  # written, but not yet recorded
                    return result
                setattr(cls, name, dying)
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, 1)
            os.dup2(devnull, 2)
            code = cli.main(["--config", str(config), "run", "--once", "--now", now.isoformat()])
        except BaseException:
            code = 3
        os._exit(code)
    return pid


def run_with_kills(config: Path, steps, writes: list[tuple[type, str]], max_delay: float,
                   seed: int = 2026) -> tuple[int, int]:
    """Every step is retried until one pass completes; returns (kills, kills
    right after a write)."""
    rng = random.Random(seed)
    kills = after_write = 0
    for now in steps:
        while True:
            die = rng.random() < 0.3
            pid = run_child(config, now, writes if die else [])
            if not die:
                time.sleep(rng.uniform(0, max_delay))
                try:
                    os.kill(pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
            _, status = os.waitpid(pid, 0)
            if os.WIFSIGNALED(status):
                kills += 1
                after_write += die
                continue
            assert os.WEXITSTATUS(status) == 0, f"pass at {now} failed"
            break
    return kills, after_write


def local_outcome(world: World):
    events = sorted(read_followup_ics(p.read_bytes()) for p in world.own_events())
    return events, sorted(p.read_bytes() for p in world.drafts_list())


def test_killed_at_random_moments_every_follow_up_exists_exactly_once(tmp_path):
    from connectors.local.calendar import LocalCalendar
    from connectors.local.maildir import MaildirMailbox

    worlds = []
    for name in ("calm", "crashy"):
        w = World(tmp_path / name)
        populate(w.add, 30)
        w.deliver("reply", REPLY)
        worlds.append(w)
    calm, crashy = worlds
    started = time.monotonic()
    for now in timeline():
        assert calm.once(now) == 0
    pass_time = (time.monotonic() - started) / len(timeline())
    expected = local_outcome(calm)
    assert len(expected[0]) >= 5 and len(expected[1]) > 20  # one call per company, many drafts

    writes = [(LocalCalendar, "create_event"), (MaildirMailbox, "create_draft"), (LocalCalendar, "delete_event")]
    # kill somewhere inside a pass, however fast this machine is
    kills, after_write = run_with_kills(crashy.config, timeline(), writes, max_delay=0.6 * pass_time)
    print(f"{kills} kills, {after_write} of them right after a provider write")
    assert kills >= 200 and after_write >= 20, (kills, after_write)
    assert local_outcome(crashy) == expected


def _server_world(tmp_path: Path):
    """A Radicale calendar and a Dovecot mailbox of a new user, and a config."""
    from tests.contract.caldav_harness import RadicaleCalendarHarness
    from tests.contract.imap_harness import DovecotMailboxHarness

    for sub in ("cal", "box"):
        (tmp_path / sub).mkdir(parents=True)
    cal, box = RadicaleCalendarHarness(tmp_path / "cal"), DovecotMailboxHarness(tmp_path / "box")

    def toml(options: dict) -> str:
        return "\n".join(f"{k} = {v!r}".replace("'", '"') if isinstance(v, str) else f"{k} = {v}"
                         for k, v in options.items())

    config = tmp_path / "config.toml"
    config.write_text(f'[me]\nemail = "{ME}"\ntimezone = "America/New_York"\n\n'
                      f'[state]\npath = "{tmp_path / "state.sqlite3"}"\n\n'
                      f'[[calendars]]\nname = "work"\ntype = "caldav"\n{toml(cal.config())}\n\n'
                      f'[[mailboxes]]\nname = "mail"\ntype = "imap"\n{toml(box.config())}\n')
    populate(lambda name, ics: cal.add_source_event(ics), 8)
    box.deliver(REPLY)
    return cal, box, config


def _server_outcome(cal, box):
    connector = cal.make()
    events = sorted((i.key, i.start, i.end, i.title) for i in connector.list_own())
    client = box.server.connect(box.account)
    try:
        client.select_folder("Drafts", readonly=True)
        drafts = sorted(data[b"BODY[]"] for data in client.fetch(client.search(["ALL"]), ["BODY.PEEK[]"]).values())
    finally:
        client.logout()
    return events, [email.message_from_bytes(d)["X-Followup-Key"] for d in drafts], drafts


def test_killed_at_random_moments_on_radicale_and_dovecot(tmp_path):
    from tests.contract.caldav_harness import RadicaleCalendarHarness
    from tests.contract.imap_harness import DovecotMailboxHarness

    RadicaleCalendarHarness.require()
    DovecotMailboxHarness.require()
    from connectors.caldav import CalDAVCalendar
    from connectors.imap import ImapMailbox

    steps = timeline(days=30, hours=24)
    cal, box, config = _server_world(tmp_path / "calm")
    started = time.monotonic()
    for now in steps:
        assert cli.main(["--config", str(config), "run", "--once", "--now", now.isoformat()]) == 0
    pass_time = (time.monotonic() - started) / len(steps)
    expected = _server_outcome(cal, box)
    assert expected[0] and len(expected[2]) > 5

    cal2, box2, config2 = _server_world(tmp_path / "crashy")
    writes = [(CalDAVCalendar, "create_event"), (ImapMailbox, "create_draft"), (CalDAVCalendar, "delete_event")]
    # kill somewhere inside a pass, however fast this machine is
    kills, after_write = run_with_kills(config2, steps, writes, max_delay=0.6 * pass_time)
    print(f"{kills} kills on the servers, {after_write} right after a write")
    assert kills >= 30 and after_write >= 3, (kills, after_write)
    got = _server_outcome(cal2, box2)
    # the same follow-ups, keyed alike (the calendars' names are the same)
    assert got[0] == expected[0] and got[1] == expected[1] and got[2] == expected[2]
