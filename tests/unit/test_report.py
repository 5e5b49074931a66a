"""``followup status`` as a job seeker reads it: each hiring process on one
line, the company as written, no empty columns."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

from daemon.app.report import status_text
from daemon.plan.records import Record

TZ = ZoneInfo("Europe/Berlin")
NOW = datetime(2026, 11, 20, 9, tzinfo=timezone.utc)


def rec(key, kind, due, state, process="initech / product manager", interview="cal\x1fa\x1f", **kw):
    return Record(key=key, kind=kind, calendar="cal", target="mail", interview=interview, process=process,
                  due=due, state=state, **kw)


def test_each_hiring_process_is_one_line_with_its_next_step():
    records = [
        rec("t", "thank_you_email", NOW - timedelta(days=2), "done", recipient="sam@initech.example"),
        rec("c", "follow_up_call", NOW + timedelta(days=3), "done"),
        rec("s", "status_check_email", NOW + timedelta(days=10), "planned"),
        rec("t2", "thank_you_email", NOW - timedelta(days=9), "done", process="acme",
            interview="cal\x1fb\x1f"),
        rec("s2", "status_check_email", NOW - timedelta(days=1), "cancelled", process="acme",
            interview="cal\x1fb\x1f", cause="reply", reason="jane replied"),
    ]
    out = status_text(records, {}, TZ, NOW, names={"initech / product manager": "Initech / Product Manager",
                                                   "acme": "Acme Corp"})
    lines = out.splitlines()
    start = lines.index("Hiring processes (2):")
    assert lines[start + 1] == ("  Initech / Product Manager: 1 round · last: thank-you email Wed 2026-11-18 10:00"
                                " · follow-up call in your calendar for Mon 2026-11-23 10:00"
                                " · next: status check email Mon 2026-11-30 10:00")
    assert lines[start + 2] == ("  Acme Corp: 1 round · last: thank-you email Wed 2026-11-11 10:00 · "
                                "the company answered")
    assert "initech / product manager" not in out
    assert not [line for line in lines if line != line.rstrip()]  # no empty column left dangling
