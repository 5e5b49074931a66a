"""Durations and times of day as written in the configuration."""

from datetime import time, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from daemon.app.durations import format_duration, parse_duration, parse_time_of_day


@pytest.mark.parametrize("text, expected", [
    ("90s", timedelta(seconds=90)),
    ("15m", timedelta(minutes=15)),
    ("1h", timedelta(hours=1)),
    ("3d", timedelta(days=3)),
    ("2w", timedelta(weeks=2)),
    ("1h30m", timedelta(hours=1, minutes=30)),
    ("1w2d3h4m5s", timedelta(weeks=1, days=2, hours=3, minutes=4, seconds=5)),
    (" 1h 30m ", timedelta(hours=1, minutes=30)),
    ("0s", timedelta(0)),
    ("36h", timedelta(hours=36)),
])
def test_parse_duration(text, expected):
    assert parse_duration(text) == expected


@pytest.mark.parametrize("text, says", [
    ("", "is not a duration: write a number and a unit"),
    ("15", "is not a duration: write a number and a unit"),
    ("1h30", "is not a duration"),
    ("-5m", "is not a duration"),
    ("1.5h", "is not a duration"),
    ("3y", 'unknown unit "y"'),
    ("5 minutes", 'did you mean "5m"?'),
    ("2 days", 'did you mean "2d"?'),
    ("1 hour 30 mins", 'did you mean "1h30m"?'),
    ("1H", 'did you mean "1h"?'),
    ("1h1h", 'unit "h" appears twice'),
    ("30m1h", "put larger units first"),
    ("999999999999w", "too long"),
])
def test_parse_duration_rejects_with_help(text, says):
    with pytest.raises(ValueError) as info:
        parse_duration(text)
    assert says in str(info.value)


def test_parse_duration_rejects_non_strings():
    with pytest.raises(ValueError, match="not a duration"):
        parse_duration(60)  # type: ignore[arg-type]


@pytest.mark.parametrize("td, text", [
    (timedelta(0), "0s"),
    (timedelta(seconds=90), "1m30s"),
    (timedelta(minutes=15), "15m"),
    (timedelta(hours=1, minutes=30), "1h30m"),
    (timedelta(days=1), "1d"),
    (timedelta(days=3), "3d"),
    (timedelta(days=14), "2w"),
    (timedelta(days=10, seconds=5), "1w3d5s"),
])
def test_format_duration(td, text):
    assert format_duration(td) == text


@pytest.mark.parametrize("td", [timedelta(seconds=-1), timedelta(milliseconds=1500)])
def test_format_duration_rejects_what_cannot_be_written(td):
    with pytest.raises(ValueError):
        format_duration(td)


@given(st.integers(min_value=0, max_value=10**10))
def test_format_then_parse_round_trips(seconds):
    td = timedelta(seconds=seconds)
    assert parse_duration(format_duration(td)) == td


@given(st.integers(min_value=0, max_value=10**10))
def test_format_is_canonical(seconds):
    text = format_duration(timedelta(seconds=seconds))
    assert format_duration(parse_duration(text)) == text


@pytest.mark.parametrize("text, expected", [
    ("10:00", time(10, 0)),
    ("09:30", time(9, 30)),
    ("9:30", time(9, 30)),
    ("00:00", time(0, 0)),
    ("23:59", time(23, 59)),
])
def test_parse_time_of_day(text, expected):
    assert parse_time_of_day(text) == expected


@pytest.mark.parametrize("text", ["24:00", "10:60", "10", "10:0", "10:00:00", "10am", "", "ten"])
def test_parse_time_of_day_rejects(text):
    with pytest.raises(ValueError, match='HH:MM on a 24-hour clock'):
        parse_time_of_day(text)
