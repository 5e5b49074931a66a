"""Every language file: its shape, and the examples in its ``[tests]`` table.

Adding a language is adding ``daemon/lang/<code>.toml`` with its own
examples; this module runs them without further code.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from daemon.judge.decision import DecisionReader
from daemon.judge.detection import Interview, Judge
from daemon.lang import Lexicon, codes, data
from daemon.model import Attendee, CalendarEvent
from daemon.settings import Detection

TZ = ZoneInfo("Europe/Berlin")
START = datetime(2026, 11, 16, 14, tzinfo=TZ)
ME = frozenset({"alex@example.org"})
LISTS = ("interview", "rounds", "hiring", "hiring_strong", "other_meanings", "hiring_side",
         "hiring_side_titles", "role_words", "role_modifiers", "at", "with", "from", "for", "company_patterns",
         "position_patterns", "team_words", "not_attending", "meeting_with")
DECISION_LISTS = ("cues", "within", "fillers", "by", "business_units", "business", "next", "hour_units")
ANSWER_LISTS = ("auto_subjects", "calendar_subjects", "bounce_subjects", "transactional_subjects",
                "hiring_subjects", "receipt_subjects")
JUDGE = Judge(Detection(), ME, TZ, "Alex Morgan")


def _event(text: str) -> CalendarEvent:
    title, _, description = text.partition(" || ")
    return CalendarEvent(
        uid="u1", start=START, end=START + timedelta(hours=1), title=title, description=description,
        organizer=Attendee("recruiting@company.example", "Recruiting"),
        attendees=(Attendee("alex@example.org", "Alex Morgan", "ACCEPTED"),))


def _examples(key: str):
    return [pytest.param(code, text, id=f"{code}: {text[:40]}")
            for code in codes() for text in data(code).get("tests", {}).get(key, [])]


@pytest.mark.parametrize("code", codes())
def test_every_list_is_there_and_holds_text(code):
    table = data(code)
    assert isinstance(table.get("name"), str) and table["name"]
    for key in LISTS:
        assert isinstance(table.get(key), list), f"{code}.toml: {key} is missing"
        assert all(isinstance(w, str) and w.strip() == w and w for w in table[key]), key
    decision = table.get("decision", {})
    for key in DECISION_LISTS:
        assert isinstance(decision.get(key), list), f"{code}.toml: decision.{key} is missing"
    assert len(decision.get("weekdays", [])) == 7 and len(decision.get("months", [])) == 12
    for key in ("numbers", "units", "relative"):
        assert isinstance(decision.get(key), dict), f"{code}.toml: decision.{key} is missing"
    assert set(decision["relative"].values()) <= {
        "next_week_end", "next_week_start", "week_end", "month_end", "next_month_end", "tomorrow",
        "same_day"}
    for key in ANSWER_LISTS:
        assert isinstance(table.get("answers", {}).get(key), list), f"{code}.toml: answers.{key}"
    for key in ("company_patterns", "position_patterns"):
        assert all(p.count("{}") == 1 for p in table[key]), key
    tests = table.get("tests", {})
    assert tests.get("interviews") and tests.get("not_interviews") and tests.get("decisions"), \
        f"{code}.toml: each language brings its own examples"


@pytest.mark.parametrize("code, text", _examples("interviews"))
def test_interviews_of_each_language(code, text):
    found = JUDGE.classify(_event(text), "cal")
    assert isinstance(found, Interview), found
    assert found.company, f"no company read from {text!r}"


@pytest.mark.parametrize("code, text", _examples("not_interviews"))
def test_other_meanings_of_each_language(code, text):
    assert not isinstance(JUDGE.classify(_event(text), "cal"), Interview)


@pytest.mark.parametrize("code", codes())
def test_decision_sentences_of_each_language(code):
    reader = DecisionReader(Lexicon([code]))
    for case in data(code)["tests"]["decisions"]:
        expected = date.fromisoformat(case["expect"]) if "expect" in case else None
        assert reader.read(case["text"], date.fromisoformat(case["day"])) == expected, case["text"]


def test_each_language_reads_alone_and_together():
    # one language's words never break another's: all together read every example too
    together = DecisionReader(Lexicon())
    for code in codes():
        for case in data(code)["tests"]["decisions"]:
            expected = date.fromisoformat(case["expect"]) if "expect" in case else None
            assert together.read(case["text"], date.fromisoformat(case["day"])) == expected, case["text"]
