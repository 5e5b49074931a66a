"""When each follow-up is due. Pure: no I/O, no clock; ``now`` never enters.

Every function takes the user's time zone (and a ``BusinessDays`` calendar)
as arguments and returns timezone-aware datetimes in that zone. Local times
of day are kept across DST changes: a call at 10:00 is at 10:00 local on
either side of the change.
"""

from __future__ import annotations

from collections.abc import Container
from datetime import date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

from daemon.settings import FollowUpCallPolicy, HandwrittenNotePolicy, StatusCheckPolicy, ThankYouPolicy

# An all-day interview has no end time; treat it as over at the end of a
# working day so the thank-you is not drafted at midnight.
ALL_DAY_END = time(17, 0)


class BusinessDays:
    """Weekdays that are not public holidays.

    ``holidays`` is any container of dates (the ``holidays`` package's
    country calendars are), so tests can pass a plain set.
    """

    def __init__(self, holidays: Container[date] = frozenset(), weekend: tuple[int, ...] = (5, 6)):
        self.holidays = holidays
        self.weekend = weekend
        # answers so far: a holiday calendar's lookup is slow, and a plan asks
        # about the same few weeks thousands of times
        self._known: dict[date, bool] = {}

    @classmethod
    def for_country(cls, country: str, subdivision: str = "") -> "BusinessDays":
        if not country:
            return cls()
        import holidays as holidays_pkg  # imported here: building the table is the slow part

        return cls(holidays_pkg.country_holidays(country, subdiv=subdivision or None))

    def is_business_day(self, day: date) -> bool:
        known = self._known.get(day)
        if known is None:
            known = self._known[day] = day.weekday() not in self.weekend and day not in self.holidays
        return known

    def nth_after(self, day: date, n: int) -> date:
        """Business day ``n`` after ``day``: business day 1 is the first
        business day strictly after ``day``."""
        count = 0
        while count < n:
            day += timedelta(days=1)
            if self.is_business_day(day):
                count += 1
        return day

    def on_or_after(self, day: date) -> date:
        while not self.is_business_day(day):
            day += timedelta(days=1)
        return day


def local_at(day: date, at: time, tz: ZoneInfo) -> datetime:
    """``day`` at wall-clock ``at`` in ``tz``. A time that does not exist
    (inside a spring-forward gap) moves forward by the gap, as clocks do."""
    naive = datetime.combine(day, at)
    aware = naive.replace(tzinfo=tz)
    # Round-trip through UTC: a non-existent wall time comes back shifted.
    return aware.astimezone(timezone.utc).astimezone(tz)


def interview_end(end: datetime, all_day: bool, tz: ZoneInfo) -> datetime:
    """The moment an interview is over. ``end`` of an all-day event is local
    midnight after its last day; it is over at 17:00 local on that last day."""
    if not all_day:
        return end.astimezone(tz)
    last_day = end.astimezone(tz).date() - timedelta(days=1)
    return local_at(last_day, ALL_DAY_END, tz)


def thank_you_due(end: datetime, policy: ThankYouPolicy, tz: ZoneInfo) -> datetime:
    return (end.astimezone(timezone.utc) + policy.delay).astimezone(tz)


def thank_you_expires(due: datetime, policy: ThankYouPolicy) -> datetime:
    return due + policy.expire_after


def handwritten_note_due(start: datetime, policy: HandwrittenNotePolicy,
                         days: BusinessDays, tz: ZoneInfo) -> datetime:
    day = days.nth_after(start.astimezone(tz).date(), policy.business_day)
    return local_at(day, policy.at, tz)


def follow_up_call_due(start: datetime, decision_by: date | None, policy: FollowUpCallPolicy,
                       days: BusinessDays, tz: ZoneInfo) -> datetime:
    """Business day N after the interview's local date; but when the
    interviewer named a decision date on or after that day, the first
    business day after it (give them the time they asked for)."""
    day = days.nth_after(start.astimezone(tz).date(), policy.business_day)
    if decision_by is not None and decision_by >= day:
        day = days.nth_after(decision_by, 1)
    return local_at(day, policy.at, tz)


def status_check_due(call_day: date, policy: StatusCheckPolicy,
                     days: BusinessDays, tz: ZoneInfo) -> datetime:
    day = days.on_or_after(call_day + timedelta(days=policy.days_after_call))
    return local_at(day, policy.at, tz)
