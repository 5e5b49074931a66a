"""Which calendar events are the user's own job interviews.

Evidence is weighed, not a keyword hit taken on trust: words that name an
interview or a round, signs of a hiring process, an invitation sent
through a hiring system, a company named in the title. Against it stand
other meanings of the same words (press, visa, research, reviews, school,
events, games), signs that the user sits on the hiring side (interview
kits, feedback forms, debriefs, a candidate named as such, everybody from
the user's own employer), a declined or cancelled event. Every verdict
carries its reason in one line, which ``plan`` and ``status`` show.

An event with some evidence but not enough is a *maybe*: it is listed
with the command that confirms it and nothing is written for it. The user
has the last word: ``followup include`` / ``exclude`` (``Overrides``) and a
tag in the calendar (``[followup]`` / ``[no followup]`` in the title, or
a category of that name).

Pure functions over ``CalendarEvent`` values: no I/O, no clock. The words
come from the language files in ``daemon/lang``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from functools import cached_property, lru_cache
from zoneinfo import ZoneInfo

from daemon.judge import domains, people
from daemon.judge.decision import DecisionReader
from daemon.judge.extract import Names, Reader, looks_like_person, phone_number, plain_text
from daemon.lang import Hit, Lexicon, Matcher, norm
from daemon.model import CalendarEvent, Recipient
from daemon.plan.timing import interview_end
from daemon.settings import Detection

# Evidence needed: at least this much makes an interview; an event with an
# interview or round word but less is a maybe. Without any interview or
# round word (a hiring system, "the role at Wise") a little more is needed.
ENOUGH = 3
ENOUGH_WITHOUT_WORDS = 4
TEXT_LIMIT = 20_000  # characters of a description weighed
# Occurrences of one series closer than this are a standing meeting or a
# hostile invitation, never interviews (a two-day on-site is a day apart).
SERIES_MIN_GAP = timedelta(hours=20)
# Tags that settle the question from inside the calendar.
INCLUDE_TAG = re.compile(r"\[\s*followup\s*\]|#followup\b", re.I)
EXCLUDE_TAG = re.compile(r"\[\s*no[\s_-]*followup\s*\]|#no[_-]?followup\b", re.I)
# "– candidate Kai Neumann", "Kandidat: Jan Meier", "Jordan Smith (candidate)"
_CANDIDATE_WORDS = r"candidate|kandidat|kandidatin|candidat|candidate|candidato|candidata|kandidaat|kandydat|kandydatka"
_CANDIDATE_IN_TITLE = re.compile(
    rf"(?i:\b(?:{_CANDIDATE_WORDS})\b)[:\s]+(?P<name>[A-ZÀ-Þ][\w'’-]+\s+[A-ZÀ-Þ][\w'’-]+)"
    rf"|(?P<before>[A-ZÀ-Þ][\w'’-]+\s+[A-ZÀ-Þ][\w'’-]+)\s*\((?i:{_CANDIDATE_WORDS})\)")
_LINK = re.compile(r"(?:https?://|www\.)\S+", re.I)
INCLUDE_CATEGORIES = frozenset({"followup", "interview", "job interview"})
EXCLUDE_CATEGORIES = frozenset({"no followup", "no-followup", "nofollowup"})


@dataclass(frozen=True)
class Interview:
    """A calendar event recognised as a job interview (one occurrence)."""

    calendar: str
    event: CalendarEvent
    start: datetime  # in the user's time zone
    end: datetime  # when it is over (all-day: 17:00 local on the last day)
    matched: str  # the word that matched
    company: str | None
    position: str | None
    interviewers: tuple[Recipient, ...]
    company_domains: tuple[str, ...]
    decision_by: date | None
    phone: str | None
    why: str = ""  # the evidence, in one line
    language: str = ""  # the language its words were in ("" unknown)

    @property
    def uid(self) -> str:
        return self.event.uid

    @property
    def title(self) -> str:
        return self.event.title


@dataclass(frozen=True)
class Ignored:
    """An event that looked like an interview but was ruled out, or that
    the daemon is unsure about (``cause == "unsure"``)."""

    calendar: str
    event: CalendarEvent
    matched: str
    reason: str
    # cancelled, declined, excluded (a configured word), other (another
    # meaning), interviewer (the user is on the hiring side), organizer,
    # unsure (maybe an interview), user (excluded by the user), series
    # (a series that repeats within a day)
    cause: str

    @property
    def uid(self) -> str:
        return self.event.uid


@dataclass(frozen=True)
class Overrides:
    """The user's own verdicts: by UID, or by text in the title."""

    include_uids: frozenset[str] = frozenset()
    exclude_uids: frozenset[str] = frozenset()
    include_titles: tuple[str, ...] = ()
    exclude_titles: tuple[str, ...] = ()

    def verdict(self, event: CalendarEvent) -> tuple[bool, str] | None:
        """(include?, how) when the user decided about ``event``."""
        if event.uid in self.exclude_uids:
            return False, "you excluded it (followup exclude)"
        if event.uid in self.include_uids:
            return True, "you included it (followup include)"
        title = norm(event.title)
        for text in self.exclude_titles:
            if norm(text) in title:
                return False, f"you excluded titles with {text!r} (followup exclude)"
        for text in self.include_titles:
            if norm(text) in title:
                return True, f"you included titles with {text!r} (followup include)"
        categories = {norm(c).strip() for c in event.categories}
        if EXCLUDE_TAG.search(event.title) or categories & EXCLUDE_CATEGORIES:
            return False, "tagged [no followup] in the calendar"
        if INCLUDE_TAG.search(event.title) or categories & INCLUDE_CATEGORIES:
            return True, "tagged [followup] in the calendar"
        return None


def _norm(text: str) -> str:
    return norm(text)


@lru_cache(maxsize=64)
def _word_pattern(words: tuple[str, ...]) -> Matcher:
    return Matcher({norm(w).strip(): "" for w in words if w.strip()})


def find_word(words: tuple[str, ...], text: str) -> str | None:
    """The first of ``words`` in ``text`` as a whole word (plural endings
    allowed; a space also matches ``-`` and ``_``), or None."""
    if not text:
        return None
    hit = _word_pattern(tuple(words)).search(norm(text))
    return hit.word if hit else None


@dataclass
class _Evidence:
    score: int = 0
    reasons: list[str] = field(default_factory=list)

    def add(self, weight: int, reason: str) -> None:
        self.score += weight
        self.reasons.append(reason)


class _Facts:
    """What one verdict reads of an event more than once, read once: the
    names on it and what the title and description say of the company and
    position."""

    def __init__(self, judge: Judge, event: CalendarEvent):
        self._judge, self._event = judge, event

    @cached_property
    def names(self) -> Names:
        return self._judge._names(self._event)

    @cached_property
    def title(self) -> tuple[str | None, str | None, str | None]:
        return self._judge.reader.from_title(self._event.title, self.names)

    @cached_property
    def description(self) -> tuple[str | None, str | None]:
        return self._judge.reader.from_description(self._event.description, self.names)


def _inside(hit: Hit, spans: list[Hit]) -> bool:
    """``hit`` lies within a longer hit of ``spans``."""
    return any(s.start <= hit.start and hit.end <= s.end and (s.end - s.start) > (hit.end - hit.start)
               for s in spans)


class Judge:
    """Detection for one configuration: compiled once, used for every event."""

    def __init__(self, rules: Detection, me: frozenset[str], tz: ZoneInfo, user_name: str = "",
                 overrides: Overrides | None = None, month_first: bool = True,
                 lexicon: Lexicon | None = None):
        self.rules = rules
        self.me = me
        self.tz = tz
        self.user_name = user_name
        self.overrides = overrides or Overrides()
        self.month_first = month_first
        self.lexicon = lexicon or _lexicon(rules.languages, rules.extra_keywords)
        self.reader, self.decisions = _readers(self.lexicon)

    # -- the words ------------------------------------------------------------

    @cached_property
    def _interview_words(self) -> Matcher:
        if self.rules.keywords is not None:  # the user's own list replaces the languages'
            return Matcher({norm(k).strip(): "" for k in (*self.rules.keywords, *self.rules.extra_keywords)
                            if k.strip()})
        return self.lexicon.matcher("interview")

    @cached_property
    def _rounds(self) -> Matcher:
        if self.rules.keywords is not None:
            return Matcher({})
        return self.lexicon.matcher("rounds")

    @cached_property
    def _excluded(self) -> Matcher:
        return Matcher({norm(w).strip(): "" for w in self.rules.exclude if w.strip()})

    @cached_property
    def _own_domains(self) -> frozenset[str]:
        return frozenset(domains.registered(domains.domain_of(a)) for a in self.me
                         if "@" in a and domains.is_employer(a))

    def interest_terms(self) -> list[str]:
        """Every text whose presence can make an event worth reading: the
        interview and round words, the strong signs of a hiring process,
        the hiring systems' domains, the tags and the user's included
        titles; ``interest_domains`` adds the hiring systems' domains.
        ``Interest`` is built from these, so that detection never sees less
        than it could use."""
        if self.rules.keywords is not None:
            words = [*self.rules.keywords, *self.rules.extra_keywords]
        else:
            words = [*self.lexicon.words("interview"), *self.lexicon.words("rounds"),
                     *self.lexicon.words("hiring_strong")]
        words += ["followup", "interview", *self.overrides.include_titles]
        return words

    @staticmethod
    def interest_domains() -> frozenset[str]:
        """The hiring systems and interview vendors whose addresses or links
        make an invitation worth reading (``_system``)."""
        return domains.HIRING_SYSTEMS | domains.INTERVIEW_VENDORS

    # -- the verdict ----------------------------------------------------------

    def classify(self, event: CalendarEvent, calendar: str) -> Interview | Ignored | None:
        """An ``Interview``, an ``Ignored`` (ruled out or unsure, with the
        reason), or None for an event that has nothing to do with interviews."""
        if "<" in event.description:
            plain = plain_text(event.description)
            if plain != event.description:
                event = replace(event, description=plain)
        title = norm(event.title)
        # words are judged without the links (a Teams link holds "meetup-join")
        description = norm(_LINK.sub(" ", event.description[:TEXT_LIMIT]))
        in_title = self._hits(title)
        in_description = self._hits(description)
        user = self.overrides.verdict(event)
        system = self._system(event)
        strong = self.lexicon.matcher("hiring_strong").search(description) if self.rules.keywords is None else None
        if not in_title and not in_description and user is None and system is None and strong is None:
            return None
        first = (in_title or in_description)
        matched = first[0].word if first else (system or (strong.word if strong else "followup"))

        def ignored(reason: str, cause: str) -> Ignored:
            return Ignored(calendar, event, matched, reason, cause)

        if event.status.upper() == "CANCELLED":
            return ignored("the event is cancelled", "cancelled")
        if self._declined(event):
            return ignored("you declined it", "declined")
        if user is not None:
            if not user[0]:
                return ignored(user[1], "user")
            return self._make_interview(event, calendar, matched, user[1], first, _Facts(self, event))

        excluded = self._excluded.search(title) if self._excluded else None
        if excluded:
            return ignored(f"the title contains {excluded.word!r}", "excluded")
        if self._organized_by_me_with_guests(event):
            return ignored("you organize it and invited others: you are the interviewer", "organizer")
        if self.rules.keywords is None:
            other = self._other_meaning(event, title, description, in_title,
                                        hiring_proof=system is not None or strong is not None)
            if other is not None:
                return ignored(other, "other")
            side = self._hiring_side(event, title, description)
            if side is not None:
                return ignored(side, "interviewer")

        facts = _Facts(self, event)
        evidence = self._weigh(event, title, description, in_title, in_description, system, strong, facts)
        needed = ENOUGH if (in_title or in_description) else ENOUGH_WITHOUT_WORDS
        if evidence.score >= needed:
            return self._make_interview(event, calendar, matched, "; ".join(evidence.reasons), first, facts)
        if in_title or in_description or system:
            shown = "; ".join(evidence.reasons) or "nothing else shows a hiring process"
            return ignored(f"maybe an interview ({shown}); to confirm: followup include {event.uid}",
                           "unsure")
        return None

    def _hits(self, text: str) -> list[Hit]:
        """Interview and round words in ``text``, longest first where they overlap."""
        if not text:
            return []
        hits = [*self._interview_words.finditer(text), *self._rounds.finditer(text)]
        hits = [h for h in hits if not _inside(h, hits)]
        return sorted(hits, key=lambda h: h.start)

    def _system(self, event: CalendarEvent) -> str | None:
        """The hiring system or interview vendor an invitation came through."""
        addresses = [p.email for p in (event.organizer, *event.attendees) if p is not None and p.email]
        for address in addresses:
            domain = domains.domain_of(address)
            if domains.is_hiring_system(domain) or domains.is_vendor(domain):
                return domains.registered(domain)
        if "." in event.description:
            links = re.findall(r"https?://([\w.-]+)", event.description[:TEXT_LIMIT])
            for host in links:
                host = host.lower()
                if domains.is_hiring_system(host) or domains.is_vendor(host):
                    return domains.registered(host)
        return None

    def _declined(self, event: CalendarEvent) -> bool:
        return any(a.email.lower() in self.me and a.partstat.upper() == "DECLINED"
                   for a in event.attendees if a.email)

    def _organized_by_me_with_guests(self, event: CalendarEvent) -> bool:
        org = event.organizer
        if org is None or not org.email or org.email.lower() not in self.me:
            return False
        return any(a.cutype.upper() not in people.NOT_PEOPLE and (a.email or a.name)
                   and (a.email or "").lower() not in self.me for a in event.attendees)

    def _other_meaning(self, event: CalendarEvent, title: str, description: str, in_title: list[Hit],
                       hiring_proof: bool) -> str | None:
        """Press, visa, research, reviews, school, events, games: a phrase
        in the title, unless it is part of a job title ("Press Relations
        Lead") or the invitation otherwise proves a hiring process (sent
        through a hiring system, "thank you for applying") and its
        description gives no other meaning; or a phrase in the description
        when the title names no interview (only a round, like "Panel") and
        nothing proves a hiring process (also beside an interview word when
        nothing speaks of hiring at all: a journalist's "Interview mit ...",
        "Erscheinungstermin"). Preparing for an interview counts in the
        title only ("no prep needed" is said of real ones)."""
        matcher = self.lexicon.matcher("other_meanings")
        in_description = None
        for hit in matcher.finditer(description):
            if not self._in_job_title(description, hit) and not _inside(hit, self._hits(description)):
                in_description = hit
                break
        if not (hiring_proof and in_description is None):
            for key in ("other_meanings", "other_meanings_titles"):
                for hit in self.lexicon.matcher(key).finditer(title):
                    if _inside(hit, in_title) or self._in_job_title(title, hit):
                        continue
                    return f"{hit.word!r} in the title gives it another meaning"
        interview_words = self._interview_words.lang_of
        if in_description is not None and not hiring_proof and (
                not any(h.word in interview_words for h in in_title)
                or not self._hiring_context(title, description, in_title)):
            return f"{in_description.word!r} in the description gives it another meaning"
        return None

    def _hiring_context(self, title: str, description: str, hits: list[Hit]) -> bool:
        """A word of a hiring process anywhere (a role, an application, a
        recruiter), beside the interview words themselves."""
        weak = self.lexicon.matcher("hiring")
        return any(not _inside(h, hits) for text in (title, description) for h in weak.finditer(text))

    def _in_job_title(self, text: str, hit: Hit) -> bool:
        """"Press Relations Lead", "Clinical Practice Manager", "Head of
        Podcasts": a job-title word within two words either side."""
        before = text[:hit.start].split()[-2:]
        after = text[hit.end:].split()[:2]
        roles = self.lexicon.matcher("role_words")
        near = " ".join([*before, "|", *after])
        found = roles.search(near)
        return found is not None and found.word not in ("data", "product", "security", "support", "sales")

    def _hiring_side(self, event: CalendarEvent, title: str, description: str) -> str | None:
        """Interview kits, feedback forms, debriefs, holds, a candidate
        named as such, a Greenhouse scheduling guest, or everybody from the
        user's own employer: the user is on the hiring side."""
        anywhere = self.lexicon.matcher("hiring_side")
        for text, where in ((title, "title"), (description, "description")):
            for hit in anywhere.finditer(text):
                if hit.word.endswith(":") and self._names_me(text[hit.end:hit.end + 80]):
                    continue  # "Candidate: <my name>" is my own interview
                return f"{hit.word!r} in the {where}: you are on the hiring side"
        for hit in self.lexicon.matcher("hiring_side_titles").finditer(title):
            if not _inside(hit, self._hits(title)):  # "Take-home debrief" is a round
                return f"{hit.word!r} in the title: you are on the hiring side"
        candidate = _CANDIDATE_IN_TITLE.search(event.title)
        name = (candidate.group("name") or candidate.group("before")) if candidate else ""
        if name and not self._names_me(norm(name)):
            return f"the title names a candidate ({name}): you are on the hiring side"
        if self._all_colleagues(event):
            return "the organizer and every guest are from your own employer: you are on the hiring side"
        org = (event.organizer.email or "").lower() if event.organizer else ""
        if org and org not in self.me and domains.registered(domains.domain_of(org)) in self._own_domains:
            return f"{org} of your own employer invited you: a meeting at work, not your application"
        return None

    def _names_me(self, text: str) -> bool:
        if not self.user_name:
            return False
        first = norm(self.user_name).split()
        return bool(first) and first[0] in text.split()[:3]

    def _all_colleagues(self, event: CalendarEvent) -> bool:
        """Everybody on the invitation, the user included, shares the user's
        employer domain (and there is somebody else)."""
        if not self._own_domains:
            return False
        mine = {a.email.lower() for a in event.attendees if a.email and a.email.lower() in self.me}
        mine_at_work = {a for a in mine if domains.registered(domains.domain_of(a)) in self._own_domains}
        if mine and not mine_at_work:
            return False  # invited at a private address: the user's own application
        others = [p for p in people.attendees(event, self.me)]
        if not others:
            return False
        return all(p.email and domains.registered(domains.domain_of(p.email)) in self._own_domains
                   for p in others)

    def _weigh(self, event: CalendarEvent, title: str, description: str, in_title: list[Hit],
               in_description: list[Hit], system: str | None, strong: Hit | None,
               facts: _Facts) -> _Evidence:
        evidence = _Evidence()
        interview_words = set(self._interview_words.lang_of) if self.rules.keywords is None else None
        title_interview = [h for h in in_title if interview_words is None or h.word in interview_words]
        title_rounds = [h for h in in_title if h not in title_interview]
        if title_interview:
            evidence.add(3, f"{title_interview[0].word!r} in the title")
        elif title_rounds:
            evidence.add(2, f"{title_rounds[0].word!r} in the title")
        desc_interview = [h for h in in_description if interview_words is None or h.word in interview_words]
        if not in_title and desc_interview:
            evidence.add(2, f"{desc_interview[0].word!r} in the description")
        elif not in_title and in_description:
            evidence.add(1, f"{in_description[0].word!r} in the description")
        if strong is not None:
            evidence.add(2, f"{strong.word!r} in the description")
        elif self.rules.keywords is None:
            spans = [*in_title, *in_description]
            for text in (title, description):
                weak = [h for h in self.lexicon.matcher("hiring").finditer(text) if not _inside(h, spans)]
                if weak:
                    evidence.add(1, f"{weak[0].word!r} shows a hiring process")
                    break
        if system is not None:
            evidence.add(2, f"sent through {system}")
        if in_title and not title_interview and facts.title[0] is not None:
            evidence.add(1, "the title names a company")
        elif not title_interview and (in_title or in_description or strong) and self._invited_by_company(event):
            evidence.add(1, f"invited by {event.organizer.email}")
        if not title_interview and facts.description[1]:
            evidence.add(1, "the description names a position")
        if not in_title and self._scheduler_title(event, facts.names):
            evidence.add(1, "a scheduler's title of two names")
        return evidence

    def _invited_by_company(self, event: CalendarEvent) -> bool:
        org = event.organizer
        return (org is not None and bool(org.email) and org.email.lower() not in self.me
                and domains.is_employer(org.email)
                and domains.registered(domains.domain_of(org.email)) not in self._own_domains)

    def _scheduler_title(self, event: CalendarEvent, names: Names) -> bool:
        """"Jordan Lee and Sam Ortiz", "Jordan <> Sam", "30 Min Meeting between
        Riley Chen and Alex Morgan": a scheduler's title of two people."""
        title = event.title.strip()
        between = re.search(r"\b(?:between|zwischen|entre|tussen|tra)\s+(.+)$", title, re.I)
        if between:
            title = between.group(1)
        parts = re.split(r"\s+(?:and|und|et|y|en|e|&|<>|x|/|//|\+|meets)\s+", title)
        return len(parts) == 2 and all(looks_like_person(p.strip(" :-")) or names.is_person(p.strip(" :-"))
                                       for p in parts)

    def _names(self, event: CalendarEvent) -> Names:
        """The names that are never a company: the people on the invitation
        (not rooms, groups or team calendars) and the user's own."""
        persons = people.attendees(event, self.me)
        employers = [p.email for p in persons if p.email and domains.is_employer(p.email)]
        return Names.build([p.name for p in persons if p.name], self.user_name, employers)

    # -- what an interview is about --------------------------------------------

    def _make_interview(self, event: CalendarEvent, calendar: str, matched: str, why: str,
                        hits: list[Hit] | None, facts: _Facts) -> Interview:
        names = facts.names
        interviewers = people.interviewers(event, self.me, self.lexicon)
        company, position, vendor = facts.title
        d_company, d_position = facts.description
        company = company or d_company
        # a title shortens the position ("Senior ML Engineer"); the
        # description's sentence names it whole
        position = d_position or position
        if company is None:
            for person in (event.organizer, *event.attendees):
                if person is not None and person.name:
                    company = self.reader.from_sender_name(person.name, names)
                    if company:
                        break
        if company is None:
            company = self.reader.from_signature(event.description, names)
        found_domains = people.company_domains([p.email for p in interviewers if p.email],
                                               named=f"{event.title} {company or ''}")
        if company is not None:
            company = self.reader.without_team_words(company)  # "Recrutement BlaBlaCar"
        if company is None and found_domains:
            spellings = [event.title, event.description, event.location, *(p.name for p in interviewers),
                         *(p.name for p in (event.organizer, *event.attendees) if p is not None)]
            company = (self.reader.spelled_domain(found_domains[0], spellings)
                       or domains.company_from_domain(found_domains[0]))
        start = event.start.astimezone(self.tz)
        end = interview_end(event.end, event.all_day, self.tz)
        language = self._language(hits)
        return Interview(
            calendar=calendar, event=event, start=start, end=end, matched=matched,
            company=company, position=position, interviewers=interviewers,
            company_domains=found_domains,
            decision_by=self.decisions.read(event.description, start.date(), self.month_first),
            phone=phone_number(event.description, event.location),
            why=why + (f"; run by {vendor}" if vendor else ""),
            language=language)

    @staticmethod
    def _language(hits: list[Hit] | None) -> str:
        counts: dict[str, int] = {}
        for hit in hits or []:
            if hit.lang:
                counts[hit.lang] = counts.get(hit.lang, 0) + 1
        return max(counts, key=lambda k: counts[k]) if counts else ""


@lru_cache(maxsize=8)
def _lexicon(languages: tuple[str, ...] | None, extra_keywords: tuple[str, ...]) -> Lexicon:
    """One compiled lexicon per configuration and process: a second engine
    (a reload, the next command in one process) does not compile it again."""
    return Lexicon(languages, extra={"interview": extra_keywords})


@lru_cache(maxsize=8)
def _readers(lexicon: Lexicon) -> tuple[Reader, DecisionReader]:
    return Reader(lexicon), DecisionReader(lexicon)


@lru_cache(maxsize=8)
def _judge(rules: Detection, me: frozenset[str], tz: ZoneInfo, user_name: str) -> Judge:
    return Judge(rules, me, tz, user_name)


def classify(event: CalendarEvent, calendar: str, rules: Detection,
             me: frozenset[str], tz: ZoneInfo, user_name: str = "") -> Interview | Ignored | None:
    """``Judge.classify`` for a configuration (its compiled words are kept)."""
    return _judge(rules, me, tz, user_name).classify(event, calendar)


def judge_series(interviews: list[Interview]) -> tuple[list[Interview], list[Ignored]]:
    """A recurring series is not a stream of separate interviews: when two
    of its occurrences are less than ``SERIES_MIN_GAP`` apart, none of them
    is an interview (the planner makes the others one hiring process with
    one thank-you). Returns the interviews kept and one ``Ignored`` per
    series ruled out."""
    starts: dict[tuple[str, str], list[datetime]] = {}
    for iv in interviews:
        if iv.event.recurrence_id is not None:
            starts.setdefault((iv.calendar, iv.uid), []).append(iv.event.start)
    gaps = {}
    for series, moments in starts.items():
        moments.sort()
        gap = min((b - a for a, b in zip(moments, moments[1:])), default=None)
        if gap is not None and gap < SERIES_MIN_GAP:
            gaps[series] = gap
    kept: list[Interview] = []
    ruled_out: list[Ignored] = []
    said: set[tuple[str, str]] = set()
    for iv in interviews:
        series = (iv.calendar, iv.uid)
        gap = gaps.get(series) if iv.event.recurrence_id is not None else None
        if gap is None:
            kept.append(iv)
        elif series not in said:  # one line per series
            said.add(series)
            ruled_out.append(Ignored(iv.calendar, iv.event, iv.matched,
                                     f"it repeats every {_span(gap)}: a series that repeats "
                                     "within a day is not an interview", "series"))
    return kept, ruled_out


def _span(gap: timedelta) -> str:
    seconds = int(gap.total_seconds())
    for unit, size in (("hour", 3600), ("minute", 60), ("second", 1)):
        if seconds >= size or unit == "second":
            n = seconds // size
            return f"{n} {unit}{'' if n == 1 else 's'}"
