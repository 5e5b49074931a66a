"""What the core looks for in a calendar, so a connector can skip the rest.

An event matters to the core only if a keyword appears in its title or
description (``detection.classify``). Parsing and expanding an event costs
far more than looking for a few words in its raw text, so a connector that
reads raw iCalendar data (local folders, CalDAV) asks ``Interest.may_match``
first and leaves out data that cannot hold an interview.

The test is a superset of detection by construction: each keyword is cut
where detection lets it vary (spaces, ``_``, ``-``) and all its pieces must
occur in one SUMMARY or DESCRIPTION line (the only properties detection
reads), unfolded, unescaped and normalised as detection normalises;
detection additionally wants whole words in the right order. ``tests/unit/test_interest.py`` checks the superset property
against ``classify`` on generated calendars.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass

_SEPARATORS = re.compile(r"[\s_-]+")
_FOLD = re.compile(rb"(?:\r\n|\r|\n)[ \t]")  # also old Mac files (lone CR)
_ESCAPE = re.compile(r"\\([\\,;:nN])")
# a title or description line, in text already case-folded
_TEXT_LINE = re.compile(r"^(?:summary|description)[;:].*$", re.MULTILINE)
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

    ``keywords`` holds each keyword as its normalised (NFC, case-folded)
    pieces; a title or description line that lacks a piece of every
    keyword cannot match.
    """

    keywords: tuple[tuple[str, ...], ...]

    @classmethod
    def from_keywords(cls, keywords: Iterable[str]) -> Interest:
        pieces = {tuple(p for p in _SEPARATORS.split(_norm(k)) if p) for k in keywords}
        return cls(tuple(sorted(p for p in pieces if p)))

    def may_match(self, data: bytes) -> bool:
        """False only when no event in the iCalendar ``data`` can have a
        keyword in its title or description. Data that is not UTF-8, not
        iCalendar at all, or uses quoted-printable (vCalendar 1.0 soft line
        breaks) is always read: the parser reports it or knows better."""
        try:
            text = _norm(_FOLD.sub(b"", data).decode("utf-8-sig"))
        except UnicodeDecodeError:
            return True
        if "quoted-printable" in text or "begin:v" not in text:
            return True
        for line in _TEXT_LINE.findall(text.replace("\r", "\n")):
            line = _ESCAPE.sub(_unescape, line)
            if any(all(piece in line for piece in pieces) for pieces in self.keywords):
                return True
        return False

    def token(self) -> str:
        """A short text that changes when the interest does: a connector
        that skipped data ties its sync state to it, so a new keyword
        makes it read everything again."""
        return "|".join(" ".join(pieces) for pieces in self.keywords)


def raw_uids(data: bytes) -> set[str]:
    """The UID values written in iCalendar ``data``, without parsing it
    (for data left unread: its UIDs still count as present)."""
    text = _FOLD.sub(b"", data).decode("utf-8", errors="replace").replace("\r", "\n")
    return {_ESCAPE.sub(_unescape, m.group(1)).strip() for m in _UID_LINE.finditer(text)} - {""}
