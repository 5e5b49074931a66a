"""Turns a planned follow-up into the exact event or draft to write.

Pure once the templates are loaded: the same interview and due time always
give byte-identical content, which is what lets a retry recognise its own
earlier write.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

from .detection import Interview
from .mail import build_draft, message_id
from .model import Draft, FollowupEvent, Recipient
from .settings import Me
from .templates import Template, load_template

TEMPLATE_FOR = {
    "thank_you_email": "thank_you",
    "handwritten_note": "handwritten_note",
    "follow_up_call": "follow_up_call",
    "status_check_email": "status_check",
}
NO_NAME = "Hiring team"
# words before a name that are not the first name
_HONORIFICS = frozenset({"dr", "dr.", "prof", "prof.", "mr", "mr.", "mrs", "mrs.", "ms", "ms.", "mx", "mx.",
                         "herr", "frau", "m.", "mme", "mme.", "sr.", "sra.", "dott.", "dott.ssa"})


def first_name(name: str) -> str:
    """The name a person is greeted by: "Priya" of "Priya Patel", of
    "Patel, Priya" and of "Dr. Priya Patel"; a single word as it is."""
    name = " ".join(name.split())
    if "," in name:  # "Patel, Priya" (directories write it so)
        family, _, given = name.partition(",")
        name = given.strip() or family.strip()
    words = [w for w in name.split(" ") if w.lower() not in _HONORIFICS] or name.split(" ")
    return words[0]


def looks_like_name(text: str) -> bool:
    """A display name that is a person's, not an address or a team."""
    return "@" not in text


def _one_person(interview: Interview) -> list[Recipient]:
    """Whom the call is to: the organizer when one of the interviewers,
    else the first interviewer."""
    organizer = interview.event.organizer
    wanted = (organizer.email or "").lower() if organizer else ""
    for person in interview.interviewers:
        if wanted and (person.email or "").lower() == wanted:
            return [person]
    return list(interview.interviewers[:1])


class Composer:
    """Renders follow-ups with the user's templates and identity."""

    def __init__(self, me: Me, templates: dict[str, Template]):
        self.me = me
        self.templates = templates

    @classmethod
    def load(cls, me: Me, templates_dir: Path | None) -> "Composer":
        """Reads every template once (raises ``ConfigError`` naming a bad file)."""
        return cls(me, {kind: load_template(name, templates_dir) for kind, name in TEMPLATE_FOR.items()})

    def _values(self, interview: Interview, to: tuple[Recipient, ...]) -> dict[str, str]:
        names = [r.name for r in to if r.name and looks_like_name(r.name)]
        if not names and not to:  # a calendar item (the call, the note): one person
            names = [p.name for p in _one_person(interview) if p.name]
        greet = names if self.me.address_by == "full_name" else [first_name(n) for n in names]
        return {
            "interviewer_name": " and ".join(names[:2]) if names else NO_NAME,
            "greeting_name": " and ".join(greet[:2]) if greet else NO_NAME,
            "my_name": self.me.name,
            "position": interview.position or "open",
            "company": interview.company or "your company",
            "interview_date": f"{interview.start:%A, %B} {interview.start.day}",
            "signature": self.me.signature,
            "phone": interview.phone or "",
            "interview_title": interview.title,
        }

    def event(self, kind: str, key: str, interview: Interview, start: datetime,
              duration: timedelta) -> FollowupEvent:
        title, body = self.templates[kind].render(self._values(interview, ()))
        return FollowupEvent(key=key, title=title, description=body, start=start, end=start + duration)

    def draft(self, kind: str, key: str, interview: Interview, to: tuple[Recipient, ...],
              date: datetime) -> Draft:
        subject, body = self.templates[kind].render(self._values(interview, to))
        return build_draft(key, Recipient(self.me.name, self.me.email), to, subject, body,
                           domain=self._domain(), date=date)

    def message_id(self, key: str) -> str:
        """The Message-ID ``draft`` gives the draft for ``key``, without
        composing it."""
        return message_id(key, self._domain())

    def _domain(self) -> str:
        return self.me.email.rpartition("@")[2] if "@" in self.me.email else ""
