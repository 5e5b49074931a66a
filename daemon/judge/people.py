"""Who an interview is with: the people a thank-you goes to.

From the organizer and attendees, leaving out the user, rooms, resources
and groups (Outlook exports rooms as ``CUTYPE=RESOURCE;ROLE=NON-PARTICIPANT``,
Google as ``...@resource.calendar.google.com``), machines (no-reply and
notification addresses, hiring systems' scheduling addresses), team
mailboxes (``jobs@``), and a coordinator who writes that they will not
attend; and adding interviewers the description names with their address.
Pure functions over untrusted text.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

from daemon.judge import domains
from daemon.lang import Lexicon, norm
from daemon.model import Attendee, CalendarEvent, Recipient

NOT_PEOPLE = {"ROOM", "RESOURCE", "GROUP"}
# A room's name as calendars show it: "Board room (12)", "Huddle 4 [TV]".
ROOM_NAME = re.compile(r"\(\d{1,3}\)|\[[^\]]*\]|\b(?:room|raum|salle|sala|zaal|kamer)\b", re.I)
_ADDRESS = re.compile(r"(?:mailto:)?([\w.+'-]+@[\w-]+(?:\.[\w-]+)+)", re.UNICODE)
# A line of an itinerary: a time or a bullet first ("10:00 – 10:45 Coding —
# Priya Patel (priya@...)", "• Noor Haddad (noor@...)").
SCHEDULE_LINE = re.compile(r"^\s*(?:\d{1,2}(?:[:.h]\d{2})?\s*(?:am|pm|a\.m\.|p\.m\.|uhr|h)?\s*[-–—:]|[•*·▪-]\s)",
                           re.I)
DESCRIPTION_LIMIT = 20_000
_NOT_NAME = re.compile(r"[^\w\s]|_")  # characters of a description read for names


def _is_person(a: Attendee, me: frozenset[str]) -> bool:
    if a.cutype.upper() in NOT_PEOPLE or a.role.upper() == "NON-PARTICIPANT":
        return False
    email = (a.email or "").lower()
    if email:
        if email in me or domains.is_robot(email) or domains.is_team_mailbox(email):
            return False
        domain = domains.domain_of(email)
        if domains.RESOURCE_DOMAIN.search(domain) or domains.is_service(domain) or domains.is_agency(domain):
            return False  # hiring systems, schedulers, vendors, recruiting agencies
    elif not a.name.strip():
        return False
    if a.cutype.upper() in ("", "UNKNOWN") and ROOM_NAME.search(a.name or ""):
        return False
    return True


def attendees(event: CalendarEvent, me: frozenset[str]) -> list[Attendee]:
    """The organizer (first) and attendees that are people other than the
    user, each once."""
    return list(_attendees(event.organizer, event.attendees, me))


@lru_cache(maxsize=512)
def _attendees(organizer: Attendee | None, invited: tuple[Attendee, ...],
               me: frozenset[str]) -> tuple[Attendee, ...]:
    # remembered: one verdict asks for them several times
    people = [*invited]
    if organizer is not None:
        people.insert(0, organizer)
    seen: set[str] = set()
    found = []
    for person in people:
        if not _is_person(person, me):
            continue
        ident = (person.email or "").lower() or norm(person.name)
        if ident in seen:
            continue
        seen.add(ident)
        found.append(person)
    return tuple(found)


def _coordinator_absent(event: CalendarEvent, lexicon: Lexicon) -> bool:
    text = norm(event.description[:DESCRIPTION_LIMIT])
    return lexicon.matcher("not_attending").search(text) is not None


def _loose(text: str) -> str:
    """A name as compared across spellings: "Müller" and "Mueller" alike,
    accents and case aside."""
    text = norm(text).replace("ä", "ae").replace("ö", "oe").replace("ü", "ue").replace("ß", "ss")
    text = _NOT_NAME.sub("", unicodedata.normalize("NFKD", text))
    return " ".join(text.split())


def _name_forms(name: str) -> set[str]:
    """"Claußen, Svenja" and "Svenja Claußen" both, loosely."""
    if "," in name:
        last, _, first = name.partition(",")
        name = f"{first.strip()} {last.strip()}"
    words = _loose(name).split()
    if len(words) < 2:
        return set()
    return {" ".join(words), " ".join(reversed(words))}


def _listed_names(event: CalendarEvent, lexicon: Lexicon) -> set[str]:
    """The names (loosely) on the lines that list the interviewers: after
    "Interviewers:" or "You'll meet with" to the next empty line, and on
    itinerary lines."""
    text = event.description[:DESCRIPTION_LIMIT]
    cue = lexicon.matcher("meeting_with")
    if not cue or cue.search(norm(text)) is None:
        return set()
    found: set[str] = set()
    listing = False
    for line in text.splitlines():
        if cue.search(norm(line)) is not None:
            listing = True
        elif not line.strip():
            listing = False
        if listing or SCHEDULE_LINE.match(line):
            words = _loose(line).split()
            found |= {" ".join(words[i:i + 2]) for i in range(len(words) - 1)}
    return found


def _organizer_joins(event: CalendarEvent, lexicon: Lexicon) -> bool:
    """The organizer writes that they take part ("and me", "Ich bin
    ebenfalls dabei"), or names themselves in a sentence of the
    description (not a signature line of their name alone)."""
    text = event.description[:DESCRIPTION_LIMIT]
    if lexicon.matcher("organizer_joins").search(norm(text)) is not None:
        return True
    forms = _name_forms(event.organizer.name) if event.organizer is not None else set()
    surname = max((w for f in forms for w in f.split()), key=len, default="")
    if not surname or surname[:4] not in _loose(text):
        return False
    for line in text.splitlines():
        loose = f" {_loose(line)} "
        for form in forms:
            # in a sentence, not a signature line that starts with the name
            if f" {form} " in loose and not loose.startswith(f" {form} ") \
                    and len(loose.split()) >= len(form.split()) + 3:
                return True
    return False


def named_in_description(event: CalendarEvent, lexicon: Lexicon, me: frozenset[str]) -> list[Recipient]:
    """People named with their address in the description: in the lines
    after words such as "You'll meet with" or "Interviewers:" (to the next
    empty line), on the lines of an itinerary, and in any sentence that
    names somebody at the company with their address, except one that
    gives a contact ("Questions? Email me at ...")."""
    text = event.description[:DESCRIPTION_LIMIT]
    if "@" not in text:
        return []
    cue = lexicon.matcher("meeting_with")
    contact = lexicon.matcher("contact_cues")
    company = {domains.registered(domains.domain_of(p.email)) for p in (event.organizer, *event.attendees)
               if p is not None and p.email and domains.is_employer(p.email) and p.email.lower() not in me}
    lines = text.splitlines()
    found: list[Recipient] = []
    listing = False
    for line in lines:
        folded = norm(line)
        if cue.search(folded) is not None:
            listing = True
        elif not line.strip():
            listing = False
        if contact.search(folded) is not None and not SCHEDULE_LINE.match(line):
            continue
        if not listing and not SCHEDULE_LINE.match(line) and not any(
                domains.registered(domains.domain_of(m.group(1))) in company for m in _ADDRESS.finditer(line)):
            continue
        last = 0
        for m in _ADDRESS.finditer(line):
            email = m.group(1).lower().rstrip(".")
            name = _name_before(line[last:m.start()])
            last = m.end()
            if _is_person(Attendee(email=email, name=name), me):
                found.append(Recipient(name=name, email=email))
    return found


def _name_before(text: str) -> str:
    """"Interviewers: Priya Patel - Engineering Manager (" -> "Priya Patel"."""
    text = text.rstrip(" <([{-–—:\t").strip()
    segment = re.split(r"[:;,•*|\t]", text)[-1]  # after the last list separator
    name = re.split(r"\s[-–—]\s", segment)[0].strip(" \"'<>()[]")  # before a job title
    words = name.split()
    return name if 1 <= len(words) <= 4 and all(w[:1].isalpha() for w in words) else ""


def interviewers(event: CalendarEvent, me: frozenset[str], lexicon: Lexicon) -> tuple[Recipient, ...]:
    """The people a thank-you should go to."""
    people = attendees(event, me)
    organizer = event.organizer
    if organizer is not None and len(people) > 1 and people[0] is organizer:
        email = (organizer.email or "").lower()
        invited = {(a.email or "").lower() for a in event.attendees if a.email}
        if _coordinator_absent(event, lexicon):
            people = people[1:]  # the organizer wrote that they will not be there
        elif email and email not in invited and not _organizer_joins(event, lexicon):
            # calendars list an organizer who takes part among the attendees
            # too; one who is not, and does not write "and me", is a
            # coordinator who sent the invitation
            people = people[1:]
    listed = _listed_names(event, lexicon)
    if listed and organizer is not None and people and people[0] is organizer \
            and not (_name_forms(organizer.name) & listed) and not _organizer_joins(event, lexicon) \
            and any(_name_forms(p.name) & listed for p in people[1:]):
        # "Interviewers: Josh Patel and Kirra Thompson": the organizer is not among them
        people = people[1:]
    if any(p.role.upper() == "REQ-PARTICIPANT" for p in people):
        # optional guests are shadows and coordinators, when interviewers are required
        people = [p for p in people if p.role.upper() != "OPT-PARTICIPANT"]
    found = [Recipient(name=p.name.strip(), email=(p.email or "").lower() or None) for p in people]
    known = {r.email for r in found if r.email}
    for extra in named_in_description(event, lexicon, me):
        if extra.email not in known:
            known.add(extra.email)
            found.append(extra)
    return tuple(found)


def company_domains(addresses: list[str], named: str = "") -> tuple[str, ...]:
    """Employer domains among the interviewers' addresses, most common first."""
    counts: dict[str, int] = {}
    for address in addresses:
        if not domains.is_employer(address, named):
            continue
        domain = domains.registered(domains.domain_of(address))
        counts[domain] = counts.get(domain, 0) + 1
    return tuple(sorted(counts, key=lambda d: -counts[d]))
