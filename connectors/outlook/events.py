"""Reading Microsoft Graph event resources into ``CalendarEvent``s.

Field names follow the event resource
(https://learn.microsoft.com/graph/api/resources/event): ``iCalUId``,
``type`` (singleInstance, occurrence, exception, seriesMaster),
``originalStart``, ``isAllDay``, ``isCancelled``, ``isOrganizer``,
``responseStatus``, ``organizer``, ``attendees[].type`` and
``attendees[].status.response``, ``start``/``end`` as dateTimeTimeZone.
"""

from __future__ import annotations

import re
from datetime import datetime, timezone, tzinfo
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from daemon.model import Attendee, CalendarEvent

from .account import parse_instant

# attendee.status.response / responseStatus.response -> PARTSTAT
PARTSTAT = {
    "none": "NEEDS-ACTION",
    "notresponded": "NEEDS-ACTION",
    "accepted": "ACCEPTED",
    "organizer": "ACCEPTED",
    "tentativelyaccepted": "TENTATIVE",
    "declined": "DECLINED",
}
ROLE = {"required": "REQ-PARTICIPANT", "optional": "OPT-PARTICIPANT",
        "resource": "NON-PARTICIPANT"}
_TAGS = re.compile(r"<[^>]+>")


class BadEvent(ValueError):
    """An event resource that cannot be read."""


def zone(name: str | None) -> tzinfo | None:
    """A time zone for an IANA or Windows name (Outlook uses Windows names
    such as "W. Europe Standard Time" when the UTC preference is not
    honoured); None when unknown."""
    if not name:
        return None
    if name.upper() in ("UTC", "Z", "ETC/UTC", "GMT"):
        return timezone.utc
    # icalendar's table of Windows zone names, loaded only when an event is read
    from icalendar.timezone.windows_to_olson import WINDOWS_TO_OLSON

    iana = WINDOWS_TO_OLSON.get(name, name)
    try:
        return ZoneInfo(iana)
    except (ZoneInfoNotFoundError, ValueError):
        return None


def _local(value: dict | None, what: str, warnings: list[str]) -> datetime:
    """A dateTimeTimeZone as an aware datetime."""
    if not isinstance(value, dict) or not isinstance(value.get("dateTime"), str):
        raise BadEvent(f"{what} is missing")
    try:
        naive = parse_instant(value["dateTime"]).replace(tzinfo=None)
    except ValueError:
        raise BadEvent(f"{what} {value['dateTime']!r} is not a date and time") from None
    tz = zone(value.get("timeZone"))
    if tz is None:
        warnings.append(f"unknown time zone {value.get('timeZone')!r} for {what}, read as UTC")
        tz = timezone.utc
    return naive.replace(tzinfo=tz)


def _person(data: dict | None) -> tuple[str | None, str]:
    address = ((data or {}).get("emailAddress") or {})
    email = address.get("address")
    email = email.strip().lower() if isinstance(email, str) and "@" in email else None
    name = address.get("name")
    return email, (name.strip() if isinstance(name, str) else "")


def _text(body: dict | None, preview: str | None) -> str:
    if isinstance(body, dict) and isinstance(body.get("content"), str):
        content = body["content"]
        if str(body.get("contentType", "")).lower() == "html":
            content = _TAGS.sub(" ", content)
        return content.strip()
    return (preview or "").strip()


def to_event(data: dict, tz: tzinfo, user_addresses: frozenset[str],
             uid: str | None = None) -> CalendarEvent:
    """The ``CalendarEvent`` for one event resource (an occurrence, an
    exception or a single instance). ``uid`` overrides the resource's own
    (occurrences of one series are grouped under the series' uid)."""
    warnings: list[str] = []
    event_id = data.get("id")
    if not isinstance(event_id, str) or not event_id:
        raise BadEvent("event without id")
    uid = uid or series_uid(data)
    all_day = bool(data.get("isAllDay"))
    start = _local(data.get("start"), "start", warnings)
    end = _local(data.get("end"), "end", warnings)
    if all_day:
        # An all-day event is dates: local midnights in the user's zone.
        start = datetime.combine(start.date(), datetime.min.time(), tzinfo=tz)
        end = datetime.combine(end.date(), datetime.min.time(), tzinfo=tz)
    else:
        start, end = start.astimezone(tz), end.astimezone(tz)
    if end < start:
        warnings.append("end before start, read as a zero-length event")
        end = start

    recurrence_id = None
    if data.get("type") in ("occurrence", "exception"):
        original = data.get("originalStart")
        try:
            recurrence_id = (parse_instant(original) if isinstance(original, str)
                             else start).astimezone(timezone.utc)
        except ValueError:
            recurrence_id = start.astimezone(timezone.utc)

    org_email, org_name = _person(data.get("organizer"))
    organizer = (Attendee(email=org_email, name=org_name, partstat="ACCEPTED", role="CHAIR")
                 if org_email or org_name else None)
    attendees: list[Attendee] = []
    for entry in data.get("attendees") or []:
        if not isinstance(entry, dict):
            continue
        email, name = _person(entry)
        kind = str(entry.get("type") or "required").lower()
        response = str(((entry.get("status") or {}).get("response")) or "none").lower()
        attendees.append(Attendee(
            email=email, name=name, partstat=PARTSTAT.get(response, "NEEDS-ACTION"),
            cutype="ROOM" if kind == "resource" else "INDIVIDUAL",
            role=ROLE.get(kind, "REQ-PARTICIPANT")))
    attendees = _with_own_response(data, attendees, user_addresses)

    location = (data.get("location") or {}).get("displayName") or ""
    return CalendarEvent(
        uid=uid, start=start, end=end, title=str(data.get("subject") or ""),
        description=_text(data.get("body"), data.get("bodyPreview")),
        location=str(location), all_day=all_day, recurrence_id=recurrence_id,
        status="CANCELLED" if data.get("isCancelled") else "CONFIRMED",
        organizer=organizer, attendees=tuple(attendees), source=event_id,
        warnings=tuple(warnings),
        categories=tuple(c for c in data.get("categories") or () if isinstance(c, str))[:50])


def series_master(data: dict) -> str | None:
    """The ``seriesMasterId`` of an occurrence or exception, else None."""
    master = data.get("seriesMasterId")
    if isinstance(master, str) and master and data.get("type") in ("occurrence", "exception"):
        return master
    return None


def series_uid(data: dict) -> str:
    """The UID of an event: ``uid`` where Graph gives it (beta only: the
    same for a series master and all its occurrences), else ``iCalUId``.
    In v1.0 every occurrence has an ``iCalUId`` of its own: an occurrence's
    UID is its series master's (see ``series_master``)."""
    uid = data.get("uid")
    if isinstance(uid, str) and uid:
        return uid
    value = data.get("iCalUId")
    if isinstance(value, str) and value:
        return value
    raise BadEvent("event without iCalUId")


def _with_own_response(data: dict, attendees: list[Attendee],
                       user_addresses: frozenset[str]) -> list[Attendee]:
    """Put the user's own answer (``responseStatus``) on the user's
    attendee entry, adding one when the user is not listed, so the core
    sees a declined invitation as declined."""
    if data.get("isOrganizer"):
        return attendees
    response = str(((data.get("responseStatus") or {}).get("response")) or "none").lower()
    if response in ("none", "notresponded", "organizer") or not user_addresses:
        return attendees
    partstat = PARTSTAT.get(response, "NEEDS-ACTION")
    out, found = [], False
    for attendee in attendees:
        if attendee.email in user_addresses:
            attendee = Attendee(email=attendee.email, name=attendee.name, partstat=partstat,
                                cutype=attendee.cutype, role=attendee.role)
            found = True
        out.append(attendee)
    if not found:
        out.append(Attendee(email=sorted(user_addresses)[0], partstat=partstat,
                            role="REQ-PARTICIPANT"))
    return out
