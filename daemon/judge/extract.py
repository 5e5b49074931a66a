"""Company, position and phone number, read out of an invitation.

Heuristics over untrusted text, as pure functions. The company comes from
the title in its common shapes (``Interview with Jane at Acme``, ``Acme:
Phone Screen``, ``Cloudflare phone screen``, ``Phone screen - Acme Corp
(Backend Engineer)``, ``Vorstellungsgespräch bei Siemens AG``), never from
the user's or an attendee's name, a round name or a job level; then from
the description (``for the Senior Analyst role at Wise``), then from the
organizer's name (``Acme Recruiting``); the caller falls back to the
interviewers' mail domain. An interview vendor's name (Karat, HackerRank)
is never the company: it runs the screen for somebody else.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import cached_property

from daemon.judge import domains
from daemon.lang import Lexicon, Matcher, norm

# Title pieces: " - ", " | ", ": ", " — ", " <> ", " // ", ", "
SEPARATORS = re.compile(r"\s+[-–—|/]+\s+|:\s+|\s+<>\s+|\s+[–—]|[–—]\s+|\s*\|\s*|,\s+|\s+//\s+")
PARENS = re.compile(r"[(\[{]([^)\]}]{1,80})[)\]}]")
# Labels and prefixes that are no part of any name.
NOISE = re.compile(
    r"^(?:re|fw|fwd|aw|wg|tr|rv|invitation|updated invitation|invite|confirmed|confirmation|"
    r"tentative|rescheduled|reminder|updated|new time|canceled|cancelled|external|hold|moved|"
    r"einladung(?: zum| zur)?|bestätigt|verschoben|neuer termin|convocation|nouvelle date|reporté|"
    r"invitación|reprogramad[ao]|nuevo horario|uitnodiging(?: voor)?|verplaatst|nieuwe tijd|invito|"
    r"nuova data|spostato|convite|reagendad[ao]|novo horário)\b[:\s]*", re.I)
# Job levels, round numbers and generic words that are never a company.
LEVEL = re.compile(
    r"^(?:(?:l|e|ic|m|p|t|sde|swe|pm|g|band|grade|level)\s?-?\d{1,2}[a-z]?|"
    r"(?:round|stage|step|part|phase|session|day|runde|stufe|tour|étape|ronda|etapa|fase|ronde|"
    r"turno|fase)\s*#?\s*\d{1,2}(?:\s*(?:of|/|von|sur|de|di|van)\s*\d{1,2})?|"
    r"#?\d+|\d+\s*(?:min|mins|minutes|minute|minuten|h|hr|hrs|hour|hours|stunde|heure|hora|uur|ora)\b.*)$",
    re.I)
GENERIC = frozenset(norm(w) for w in (
    "call", "video call", "phone call", "meeting", "zoom", "zoom meeting", "teams", "microsoft teams",
    "google meet", "meet", "webex", "phone", "video", "virtual", "remote", "online", "in person",
    "in-person", "office", "follow up", "follow-up", "chat", "conversation", "discussion", "talk",
    "intro", "introduction", "session", "sync", "catch up", "coffee", "lunch", "dinner", "tbd", "tba",
    "you", "me", "candidate", "interviewer", "recruiter", "team", "the team", "hr", "telefon",
    "telefonat", "gespräch", "termin", "videocall", "visio", "appel", "réunion", "rendez-vous",
    "llamada", "reunión", "videollamada", "gesprek", "afspraak", "chiamata", "riunione", "chamada",
    "reunião", "teams meeting", "microsoft teams meeting", "hangout", "google hangouts", "skype",
    "new time", "rescheduled", "moved", "updated", "neuer termin", "verschoben", "nouvelle date",
    "confirmed", "confirmation", "invitation", "videogesprek", "telefoongesprek", "videotelefonat",
    "videollamada", "videochamada", "videochiamata", "appel vidéo", "visioconférence", "ihnen", "sie",
    "dich", "dir", "du", "euch", "vous", "toi", "usted", "ustedes", "u", "jou", "lei", "você", "vocês",
    "reporté", "nuevo horario", "reprogramado", "nieuwe tijd", "verplaatst", "nuova data", "spostato",
    "novo horário", "reagendado", "persona", "presencial", "remoto", "en línea", "oficina",
    "présentiel", "distanciel", "en ligne", "kantoor", "op kantoor", "presenza", "in presenza", "sede",
    "ufficio", "pessoa", "escritório", "büro", "vor ort", "präsenz",
    "coderpad", "codesignal", "hackerrank", "zoom call", "teams call", "interview", "screen",
))
_VENDORS = re.compile(r"(?<!\w)(?:" + "|".join(sorted(map(re.escape, domains.VENDOR_NAMES), key=len, reverse=True))
                      + r")(?!\w)")
AND_SPLIT = re.compile(r"\s+(?:and|und|et|y|en|e|&|<>|x|/|//|\+|meets)\s+", re.I)
# Requisition and job numbers: "Req 24-118732", "JR-0048213", "Job #04920".
# What parentheses after a job title hold that is no part of it: places,
# contract kinds, job numbers ("(CDI, Paris)", "(Kennziffer 2026-118)", "(rif").
NOT_IN_TITLE = re.compile(r",|\s/\s|\d{3,}|\b(?:rif|ref|req|kennziffer|remote|hybrid|híbrido|hybride|ibrido|"
                          r"cdi|cdd|full[- ]time|part[- ]time|vollzeit|teilzeit|befristet|festanstellung)\b", re.I)
REQUISITION_PREFIX = re.compile(r"^(?:(?:req(?:uisition)?|job|jr|id|ref)\.?\s*(?:#|no\.?|nr\.?)?\s*[-:]?\s*)?"
                                r"[a-z]{0,3}-?\d{4,}[\w-]*\s+", re.I)
REQUISITION = re.compile(r"^(?:req(?:uisition)?|job|jr|id|ref|r|position|stelle|poste)\.?\s*"
                         r"(?:#|no\.?|nr\.?)?\s*[-:]?\s*[a-z]*\d[\w-]*$",
                         re.I)
# A token that is a number of some system: "2026-118", "TT-2026-0457", "2026/DE/118".
ID_TOKEN = re.compile(r"(?<!\w)[\w/.-]*\d{3,}[\w/.-]*[-/.][\w/.-]*\d[\w/.-]*|(?<!\w)\d{5,}(?!\w)")
# A street address: "175 Berkeley Street", "Hauptstraße 5".
ADDRESS = re.compile(r"\b(?:street|st\.|avenue|ave\.?|road|rd\.|blvd|boulevard|lane|drive|way|floor|suite|"
                     r"stra(?:ß|ss)e|str\.|platz|allee|weg|rue|avenue|calle|avenida|via|viale|piazza|rua|"
                     r"straat|laan|plein|gracht)\b", re.I)
# Gender markers of job ads: "(m/w/d)", "(H/F)", "(all genders)".
GENDER_MARKER = re.compile(r"^(?:[mwfdhxv]\s*/\s*[mwfdhxv](?:\s*/\s*[mwfdhxv])?|all genders|w/m/d|m/f/x)$", re.I)
# Words that only say what kind of meeting it is: "Chat re", "Call w/".
MEETING_WORDS = frozenset("""chat call meeting sync re about regarding w/ with coffee lunch intro quick
catch-up catch up follow-up follow up video phone zoom teams meet first second third final next
another short personal persönliches persönlicher gespräch telefonat telefonisches kurzes erstes
zweites gesprek persoonlijk kort appel échange rendez-vous rdv llamada charla reunión café
chiamata chiacchierata incontro conversa papo samtal möte rozmowa spotkanie""".split())
COMPANY_SUFFIX = re.compile(
    r"\b(?:inc|llc|ltd|gmbh|ag|se|sa|sas|sarl|srl|spa|s\.p\.a|bv|nv|plc|corp|corporation|co|"
    r"company|group|labs?|technologies|technology|tech|systems|software|solutions|bank|"
    r"holding|holdings|partners|ventures|studios?|games|health|energy|capital|consulting|"
    r"analytics|robotics|media|pharma|ab|as|oy|kg|ohg|ug)\.?$", re.I)
_PERSON_WORD = re.compile(r"^[^\W\d_][^\W\d_'’.-]*(?:[-'’][^\W\d_]+)*\.?$")
_WORD = re.compile(r"[^\s]+")
_TRAILING = " \t-–—|:,.;\"'!?*#<>"


_TAG = re.compile(r"<[^<>]{0,500}>")
_BLOCK = re.compile(r"<\s*(?:br|/p|p|/li|li|/div|div|/tr|tr|/h\d|/ul|ul|/ol|ol)\b[^<>]{0,200}>", re.I)
_LOOKS_HTML = re.compile(r"<\s*(?:p|br|div|li|ul|b|i|a|span|strong|em|table|html|body)\b[^<>]*>", re.I)


def plain_text(description: str) -> str:
    """A description as text: calendars also store HTML (Google, Outlook),
    whose block tags become line ends; anything else is left as it is."""
    if not _LOOKS_HTML.search(description[:20_000]):
        return description
    import html

    text = _BLOCK.sub("\n", description[:100_000])
    return html.unescape(_TAG.sub("", text))


def clean(part: str) -> str:
    if not part.isprintable():  # printable: no control or format character to drop
        part = "".join(c for c in part if unicodedata.category(c)[0] != "C")
    return part.strip(_TRAILING)


def _fold(text: str) -> str:
    """Lower case with the same length as ``text``, so positions found in
    it are positions in ``text``."""
    lowered = text.lower()
    if len(lowered) != len(text):  # "İ" lowers to two characters: keep such ones as they are
        lowered = "".join(c.lower() if len(c.lower()) == 1 else c for c in text)
    return lowered.replace("’", "'")


@dataclass(frozen=True)
class Names:
    """Names that are never the company: the user's, the attendees'; and
    the labels of the attendees' mail domains, which are the company's."""

    people: frozenset[str]
    user: frozenset[str]
    labels: frozenset[str] = frozenset()
    parts: frozenset[str] = frozenset()  # each word of the names above
    initials: str = "-"  # the user's initials ("sr" for Sam Rivera)

    def in_domain(self, text: str) -> bool:
        """"Bending Spoons" when somebody writes from bendingspoons.com."""
        key = re.sub(r"[^\w]", "", norm(text))
        return bool(key) and any(key == label or (len(key) > 3 and key in label) for label in self.labels)

    def is_person(self, text: str) -> bool:
        key = norm(text)
        # a whole name, or one word of it: "with Priya"
        return key in self.people or key in self.user or key in self.parts

    def mentions_user(self, text: str) -> bool:
        """"Gesprek Alex Morgan": the user's own name in it."""
        words = set(norm(text).split())
        return any(part in words for name in self.user for part in name.split() if len(part) > 2)

    def starts_with_person(self, text: str) -> bool:
        """"Stefano Russo Head of Analytics": a known person's name first."""
        words = norm(text).split()
        return len(words) > 2 and " ".join(words[:2]) in self.people

    @staticmethod
    def build(people: list[str], user_name: str, addresses: list[str] = ()) -> "Names":
        user = {norm(user_name)} | {norm(p) for p in user_name.split() if len(p) > 2} if user_name else set()
        labels = {domains.registered(domains.domain_of(a)).split(".")[0].replace("-", "")
                  for a in addresses if a and "@" in a}
        known = set()
        for name in people:
            if name and name.strip():
                known.add(norm(name).strip())
                if "," in name:  # "Lefèvre, Hugo" is Hugo Lefèvre
                    last, _, first = name.partition(",")
                    known.add(norm(f"{first.strip()} {last.strip()}"))
                elif len(name.split()) == 2:  # "Russo Stefano" may be Stefano Russo
                    known.add(norm(" ".join(reversed(name.split()))))
        parts = {part for name in (*known, *user) for part in name.split()}
        initials = "".join(w[0] for w in norm(user_name).split()) if len(user_name.split()) > 1 else "-"
        return Names(frozenset(known), frozenset(user), frozenset(labels), frozenset(parts), initials)


HONORIFIC = re.compile(
    r"^(?:mr|mrs|ms|miss|mx|dr|prof|frau|herr|hr|fr|m|mme|mlle|sr|sra|srta|dhr|mevr|mw|sig|sig\.ra|"
    r"dott|dott\.ssa|ing|sr\.|d\.|dona|don)\.?\s+\S", re.I)
ARTICLE = re.compile(r"^(?:the|der|die|das|dem|den|le|la|les|l'|el|los|las|het|de|il|lo|gli|o|os|as|a)\s+(?=\S)",
                     re.I)


def looks_like_person(text: str) -> bool:
    """"Jordan Lee", "Anne-Marie O'Neil", "Frau Müller": two or three
    capitalised words (or a title and a name) and nothing that marks a
    company."""
    if HONORIFIC.match(text.strip()):
        return True
    words = text.split()
    if not 2 <= len(words) <= 3 or COMPANY_SUFFIX.search(text):
        return False
    return all(_PERSON_WORD.match(w) and w[:1].isupper() and not w.isupper() for w in words)


class Reader:
    """Company and position from titles and descriptions, for the words of
    a ``Lexicon``'s languages."""

    def __init__(self, lexicon: Lexicon):
        self.lexicon = lexicon

    @cached_property
    def _interview_words(self) -> Matcher:
        return Matcher({**self.lexicon.words("rounds"), **self.lexicon.words("interview"),
                        **self.lexicon.words("hiring_side_titles")})

    @cached_property
    def _role(self) -> Matcher:
        return self.lexicon.matcher("role_words")

    @cached_property
    def _prepositions(self) -> dict[str, re.Pattern[str]]:
        out = {}
        for key in ("at", "with", "from", "for"):
            words = sorted(self.lexicon.words(key), key=len, reverse=True)
            body = "|".join(re.escape(w) for w in words)
            out[key] = re.compile(rf"(?:^|\s)(?:{body})(?=\s)")
        return out

    @cached_property
    def _patterns(self) -> dict[str, list[tuple[re.Pattern[str], bool, str]]]:
        """Each description pattern compiled, whether it is a label
        ("Position: {}"), which needs no job-title word in what it finds,
        and its longest word, without which it cannot match."""
        out: dict[str, list[tuple[re.Pattern[str], bool, str]]] = {}
        for key in ("company_patterns", "position_patterns"):
            compiled = []
            for pattern in sorted(self.lexicon.words(key), key=len, reverse=True):
                if pattern.count("{}") != 1:
                    continue
                before, after = (re.escape(p).replace(r"\ ", r"\s+") for p in pattern.split("{}"))
                lead = r"(?<!\w)" if before[:1].isalnum() else ""
                compiled.append((re.compile(lead + before + r"(?P<x>[^\n]{1,80}?)" + after
                                            + (r"(?!\w)" if after[-1:].isalnum() else "")
                                            if after else lead + before + r"(?P<x>[^\n]{1,80})"),
                                 pattern.rstrip().endswith(":") or ": {}" in pattern or ":{}" in pattern,
                                 max(pattern.replace("{}", " ").split(), key=len)))
            out[key] = compiled
        return out

    @cached_property
    def _vocabulary(self) -> frozenset[str]:
        """Single words of the team and hiring lists: "Recrutement", "Vaga"."""
        words = {*self.lexicon.words("team_words"), *self.lexicon.words("hiring")}
        return frozenset(w for w in words if " " not in w)

    def _only_vocabulary(self, key: str) -> bool:
        words = key.split()
        return bool(words) and all(w in self._vocabulary or w in MEETING_WORDS for w in words)

    def is_role(self, text: str) -> bool:
        return self._role.search(norm(text)) is not None

    def _is_round(self, text: str) -> bool:
        """The segment is only interview words ("Final round", "Coding exercise")."""
        key = norm(text)
        hit = self._interview_words.search(key)
        return hit is not None and not key[:hit.start].strip(_TRAILING) and not key[hit.end:].strip(_TRAILING + " ")

    def plausible_company(self, text: str, names: Names) -> bool:
        text = clean(ARTICLE.sub("", clean(text)))
        if not text or len(text) > 60 or not any(c.isalpha() for c in text):
            return False
        key = norm(text)
        if GENDER_MARKER.match(key) or all(w in MEETING_WORDS for w in key.replace(":", " ").split()) \
                or key == names.initials or self._only_vocabulary(key):
            return False
        if key in GENERIC or LEVEL.match(key) or names.is_person(text) or self._is_round(text) \
                or HONORIFIC.match(text) or names.starts_with_person(text) or names.mentions_user(text):
            return False
        if self.is_role(text) and not COMPANY_SUFFIX.search(text):
            return False
        digits = sum(c.isdigit() for c in text)
        if digits and (REQUISITION.match(text) or digits * 2 > len(text.replace(" ", ""))):
            return False
        if ID_TOKEN.search(text) or ADDRESS.search(text) or "@" in text or "://" in text \
                or text.count("(") != text.count(")"):
            return False
        return key not in domains.VENDOR_NAMES and len(text.split()) <= 6

    # -- titles -------------------------------------------------------------

    def from_title(self, title: str, names: Names) -> tuple[str | None, str | None, str | None]:
        """(company, position, vendor) from an event title.

        Candidates for the company are ranked: after "at"/"bei"/"chez"
        first, then a segment of its own ("Acme: Phone Screen"), then after
        "with"/"for" or before the interview words ("Cloudflare phone
        screen"), then after them ("Zweitgespräch SAP") or in parentheses."""
        title = clean(title)
        while True:
            stripped = NOISE.sub("", title, count=1)
            if stripped == title:
                break
            title = stripped
        position = vendor = None
        candidates: list[tuple[int, int, str]] = []  # (rank, order, company)
        for m in PARENS.finditer(title):
            inner = clean(m.group(1))
            if not inner:
                continue
            if self.is_role(inner) and position is None:
                position = inner
            elif self.plausible_company(inner, names) and not looks_like_person(inner):
                candidates.append((4, len(candidates), inner))
        title = PARENS.sub(" ", title)
        if self._two_people(re.sub(r"\s*<>\s*", " <> ", title), names):
            return None, position, vendor
        for segment in (clean(s) for s in SEPARATORS.split(title)):
            if not segment:
                continue
            vendor = vendor or self._vendor_in(segment)
            span = self._interview_words.span(norm(segment))
            if span is None:
                found, pos = self._standalone(segment, names)
                position = position or pos
                if found:
                    candidates.append((2, len(candidates), found))
                continue
            found_ranked, pos = self._around_interview_words(segment, span[0], span[1], names)
            position = position or pos
            candidates += [(rank, len(candidates) + i, name) for i, (rank, name) in enumerate(found_ranked)]
        if not candidates:
            return None, position, vendor
        company = self.without_team_words(min(candidates)[2])
        return clean(ARTICLE.sub("", company)), position, vendor

    def _standalone(self, segment: str, names: Names) -> tuple[str | None, str | None]:
        """(company, position) of a title segment without interview words."""
        position = None
        # "Chat with Eleanor Price", "Coffee with Jess from Monzo": what follows "with"
        after_with = self._prepositions["with"].split(" " + segment + " ")
        if len(after_with) > 1:
            segment = clean(after_with[-1])
        # "Jane from Umbrella Corp", "Sanne van Coolblue"
        after_from = self._prepositions["from"].split(" " + segment + " ")
        if len(after_from) > 1:
            head, tail = clean(after_from[0]), clean(after_from[-1])
            one_name = len(head.split()) == 1 and head[:1].isupper() and head[1:].islower() \
                and tail[:1].isupper() and re.search(r"\s(?:from|von|van)\s", " " + segment + " ", re.I)
            if self._person_ish(head, names) or one_name:
                segment = tail
        # "Staff Engineer @ Figma", "Senior Backend Developer bij bunq"
        after_at = self._prepositions["at"].split(" " + segment + " ")
        if len(after_at) == 2 and self.is_role(after_at[0]) \
                and self.plausible_company(clean(after_at[1]), names):
            return clean(after_at[1]), self._position_text(after_at[0]) or clean(after_at[0])
        # "Qonto x Alex Morgan": the part that is not a person
        parts = [clean(p) for p in AND_SPLIT.split(segment)]
        if len(parts) == 2:
            rest = [p for p in parts if not (names.is_person(p) or looks_like_person(p))]
            if len(rest) == 1:
                segment = rest[0]
        segment = self.without_team_words(segment)
        if "," in segment:
            head, _, tail = (clean(p) for p in segment.partition(","))
            if self.is_role(tail) and not self.is_role(head):
                segment, position = head, tail
            elif self.is_role(head) and not self.is_role(tail):
                segment, position = tail, head
        if self.is_role(segment) and not COMPANY_SUFFIX.search(segment):
            return None, position or self._position_text(segment) or segment
        # a segment of its own that is nobody on the invitation: "Volvo Cars"
        if self.plausible_company(segment, names) and not self._two_people(segment, names):
            return segment, position
        return None, position

    def _person_ish(self, text: str, names: Names) -> bool:
        """A known name or a person's shape ("Jane from Umbrella Corp"), and
        no job title ("Tech Lead de Dados")."""
        return (names.is_person(text) or looks_like_person(text)) and not self.is_role(text)

    @cached_property
    def _team_words(self) -> re.Pattern[str]:
        words = sorted(self.lexicon.words("team_words"), key=len, reverse=True)
        body = "|".join(re.escape(w) for w in words)
        return re.compile(rf"^(?:{body})\s+(?:(?:at|bei|chez|de|en|di|bij|van|da|na|@)\s+)?|\s+(?:{body})$", re.I)

    def without_team_words(self, text: str) -> str:
        """"Recrutement BlaBlaCar", "Acme Recruiting" -> the company's name."""
        return clean(self._team_words.sub("", text)) or text

    def _vendor_in(self, segment: str) -> str | None:
        found = _VENDORS.search(norm(segment))
        return found.group(0) if found else None

    def _two_people(self, segment: str, names: Names) -> bool:
        """"Jordan Lee and Sam Ortiz", "Jordan <> Sam", "Intro Call between
        Tomás Herrera and Sam Rivera": a scheduler's title."""
        between = re.search(r"\b(?:between|zwischen|entre|tussen|tra)\s+(.+)$", segment, re.I)
        if between:
            segment = between.group(1)
        parts = re.split(r"\s+(?:and|und|et|y|en|e|&|<>|x|/|\+)\s+", segment)
        return len(parts) == 2 and all(names.is_person(p) or looks_like_person(clean(p)) for p in parts)

    def _around_interview_words(self, segment: str, start: int, end: int,
                                names: Names) -> tuple[list[tuple[int, str]], str | None]:
        """Ranked company candidates and the position in a segment holding
        interview words at [start, end) of its normalised form."""
        folded = norm(segment)
        if len(folded) != len(segment):  # casefolding changed lengths: work on the folded text
            segment = folded
        before, after = segment[:start], segment[end:]
        found: list[tuple[int, str]] = []
        position = None
        # what follows: "at Acme", "with Jane at Acme", "for Backend Engineer"
        padded = " " + after + " "
        at = self._prepositions["at"]
        pieces = at.split(padded)
        if len(pieces) > 1:
            candidate = clean(self._cut(pieces[1]))
            if self.plausible_company(candidate, names):
                found.append((1, candidate))
        for key in ("with", "for"):
            pieces = self._prepositions[key].split(padded)
            if len(pieces) < 2:
                continue
            candidate = clean(self._cut(at.split(pieces[1])[0]))
            if not candidate:
                continue
            if key == "for" and self.is_role(candidate):
                position = position or candidate
            elif self.plausible_company(candidate, names) \
                    and (key == "for" or not looks_like_person(candidate) or COMPANY_SUFFIX.search(candidate)
                         or names.in_domain(candidate)):
                # "Call with Jonas (Zalando)": one word after "with" is as often a first name
                one_word = key == "with" and len(candidate.split()) == 1 and not names.in_domain(candidate)
                found.append((5 if one_word else 3, candidate))
        # "Call w/ recruiter from Zalando"
        pieces = self._prepositions["from"].split(padded)
        if len(pieces) > 1 and re.search(r"\s(?:from|von|van)\s", padded, re.I):
            candidate = clean(self._cut(pieces[-1]))
            if self.plausible_company(candidate, names) and not looks_like_person(candidate):
                found.append((3, candidate))
        # what follows without a preposition: "Zweitgespräch SAP", "Entretien RH Decathlon"
        tail = clean(self._cut(after))
        if tail and tail[:1].isalnum() and not any(p.search(padded) for p in self._prepositions.values()) \
                and self.plausible_company(tail, names) and not looks_like_person(tail) \
                and not self._two_people(tail, names):
            found.append((4, tail))
        # what comes first: "Cloudflare phone screen", "Gusto onsite"
        head = clean(before)
        if head:
            # "Call w/ Stripe recruiter": what follows "with"
            head = clean(self._prepositions["with"].split(" " + head + " ")[-1])
            head = re.sub(r"^(?:your|our|the|a|an|ihr|votre|tu|su|je|uw|il|la|o|a)\s+", "", head, flags=re.I)
            head = clean(re.sub(r"\s+(?:'s|s)$", "", head))
            if self.plausible_company(head, names) and not self._two_people(head, names) \
                    and not self.is_role(head) and (not looks_like_person(head) or names.in_domain(head)):
                found.append((3, head))
            elif self.is_role(head) and not position:
                position = head
        return found, position

    @staticmethod
    def _cut(text: str) -> str:
        """A name ends where a new clause starts: "Acme on Tuesday"."""
        return re.split(r"\s+(?:on|am|le|el|il|op|em|via|about|regarding|re|to|zum|zur|pour|para|per|"
                        r"voor|at \d|um|à|a las|alle|às|tomorrow|today|\d{1,2}(?::\d{2})?\s*(?:am|pm|h|uhr))\b",
                        text, maxsplit=1, flags=re.I)[0]

    # -- descriptions --------------------------------------------------------

    def from_description(self, text: str, names: Names) -> tuple[str | None, str | None]:
        """(company, position) from phrases such as "for the Senior Analyst
        role at Wise" or "Position: Data Engineer"."""
        if not text:
            return None, None
        text = unicodedata.normalize("NFC", text[:20_000])
        folded = _fold(text)
        company = position = None
        for pattern, labelled, word in self._patterns["position_patterns"]:
            if word not in folded:
                continue
            for m in pattern.finditer(folded):
                captured = text[m.start("x"):m.end("x")]
                lead = pattern.pattern.split("(?P<x>")[0].replace("\\s+", " ").replace("\\", "")
                lead_word = lead.replace("(?<!w)", "").strip().split(" ")[-1] if lead.strip() else ""
                if lead_word in ("the", "a", "an", "our") and f" {lead_word} " in f" {_fold(captured)} ":
                    # "the technical interview for the Staff Data Engineer position": the nearest "the"
                    captured = captured[_fold(captured).rfind(f" {lead_word} ") + len(lead_word) + 2:]
                candidate = self._position_text(captured)
                if candidate and (labelled or self.is_position(candidate)):
                    position = candidate
                    break
            if position:
                break
        if position is None:
            position = self._form_answer(text)
        for pattern, _, word in self._patterns["company_patterns"]:
            if word not in folded:
                continue
            for m in pattern.finditer(folded):
                candidate = self._company_text(text[m.start("x"):m.end("x")])
                if candidate and self.plausible_company(candidate, names):
                    company = candidate
                    break
            if company:
                break
        return company, position

    def _form_answer(self, text: str) -> str | None:
        """The answer to a booking form's question about the role ("Which
        role are you applying for?" then "Senior Software Engineer"), on the
        same line after the question mark or on the next line."""
        lines = [line.strip() for line in text.splitlines()]
        for i, line in enumerate(lines):
            question, mark, answer = line.partition("?")
            if not mark or not self._role_question.search(norm(question)):
                continue
            answer = answer.lstrip(" :").strip()
            if not answer:
                answer = next((later for later in lines[i + 1:i + 3] if later), "")
            found = self._position_text(answer)
            if found and self.is_position(found):
                return found
        return None

    @cached_property
    def _role_question(self) -> re.Pattern[str]:
        return re.compile(r"\b(?:role|position|job|opening|poste|puesto|stelle|rolle|vacature|functie|ruolo|"
                          r"posizione|vaga|cargo|tjänst)\b")

    def _position_text(self, raw: str) -> str | None:
        """A position as a sentence names it: up to its end, or to "at",
        "with" and the like; a job number and a trailing "role" left out."""
        raw = re.split(r"[.;!?\n]\s|[;!?\n]|\.$|:\s|\s(?:at|with|in|bei|mit|chez|avec|en|con|bij|met|presso|com|"
                       r"na|no|takes|will|is|are|starts|begins|on|to|and we|where|who|im|in der|au sein|"
                       r"publiée|publié|pour|para|está|é|est|ist|zijn|sono|within|da|del equipo|dans|nel|nella|"
                       r"nei|presso|bij|voor)\s",
                       raw, maxsplit=1)[0]
        raw = re.split(r",\s+(?=[a-zà-ÿ])", raw, maxsplit=1)[0]  # ", et de mieux ...": a new clause
        raw = re.sub(r"\s+(?:ein|an|auf|zu|vor|ab|aus|teil)$", "", raw.strip(" .")) if raw[-4:].islower() else raw
        raw = REQUISITION_PREFIX.sub("", clean(raw))
        raw = PARENS.sub(lambda m: "" if NOT_IN_TITLE.search(m.group(1)) else m.group(0), raw)
        if raw.count("(") > raw.count(")"):  # "Data Engineer (rif": the sentence ended inside
            raw = raw[:raw.rfind("(")]
        raw = re.sub(r"\s+(?:role|position|opening|vacancy|job|stelle|poste|puesto|vacature|ruolo|vaga)$", "",
                     clean(raw), flags=re.I)
        raw = re.sub(r"^(?:the|a|an|our|der|die|das|le|la|l'|el|los|de|het|een|il|lo|o|a)\s+", "", raw, flags=re.I)
        raw = re.sub(r"^(?:position|role|job|opening|stelle|poste|puesto|vacature|ruolo|vaga|stanowisko|"
                     r"tjänsten)\s+", "", raw,
                     flags=re.I)
        raw = re.sub(r"^[^\s']+['’]s\s+", "", raw)  # "Snowflake's Software Engineer"
        raw = re.split(r"\s+(?:via|through|über|par|vía|tramite|por meio)\s+", raw, maxsplit=1, flags=re.I)[0]
        raw = re.sub(r"\s+(?:role|position|opening)$", "", clean(raw), flags=re.I)
        raw = clean(raw)
        words = raw.split()
        if not 1 <= len(words) <= 10:
            return None
        return raw

    def is_position(self, text: str) -> bool:
        """A job title: a job-title word that is more than a qualifier."""
        modifiers = set(self.lexicon.words("role_modifiers"))
        return any(hit.word not in modifiers for hit in self._role.finditer(norm(text)))

    @staticmethod
    def _company_text(raw: str) -> str | None:
        """The capitalised words at the start of ``raw``: "Wise" of "Wise
        and we"; connectors are kept between capitalised words ("Bank of
        America", "Procter & Gamble")."""
        words = _WORD.findall(raw)
        kept: list[str] = []
        for word in words:
            bare = word.strip(_TRAILING + "()")
            if not bare:
                break
            if bare[:1].isupper() or bare[:1].isdigit():
                kept.append(bare)
                if bare != word.rstrip("'’s") and word[-1:] in ".,;:!?)":
                    break
            elif kept and bare.lower() in ("&", "and", "of", "de", "du", "des", "van", "von", "der", "den", "y",
                                           "e", "la", "le", "del", "di", "da", "do"):
                kept.append(bare)
            else:
                break
            if len(kept) >= 5:
                break
        while kept and not (kept[-1][:1].isupper() or kept[-1][:1].isdigit()):
            kept.pop()
        name = re.sub(r"['’]s$", "", " ".join(kept))
        return name or None

    def _titled_line(self, line: str) -> re.Match | None:
        """"Head de Engenharia – Nuvem Azul Tecnologia": a job title, a dash
        or bar, and the company."""
        m = re.match(r"^([^\n,|()@]{2,60}?)\s+[|–—]\s+([^\n,|()@]{2,60})$", line)
        if m and self.is_role(m.group(1)) and not self.is_role(m.group(2)):
            return re.match(r"^.*\s[|–—]\s+(?P<x>.+)$", line)
        return None

    def from_signature(self, text: str, names: Names) -> str | None:
        """The company in a recruiter's signature line: "Technical Recruiter
        | Cloudflare", "Talent Acquisition, Liberty Mutual Insurance"."""
        if not text:
            return None
        team = sorted({*self.lexicon.words("team_words"), "recruiter", "recruiting coordinator",
                       "coordinator", "sourcer", "talent partner", "talent acquisition partner"},
                      key=len, reverse=True)
        body = "|".join(re.escape(w) for w in team)
        pattern = re.compile(rf"^[^\n]{{0,60}}?\b(?:{body})\b[^\n,|()@]{{0,30}}\s*[,|–—·]\s*([^\n,|()@]{{2,60}})$",
                             re.I)
        for line in reversed(text[:20_000].splitlines()[-40:]):
            m = pattern.match(line.strip()) or self._titled_line(line.strip())
            if m:
                candidate = clean(m.group(m.lastindex or 1))
                if self.plausible_company(candidate, names) and not looks_like_person(candidate):
                    return candidate
        return None

    @staticmethod
    def spelled_domain(domain: str, texts: list[str]) -> str | None:
        """The company's name as the texts spell it, for its mail domain:
        "Tessellate Labs" for tessellatelabs.io, "Liberty Mutual" for
        libertymutual.com (up to four capitalised words whose letters are
        the domain's name)."""
        label = re.sub(r"[^a-z0-9]", "", domains.registered(domain).split(".")[0].lower())
        if len(label) < 3:
            return None
        for text in texts:
            words = re.findall(r"[A-Za-zÀ-ÿ0-9&'’.-]+", text[:20_000])
            for i in range(len(words)):
                joined = ""
                for j in range(i, min(i + 4, len(words))):
                    if not (words[j][:1].isupper() or words[j][:1].isdigit()):
                        break
                    joined += re.sub(r"[^a-z0-9]", "", unicodedata.normalize("NFKD", words[j]).lower())
                    spelled = " ".join(words[i:j + 1]).strip(".-'’")
                    if joined == label and (j > i or (spelled != domains.company_from_domain(domain)
                                                      and not spelled.isupper())):
                        return spelled
                    if not label.startswith(joined):
                        break
        # "Nexi" for nexigroup.com, "Datadog" for datadoghq.com
        rest = re.compile(r"(?:group|global|hq|inc|corp|careers|jobs|tech|app|labs|io|online|world|international)$")
        for text in texts:
            for word in re.findall(r"[A-Z][A-Za-zÀ-ÿ0-9&]{2,}", text[:20_000]):
                key = re.sub(r"[^a-z0-9]", "", unicodedata.normalize("NFKD", word).lower())
                if len(key) >= 3 and label.startswith(key) and rest.fullmatch(label[len(key):]):
                    return word
        return None

    # -- organizers ----------------------------------------------------------

    def from_sender_name(self, display: str, names: Names) -> str | None:
        """"Acme Recruiting", "Recruiting at Acme", "Acme Talent Team" -> Acme."""
        display = clean(display)
        if not display:
            return None
        team = self.lexicon.words("team_words")
        folded = norm(display)
        words = sorted(team, key=len, reverse=True)
        body = "|".join(re.escape(w) for w in words)
        m = re.fullmatch(rf"(.+?)\s+(?:{body})(?:\s+(?:{body}))*", folded) or \
            re.fullmatch(rf"(?:{body})(?:\s+(?:{body}))*\s+(?:(?:at|@|bei|chez|de|en|di|bij|van|da|na)\s+)?(.+)",
                         folded)
        if not m:
            return None
        start = m.start(1)
        candidate = clean(display[start:start + len(m.group(1))]) if len(folded) == len(display) else m.group(1)
        candidate = re.sub(r"\s+via\s+.*$", "", candidate, flags=re.I)
        return candidate if self.plausible_company(candidate, names) else None


PHONE = re.compile(r"(?<![\w+])(\+?\(?\d[\d\s().\-/]{6,20}\d)(?!\w)")
PHONE_CUE = re.compile(r"\b(phone|tel|telephone|call|mobile|cell|telefon|téléphone|teléfono|telefono|"
                       r"telefoon|telemóvel|celular)\b|📞", re.I)
NOT_PHONE_CUE = re.compile(r"\b(meeting id|passcode|password|pin|conference id|id:|kenncode|code)", re.I)


def phone_number(*texts: str) -> str | None:
    """A phone number from a line that names one (``Phone: +1 555 …``), or
    any number written in international form."""
    candidates: list[tuple[int, str]] = []
    for text in texts:
        for line in (text or "")[:20_000].splitlines():
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
