"""Hostile and runaway recurrences: an invitation is enough to put any RRULE
into a calendar. Each fixture in ``tests/fixtures/ics/recurrence_*.ics``
holds one such series beside an ordinary interview at Initech, which must
always be read and planned."""

from __future__ import annotations

import tracemalloc
from dataclasses import replace
from datetime import datetime, timedelta, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from daemon.drafts.compose import Composer
from daemon.ics import recurrence
from daemon.ics.ical import parse_ics
from daemon.judge.detection import Interview, classify, judge_series
from daemon.model import Attendee
from daemon.plan import planner, timing
from daemon.plan.planner import CALL, NOTE, STATUS, THANK_YOU, PlanInput
from daemon.settings import Detection, Me, Policy

FIXTURES = Path(__file__).parents[1] / "fixtures" / "ics"
TZ = ZoneInfo("Europe/Berlin")
NOW = datetime(2026, 12, 7, tzinfo=timezone.utc)
ME = Me(name="Alex Morgan", email="me@example.org", timezone="Europe/Berlin")


def read(name: str, start=NOW - timedelta(days=30), end=NOW + timedelta(days=60)):
    return parse_ics((FIXTURES / f"recurrence_{name}.ics").read_bytes(), f"{name}.ics", start, end, TZ)


def interviews(events) -> list[Interview]:
    found = [classify(e, "cal", Detection(), ME.addresses, TZ) for e in events]
    return [f for f in found if isinstance(f, Interview)]


@pytest.mark.parametrize("name, why", [
    ("secondly_forever", "repeats more than 1000 times in the scan window"),
    ("hourly_since_1990", "repeats more than 50000 times since it began on 1990-01-01"),
    ("never_matches", "takes more than 1 seconds to expand"),
])
def test_a_runaway_series_is_one_problem_naming_it_and_the_rest_is_read(name, why):
    events, problems = read(name)
    assert [e.uid for e in events] == ["single@initech.example"]
    (problem,) = problems
    assert problem.uid == f"{name}@hostile.example"
    assert 'event "Interview with Globex (Staff Engineer)"' in problem.message
    assert why in problem.message and problem.message.endswith("it was skipped")


@pytest.mark.slow  # each runs into the time limit
@pytest.mark.parametrize("name", ["secondly_forever", "hourly_since_1990", "never_matches"])
def test_a_runaway_series_costs_little_memory(name):
    tracemalloc.start()  # slows the walk down: it may end by time rather than by count
    try:
        events, problems = read(name)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert len(events) == 1 and len(problems) == 1
    assert peak < 50 * 2**20  # not the gigabytes of an expanded SECONDLY series


def test_every_series_of_a_file_shares_one_time_budget(monkeypatch):
    monkeypatch.setattr(recurrence, "FILE_SECONDS", 0.0)
    events, problems = read("weekly_interview")
    assert [e.uid for e in events] == ["single@initech.example"]
    assert "the repeating events of this file already took 0 seconds" in problems[0].message


def test_a_long_daily_series_is_still_read():
    data = (FIXTURES / "recurrence_hourly_since_1990.ics").read_bytes().replace(b"FREQ=HOURLY", b"FREQ=DAILY")
    events, problems = parse_ics(data, "daily.ics", NOW - timedelta(days=30), NOW + timedelta(days=60), TZ)
    assert problems == []
    assert len([e for e in events if e.uid.startswith("hourly")]) == 90


def test_the_time_limit_leaves_no_timer_behind():
    import signal

    read("never_matches")
    assert signal.getitimer(signal.ITIMER_REAL) == (0.0, 0.0)
    assert signal.getsignal(signal.SIGALRM) in (signal.SIG_DFL, signal.SIG_IGN, None) or callable(
        signal.getsignal(signal.SIGALRM)) and signal.getsignal(signal.SIGALRM).__name__ != "ring"


@pytest.mark.parametrize("name, gap", [("minutely_600", "1 minute"), ("hourly_74", "1 hour")])
def test_a_series_that_repeats_within_a_day_is_no_interview(name, gap):
    events, problems = read(name)
    assert problems == []
    kept, ruled_out = judge_series(interviews(events))
    assert [iv.uid for iv in kept] == ["single@initech.example"]
    (one,) = ruled_out
    assert one.cause == "series" and f"it repeats every {gap}" in one.reason


def make_input(now, ivs, records=None):
    return PlanInput(now=now, tz=TZ, policy=Policy(), days=timing.BusinessDays(),
                     composer=Composer.load(ME, None), interviews=ivs, records=records or {},
                     mailbox_of={"cal": "mail"})


def settle(records, plan):
    for a in plan.actions:
        records[a.record.key] = a.record
    return records


def test_a_weekly_interview_series_is_one_process_with_one_thank_you():
    events, _ = read("weekly_interview")
    ivs, ruled_out = judge_series(interviews(events))
    assert not ruled_out
    globex = [iv for iv in ivs if iv.uid.startswith("weekly")]
    assert len(globex) == 4
    records: dict = {}
    written = []
    for day in range(40):  # pass after pass as the series goes on
        result = planner.plan(make_input(NOW + timedelta(days=day - 6), ivs, records))
        written += [(a.op, a.record.kind) for a in result.actions
                    if a.op.startswith("create") and a.record.interview.startswith("cal\x1fweekly")]
        settle(records, result)
    kinds = [kind for _, kind in written]
    assert kinds.count(THANK_YOU) == 1  # one interviewer, one series
    assert kinds.count(NOTE) == 0  # off by default
    assert kinds.count(CALL) <= 1 and kinds.count(STATUS) <= 1


def test_thank_yous_written_per_occurrence_before_are_not_written_again():
    events, _ = read("weekly_interview")
    ivs, _ = judge_series(interviews(events))
    first = min((iv for iv in ivs if iv.uid.startswith("weekly")), key=lambda iv: iv.start)
    old_key = planner.action_key("cal", first.uid, first.event.recurrence_id, THANK_YOU,
                                 "mallory@globex.example")
    old = planner.Record(key=old_key, kind=THANK_YOU, calendar="cal", target="mail",
                         interview=planner.interview_id("cal", first.uid, first.event.recurrence_id),
                         process="globex", due=first.end, state="done",
                         recipient="mallory@globex.example", ref="r", message_id="<m@x>")
    result = planner.plan(make_input(first.end + timedelta(days=1), ivs, {old_key: old}))
    assert not [a for a in result.actions if a.op == "create_draft" and a.record.kind == THANK_YOU
                and a.record.interview.startswith("cal\x1fweekly")]


def test_a_crowd_is_not_a_panel():
    events, _ = read("weekly_interview")
    single = next(e for e in events if e.uid == "single@initech.example")
    crowd = tuple(Attendee(email=f"person{i}@initech.example", name=f"Person {i}", partstat="ACCEPTED")
                  for i in range(500))
    event = replace(single, attendees=single.attendees + crowd)
    (iv,) = interviews([event])
    result = planner.plan(make_input(iv.start - timedelta(days=1), [iv]))
    planned = [(o.kind, o.to) for o in result.outcomes if o.kind in (THANK_YOU, STATUS)]
    assert sorted(planned) == [(STATUS, ("sam@initech.example",)), (THANK_YOU, ("sam@initech.example",))]

