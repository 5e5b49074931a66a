"""``parse_ics`` over a corpus of real-world and deliberately broken files.

The corpus lives next to the repository (``../shared/corpus/ics-wild``) and
is not part of it; without it these tests are skipped.

What is checked for every file: no exception, every problem names the file,
every event has aware times with ``start <= end`` (a timed event without
DTEND and DURATION lasts zero seconds, as RFC 5545 says, so ``start == end``
is allowed) and lies in the window. Files that plain icalendar +
recurring-ical-events cannot read at all must still give their readable
events.
"""

from __future__ import annotations

from datetime import datetime, timezone
from functools import lru_cache
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from daemon.ics.ical import parse_ics

CORPUS = Path(__file__).parents[1].parent / "shared" / "corpus" / "ics-wild"
UTC = timezone.utc
WIDE = (datetime(1970, 1, 1, tzinfo=UTC), datetime(2040, 1, 1, tzinfo=UTC))
# the 1.6 MB real calendar: one year is plenty and keeps the suite quick
NARROW = {"recurring-ical-events/issue42.ics": (datetime(2019, 1, 1, tzinfo=UTC),
                                                datetime(2020, 1, 1, tzinfo=UTC))}
TZ = ZoneInfo("Europe/Berlin")

# files that the libraries alone reject as a whole, with events we can read
PARTLY_BROKEN = {
    "icalendar/tests__calendars__issue_104_broken_calendar.ics": 1,
    "icalendar/tests__calendars__created_calendar_with_unicode_fields.ics": 2,
    "icalendar/tests__calendars__issue_722_missing_timezones.ics": 2,
    "icalendar/tests__calendars__pacific_fiji.ics": 1,
    "icalendar/tests__calendars__america_new_york_forward_reference.ics": 1,
}


def _files() -> list[str]:
    if not CORPUS.is_dir():
        return []
    return sorted(str(p.relative_to(CORPUS)) for p in CORPUS.rglob("*") if p.is_file()
                  and p.suffix.lower() == ".ics")


@lru_cache(maxsize=None)
def _read(name: str):
    window = NARROW.get(name, WIDE)
    return parse_ics((CORPUS / name).read_bytes(), name, *window, TZ), window


@pytest.fixture(autouse=True)
def _need_corpus():
    if not CORPUS.is_dir():
        pytest.skip(f"corpus not found at {CORPUS}")


@pytest.mark.slow  # 294 files, a few of them large
@pytest.mark.parametrize("name", _files() or ["(no corpus)"])
def test_file_is_read_without_exceptions(name):
    (events, problems), (start, end) = _read(name)
    assert all(p.source == name for p in problems)
    assert all(p.severity in ("error", "warning") and p.message for p in problems)
    for event in events:
        assert event.source == name and event.uid
        assert event.start.tzinfo is not None and event.end.tzinfo is not None
        assert event.start <= event.end
        assert event.start < end and (event.end > start or event.start == start)
        if event.recurrence_id is not None:
            assert event.recurrence_id.utcoffset() is not None


@pytest.mark.parametrize("name, count", sorted(PARTLY_BROKEN.items()))
def test_partly_broken_files_still_give_their_events(name, count):
    (events, problems), _ = _read(name)
    assert len(events) >= count


def test_the_big_calendar_is_read_whole():
    (events, problems), _ = _read("recurring-ical-events/issue42.ics")
    assert len(events) > 100
    assert not [p for p in problems if p.severity == "error"]
