"""When the morning reminder of a follow-up call falls due (pure)."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

from daemon.plan.planner import Record
from daemon.plan.reminders import calls_today, remind_at

BERLIN = ZoneInfo("Europe/Berlin")


def call(due, key="c1", state="done", kind="follow_up_call"):
    return Record(key=key, kind=kind, calendar="cal", target="cal", interview="i", process="p",
                  due=due, state=state)


def test_a_morning_call_is_reminded_of_at_eight():
    start = datetime(2026, 11, 19, 10, tzinfo=BERLIN)
    assert remind_at(start, BERLIN) == datetime(2026, 11, 19, 8, tzinfo=BERLIN)


def test_an_early_call_is_reminded_of_an_hour_before():
    start = datetime(2026, 11, 19, 7, 30, tzinfo=BERLIN)
    assert remind_at(start, BERLIN) == datetime(2026, 11, 19, 6, 30, tzinfo=BERLIN)


def test_the_morning_is_the_users_morning_across_a_clock_change():
    # 2026-10-25: Berlin goes from UTC+2 to UTC+1 at 03:00
    start = datetime(2026, 10, 25, 9, 0, tzinfo=timezone.utc)  # 10:00 in Berlin
    assert remind_at(start, BERLIN) == datetime(2026, 10, 25, 8, tzinfo=BERLIN)
    assert remind_at(start, BERLIN).utcoffset() == timedelta(hours=1)


def test_which_calls_are_due_and_when_the_next_is():
    now = datetime(2026, 11, 19, 8, 30, tzinfo=BERLIN)
    today = call(now.replace(hour=11), "today")
    told = call(now.replace(hour=12), "told")
    tomorrow = call(now.replace(hour=11) + timedelta(days=1), "tomorrow")
    started = call(now - timedelta(minutes=5), "started")
    cancelled = call(now.replace(hour=13), "cancelled", state="cancelled")
    email = call(now.replace(hour=14), "email", kind="status_check_email")
    due, next_at = calls_today([tomorrow, told, today, started, cancelled, email], now, BERLIN,
                               frozenset({"told"}))
    assert [r.key for r in due] == ["today"]
    assert next_at == datetime(2026, 11, 20, 8, tzinfo=BERLIN)


def test_a_call_missed_while_asleep_is_not_reminded_of_afterwards():
    start = datetime(2026, 11, 19, 10, tzinfo=BERLIN)
    assert calls_today([call(start)], start + timedelta(minutes=1), BERLIN, frozenset()) == ([], None)
