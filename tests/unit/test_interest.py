"""``Interest.may_match`` never hides an event that detection would match.

The raw-text test runs before parsing; if it ever said "no" for an event
whose title or description holds a keyword, that interview would silently
never be followed up. The property is checked against the real reader and
``find_word`` on calendars written both by icalendar (escaping, folding at
75 octets) and by hand (folds anywhere, three kinds of line ends).
"""

from __future__ import annotations

import unicodedata
from datetime import datetime, timedelta, timezone

import icalendar
from hypothesis import given, settings
from hypothesis import strategies as st

from daemon.ics.ical import parse_ics
from daemon.interest import Interest, raw_uids
from daemon.judge.detection import Judge, Overrides
from daemon.settings import Detection

# the user's own words, besides every language's
EXTRA = ("1:1 chat", "STRASSE-talk", "ΣΥΝΈΝΤΕΥΞΗ")
JUDGE = Judge(Detection(extra_keywords=EXTRA), frozenset({"me@example.org"}), timezone.utc, "Alex Morgan",
              Overrides(include_titles=("Kaffee mit",)))
# a sample of the terms to write into generated texts; the interest holds all
KEYWORDS = (*EXTRA, "interview", "phone screen", "technical screen", "on-site", "final round",
            "hiring manager", "Vorstellungsgespräch", "entretien", "entrevista", "sollicitatiegesprek",
            "colloquio", "your application", "vielen Dank für Ihre Bewerbung", "Kaffee mit", "[followup]")
INTEREST = Interest.from_keywords(JUDGE.interest_terms(), domains=JUDGE.interest_domains())
START = datetime(2026, 5, 4, 15, tzinfo=timezone.utc)
WINDOW = (START - timedelta(days=1), START + timedelta(days=1))


def _variant(keyword: str, draw) -> str:
    """The keyword as a user might type it: any case, any separator, NFD."""
    words = keyword.split()
    separators = [draw(st.sampled_from([" ", "_", "-", "\n", "  ", " \t"])) for _ in words[1:]]
    text = words[0] + "".join(sep + word for sep, word in zip(separators, words[1:]))
    text = "".join(c.upper() if draw(st.booleans()) else c for c in text)
    if draw(st.booleans()):
        text = unicodedata.normalize("NFD", text)
    return text + draw(st.sampled_from(["", "s", "es"]))


noise = st.text(alphabet=st.sampled_from(list("ab ,;:\\\"\n\tßé€😀") + ["\u0301"]), max_size=30)


@st.composite
def texts(draw):
    """A title or description, holding a keyword or not."""
    parts = [draw(noise)]
    if draw(st.booleans()):
        parts += [" ", _variant(draw(st.sampled_from(KEYWORDS)), draw), " ", draw(noise)]
    return "".join(parts)


def _by_icalendar(title: str, description: str) -> bytes:
    cal = icalendar.Calendar()
    cal.add("prodid", "-//test//EN")
    cal.add("version", "2.0")
    event = icalendar.Event()
    event.add("uid", "u1@example.org")
    event.add("dtstamp", START)
    event.add("dtstart", START)
    event.add("dtend", START + timedelta(hours=1))
    event.add("summary", title)
    event.add("description", description)
    cal.add_component(event)
    return cal.to_ical()


def _escape(text: str) -> str:
    return (text.replace("\\", "\\\\").replace(";", "\\;").replace(",", "\\,")
            .replace("\n", "\\n"))


def _by_hand(title: str, description: str, fold_every: int, newline: str) -> bytes:
    lines = ["BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//test//EN", "BEGIN:VEVENT",
             "UID:u1@example.org", "DTSTAMP:20260504T150000Z", "DTSTART:20260504T150000Z",
             "DTEND:20260504T160000Z", "SUMMARY:" + _escape(title),
             "DESCRIPTION:" + _escape(description), "END:VEVENT", "END:VCALENDAR"]
    folded = []
    for line in lines:
        pieces = [line[i:i + fold_every] for i in range(0, len(line), fold_every)]
        folded.append((newline + " ").join(pieces))
    return (newline.join(folded) + newline).encode("utf-8")


def _detected(data: bytes) -> bool:
    events, _ = parse_ics(data, "t.ics", *WINDOW, timezone.utc)
    return any(JUDGE.classify(e, "cal") is not None for e in events)


@settings(max_examples=300, deadline=None)
@given(title=texts(), description=texts())
def test_what_icalendar_writes_is_never_hidden(title, description):
    data = _by_icalendar(title, description)
    assert INTEREST.may_match(data) or not _detected(data)


@settings(max_examples=300, deadline=None)
@given(title=texts(), description=texts(), fold_every=st.integers(1, 80),
       newline=st.sampled_from(["\r\n", "\n", "\r"]))
def test_what_is_folded_anywhere_is_never_hidden(title, description, fold_every, newline):
    data = _by_hand(title, description, fold_every, newline)
    assert INTEREST.may_match(data) or not _detected(data)


def test_a_keyword_split_by_a_fold_is_found():
    data = _by_hand("Phone Screen with Acme", "", 12, "\r\n")
    assert b"Pho\r\n ne" in data or b"Scr" in data
    assert INTEREST.may_match(data) and _detected(data)


def test_case_separators_and_decomposed_accents_are_found():
    title = unicodedata.normalize("NFD", "VORSTELLUNGSGESPRÄCH; TECHNICAL_SCREENS")
    data = _by_hand(title, "", 7, "\r")
    assert INTEREST.may_match(data) and _detected(data)


def test_an_ordinary_calendar_is_left_unread():
    assert not INTEREST.may_match(_by_icalendar("Dentist", "Bring the insurance card"))
    assert not INTEREST.may_match(_by_hand("Team lunch", "at the café", 20, "\n"))


def test_keywords_outside_titles_and_descriptions_do_not_count():
    data = _by_hand("Dentist", "Bring the card", 80, "\r\n").replace(
        b"END:VEVENT", b"LOCATION:Interview room\r\nATTACH;FILENAME=final_screen.pdf:x\r\n"
                       b"X-NOTE:phone screen\r\nEND:VEVENT")
    assert not INTEREST.may_match(data)
    # every piece of a keyword, in one line
    assert not INTEREST.may_match(_by_hand("Phone call", "screen door", 80, "\n"))
    assert INTEREST.may_match(_by_hand("Screen, by phone", "", 80, "\n"))


def test_quoted_printable_is_always_read():
    data = _by_hand("Dentist", "", 80, "\r\n").replace(
        b"SUMMARY:", b"SUMMARY;ENCODING=QUOTED-PRINTABLE:")
    assert INTEREST.may_match(data)


def test_what_is_not_icalendar_is_always_read():
    # so that the reader can say what is wrong with it
    assert INTEREST.may_match(b"shopping list: milk, eggs\n")


def test_text_that_is_not_utf8_is_always_read():
    data = _by_hand("Dentist", "", 80, "\r\n").replace(b"Dentist", b"Dentist \xe9")
    assert INTEREST.may_match(data)


def test_the_token_changes_with_the_keywords_and_the_included_uids():
    assert INTEREST.token() != Interest.from_keywords([*JUDGE.interest_terms(), "coffee"]).token()
    assert INTEREST.token() != Interest.from_keywords(JUDGE.interest_terms(), uids=["u1"]).token()
    assert Interest.from_keywords(["Phone Screen", "on-site"]).keywords == (
        ("on", "site"), ("phone", "screen"))


def test_an_invitation_through_a_hiring_system_is_read_without_any_word():
    data = _by_hand("Jordan Lee and Sam Ortiz", "", 80, "\r\n").replace(
        b"END:VEVENT", b"ORGANIZER;CN=Acme:mailto:no-reply@us.greenhouse-mail.io\r\nEND:VEVENT")
    assert INTEREST.may_match(data) and _detected(data)
    linked = _by_hand("Jordan Lee and Sam Ortiz", "Join: https://app.karat.io/join/X", 80, "\r\n")
    assert INTEREST.may_match(linked) and _detected(linked)
    other = _by_hand("Jordan Lee and Sam Ortiz", "", 80, "\r\n").replace(
        b"END:VEVENT", b"ORGANIZER;CN=Acme:mailto:jordan@notgreenhouse.io\r\nEND:VEVENT")
    assert not INTEREST.may_match(other)


def test_a_tag_a_category_an_included_title_or_uid_is_read():
    assert INTEREST.may_match(_by_hand("Coffee with Sam [followup]", "", 80, "\n"))
    assert INTEREST.may_match(_by_hand("Kaffee mit Sam", "", 80, "\n"))
    data = _by_hand("Coffee with Sam", "", 80, "\n").replace(
        b"END:VEVENT", b"CATEGORIES:Work,Followup\nEND:VEVENT")
    assert INTEREST.may_match(data) and _detected(data)
    plain = _by_hand("Coffee with Sam", "", 80, "\n")
    assert not INTEREST.may_match(plain)
    assert Interest.from_keywords(["interview"], uids=["u1@example.org"]).may_match(plain)


def test_raw_uids_of_folded_and_escaped_lines():
    data = (b"BEGIN:VCALENDAR\r\nBEGIN:VEVENT\r\nUID:abc\r\n  def\r\nEND:VEVENT\r\n"
            b"BEGIN:VEVENT\rUID;X-P=1:two\\,2\rEND:VEVENT\r\nBEGIN:VEVENT\nUID:\nEND:VEVENT\n")
    assert raw_uids(data) == {"abc def", "two,2"}


def test_a_word_written_with_html_entities_is_found():
    data = _by_hand("Termin", "<p>Ihr Vorstellungsgespr&auml;ch bei Acme</p>", 80, "\r\n")
    assert INTEREST.may_match(data) and _detected(data)
