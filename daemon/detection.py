"""Which calendar events are job interviews, and what we know about them.

Pure functions over ``CalendarEvent`` values: no I/O, no clock.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import date, datetime
from functools import lru_cache
from zoneinfo import ZoneInfo

from . import extract
from .model import CalendarEvent, Recipient
from .settings import Detection
from .timing import interview_end

# Attendee types that are not people.
NOT_PEOPLE = {"ROOM", "RESOURCE", "GROUP"}
# Local parts of addresses that belong to machines, not interviewers.
ROBOT_LOCAL_PARTS = re.compile(
    r"^(no-?reply|do-?not-?reply|donotreply|calendar-notification|notifications?|mailer-daemon|bounce)",
    re.I,
)


@dataclass(frozen=True)
class Interview:
    """A calendar event recognised as a job interview (one occurrence)."""

    calendar: str
    event: CalendarEvent
    start: datetime  # in the user's time zone
    end: datetime  # when it is over (all-day: 17:00 local on the last day)
    matched: str  # the keyword that matched
    company: str | None
    position: str | None
    interviewers: tuple[Recipient, ...]
    company_domains: tuple[str, ...]
    decision_by: date | None
    phone: str | None

    @property
    def uid(self) -> str:
        return self.event.uid

    @property
    def title(self) -> str:
        return self.event.title


@dataclass(frozen=True)
class Ignored:
    """An event that matched an interview keyword but was ruled out."""

    calendar: str
    event: CalendarEvent
    matched: str
    reason: str
    cause: str  # machine-readable: declined, cancelled, excluded, organizer

    @property
    def uid(self) -> str:
        return self.event.uid


def _norm(text: str) -> str:
    return unicodedata.normalize("NFC", text).casefold()


@lru_cache(maxsize=64)
def _word_pattern(words: tuple[str, ...]) -> re.Pattern[str] | None:
    """One regex matching any of ``words`` as whole words (plural endings
    allowed), longest first so "exit interview" wins over "interview"."""
    if not words:
        return None
    alternatives = sorted({_norm(w) for w in words if w.strip()}, key=len, reverse=True)
    body = "|".join(re.escape(w).replace(r"\ ", r"[\s_-]+") for w in alternatives)
    return re.compile(rf"(?<!\w)({body})(?:s|es|e|en|n)?(?!\w)")


def find_word(words: tuple[str, ...], text: str) -> str | None:
    pattern = _word_pattern(tuple(words))
    if pattern is None or not text:
        return None
    m = pattern.search(_norm(text))
    return m.group(1) if m else None


def interviewers(event: CalendarEvent, me: frozenset[str]) -> tuple[Recipient, ...]:
    """Attendees and organizer who are people other than the user."""
    people = [*event.attendees]
    if event.organizer is not None:
        people.insert(0, event.organizer)
    seen: set[str] = set()
    found: list[Recipient] = []
    for person in people:
        if person.cutype.upper() in NOT_PEOPLE:
            continue
        email = (person.email or "").lower() or None
        if email and (email in me or ROBOT_LOCAL_PARTS.match(email.split("@")[0])):
            continue
        ident = email or _norm(person.name)
        if not ident or ident in seen:
            continue
        seen.add(ident)
        found.append(Recipient(name=person.name.strip(), email=email))
    return tuple(found)


def _declined(event: CalendarEvent, me: frozenset[str]) -> bool:
    return any(a.email.lower() in me and a.partstat.upper() == "DECLINED" for a in event.attendees if a.email)


def _organized_by_me_with_guests(event: CalendarEvent, me: frozenset[str]) -> bool:
    org = event.organizer
    if org is None or not org.email or org.email.lower() not in me:
        return False
    return any(
        a.cutype.upper() not in NOT_PEOPLE and (a.email or a.name) and (a.email or "").lower() not in me
        for a in event.attendees
    )


def classify(event: CalendarEvent, calendar: str, rules: Detection,
             me: frozenset[str], tz: ZoneInfo) -> Interview | Ignored | None:
    """An ``Interview``, an ``Ignored`` (matched a keyword, ruled out, with
    the reason), or None for an event that has nothing to do with interviews."""
    matched = find_word(rules.keywords, event.title) or find_word(rules.keywords, event.description)
    if matched is None:
        return None

    def ignored(reason: str, cause: str) -> Ignored:
        return Ignored(calendar, event, matched, reason, cause)

    if event.status.upper() == "CANCELLED":
        return ignored("the event is cancelled", "cancelled")
    if _declined(event, me):
        return ignored("you declined it", "declined")
    excluded = find_word(rules.exclude, event.title)
    if excluded:
        return ignored(f"the title contains {excluded!r}", "excluded")
    if _organized_by_me_with_guests(event, me):
        return ignored("you organize it and invited others: you are the interviewer", "organizer")

    people = interviewers(event, me)
    company, position = extract.company_and_position(event.title, rules.keywords,
                                                     [p.name for p in people])
    domains = extract.company_domains([p.email for p in people if p.email])
    if company is None and domains:
        company = extract.company_from_domain(domains[0])
    start = event.start.astimezone(tz)
    end = interview_end(event.end, event.all_day, tz)
    return Interview(
        calendar=calendar,
        event=event,
        start=start,
        end=end,
        matched=matched,
        company=company,
        position=position,
        interviewers=people,
        company_domains=domains,
        decision_by=extract.decision_date(event.description, start.date()),
        phone=extract.phone_number(event.description, event.location),
    )
