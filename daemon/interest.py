"""What the core looks for in a calendar, so a connector can skip the rest.

An event matters to the core only if one of detection's trigger texts
appears in it: an interview or round word, a strong sign of a hiring
process, a hiring system's domain, a ``[followup]`` tag
(``Judge.interest_terms``), or its UID is one the user included. Parsing
and expanding an event costs far more than looking for these in its raw
text, so a connector that reads raw iCalendar data (local folders,
CalDAV) asks ``Interest.may_match`` first and leaves out data that cannot
hold an interview.

The test is a superset of detection by construction: each term is cut
where detection lets it vary (spaces, ``_``, ``-``) and all its pieces must
occur in one SUMMARY, DESCRIPTION or CATEGORIES line (the only text
detection reads for its triggers), or an address in an ORGANIZER or
ATTENDEE line or a link in the description is at one of ``domains``; unfolded,
unescaped and normalised as detection normalises, the first piece at the
start of a word (as detection wants whole words); detection additionally
wants whole words in the right order. ``tests/unit/test_interest.py``
checks the superset property against detection on generated calendars.
A prefix tree of the terms' first pieces finds the few terms worth
checking in a line in one pass, whatever the number of terms.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cached_property

_SEPARATORS = re.compile(r"[\s_-]+")
_FOLD = re.compile(rb"(?:\r\n|\r|\n)[ \t]")  # also old Mac files (lone CR)
_ESCAPE = re.compile(r"\\([\\,;:nN])")
# a title, description or categories line, in text already case-folded
_TEXT_LINE = re.compile(r"^(?:summary|description|categories)[;:].*$", re.MULTILINE)
# an organizer or attendee line, and the hosts of addresses and links
_PEOPLE_LINE = re.compile(r"^(?:organizer|attendee)[;:].*$", re.MULTILINE)
_ADDRESS_HOST = re.compile(r"@([\w.-]+)")
_LINK_HOST = re.compile(r"https?://([\w.-]+)")
_UID_LINE = re.compile(r"^UID(?:;[^:\n]*)?:(.*)$", re.MULTILINE | re.IGNORECASE)


def _norm(text: str) -> str:
    # the same normalisation detection applies to titles and keywords
    return unicodedata.normalize("NFC", text).casefold()


def _unescape(match: re.Match) -> str:
    char = match.group(1)
    return "\n" if char in "nN" else char


@dataclass(frozen=True)
class Interest:
    """The text an event must contain to be worth reading.

    ``keywords`` holds each term as its normalised (NFC, case-folded)
    pieces; a line that lacks a piece of every term cannot match.
    ``uids`` are read whatever their text (the user included them).
    """

    keywords: tuple[tuple[str, ...], ...]
    uids: frozenset[str] = frozenset()
    domains: frozenset[str] = frozenset()  # hosts whose addresses or links count (and below)

    @classmethod
    def from_keywords(cls, keywords: Iterable[str], uids: Iterable[str] = (),
                      domains: Iterable[str] = ()) -> Interest:
        pieces = {tuple(p for p in _SEPARATORS.split(_norm(k)) if p) for k in keywords}
        return cls(tuple(sorted(p for p in pieces if p)), frozenset(uids),
                   frozenset(d.lower() for d in domains))

    def _host_counts(self, host: str) -> bool:
        """``host`` or one of its parents is one of ``domains``."""
        labels = host.strip(".").split(".")
        return any(".".join(labels[i:]) in self.domains for i in range(len(labels) - 1))

    @cached_property
    def _by_first(self) -> tuple[re.Pattern[str] | None, dict[str, list[tuple[str, ...]]]]:
        by_first: dict[str, list[tuple[str, ...]]] = {}
        for pieces in self.keywords:
            by_first.setdefault(pieces[0], []).append(pieces)
        if not by_first:
            return None, by_first
        from daemon.lang import _trie

        # detection wants whole words: a term starts where a word does
        return re.compile(r"(?<!\w)(?=(" + _trie(by_first) + "))"), by_first

    def _line_matches(self, line: str) -> bool:
        pattern, by_first = self._by_first
        if pattern is None:
            return False
        for m in pattern.finditer(line):
            found = m.group(1)
            # the tree gives the longest first piece at a place; shorter
            # ones starting there are its prefixes
            for end in range(len(found), 0, -1):
                for pieces in by_first.get(found[:end], ()):
                    if all(piece in line for piece in pieces[1:]):
                        return True
        return False

    def may_match(self, data: bytes) -> bool:
        """False only when no event in the iCalendar ``data`` can have a
        trigger text where detection looks. Data that is not UTF-8, not
        iCalendar at all, or uses quoted-printable (vCalendar 1.0 soft line
        breaks) is always read: the parser reports it or knows better."""
        try:
            text = _norm(_FOLD.sub(b"", data).decode("utf-8-sig"))
        except UnicodeDecodeError:
            return True
        if "quoted-printable" in text or "begin:v" not in text:
            return True
        text = text.replace("\r", "\n")
        for line in _TEXT_LINE.findall(text):
            line = _ESCAPE.sub(_unescape, line)
            if "&" in line:  # an HTML description: detection reads "Gespr&auml;ch" as "Gespräch"
                import html

                line = _norm(html.unescape(line))
            if self._line_matches(line):
                return True
            if self.domains and line.startswith("description") and any(
                    self._host_counts(h) for h in _LINK_HOST.findall(line)):
                return True
        if self.domains:
            for line in _PEOPLE_LINE.findall(text):
                if any(self._host_counts(h) for h in _ADDRESS_HOST.findall(line)):
                    return True
        if self.uids:
            return any(_ESCAPE.sub(_unescape, m.group(1)).strip() in self._folded_uids
                       for m in _UID_LINE.finditer(text))
        return False

    @cached_property
    def _folded_uids(self) -> frozenset[str]:
        return frozenset(_norm(u) for u in self.uids)

    def token(self) -> str:
        """A short text that changes when the interest does: a connector
        that skipped data ties its sync state to it, so a new keyword
        makes it read everything again."""
        import hashlib

        text = ("|".join(" ".join(pieces) for pieces in self.keywords) + "#" + "|".join(sorted(self.uids))
                + "#" + "|".join(sorted(self.domains)))
        return hashlib.sha256(text.encode()).hexdigest()[:32]


def raw_uids(data: bytes) -> set[str]:
    """The UID values written in iCalendar ``data``, without parsing it
    (for data left unread: its UIDs still count as present)."""
    text = _FOLD.sub(b"", data).decode("utf-8", errors="replace").replace("\r", "\n")
    return {_ESCAPE.sub(_unescape, m.group(1)).strip() for m in _UID_LINE.finditer(text)} - {""}
