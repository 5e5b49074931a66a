"""The morning reminder of a follow-up call: pure, no I/O.

A call in the calendar has its event's own alarm (minutes before). A job
seeker also wants to know in the morning that today is the day, to read the
notes and find a quiet room: one notification from ``MORNING`` on the call's
day (or ``EARLY`` before a call that starts sooner), until the call starts.
A call missed while the computer slept is not reminded of afterwards.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from daemon.kinds import Kind, RecordState
from daemon.plan.records import Record

MORNING = time(8, 0)
EARLY = timedelta(hours=1)


def remind_at(call_start: datetime, tz: ZoneInfo) -> datetime:
    """When the reminder of a call starting at ``call_start`` is due."""
    local = call_start.astimezone(tz)
    morning = datetime.combine(local.date(), MORNING, tzinfo=tz)
    return min(morning, call_start - EARLY)


def due_now(call_start: datetime, now: datetime, tz: ZoneInfo) -> bool:
    """Whether the reminder of a call starting at ``call_start`` is due at ``now``."""
    return remind_at(call_start, tz) <= now < call_start


def calls_today(records: Iterable[Record], now: datetime, tz: ZoneInfo,
                told: frozenset[str]) -> tuple[list[Record], datetime | None]:
    """The calls to remind of at ``now`` (in the calendar, reminder due, not
    started, not told yet), and when the next reminder falls due (None when
    there is none to come)."""
    due, later = [], []
    for rec in records:
        if rec.kind != Kind.CALL or rec.state != RecordState.DONE or rec.key in told or rec.due <= now:
            continue
        at = remind_at(rec.due, tz)
        (due if at <= now else later).append((at, rec))
    due.sort(key=lambda pair: pair[1].due)
    return [rec for _, rec in due], min((at for at, _ in later), default=None)
