"""Writing the daemon's own follow-up events as iCalendar, and reading them back.

A follow-up is a VCALENDAR with one VEVENT: times in UTC, no attendees or
organizer (writing it notifies nobody), ``TRANSP:TRANSPARENT`` (it does not
block the user's time) and ``X-FOLLOWUP-KEY`` naming it for the core.

Titles and descriptions come from other people's calendars. icalendar escapes
line breaks, commas, semicolons and backslashes in TEXT values; on top of
that every line break is made a plain LF first and other control characters
are dropped, so no title can start a new content line of its own.
"""

from __future__ import annotations

import re
from datetime import date, datetime, time, timedelta, timezone

import icalendar

from daemon.ics.ical import FOLLOWUP_KEY, own_key
from daemon.model import FollowupEvent

PRODID = "-//interview-followup//followup//EN"
UTC = timezone.utc

# C0 controls except TAB and LF, DEL, and the Unicode line/paragraph separators
_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f\u2028\u2029]")


def build_followup_ics(event: FollowupEvent, uid: str, dtstamp: datetime) -> bytes:
    """The iCalendar bytes of a follow-up event.

    The same arguments always give the same bytes. Raises ``ValueError`` if
    a datetime is naive.
    """
    calendar = icalendar.Calendar()
    calendar.add("PRODID", PRODID)
    calendar.add("VERSION", "2.0")
    vevent = icalendar.Event()
    vevent.add("UID", _clean(uid))
    vevent.add("DTSTAMP", _as_utc(dtstamp))
    vevent.add("DTSTART", _as_utc(event.start))
    vevent.add("DTEND", _as_utc(event.end))
    vevent.add("SUMMARY", _clean(event.title))
    vevent.add("DESCRIPTION", _clean(event.description))
    # VALUE=TEXT makes readers unescape the key like any other text
    vevent.add(FOLLOWUP_KEY, _clean(event.key), parameters={"VALUE": "TEXT"})
    vevent.add("TRANSP", "TRANSPARENT")
    if event.reminder_minutes is not None:
        alarm = icalendar.Alarm()
        alarm.add("ACTION", "DISPLAY")
        alarm.add("DESCRIPTION", _clean(event.title) or "Reminder")
        alarm.add("TRIGGER", timedelta(minutes=-event.reminder_minutes))
        vevent.add_component(alarm)
    calendar.add_component(vevent)
    return calendar.to_ical()


def followup_uid(data: bytes) -> str | None:
    """The UID of the follow-up in ``data``, to keep it when the follow-up
    is rewritten (a changed UID reads as a deletion and a new event to
    every client and sync tool)."""
    try:
        for top in icalendar.Calendar.from_ical(data, multiple=True):
            for vevent in top.walk("VEVENT"):
                if own_key(vevent) is not None and vevent.get("UID"):
                    return str(vevent.get("UID"))
    except Exception:  # noqa: BLE001 - unreadable: a new UID is made
        return None
    return None


def read_followup_ics(data: bytes) -> tuple[str, datetime, datetime, str] | None:
    """``(key, start, end, title)`` of a follow-up written by
    ``build_followup_ics`` (and possibly edited since in a calendar app), or
    None for anything that is not a readable follow-up. Times are aware;
    floating times and dates are read as UTC."""
    try:
        components = icalendar.Calendar.from_ical(data, multiple=True)
        for top in components:
            for vevent in top.walk("VEVENT"):
                key = own_key(vevent)
                if key is None:
                    continue
                start = _read_time(vevent.get("DTSTART"))
                if start is None:
                    return None
                end = _read_time(vevent.get("DTEND"))
                if end is None:
                    duration = vevent.get("DURATION")
                    end = start + duration.dt if duration is not None else start
                title = vevent.get("SUMMARY")
                return key, start, max(end, start), "" if title is None else str(title)
    except Exception:
        return None
    return None


def _clean(text: str) -> str:
    text = str(text).replace("\r\n", "\n").replace("\r", "\n")
    return _CONTROL.sub("", text)


def _as_utc(value: datetime) -> datetime:
    if not isinstance(value, datetime) or value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"follow-up times must be timezone-aware datetimes, got {value!r}")
    return value.astimezone(UTC)


def _read_time(prop) -> datetime | None:
    if isinstance(prop, list):
        prop = prop[0] if prop else None
    if prop is None:
        return None
    value = prop.dt
    if isinstance(value, datetime):
        return value.astimezone(UTC) if value.tzinfo is not None else value.replace(tzinfo=UTC)
    if isinstance(value, date):
        return datetime.combine(value, time(), tzinfo=UTC)
    return None
