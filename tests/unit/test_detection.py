"""Each detection rule, and what is read out of event text."""

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from daemon.judge.decision import DecisionReader
from daemon.judge.detection import Ignored, Interview, classify
from daemon.judge.extract import Names, Reader, phone_number
from daemon.lang import Lexicon
from daemon.model import Attendee, CalendarEvent
from daemon.settings import Detection

TZ = ZoneInfo("America/New_York")
ME = frozenset({"me@example.org", "me.alias@example.net"})
START = datetime(2026, 11, 16, 14, tzinfo=TZ)


def event(title="Interview", description="", attendees=(), organizer=None, status="CONFIRMED", **kw):
    return CalendarEvent(uid=kw.pop("uid", "u1"), start=kw.pop("start", START),
                         end=kw.pop("end", START + timedelta(hours=1)), title=title,
                         description=description, attendees=tuple(attendees), organizer=organizer,
                         status=status, **kw)


def person(email, name="", partstat="ACCEPTED", cutype="INDIVIDUAL"):
    return Attendee(email=email, name=name, partstat=partstat, cutype=cutype)


def run(ev, rules=Detection()):
    return classify(ev, "cal", rules, ME, TZ)


@pytest.mark.parametrize("title", [
    "Interview", "Phone screen with Acme", "Screening call", "Technical screen",
    "Onsite at Initech", "Vorstellungsgespräch bei Siemens AG", "Entretien chez Renault",
    "Entrevista con Telefónica", "INTERVIEWS day", "Second interview", "Final round - Hooli",
    "Hiring manager chat - Initech", "Recruiter call with Acme", "Panel - Globex",
])
def test_interview_words_match(title):
    assert isinstance(run(event(title)), Interview)


@pytest.mark.parametrize("title", ["Final round", "Hiring manager chat", "Panel", "Recruiter call"])
def test_a_round_word_alone_is_only_a_maybe(title):
    found = run(event(title))
    assert isinstance(found, Ignored) and found.cause == "unsure"
    assert "followup include u1" in found.reason


def test_a_round_word_from_an_outside_company_is_an_interview():
    found = run(event("Final round", organizer=person("jane@hooli.example", "Jane Doe"),
                      attendees=[person("me@example.org")]))
    assert isinstance(found, Interview) and "invited by jane@hooli.example" in found.why


@pytest.mark.parametrize("title", ["Team lunch", "Dentist", "Paneling the kitchen"])
def test_other_events_are_not_interviews(title):
    assert run(event(title)) is None


def test_description_match_for_scheduling_system_invites():
    ev = event("30 minute meeting between Alex and Acme", description="Interview for the Backend role")
    assert isinstance(run(ev), Interview)


@pytest.mark.parametrize("title, word", [
    ("Interview prep", "prep"), ("Mock interview with Sam", "mock"),
    ("Practice interview", "practice"), ("Podcast interview", "podcast"),
    ("Press interview", "press interview"), ("Exit interview", "exit interview"),
    ("Interview training", "interview training"),
])
def test_other_meanings_and_the_hiring_side(title, word):
    found = run(event(title))
    assert isinstance(found, Ignored) and found.cause in ("other", "interviewer") and word in found.reason


def test_declined_by_me_is_ignored():
    ev = event(attendees=[person("ME@example.org", partstat="DECLINED"), person("hr@acme.example")])
    found = run(ev)
    assert isinstance(found, Ignored) and found.cause == "declined"
    # declined by an alias too
    ev = event(attendees=[person("me.alias@example.net", partstat="DECLINED")])
    assert run(ev).cause == "declined"
    # somebody else declining changes nothing
    ev = event(attendees=[person("me@example.org"), person("hr@acme.example", partstat="DECLINED")])
    assert isinstance(run(ev), Interview)


def test_cancelled_is_ignored():
    found = run(event(status="CANCELLED"))
    assert isinstance(found, Ignored) and found.cause == "cancelled"


def test_organizer_with_guests_is_the_interviewer():
    ev = event("Interview: candidate Bob", organizer=person("me@example.org"),
               attendees=[person("me@example.org"), person("bob@gmail.com", "Bob")])
    found = run(ev)
    assert isinstance(found, Ignored) and found.cause == "organizer"


def test_organizer_alone_is_a_personal_note_of_an_interview():
    ev = event("Interview at Acme", organizer=person("me@example.org"),
               attendees=[person("me@example.org"), person("room1@acme.example", "Room 1", cutype="ROOM")])
    assert isinstance(run(ev), Interview)


def test_interviewers_leave_out_me_rooms_groups_and_robots():
    ev = event(organizer=person("jane@acme.example", "Jane Doe"), attendees=[
        person("me@example.org"), person("jane@acme.example", "Jane Doe"),
        person("room@acme.example", "Board room", cutype="ROOM"),
        person("beamer@acme.example", "Beamer", cutype="RESOURCE"),
        person("team@acme.example", "Team", cutype="GROUP"),
        person("noreply@greenhouse.io"), person("bob@acme.example", "Bob Roe"),
    ])
    found = run(ev)
    assert [(p.name, p.email) for p in found.interviewers] == [
        ("Jane Doe", "jane@acme.example"), ("Bob Roe", "bob@acme.example")]
    assert found.company_domains == ("acme.example",)


def test_company_from_domain_when_the_title_has_none():
    ev = event("Interview with Jane Doe", attendees=[person("jane@initech.example", "Jane Doe")])
    found = run(ev)
    assert found.company == "Initech"


def test_free_mail_domains_do_not_name_a_company():
    ev = event("Interview with Jane Doe", attendees=[person("jane.doe@gmail.com", "Jane Doe")])
    found = run(ev)
    assert found.company is None and found.company_domains == ()


READER = Reader(Lexicon())


@pytest.mark.parametrize("title, company, position", [
    ("Interview with X - Acme Corp (Senior Engineer)", "Acme Corp", "Senior Engineer"),
    ("Acme: Phone Screen", "Acme", None),
    ("Onsite interview — Initech, Product Manager", "Initech", "Product Manager"),
    ("Vorstellungsgespräch bei Siemens AG", "Siemens AG", None),
    ("Technical screen - Backend Engineer - Globex", "Globex", "Backend Engineer"),
    ("Final round | Hooli | Staff Engineer", "Hooli", "Staff Engineer"),
    ("Entretien chez Renault (Ingénieur logiciel)", "Renault", "Ingénieur logiciel"),
    ("Recruiter call: Jane from Umbrella Corp", "Umbrella Corp", None),
    ("Cloudflare phone screen", "Cloudflare", None),
    ("Gusto onsite", "Gusto", None),
    ("Interview with Jane at Acme", "Acme", None),
    ("Interview bei der Allianz", "Allianz", None),
    ("Zweitgespräch SAP", "SAP", None),
    ("Round 3 - Coding exercise", None, None),
    ("Interview - L5", None, None),
    ("Karat interview for Stripe", "Stripe", None),
    ("Interview", None, None),
])
def test_company_and_position_from_titles(title, company, position):
    assert READER.from_title(title, Names.build(["X"], "Alex Morgan"))[:2] == (company, position)


def test_the_users_own_name_is_never_the_company():
    names = Names.build([], "Alex Morgan")
    assert READER.from_title("Interview - Alex Morgan", names)[0] is None
    assert READER.from_title("Alex Morgan <> Sam Ortiz", names)[0] is None


@pytest.mark.parametrize("text, company, position", [
    ("Thanks for your interest in the Senior Analyst role at Wise.", "Wise", "Senior Analyst"),
    ("Position: Data Engineer\nCompany: Monzo", "Monzo", "Data Engineer"),
    ("We are excited to talk to you about joining Procter & Gamble as a Brand Manager.", "Procter & Gamble", None),
    ("Pour le poste de Chef de projet digital chez Decathlon.", "Decathlon", "Chef de projet digital"),
])
def test_company_and_position_from_descriptions(text, company, position):
    assert READER.from_description(text, Names.build([], "")) == (company, position)


def test_company_from_the_organizers_name():
    assert READER.from_sender_name("Acme Recruiting", Names.build([], "")) == "Acme"
    assert READER.from_sender_name("Recruiting at Initech", Names.build([], "")) == "Initech"
    assert READER.from_sender_name("Jane Doe", Names.build([], "")) is None


DECISIONS = DecisionReader(Lexicon())


@pytest.mark.parametrize("text, expected", [
    ("We will make a decision within two weeks.", date(2026, 11, 30)),
    ("You'll hear back in 10 days", date(2026, 11, 26)),
    ("We'll get back to you by December 12.", date(2026, 12, 12)),
    ("We expect a decision by 5 January", date(2027, 1, 5)),
    ("feedback within 3 business days", date(2026, 11, 19)),
    ("next steps by 2026-12-01", date(2026, 12, 1)),
    ("Bring a laptop.", None),
    ("decision within 9999 days", None),
    ("The office is closed on December 24. We will decide within a week.", date(2026, 11, 23)),
])
def test_decision_timeline(text, expected):
    assert DECISIONS.read(text, date(2026, 11, 16)) == expected


def test_phone_numbers():
    assert phone_number("Phone: +1 (555) 123-4567\nMeeting ID: 123 4567 8901") == "+1 (555) 123-4567"
    assert phone_number("Join Zoom\nMeeting ID: 123 4567 8901\nPasscode: 445566") is None
    assert phone_number("", "Call 030 1234567") == "030 1234567"
    assert phone_number("On 2026-11-16 at the office") is None


def test_configured_keywords_and_exclusions():
    rules = Detection.build(extra_keywords=["kaffeeklatsch"], extra_exclude=["informal"])
    assert isinstance(run(event("Kaffeeklatsch with Acme"), rules), Interview)
    assert run(event("Informal interview"), rules).cause == "excluded"
    only = Detection.build(keywords=["gespräch"])
    assert run(event("Interview"), only) is None
    assert isinstance(run(event("Gespräch mit Acme"), only), Interview)


def test_hostile_title_is_just_text():
    found = run(event("Interview {0.__class__} ${HOME} {{7*7}}\r\nBcc: x@evil.example"))
    assert isinstance(found, Interview)


from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from daemon.drafts.compose import Composer  # noqa: E402
from daemon.settings import Me  # noqa: E402

COMPOSER = Composer.load(Me(name="Alex", email="me@example.org"), None)
words = st.sampled_from(["Interview", "Phone screen", "bei", "with", "-", "—", ":", "(", ")", ",", "Acme",
                         "{0}", "${x}", "\u2028", "\r\n", "=?", "decision within", "by December 40",
                         "+1 555", "hear back in 99999 days"])
text = st.lists(st.one_of(words, st.text(max_size=12)), max_size=12).map(" ".join)


@settings(max_examples=300, deadline=None)
@given(title=text, description=text, name=st.text(max_size=30))
def test_any_event_text_is_classified_and_rendered_without_error(title, description, name):
    ev = event(title, description, attendees=[person("x@acme.example", name)])
    found = run(ev)
    if isinstance(found, Interview):
        COMPOSER.event("follow_up_call", "k", found, found.start, timedelta(minutes=15))
        draft = COMPOSER.draft("thank_you_email", "k", found, found.interviewers, found.end)
        assert draft.raw.count(b"\r\nX-Followup-Key:") == 1
