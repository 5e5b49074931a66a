"""The policy table's times, with named DST and holiday cases."""

from datetime import date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest

from daemon.plan import timing
from daemon.settings import FollowUpCallPolicy, HandwrittenNotePolicy, StatusCheckPolicy, ThankYouPolicy

NY = ZoneInfo("America/New_York")
BERLIN = ZoneInfo("Europe/Berlin")
US = timing.BusinessDays.for_country("US")
NONE = timing.BusinessDays()


def test_business_day_one_is_the_first_business_day_after_the_interview():
    # Friday interview: business day 1 is Monday
    assert NONE.nth_after(date(2026, 11, 6), 1) == date(2026, 11, 9)
    assert NONE.nth_after(date(2026, 11, 9), 5) == date(2026, 11, 16)


def test_thanksgiving_shifts_business_day_five():
    # Monday 2026-11-23: +5 business days skips Thursday 26 (Thanksgiving)
    assert NONE.nth_after(date(2026, 11, 23), 5) == date(2026, 11, 30)
    assert US.nth_after(date(2026, 11, 23), 5) == date(2026, 12, 1)
    due = timing.follow_up_call_due(datetime(2026, 11, 23, 14, tzinfo=NY), None,
                                    FollowUpCallPolicy(), US, NY)
    assert due == datetime(2026, 12, 1, 10, 0, tzinfo=NY)


def test_subdivision_holidays_count():
    bavaria = timing.BusinessDays.for_country("DE", "BY")
    berlin = timing.BusinessDays.for_country("DE", "BE")
    # 6 January (Epiphany) is a holiday in Bavaria, not in Berlin
    assert not bavaria.is_business_day(date(2027, 1, 6))
    assert berlin.is_business_day(date(2027, 1, 6))


def test_thank_you_is_one_hour_after_the_end_and_expires_three_days_later():
    end = datetime(2026, 11, 10, 15, 0, tzinfo=NY)
    due = timing.thank_you_due(end, ThankYouPolicy(), NY)
    assert due == datetime(2026, 11, 10, 16, 0, tzinfo=NY)
    assert timing.thank_you_expires(due, ThankYouPolicy()) == due + timedelta(days=3)


@pytest.mark.parametrize("name, interview, expected_day", [
    # fall back: 2026-11-01 in New York; the call lands after the change
    ("ny_fall_back", datetime(2026, 10, 29, 11, tzinfo=NY), date(2026, 11, 5)),
    # spring forward: 2027-03-14 in New York
    ("ny_spring_forward", datetime(2027, 3, 10, 11, tzinfo=NY), date(2027, 3, 17)),
    # Europe changes on other dates: 2026-10-25 and 2027-03-28
    ("berlin_fall_back", datetime(2026, 10, 22, 9, tzinfo=BERLIN), date(2026, 10, 29)),
    ("berlin_spring_forward", datetime(2027, 3, 25, 9, tzinfo=BERLIN), date(2027, 4, 1)),
])
def test_ten_oclock_stays_ten_oclock_across_dst(name, interview, expected_day):
    tz = interview.tzinfo
    due = timing.follow_up_call_due(interview, None, FollowUpCallPolicy(), NONE, tz)
    assert due.date() == expected_day
    assert due.astimezone(tz).time() == time(10, 0)
    before = interview.utcoffset()
    assert due.utcoffset() != before  # the change really happened in between


def test_local_time_inside_the_spring_gap_moves_forward():
    moment = timing.local_at(date(2027, 3, 14), time(2, 30), NY)
    assert moment.astimezone(NY).time() == time(3, 30)


def test_decision_date_moves_the_call_after_it():
    start = datetime(2026, 11, 2, 10, tzinfo=NY)  # Monday
    normal = timing.follow_up_call_due(start, None, FollowUpCallPolicy(), NONE, NY)
    assert normal.date() == date(2026, 11, 9)
    later = timing.follow_up_call_due(start, date(2026, 11, 16), FollowUpCallPolicy(), NONE, NY)
    assert later == datetime(2026, 11, 17, 10, tzinfo=NY)
    # a decision date on a Friday: the call is on Monday
    friday = timing.follow_up_call_due(start, date(2026, 11, 20), FollowUpCallPolicy(), NONE, NY)
    assert friday.date() == date(2026, 11, 23)
    # an earlier decision date changes nothing
    early = timing.follow_up_call_due(start, date(2026, 11, 4), FollowUpCallPolicy(), NONE, NY)
    assert early == normal


def test_status_check_seven_days_after_the_call_moved_to_a_business_day():
    policy = StatusCheckPolicy()
    # call Monday 2026-11-16 -> Monday 23rd at 09:00
    assert timing.status_check_due(date(2026, 11, 16), policy, US, NY) == datetime(2026, 11, 23, 9, tzinfo=NY)
    # call Thursday 2026-11-19 -> Thursday 26th is Thanksgiving -> Friday 27th
    assert timing.status_check_due(date(2026, 11, 19), policy, US, NY).date() == date(2026, 11, 27)
    # call on Saturday's seventh day: moved to Monday
    assert timing.status_check_due(date(2026, 11, 14), policy, NONE, NY).date() == date(2026, 11, 23)


def test_handwritten_note_on_business_day_one():
    due = timing.handwritten_note_due(datetime(2026, 11, 6, 15, tzinfo=NY), HandwrittenNotePolicy(), NONE, NY)
    assert due == datetime(2026, 11, 9, 10, tzinfo=NY)


def test_interview_date_is_local_not_utc():
    # 21:00 in New York on Monday is already Tuesday in UTC
    start = datetime(2026, 11, 2, 21, tzinfo=NY)
    due = timing.follow_up_call_due(start, None, FollowUpCallPolicy(business_day=1), NONE, NY)
    assert due.date() == date(2026, 11, 3)


def test_all_day_interview_ends_at_five_pm_on_its_last_day():
    end = datetime(2026, 11, 12, 0, 0, tzinfo=NY)  # exclusive end: the 11th was the last day
    assert timing.interview_end(end, True, NY) == datetime(2026, 11, 11, 17, 0, tzinfo=NY)
    timed = datetime(2026, 11, 12, 15, 30, tzinfo=timezone.utc)
    assert timing.interview_end(timed, False, NY) == timed
