"""The words of each language that detection, extraction and the judgement
of answers read.

One TOML file per language in this folder (``en.toml``, ``de.toml``, ...),
named by its ISO 639-1 code. Adding a language is adding a file: every
list in ``en.toml`` is documented there, and the file's own ``[tests]``
table holds the examples ``tests/unit/test_languages.py`` runs for it.
Files are read on first use (planning and reading mail, never ``status``).

``Lexicon`` unites the lists of several languages into one matcher per
list; each hit remembers which language it came from, which is how an
event's language is guessed.
"""

from __future__ import annotations

import re
import tomllib
import unicodedata
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from functools import cached_property, lru_cache
from pathlib import Path

HERE = Path(__file__).parent
_APOSTROPHES = str.maketrans({"’": "'", "‘": "'", "ʼ": "'", "`": "'"})
_SPACES = re.compile(r"[\s_-]+")
# Word endings allowed after a listed word (plurals, German and Dutch
# endings): "interviews", "Gesprächen", "entrevistas".
_ENDINGS = r"(?:s|es|e|en|n)?"


def norm(text: str) -> str:
    """The form every text and word is compared in: NFC, case-folded, one
    kind of apostrophe."""
    return unicodedata.normalize("NFC", text).casefold().translate(_APOSTROPHES)


def codes() -> tuple[str, ...]:
    """The languages there are files for."""
    return tuple(sorted(p.stem for p in HERE.glob("*.toml")))


@lru_cache(maxsize=None)
def data(code: str) -> dict:
    """One language's file, parsed."""
    with open(HERE / f"{code}.toml", "rb") as f:
        return tomllib.load(f)


def _trie(words: Iterable[str]) -> str:
    """A regex alternation of ``words`` shaped as a prefix tree, so that a
    search tries each character once instead of once per word. A space in a
    word matches any run of spaces, underscores and hyphens; so does a
    hyphen."""
    tree: dict = {}
    for word in words:
        node = tree
        for char in _SPACES.sub(" ", word):
            node = node.setdefault(char, {})
        node[""] = {}

    def emit(node: dict) -> str:
        branches = []
        end = "" in node
        for char in sorted(c for c in node if c):
            head = r"[\s_-]+" if char == " " else re.escape(char)
            branches.append(head + emit(node[char]))
        if not branches:
            return ""
        body = branches[0] if len(branches) == 1 else "(?:" + "|".join(branches) + ")"
        if end:
            body = "(?:" + body + ")?"
        return body

    return emit(tree)


@dataclass(frozen=True)
class Hit:
    word: str  # the listed word that matched (normalised)
    lang: str  # the language it is listed in
    start: int
    end: int


class Matcher:
    """Whole-word search for any of a list of words in normalised text."""

    def __init__(self, words: dict[str, str]):
        self.lang_of = words  # normalised word -> language
        self._forms = {_SPACES.sub(" ", w): w for w in words}
        body = _trie(words)
        self.pattern = re.compile(rf"(?<!\w)({body}){_ENDINGS}(?!\w)") if words else None

    def __bool__(self) -> bool:
        return self.pattern is not None

    def finditer(self, text: str) -> Iterator[Hit]:
        if self.pattern is None or not text:
            return
        for m in self.pattern.finditer(text):
            yield self._hit(m)

    def search(self, text: str) -> Hit | None:
        if self.pattern is None or not text:
            return None
        m = self.pattern.search(text)
        return self._hit(m) if m else None

    @cached_property
    def _overlapping(self) -> re.Pattern[str] | None:
        if self.pattern is None:
            return None
        return re.compile(rf"(?<!\w)(?=({_trie(self.lang_of)}){_ENDINGS}(?!\w))")

    def span(self, text: str) -> tuple[int, int] | None:
        """Where the words run from the first hit on, hits that overlap or
        follow each other joined: "primo colloquio conoscitivo" is one run
        of "primo colloquio" and "colloquio conoscitivo"."""
        if self._overlapping is None or not text:
            return None
        start = end = None
        for m in self._overlapping.finditer(text):
            hit_end = m.start() + len(m.group(1))
            while hit_end < len(text) and text[hit_end].isalnum():  # a plural ending
                hit_end += 1
            if start is None:
                start, end = m.start(), hit_end
            elif m.start() <= end + 1:
                end = max(end, hit_end)
            else:
                break
        return (start, end) if start is not None else None

    def _hit(self, m: re.Match) -> Hit:
        found = m.group(1)
        word = self._forms.get(found) or self._forms.get(_SPACES.sub(" ", found), found)
        return Hit(word, self.lang_of.get(word, ""), m.start(), m.end())


class Lexicon:
    """The lists of several languages, united, compiled on first use."""

    def __init__(self, languages: Iterable[str] | None = None, extra: dict[str, Iterable[str]] | None = None):
        self.languages = tuple(languages) if languages is not None else codes()
        self._extra = {k: tuple(norm(w) for w in v if w.strip()) for k, v in (extra or {}).items()}

    def words(self, key: str) -> dict[str, str]:
        """Every word listed under ``key`` (dotted for a sub-table: ``decision.cues``)
        in the chosen languages, normalised, with the first language that lists it."""
        cached = self._words.get(key)
        if cached is None:
            cached = self._words[key] = self._collect(key)
        return cached

    @cached_property
    def _words(self) -> dict[str, dict[str, str]]:
        return {}

    def _collect(self, key: str) -> dict[str, str]:
        out: dict[str, str] = {}
        for word in self._extra.get(key, ()):
            out.setdefault(word, "")
        for code in self.languages:
            for word in _lookup(data(code), key):
                if isinstance(word, str) and word.strip():
                    out.setdefault(norm(word).strip(), code)
        return out

    def table(self, key: str) -> dict[str, object]:
        """A table (``decision.numbers``) merged over the languages."""
        out: dict[str, object] = {}
        for code in self.languages:
            value = _lookup(data(code), key)
            if isinstance(value, dict):
                for k, v in value.items():
                    out.setdefault(norm(k), v)
        return out

    def matcher(self, key: str) -> Matcher:
        return self._matchers(key)

    @cached_property
    def _cache(self) -> dict[str, Matcher]:
        return {}

    def _matchers(self, key: str) -> Matcher:
        found = self._cache.get(key)
        if found is None:
            found = self._cache[key] = Matcher(self.words(key))
        return found


def _lookup(table: dict, key: str):
    value: object = table
    for part in key.split("."):
        if not isinstance(value, dict):
            return ()
        value = value.get(part, ())
    return value
