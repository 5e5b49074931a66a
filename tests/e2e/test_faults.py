"""A 60-day run on a fake clock while a fifth of all provider calls fail
(rate limits with Retry-After, server errors, timeouts, resets; some after
the write went through): every follow-up still happens once, close to its
policy time, and nothing is lost."""

from __future__ import annotations

import random
import sqlite3
import threading
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from connectors.local.calendar import LocalCalendar
from connectors.local.maildir import MaildirMailbox
from daemon.app import config
from daemon.app.engine import Engine
from daemon.app.runner import Runner
from daemon.errors import TransientError
from daemon.ics.icalout import read_followup_ics

from .world import ME, FakeClock, World, ics_event

NY = ZoneInfo("America/New_York")
FIRST = datetime(2026, 10, 20, 9, 0, tzinfo=NY)  # the DST change and Thanksgiving fall inside
FAULTS = [
    TransientError("429 Too Many Requests", retry_after=120),
    TransientError("500 Internal Server Error"),
    TransientError("503 Service Unavailable", retry_after=30),
    TransientError("timed out"),
    TransientError("connection reset by peer"),
]
CALLS = {
    LocalCalendar: ["scan", "list_own", "find_own", "create_event", "update_event", "delete_event"],
    MaildirMailbox: ["create_draft", "find_draft", "delete_draft", "find_replies"],
}


def populate(world: World, n: int = 50, seed: int = 11) -> None:
    rng = random.Random(seed)
    for i in range(n):
        company = f"Company{i % 17}"
        start = FIRST + timedelta(days=rng.randrange(0, 40), hours=rng.randrange(0, 7))
        people = [(f"P{i}.{k}", f"p{i}.{k}@{company.lower()}.example", "ACCEPTED") for k in range(1 + i % 2)]
        world.add(f"iv{i}", ics_event(f"iv{i}@x", f"Interview - {company}", start, 45, organizer=people[0][:2],
                                      attendees=[*people, ("Me", ME, "ACCEPTED")]))


def flaky(monkeypatch, rng: random.Random, share: float, log: list) -> None:
    for cls, names in CALLS.items():
        for name in names:
            real = getattr(cls, name)

            def wrapper(self, *args, _real=real, _name=name, **kwargs):
                if rng.random() < share:
                    fault = rng.choice(FAULTS)
                    log.append(_name)
                    if rng.random() < 0.3 and _name.startswith(("create", "update", "delete")):
                        _real(self, *args, **kwargs)  # the write happened, the answer was lost
                    raise fault
                return _real(self, *args, **kwargs)

            monkeypatch.setattr(cls, name, wrapper)


def run(world: World, days: int) -> dict[str, datetime]:
    stop = threading.Event()
    clock = FakeClock(FIRST - timedelta(hours=1), FIRST + timedelta(days=days), stop)
    runner = Runner(load=lambda: config.load(world.config), make_engine=Engine, clock=clock, stop=stop)
    runner.run()
    db = sqlite3.connect(world.root / "state.sqlite3")
    try:
        return {key: (datetime.fromisoformat(due), datetime.fromisoformat(at), state)
                for key, due, at, state in db.execute("SELECT key, due, updated_at, state FROM actions")}
    finally:
        db.close()


def files(world: World):
    """What the user sees: each follow-up event's key, times and title, and
    each draft's bytes but its Date (the moment it was written, later when
    calls failed)."""
    import re

    events = sorted(read_followup_ics(p.read_bytes()) for p in world.own_events())
    drafts = sorted(re.sub(rb"(?m)^Date: [^\n]*\n", b"", p.read_bytes(), count=1)
                    for p in world.drafts_list())
    return events, drafts


@pytest.fixture
def worlds(tmp_path):
    made = []
    for name in ("calm", "flaky"):
        w = World(tmp_path / name, extra_config='[scan]\ninterval = "6h"\n')
        populate(w)
        made.append(w)
    return made


@pytest.mark.slow
def test_sixty_days_with_a_fifth_of_calls_failing(worlds, monkeypatch):
    calm, stormy = worlds
    calm_records = run(calm, 60)
    expected = files(calm)
    assert len(expected[1]) > 60

    failures: list[str] = []
    flaky(monkeypatch, random.Random(5), 0.2, failures)
    records = run(stormy, 60)
    assert len(failures) > 100
    assert files(stormy) == expected  # once each, as planned: no duplicate, nothing missing
    assert {k: v[2] for k, v in records.items()} == {k: v[2] for k, v in calm_records.items()}
    late = max(written - calm_records[key][1] for key, (_, written, state) in records.items() if state == "done")
    assert late <= timedelta(hours=6)  # backoff is capped at an hour per try
