"""iCalendar objects for the benchmarks: single events, interviews, and
generated calendar folders of any size."""

from __future__ import annotations

import random
from datetime import datetime, timedelta, timezone
from pathlib import Path

ME = "alex@example.org"
ME_NAME = "Alex Morgan"
TIMEZONE = "America/New_York"
COUNTRY = "US"


def _utc(moment: datetime) -> str:
    return moment.astimezone(timezone.utc).strftime("%Y%m%dT%H%M%SZ")


def _escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace("\n", "\\n").replace(",", "\\,").replace(";", "\\;")


def vevent(uid: str, title: str, start: datetime, end: datetime, *,
           organizer: tuple[str, str] | None = None,
           attendees: tuple[tuple[str, str], ...] = (), description: str = "",
           rrule: str = "") -> list[str]:
    """The lines of one VEVENT (times in UTC)."""
    lines = ["BEGIN:VEVENT", f"UID:{uid}", "DTSTAMP:20260101T000000Z",
             f"DTSTART:{_utc(start)}", f"DTEND:{_utc(end)}", f"SUMMARY:{_escape(title)}"]
    if description:
        lines.append(f"DESCRIPTION:{_escape(description)}")
    if rrule:
        lines.append(f"RRULE:{rrule}")
    if organizer:
        lines.append(f"ORGANIZER;CN={organizer[0]}:mailto:{organizer[1]}")
    for name, email in attendees:
        lines.append(f"ATTENDEE;CN={name};PARTSTAT=ACCEPTED:mailto:{email}")
    lines.append("END:VEVENT")
    return lines


def vcalendar(*events: list[str]) -> bytes:
    """A VCALENDAR holding ``events``, CRLF line ends."""
    lines = ["BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//followup bench//EN"]
    for event in events:
        lines += event
    lines += ["END:VCALENDAR", ""]
    return "\r\n".join(lines).encode()


def interview(uid: str, company: str, start: datetime, minutes: int = 60,
              title: str | None = None) -> bytes:
    """An interview invitation from ``company`` (domain ``<company>.example``)."""
    domain = f"{company.lower()}.example"
    recruiter = ("Jamie Rivera", f"jamie@{domain}")
    lead = ("Sam Lee", f"sam.lee@{domain}")
    return vcalendar(vevent(
        uid, title or f"Phone Screen - {company} Corp (Backend Engineer)", start,
        start + timedelta(minutes=minutes), organizer=recruiter,
        attendees=(lead, (ME_NAME, ME)),
        description="Dial-in: +1 555 0100. We will decide within two weeks."))


def meeting(uid: str, title: str, start: datetime, minutes: int = 30, rrule: str = "") -> bytes:
    """An ordinary meeting with colleagues."""
    return vcalendar(vevent(
        uid, title, start, start + timedelta(minutes=minutes),
        organizer=("Pat Kim", "pat@corp.example"),
        attendees=(("Pat Kim", "pat@corp.example"), ("Lou Park", "lou@corp.example"),
                   (ME_NAME, ME)),
        description="Agenda: status, blockers, next steps.", rrule=rrule))


def message(sender: str, subject: str, when: datetime, message_id: str) -> bytes:
    """A plain mail message (CRLF) as it would arrive in an inbox."""
    return (f"From: {sender}\r\nTo: {ME}\r\nSubject: {subject}\r\n"
            f"Date: {when.strftime('%a, %d %b %Y %H:%M:%S +0000')}\r\n"
            f"Message-ID: <{message_id}>\r\n\r\nHello.\r\n").encode()


def generate_folder(folder: Path, events: int, interviews: int, now: datetime,
                    lookback_days: int = 30, lookahead_days: int = 60, seed: int = 7) -> None:
    """A vdir of ``events`` one-event files inside the scan window around
    ``now``, ``interviews`` of them interviews (two rounds per company), 1 in
    100 of the others weekly series of 8. Deterministic for a given seed."""
    folder.mkdir(parents=True, exist_ok=True)
    rng = random.Random(seed)
    day0 = now.astimezone(timezone.utc).replace(hour=0, minute=0, second=0, microsecond=0)
    every = max(1, events // max(1, interviews))
    made = 0
    for i in range(events):
        day = day0 + timedelta(days=rng.randrange(-lookback_days + 1, lookahead_days - 1))
        start = day + timedelta(hours=13 + rng.randrange(0, 9), minutes=15 * rng.randrange(4))
        if i % every == 0 and made < interviews:
            data = interview(f"iv{i}@bench", f"Company{made // 2}", start,
                             title=(f"Phone Screen - Company{made // 2} Corp (Engineer)" if made % 2 == 0
                                    else f"Onsite interview - Company{made // 2} Corp (Engineer)"))
            made += 1
        else:
            rrule = "FREQ=WEEKLY;COUNT=8" if i % 100 == 1 else ""
            data = meeting(f"ev{i}@bench", f"Team sync {i % 97}", start, rrule=rrule)
        (folder / f"ev{i}.ics").write_bytes(data)
