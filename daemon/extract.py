"""Reading company, position, decision date and phone number out of event
text. Heuristics over untrusted text: pure functions, no I/O."""

from __future__ import annotations

import re
import unicodedata
from datetime import date, timedelta

FREE_MAIL = frozenset("""
gmail.com googlemail.com outlook.com hotmail.com hotmail.co.uk live.com msn.com
yahoo.com yahoo.co.uk ymail.com icloud.com me.com mac.com aol.com gmx.de gmx.net
gmx.com web.de t-online.de posteo.de mailbox.org proton.me protonmail.com pm.me
fastmail.com fastmail.fm hey.com zoho.com yandex.ru yandex.com mail.ru qq.com
163.com 126.com orange.fr free.fr laposte.net wanadoo.fr sfr.fr libero.it
""".split())
# Scheduling and applicant-tracking systems send invites from their own
# domains; those are not the employer.
SCHEDULERS = frozenset("""
google.com calendly.com greenhouse.io greenhouse-mail.io lever.co hire.lever.co
ashbyhq.com workday.com myworkday.com smartrecruiters.com goodtime.io icims.com
jobvite.com teamtailor.com personio.de personio.com workable.com zoom.us
microsoft.com linkedin.com recruitee.com bamboohr.com gem.com
""".split())
# Second-level suffixes where the organisation's name is one label further left.
TWO_PART_SUFFIXES = frozenset("co.uk org.uk ac.uk com.au net.au co.nz co.jp co.in com.br com.mx co.za".split())

ROLE_WORDS = re.compile(
    r"\b(engineer|developer|manager|designer|analyst|scientist|lead|director|intern|"
    r"specialist|consultant|architect|product|sales|marketing|senior|junior|staff|principal|"
    r"head of|vp|officer|associate|administrator|coordinator|recruiter|accountant|"
    r"entwickler|ingenieur|leiter|ingénieur|développeur|chef|desarrollador|ingeniero|gerente)\b",
    re.I,
)
PREPOSITIONS = re.compile(r"\s(?:at|bei|chez|en|@|with|mit|avec|con)\s", re.I)
SEPARATORS = re.compile(r"\s+[-–—|/]\s+|:\s+|\s+[–—]|[–—]\s+")
PARENS = re.compile(r"[(\[]([^)\]]{1,80})[)\]]")


def _clean(part: str) -> str:
    if not part.isprintable():  # printable: no control or format character to drop
        part = "".join(c for c in part if unicodedata.category(c)[0] != "C")
    return part.strip(" \t-–—|:,.;\"'")


def company_and_position(title: str, keywords: tuple[str, ...],
                         people: list[str]) -> tuple[str | None, str | None]:
    """Company and position from titles such as ``Interview with X - Acme
    Corp (Role)``, ``Acme: Phone Screen``, ``Onsite interview — Initech,
    Product Manager`` or ``Vorstellungsgespräch bei Siemens AG``."""
    from .detection import find_word  # local import: detection imports this module

    position = None
    for m in PARENS.finditer(title):
        inner = _clean(m.group(1))
        if inner and ROLE_WORDS.search(inner):
            position = inner
    title = PARENS.sub(" ", title)
    person_names = {p.casefold() for p in people if p}
    company = None
    rest: list[str] = []
    for segment in (s for s in (_clean(s) for s in SEPARATORS.split(title)) if s):
        if find_word(keywords, segment):
            # "Interview with Jane at Acme": what follows a preposition
            pieces = PREPOSITIONS.split(" " + segment + " ")
            for piece in pieces[1:]:
                piece = _clean(piece)
                if piece and piece.casefold() not in person_names and not find_word(keywords, piece):
                    is_with = re.search(r"\s(?:with|mit|avec|con)\s" + re.escape(piece), " " + segment, re.I)
                    if not is_with or company is None:
                        company = company or (None if is_with and _looks_like_person(piece) else piece)
            continue
        rest.append(segment)
    for segment in rest:
        # "Jane from Umbrella Corp"
        segment = re.split(r"\s(?:from|von|de)\s", segment, maxsplit=1, flags=re.I)[-1]
        if "," in segment:
            head, _, tail = segment.partition(",")
            head, tail = _clean(head), _clean(tail)
            if ROLE_WORDS.search(tail) and not ROLE_WORDS.search(head):
                segment, position = head, position or tail
            elif ROLE_WORDS.search(head) and not ROLE_WORDS.search(tail):
                segment, position = tail, position or head
        if ROLE_WORDS.search(segment) and position is None:
            position = segment
        elif segment.casefold() not in person_names and company is None:
            company = segment
    return company or None, position or None


def _looks_like_person(text: str) -> bool:
    words = text.split()
    return 2 <= len(words) <= 3 and all(w[:1].isupper() and w[1:].islower() for w in words)


def company_domains(addresses: list[str]) -> tuple[str, ...]:
    """Employer domains among the interviewers' addresses, most common first."""
    counts: dict[str, int] = {}
    for address in addresses:
        domain = address.rpartition("@")[2].lower()
        if not domain or domain in FREE_MAIL or _registered(domain) in SCHEDULERS:
            continue
        domain = _registered(domain)
        counts[domain] = counts.get(domain, 0) + 1
    return tuple(sorted(counts, key=lambda d: -counts[d]))


def _registered(domain: str) -> str:
    labels = domain.split(".")
    keep = 3 if ".".join(labels[-2:]) in TWO_PART_SUFFIXES else 2
    return ".".join(labels[-keep:])


def company_from_domain(domain: str) -> str:
    name = _registered(domain).split(".")[0]
    return " ".join(w.capitalize() for w in re.split(r"[-_]", name) if w) or domain


NUMBER_WORDS = {
    "a": 1, "an": 1, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6,
    "seven": 7, "eight": 8, "nine": 9, "ten": 10, "eleven": 11, "twelve": 12,
    "fourteen": 14, "a couple of": 2, "a few": 3, "couple of": 2, "few": 3,
}
MONTHS = {m: i for i, names in enumerate([
    ("jan", "january"), ("feb", "february"), ("mar", "march"), ("apr", "april"),
    ("may",), ("jun", "june"), ("jul", "july"), ("aug", "august"),
    ("sep", "sept", "september"), ("oct", "october"), ("nov", "november"), ("dec", "december"),
], start=1) for m in names}

_CUE = r"(?:decision|decide|decided|hear back|hear from us|get back to you|back to you|respond|response|feedback|next steps?|let you know|update you|answer)"
_NUM = r"(\d{1,3}|" + "|".join(sorted(map(re.escape, NUMBER_WORDS), key=len, reverse=True)) + ")"
PERIOD = re.compile(
    _CUE + r"[^.\n]{0,40}?\b(?:within|in|after)\s+(?:the\s+next\s+)?" + _NUM
    + r"\s+(business\s+|working\s+)?(days?|weeks?|months?)\b", re.I)
_MONTH = r"(" + "|".join(sorted(MONTHS, key=len, reverse=True)) + r")\.?"
BY_DATE = re.compile(
    _CUE + r"[^.\n]{0,40}?\b(?:by|before|until|on)\s+(?:\w+day,?\s+)?(?:"
    + _MONTH + r"\s+(\d{1,2})(?:st|nd|rd|th)?(?:,?\s+(\d{4}))?"
    + r"|(\d{1,2})(?:st|nd|rd|th)?\s+(?:of\s+)?" + _MONTH + r"(?:,?\s+(\d{4}))?"
    + r"|(\d{4})-(\d{2})-(\d{2}))", re.I)


def decision_date(text: str, interview_day: date) -> date | None:
    """The date by which the interviewer said they would decide: ``decision
    within two weeks`` (interview date + period), ``hear back in 10 days``,
    ``get back to you by December 12`` (the next such date)."""
    if not text:
        return None
    m = BY_DATE.search(text)
    if m:
        try:
            if m.group(7):
                return date(int(m.group(7)), int(m.group(8)), int(m.group(9)))
            month = MONTHS[(m.group(1) or m.group(5)).lower()]
            day = int(m.group(2) or m.group(4))
            year = m.group(3) or m.group(6)
            if year:
                return date(int(year), month, day)
            found = date(interview_day.year, month, day)
            return found if found >= interview_day else date(interview_day.year + 1, month, day)
        except ValueError:
            pass
    m = PERIOD.search(text)
    if m:
        amount_text, business, unit = m.group(1).lower(), m.group(2), m.group(3).lower()
        amount = int(amount_text) if amount_text.isdigit() else NUMBER_WORDS[amount_text]
        if amount > 365:
            return None
        if unit.startswith("week"):
            return interview_day + timedelta(weeks=amount)
        if unit.startswith("month"):
            return interview_day + timedelta(days=30 * amount)
        if business:
            day, left = interview_day, amount
            while left:
                day += timedelta(days=1)
                left -= day.weekday() < 5
            return day
        return interview_day + timedelta(days=amount)
    return None


PHONE = re.compile(r"(?<![\w+])(\+?\(?\d[\d\s().\-/]{6,20}\d)(?!\w)")
PHONE_CUE = re.compile(r"\b(phone|tel|telephone|call|mobile|cell|telefon|téléphone|teléfono)\b|📞", re.I)
NOT_PHONE_CUE = re.compile(r"\b(meeting id|passcode|password|pin|conference id|id:)", re.I)


def phone_number(*texts: str) -> str | None:
    """A phone number from a line that names one (``Phone: +1 555 …``), or
    any number written in international form."""
    candidates: list[tuple[int, str]] = []
    for text in texts:
        for line in (text or "").splitlines():
            if NOT_PHONE_CUE.search(line):
                continue
            for m in PHONE.finditer(line):
                number = m.group(1).strip()
                digits = sum(c.isdigit() for c in number)
                if not 7 <= digits <= 15 or re.fullmatch(r"\d{4}-\d{2}-\d{2}", number):
                    continue
                if PHONE_CUE.search(line):
                    candidates.append((0, number))
                elif number.startswith("+"):
                    candidates.append((1, number))
    return min(candidates)[1] if candidates else None
