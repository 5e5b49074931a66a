"""Google Calendar's Event resource and the core's events, both ways: a
source event as a ``CalendarEvent``, a follow-up as the Event resource
written (no attendees, the key in a private extended property), and what a
stored follow-up reads back as. Shapes as the Calendar API v3 reference
gives them (events resource: start/end ``dateTime``/``date``, ``iCalUID``,
``recurringEventId``, ``originalStartTime``, ``attendees[].responseStatus``,
``extendedProperties.private``)."""

from __future__ import annotations

import hashlib
import re
from datetime import date, datetime, time, timezone, tzinfo
from typing import Any

from daemon.model import Attendee, CalendarEvent, FollowupEvent, StoredItem

OWN_MARKER = "followup"  # extendedProperties.private: "1" on every follow-up
KEY_PROPERTY = "followupKey"
_HEX_KEY = re.compile(r"^[0-9a-f]{40}$")
_PARTSTAT = {"needsAction": "NEEDS-ACTION", "accepted": "ACCEPTED", "declined": "DECLINED",
             "tentative": "TENTATIVE"}
_STATUS = {"confirmed": "CONFIRMED", "tentative": "TENTATIVE", "cancelled": "CANCELLED"}


def event_id_for(key: str) -> str:
    """The Google event id of the follow-up with ``key``: ``fu`` + the key
    for the core's 40-hex keys, ``fh`` + a hex hash of any other key (hex is
    a subset of base32hex)."""
    if _HEX_KEY.match(key):
        return "fu" + key
    return "fh" + hashlib.sha256(key.encode("utf-8")).hexdigest()[:40]


def is_own(item: dict) -> bool:
    """True if the event carries the daemon's private marker."""
    return OWN_MARKER in ((item.get("extendedProperties") or {}).get("private") or {})


def tz_name(tz: tzinfo) -> str:
    return getattr(tz, "key", None) or str(tz)


def uid_of(item: dict) -> str:
    return item.get("iCalUID") or item.get("recurringEventId") or item.get("id", "")


def own_key(item: dict) -> str | None:
    private = (item.get("extendedProperties") or {}).get("private") or {}
    return private.get(KEY_PROPERTY) if OWN_MARKER in private else None


def _when(part: dict, tz: tzinfo) -> datetime:
    if part.get("dateTime"):
        value = datetime.fromisoformat(part["dateTime"].replace("Z", "+00:00"))
        if value.tzinfo is None:
            value = value.replace(tzinfo=tz)
        return value.astimezone(tz)
    return datetime.combine(date.fromisoformat(part["date"]), time(0), tzinfo=tz)


def relevant(item: dict, start: datetime, end: datetime, tz: tzinfo) -> bool:
    """Worth keeping: a live, ordinary source event overlapping the window.
    Only ``eventType: default`` can be an interview (not out-of-office,
    focus time, working location, birthdays...)."""
    if item.get("status") == "cancelled" or is_own(item):
        return False
    if item.get("eventType", "default") != "default":
        return False
    try:
        first, last = _when(item["start"], tz), _when(item["end"], tz)
    except (KeyError, TypeError, ValueError):
        return True  # reported as a problem when mapped
    return last > start and first < end or (first == last and start <= first < end)


def _person(data: dict | None, me: frozenset[str]) -> Attendee | None:
    if not data:
        return None
    email = (data.get("email") or "").strip().lower() or None
    if data.get("self") and me and email not in me:
        email = sorted(me)[0]  # the user, under an address the core knows
    status = _PARTSTAT.get(data.get("responseStatus", ""), "")
    return Attendee(email=email, name=data.get("displayName", "") or "", partstat=status,
                    cutype="RESOURCE" if data.get("resource") else "INDIVIDUAL",
                    role="OPT-PARTICIPANT" if data.get("optional") else "REQ-PARTICIPANT")


def to_event(item: dict, tz: tzinfo, me: frozenset[str] = frozenset()) -> CalendarEvent:
    """A Google Event resource as a ``CalendarEvent`` (uid = ``iCalUID``,
    source = the event id, recurrence id in UTC)."""
    start = _when(item["start"], tz)
    end = _when(item["end"], tz)
    warnings: list[str] = []
    if item.get("endTimeUnspecified"):
        end = start  # like an iCalendar event without DTEND
        warnings.append("the event has no end time")
    recurrence_id = None
    if item.get("recurringEventId") and item.get("originalStartTime"):
        recurrence_id = _when(item["originalStartTime"], tz).astimezone(timezone.utc)
    organizer = _person(item.get("organizer"), me)
    attendees = tuple(a for a in (_person(a, me) for a in item.get("attendees", [])) if a)
    if organizer is not None and not organizer.partstat:
        organizer = Attendee(organizer.email, organizer.name, "", organizer.cutype, "CHAIR")
    return CalendarEvent(
        uid=uid_of(item), start=start, end=end, title=item.get("summary", "") or "",
        description=item.get("description", "") or "", location=item.get("location", "") or "",
        all_day="date" in item["start"] and not item["start"].get("dateTime"),
        recurrence_id=recurrence_id, status=_STATUS.get(item.get("status", ""), "CONFIRMED"),
        organizer=organizer, attendees=attendees, source=item.get("id", ""),
        warnings=tuple(warnings))


def _moment(value: datetime) -> dict[str, str]:
    out = {"dateTime": value.isoformat()}
    name = getattr(value.tzinfo, "key", None)
    if name:
        out["timeZone"] = name
    return out


def followup_body(event: FollowupEvent) -> dict[str, Any]:
    """The Event resource of a follow-up: no attendees, the key private."""
    reminders: dict[str, Any] = {"useDefault": False}
    if event.reminder_minutes is not None:
        reminders["overrides"] = [{"method": "popup", "minutes": event.reminder_minutes}]
    return {
        "id": event_id_for(event.key),
        "summary": event.title,
        "description": event.description,
        "start": _moment(event.start),
        "end": _moment(event.end),
        "reminders": reminders,
        "transparency": "transparent",
        "extendedProperties": {"private": {OWN_MARKER: "1", KEY_PROPERTY: event.key}},
    }


def shows_body(found: dict, body: dict) -> bool:
    """True if ``found`` shows what ``body`` wrote (title and times)."""
    try:
        return (found.get("summary") == body["summary"]
                and _when(found["start"], timezone.utc) == _when(body["start"], timezone.utc)
                and _when(found["end"], timezone.utc) == _when(body["end"], timezone.utc)
                and own_key(found) == own_key(body))
    except (KeyError, TypeError, ValueError):
        return False


def stored_item(resource: dict) -> StoredItem:
    return StoredItem(key=own_key(resource) or "", ref=resource["id"], etag=resource["etag"],
                      start=_when(resource["start"], timezone.utc),
                      end=_when(resource["end"], timezone.utc),
                      title=resource.get("summary", "") or "")
