"""Test data for the contract suite: drafts, incoming mail, calendar objects.

Messages are built with the standard library ``email`` package so the suite
does not depend on the daemon's own message builder.
"""

from __future__ import annotations

from datetime import datetime, timezone
from email import policy
from email.message import EmailMessage
from email.utils import format_datetime

from daemon.model import Draft, Recipient


def draft(key: str = "thank-you:interview-1@acme.example",
          message_id: str = "<followup.1a2b3c@alex.example.org>",
          to: tuple[str, str] = ("Jane Doe", "jane.doe@acme.example"),
          subject: str = "Thank you for today",
          text: str = "Hi Jane,\n\nthank you for the conversation today.\n\nAlex\n") -> Draft:
    """A complete draft as the core builds it (CRLF line ends)."""
    msg = EmailMessage(policy=policy.SMTP)
    msg["From"] = "Alex Applicant <alex@example.org>"
    msg["To"] = f"{to[0]} <{to[1]}>"
    msg["Subject"] = subject
    msg["Date"] = format_datetime(datetime(2030, 3, 12, 16, 0, tzinfo=timezone.utc))
    msg["Message-ID"] = message_id
    msg["X-Followup-Key"] = key
    msg.set_content(text)
    return Draft(key=key, message_id=message_id, raw=msg.as_bytes(),
                 to=(Recipient(*to),), subject=subject, text=text)


def incoming(sender: str, date: datetime | None, subject: str = "Re: Thank you for today",
             headers: dict[str, str] | None = None, message_id: str | None = None) -> bytes:
    """A received message; ``date=None`` leaves the Date header out."""
    msg = EmailMessage(policy=policy.default)
    msg["From"] = sender
    msg["To"] = "Alex Applicant <alex@example.org>"
    msg["Subject"] = subject
    if date is not None:
        msg["Date"] = format_datetime(date)
    if message_id:
        msg["Message-ID"] = message_id
    for name, value in (headers or {}).items():
        msg[name] = value
    msg.set_content("Thanks, we will be in touch.\n")
    return msg.as_bytes()


def vcalendar(*components: str) -> bytes:
    """A VCALENDAR around the given component texts, with CRLF line ends."""
    lines = ["BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//contract tests//EN"]
    for component in components:
        lines.extend(line.strip() for line in component.strip().splitlines() if line.strip())
    lines.append("END:VCALENDAR")
    return ("\r\n".join(lines) + "\r\n").encode()


def vevent(uid: str, start: str, end: str, summary: str, *extra: str) -> str:
    """A VEVENT; ``start``/``end`` are full property lines' values with
    parameters, e.g. ``";TZID=Europe/Berlin:20300311T140000"`` or ``":20300311T130000Z"``."""
    return "\n".join([
        "BEGIN:VEVENT", f"UID:{uid}", "DTSTAMP:20300101T000000Z",
        f"DTSTART{start}", f"DTEND{end}", f"SUMMARY:{summary}", *extra, "END:VEVENT",
    ])


VTIMEZONE_BERLIN = """
BEGIN:VTIMEZONE
TZID:Europe/Berlin
BEGIN:DAYLIGHT
TZOFFSETFROM:+0100
TZOFFSETTO:+0200
TZNAME:CEST
DTSTART:19700329T020000
RRULE:FREQ=YEARLY;BYMONTH=3;BYDAY=-1SU
END:DAYLIGHT
BEGIN:STANDARD
TZOFFSETFROM:+0200
TZOFFSETTO:+0100
TZNAME:CET
DTSTART:19701025T030000
RRULE:FREQ=YEARLY;BYMONTH=10;BYDAY=-1SU
END:STANDARD
END:VTIMEZONE
"""
