"""Turns a planned follow-up into the exact event or draft to write.

Pure once the templates are loaded: the same interview and moment always
give byte-identical content. A draft is dated with the moment it is
written; a retry recognises its own earlier write by the key, not by bytes.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

from daemon.drafts.mail import build_draft, message_id
from daemon.drafts.templates import LANGUAGES, Template, load_template
from daemon.judge.detection import Interview
from daemon.kinds import Kind
from daemon.model import Draft, FollowupEvent, Recipient
from daemon.settings import Me

TEMPLATE_FOR = {kind.value: kind.template for kind in Kind}
NO_NAME = "Hiring team"
# what the templates need in each language beyond the templates themselves
_WORDS = {
    "en": {"and": "and", "nobody": NO_NAME, "open": "open", "company": "your company"},
    "de": {"and": "und", "nobody": "zusammen", "open": "ausgeschriebene", "company": "Ihrem Unternehmen"},
    "fr": {"and": "et", "nobody": "Madame, Monsieur", "open": "à pourvoir", "company": "votre entreprise"},
    "es": {"and": "y", "nobody": "equipo de selección", "open": "ofertado", "company": "su empresa"},
    "nl": {"and": "en", "nobody": "heer, mevrouw", "open": "openstaande", "company": "uw organisatie"},
    "it": {"and": "e", "nobody": "Responsabile della selezione", "open": "aperta", "company": "la Sua azienda"},
    "pt": {"and": "e", "nobody": "equipa de recrutamento", "open": "em aberto", "company": "empresa"},
}


def _date(moment: datetime, lang: str) -> str:
    """The interview's date as a letter writes it: "Tuesday, November 17";
    in other languages CLDR's full date ("Dienstag, 17. November 2026"),
    through Babel, imported only when a follow-up is written."""
    if lang == "en":
        return f"{moment:%A, %B} {moment.day}"
    from babel.dates import format_date

    return format_date(moment.date(), format="full", locale=lang)


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
    """A display name fit to greet: not an email address put in its place."""
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
    """Renders follow-ups with the user's templates and identity, in the
    language of each interview (``Interview.language``; ``language`` forces
    one), with the default templates of that language where there are."""

    def __init__(self, me: Me, templates: dict[str, Template], templates_dir: Path | None = None,
                 language: str = "auto", by_calendar: dict[str, str] | None = None):
        self.me = me
        self.templates = templates  # English, by kind
        self.templates_dir = templates_dir
        self.language = language
        self.by_calendar = {k: v for k, v in (by_calendar or {}).items() if v != "auto"}
        self._by_language: dict[str, dict[str, Template]] = {"en": templates}

    @classmethod
    def load(cls, me: Me, templates_dir: Path | None, language: str = "auto",
             by_calendar: dict[str, str] | None = None) -> "Composer":
        """Reads every template of every language once, so that a bad file
        is a ``ConfigError`` naming it at start, never during a pass."""
        composer = cls(me, {kind: load_template(name, templates_dir) for kind, name in TEMPLATE_FOR.items()},
                       templates_dir, language, by_calendar)
        for lang in LANGUAGES:
            composer._templates(lang)
        return composer

    def _templates(self, lang: str) -> dict[str, Template]:
        if lang not in self._by_language:
            self._by_language[lang] = {kind: load_template(name, self.templates_dir, lang)
                                       for kind, name in TEMPLATE_FOR.items()}
        return self._by_language[lang]

    def language_of(self, interview: Interview) -> str:
        """The language the follow-ups of ``interview`` are written in: its
        calendar's, else the user's, else the interview's own."""
        lang = self.by_calendar.get(interview.calendar, self.language)
        if lang == "auto":
            lang = interview.language or "en"
        return lang if lang in LANGUAGES else "en"

    def _values(self, interview: Interview, to: tuple[Recipient, ...], lang: str) -> dict[str, str]:
        names = [r.name for r in to if r.name and looks_like_name(r.name)]
        if not names and not to:  # a calendar item (the call, the note): one person
            names = [p.name for p in _one_person(interview) if p.name]
        # first names are the custom in English; other languages address by
        # the full name unless the user says otherwise
        by = self.me.address_by if self.me.address_by != "auto" else (
            "first_name" if lang == "en" else "full_name")
        greet = names if by == "full_name" else [first_name(n) for n in names]
        words = _WORDS.get(lang, _WORDS["en"])
        return {
            "interviewer_name": f" {words['and']} ".join(names[:2]) if names else words["nobody"],
            "greeting_name": f" {words['and']} ".join(greet[:2]) if greet else words["nobody"],
            "my_name": self.me.name,
            "position": interview.position or words["open"],
            "company": interview.company or words["company"],
            "interview_date": _date(interview.start, lang),
            "signature": self.me.signature,
            "phone": interview.phone or "",
            "interview_title": interview.title,
        }

    def event(self, kind: str, key: str, interview: Interview, start: datetime,
              duration: timedelta) -> FollowupEvent:
        lang = self.language_of(interview)
        title, body = self._templates(lang)[kind].render(self._values(interview, (), lang))
        return FollowupEvent(key=key, title=title, description=body, start=start, end=start + duration)

    def draft(self, kind: str, key: str, interview: Interview, to: tuple[Recipient, ...],
              date: datetime) -> Draft:
        lang = self.language_of(interview)
        subject, body = self._templates(lang)[kind].render(self._values(interview, to, lang))
        return build_draft(key, Recipient(self.me.name, self.me.email), to, subject, body,
                           domain=self._domain(), date=date)

    def message_id(self, key: str) -> str:
        """The Message-ID ``draft`` gives the draft for ``key``, without
        composing it."""
        return message_id(key, self._domain())

    def _domain(self) -> str:
        return self.me.email.rpartition("@")[2] if "@" in self.me.email else ""
