"""Reading iCalendar data (daemon.ics.ical) and writing follow-ups (daemon.ics.icalout)."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

import icalendar
import pytest
import recurring_ical_events
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from daemon.ics.ical import own_key, parse_ics
from daemon.ics.icalout import PRODID, build_followup_ics, read_followup_ics
from daemon.model import FollowupEvent

FIXTURES = Path(__file__).parents[1] / "fixtures" / "ics"
UTC = timezone.utc
BERLIN = ZoneInfo("Europe/Berlin")
NEW_YORK = ZoneInfo("America/New_York")
WIDE = (datetime(2024, 1, 1, tzinfo=UTC), datetime(2031, 1, 1, tzinfo=UTC))


def read(name: str, tz=BERLIN, window=WIDE):
    return parse_ics((FIXTURES / name).read_bytes(), name, *window, tz)


def by_uid(events):
    out: dict[str, list] = {}
    for event in events:
        out.setdefault(event.uid, []).append(event)
    return out


def errors(problems):
    return [p for p in problems if p.severity == "error"]


def vcal(*lines: str) -> bytes:
    body = "\r\n".join(["BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//test//EN", *lines,
                        "END:VCALENDAR", ""])
    return body.encode()


def vevent(uid: str, start: str, end: str | None = None, *extra: str) -> list[str]:
    lines = ["BEGIN:VEVENT", f"UID:{uid}", "DTSTAMP:20300101T000000Z", f"DTSTART{start}"]
    if end is not None:
        lines.append(f"DTEND{end}")
    return [*lines, *extra, "END:VEVENT"]


# -- time handling ------------------------------------------------------------


@pytest.mark.parametrize("name, uid, tz, local_start", [
    ("dst_fallback_new_york.ics", "fallback-ny@example.org", NEW_YORK,
     datetime(2024, 11, 3, 1, 45, tzinfo=NEW_YORK)),
    ("dst_fallback_berlin.ics", "fallback-berlin@example.org", BERLIN,
     datetime(2024, 10, 27, 2, 45, tzinfo=BERLIN)),
])
def test_half_hour_on_the_fall_back_night_lasts_half_an_hour(name, uid, tz, local_start):
    (event,) = by_uid(read(name, tz)[0])[uid]
    # the first of the two 01:45 / 02:45 (compared in UTC: Python never calls
    # a time in the repeated hour equal to a time in another zone)
    assert event.start == local_start.astimezone(UTC)
    assert event.end - event.start == timedelta(minutes=30)
    assert event.end.astimezone(UTC) - event.start.astimezone(UTC) == timedelta(minutes=30)
    # the libraries alone add the wall-clock half hour: 90 real minutes
    calendar = icalendar.Calendar.from_ical((FIXTURES / name).read_bytes())
    (raw,) = [c for c in recurring_ical_events.of(calendar).between(*WIDE) if c["UID"] == uid]
    naive_length = raw["DTEND"].dt.astimezone(UTC) - raw["DTSTART"].dt.astimezone(UTC)
    assert naive_length == timedelta(minutes=90)


def test_recurring_occurrences_keep_the_exact_length_of_the_master():
    events = sorted(by_uid(read("dst_fallback_new_york.ics", NEW_YORK)[0])[
        "fallback-ny-daily@example.org"], key=lambda e: e.start)
    assert [e.start.astimezone(NEW_YORK).replace(tzinfo=None) for e in events] == [
        datetime(2024, 11, day, 1, 45) for day in (2, 3, 4)]
    assert all(e.end - e.start == timedelta(minutes=30) for e in events)
    assert [e.recurrence_id for e in events] == [e.start for e in events]
    assert all(e.recurrence_id.utcoffset() == timedelta(0) for e in events)


def test_results_are_in_utc_so_comparisons_are_exact():
    events, _ = read("dst_fallback_berlin.ics")
    for event in events:
        assert event.start.utcoffset() == timedelta(0) and event.start < event.end


def test_duration_without_dtend():
    events = by_uid(read("duration_without_dtend.ics")[0])
    (short,) = events["duration@example.org"]
    assert short.start == datetime(2030, 3, 11, 14, 0, tzinfo=BERLIN)
    assert short.end - short.start == timedelta(minutes=45)
    # P1DT2H over the spring-forward night: one calendar day, then two hours
    (long,) = events["duration-days@example.org"]
    assert long.start == datetime(2030, 3, 30, 10, 0, tzinfo=BERLIN)
    assert long.end == datetime(2030, 3, 31, 12, 0, tzinfo=BERLIN)


def test_all_day_events_span_local_midnights():
    events = by_uid(read("all_day.ics")[0])
    expected = {
        "all-day-two@example.org": (date(2030, 3, 14), date(2030, 3, 16)),
        "all-day-no-end@example.org": (date(2030, 3, 20), date(2030, 3, 21)),
        "all-day-duration@example.org": (date(2030, 3, 22), date(2030, 3, 25)),
    }
    for uid, (first, after_last) in expected.items():
        (event,) = events[uid]
        assert event.all_day
        assert event.start == datetime(first.year, first.month, first.day, tzinfo=BERLIN)
        assert event.end == datetime(after_last.year, after_last.month, after_last.day,
                                     tzinfo=BERLIN)
        assert event.recurrence_id is None


def test_all_day_midnights_follow_the_users_zone():
    (event,) = [e for e in read("all_day.ics", NEW_YORK)[0]
                if e.uid == "all-day-two@example.org"]
    assert event.start == datetime(2030, 3, 14, tzinfo=NEW_YORK)


def test_floating_times_are_placed_in_tz():
    for tz in (BERLIN, NEW_YORK):
        (event,) = read("floating.ics", tz)[0]
        assert event.start == datetime(2030, 3, 13, 10, 0, tzinfo=tz)
        assert event.end == datetime(2030, 3, 13, 11, 0, tzinfo=tz)


def test_windows_time_zone_names():
    events, problems = read("windows_tzid.ics")
    assert not problems
    got = {e.title: e.start for e in events}
    assert got["Interview (Outlook)"] == datetime(2030, 6, 11, 14, 0, tzinfo=BERLIN)
    assert got["Hiring manager call (Outlook, no VTIMEZONE)"] == datetime(
        2030, 6, 12, 9, 0, tzinfo=NEW_YORK)


def test_unknown_tzid_is_read_in_the_users_zone_with_a_warning():
    (event,), problems = read("unknown_tzid.ics")
    assert event.start == datetime(2030, 3, 11, 14, 0, tzinfo=BERLIN)
    (problem,) = problems
    assert problem.severity == "warning" and problem.uid == "unknown-tz@example.org"
    assert "Mars/Olympus_Mons" in problem.message and "Interview on Mars" in problem.message
    assert event.warnings == (problem.message,)


def test_end_before_start_keeps_the_start_and_guesses_the_length():
    events, problems = read("end_before_start.ics")
    got = {e.uid: e for e in events}
    timed = got["end-before-start@example.org"]
    assert timed.start == datetime(2030, 3, 11, 14, 0, tzinfo=UTC)
    assert timed.end - timed.start == timedelta(hours=1)
    day = got["end-before-start-all-day@example.org"]
    assert day.all_day and day.end - day.start == timedelta(days=1)
    assert {p.uid for p in problems} == set(got)
    assert all(p.severity == "warning" for p in problems)
    assert any("Swapped interview" in p.message for p in problems)
    assert timed.warnings and day.warnings


def test_x_wr_timezone_google_export():
    events, problems = read("x_wr_timezone.ics")
    assert not problems
    weekly = sorted(by_uid(events)["google-weekly@google.com"], key=lambda e: e.start)
    # 09:00 New York every week, also after the DST change on 10 March 2030
    assert [e.start.astimezone(NEW_YORK).hour for e in weekly] == [9, 9, 9]
    assert weekly[1].start == datetime(2030, 3, 12, 13, 0, tzinfo=UTC)
    (floating,) = by_uid(events)["google-floating@google.com"]
    assert floating.start == datetime(2030, 3, 14, 10, 0, tzinfo=NEW_YORK)


def test_unknown_x_wr_timezone_is_a_warning():
    data = vcal("X-WR-TIMEZONE:Nowhere/Special", *vevent("a@x", ":20300311T100000"))
    (event,), (problem,) = parse_ics(data, "google.ics", *WIDE, BERLIN)
    assert event.start == datetime(2030, 3, 11, 10, 0, tzinfo=BERLIN)
    assert problem.severity == "warning" and "Nowhere/Special" in problem.message


# -- recurrences and status ---------------------------------------------------


def test_recurring_with_cancelled_instance_and_exdate():
    events, problems = read("recurring_cancelled_exdate.ics")
    assert not problems
    events.sort(key=lambda e: e.recurrence_id)
    rid = [e.recurrence_id.astimezone(BERLIN).day for e in events]
    assert rid == [4, 6, 7, 8]  # the EXDATE (5th) is gone
    status = {e.recurrence_id.astimezone(BERLIN).day: e.status for e in events}
    assert status == {4: "CONFIRMED", 6: "CANCELLED", 7: "CONFIRMED", 8: "CONFIRMED"}
    moved = events[2]
    assert moved.title == "Interview loop (moved)"
    assert moved.start == datetime(2030, 3, 7, 11, 0, tzinfo=BERLIN)
    assert moved.end - moved.start == timedelta(hours=1)  # its own DTEND
    assert moved.recurrence_id == datetime(2030, 3, 7, 9, 0, tzinfo=BERLIN)
    assert events[0].end - events[0].start == timedelta(minutes=30)


def test_cancelled_single_event_is_returned_as_cancelled():
    (event,), problems = read("cancelled_single.ics")
    assert event.status == "CANCELLED" and event.recurrence_id is None
    assert not problems


def test_status_is_upper_case_and_defaults_to_confirmed():
    data = vcal(*vevent("a@x", ":20300311T100000Z", None, "STATUS:tentative"),
                *vevent("b@x", ":20300311T100000Z"),
                *vevent("c@x", ":20300311T100000Z", None, "STATUS:CANCELED"))
    got = {e.uid: e.status for e in parse_ics(data, "s.ics", *WIDE, BERLIN)[0]}
    assert got == {"a@x": "TENTATIVE", "b@x": "CONFIRMED", "c@x": "CANCELLED"}


# -- damaged files ------------------------------------------------------------


def test_two_vcalendars_in_one_file():
    events, problems = read("two_vcalendars.ics")
    assert {e.uid for e in events} == {"first-calendar@example.org",
                                       "second-calendar@example.org"}
    assert not problems


def test_lone_cr_line_endings():
    data = (FIXTURES / "lone_cr.ics").read_bytes()
    assert b"\n" not in data
    (event,), problems = read("lone_cr.ics")
    assert event.title == "Written with CR line endings"
    assert event.description.endswith("writer and continues here")
    assert not problems


def test_a_stray_cr_in_a_crlf_file_stays_in_its_value():
    data = vcal(*vevent("a@x", ":20300311T100000Z", None, "SUMMARY:Call\rBob"))
    (event,), _ = parse_ics(data, "f.ics", *WIDE, BERLIN)
    assert event.uid == "a@x" and event.title.startswith("Call")


def test_naive_window_is_a_programming_error():
    with pytest.raises(ValueError):
        parse_ics(b"", "f.ics", datetime(2030, 1, 1), datetime(2030, 2, 1), BERLIN)


def test_broken_events_next_to_a_good_one():
    events, problems = read("broken_event_next_to_good.ics")
    assert [e.uid for e in events] == ["good@example.org"]
    by = {p.uid: p for p in problems}
    assert set(by) == {"no-start@example.org", "bad-start@example.org", "bad-rrule@example.org"}
    assert all(p.severity == "error" and p.source == "broken_event_next_to_good.ics"
               for p in problems)
    assert "DTSTART" in by["no-start@example.org"].message
    assert "RRULE" in by["bad-rrule@example.org"].message or "UNTL" in by[
        "bad-rrule@example.org"].message


def test_damaged_structure_is_read_piece_by_piece():
    events, problems = read("damaged_structure.ics")
    assert [e.title for e in events] == ["Survivor of a damaged file"]
    cut_off = [p for p in problems if p.uid == "cut-off@example.org"]
    assert len(cut_off) == 1 and cut_off[0].severity == "error"
    assert any(p.severity == "warning" and p.uid is None for p in problems)


def test_broken_dtend_is_a_warning_with_a_guess():
    data = vcal(*vevent("a@x", ":20300311T100000Z", ":tomorrow", "SUMMARY:Chat"))
    (event,), (problem,) = parse_ics(data, "f.ics", *WIDE, BERLIN)
    assert event.end - event.start == timedelta(hours=1)
    assert problem.severity == "warning" and problem.uid == "a@x"


def test_several_dtstart_values_use_the_first():
    data = vcal(*vevent("a@x", ":20300311T100000Z", None, "DTSTART:20300312T100000Z"))
    (event,), (problem,) = parse_ics(data, "f.ics", *WIDE, BERLIN)
    assert event.start == datetime(2030, 3, 11, 10, 0, tzinfo=UTC)
    assert problem.severity == "warning"


def test_broken_override_fails_its_whole_series_once():
    data = vcal(*vevent("s@x", ":20300311T100000Z", ":20300311T110000Z", "RRULE:FREQ=DAILY"),
                "BEGIN:VEVENT", "UID:s@x", "RECURRENCE-ID:20300312T100000Z", "END:VEVENT",
                *vevent("ok@x", ":20300311T100000Z"))
    events, problems = parse_ics(data, "f.ics", *WIDE, BERLIN)
    assert {e.uid for e in events} == {"ok@x"}
    assert [(p.uid, p.severity) for p in problems] == [("s@x", "error")]


def test_event_without_uid_gets_a_stable_one():
    data = vcal("BEGIN:VEVENT", "DTSTART:20300311T100000Z", "SUMMARY:No UID", "END:VEVENT")
    first = parse_ics(data, "f.ics", *WIDE, BERLIN)[0]
    second = parse_ics(data, "f.ics", *WIDE, BERLIN)[0]
    assert first[0].uid and first[0].uid == second[0].uid


@pytest.mark.parametrize("data, words", [
    (b"", "not iCalendar"),
    (b"\x89PNG\r\n\x1a\n\x00\x00", "not UTF-8"),
    (b"Hello, this is a note.\n", "not iCalendar"),
    ("BEGIN:VCALENDAR\nSUMMARY:caf\xe9\nEND:VCALENDAR\n".encode("latin-1"), "not UTF-8"),
])
def test_unreadable_data_is_one_problem(data, words):
    events, problems = parse_ics(data, "bad.ics", *WIDE, BERLIN)
    assert events == []
    (problem,) = problems
    assert words in problem.message and problem.source == "bad.ics"


# -- the window ---------------------------------------------------------------


def test_window_is_half_open():
    window = (datetime(2030, 3, 11, 10, 0, tzinfo=UTC), datetime(2030, 3, 11, 12, 0, tzinfo=UTC))
    data = vcal(
        *vevent("ends-at-start@x", ":20300311T090000Z", ":20300311T100000Z"),
        *vevent("overlaps-start@x", ":20300311T093000Z", ":20300311T103000Z"),
        *vevent("inside@x", ":20300311T110000Z", ":20300311T113000Z"),
        *vevent("starts-at-end@x", ":20300311T120000Z", ":20300311T130000Z"),
        *vevent("zero-at-start@x", ":20300311T100000Z"),
        *vevent("zero-at-end@x", ":20300311T120000Z"),
    )
    events, _ = parse_ics(data, "w.ics", *window, BERLIN)
    assert {e.uid for e in events} == {"overlaps-start@x", "inside@x", "zero-at-start@x"}


def test_floating_times_at_the_window_edge_use_tz():
    # 00:30 floating in Berlin is 23:30 UTC the day before: outside this window
    window = (datetime(2030, 3, 11, 0, 0, tzinfo=UTC), datetime(2030, 3, 12, 0, 0, tzinfo=UTC))
    data = vcal(*vevent("late@x", ":20300312T003000", ":20300312T010000"),
                *vevent("early@x", ":20300311T003000", ":20300311T010000"))
    got = {e.uid for e in parse_ics(data, "w.ics", *window, BERLIN)[0]}
    assert got == {"late@x"}


# -- fields -------------------------------------------------------------------


def test_text_fields_and_people():
    (event,), problems = read("attendees.ics")
    assert not problems
    assert event.title == "Panel interview, round 2"
    assert event.description == "Bring your portfolio\nAsk for Jane; she knows"
    assert event.location == "Room 4, Main St. 1"
    assert event.status == "TENTATIVE"
    assert event.source == "attendees.ics"
    assert event.organizer.email == "jane.doe@acme.example"
    assert event.organizer.name == "Doe, Jane" and event.organizer.role == "CHAIR"
    people = {a.name: a for a in event.attendees}
    assert people["Alex Applicant"].email == "alex@example.org"
    assert people["Alex Applicant"].partstat == "ACCEPTED"
    assert people["Alex Applicant"].role == "REQ-PARTICIPANT"
    assert people["Alex Applicant"].cutype == "INDIVIDUAL"
    assert people["Bob Roe"].email == "bob@acme.example"
    assert people["Bob Roe"].partstat == "NEEDS-ACTION"
    assert people["Board room"].cutype == "ROOM" and people["Board room"].email is None
    assert people["Hiring team"].cutype == "GROUP"
    assert people["Hiring team"].email == "team@acme.example"
    assert people["Nobody"].email is None


def test_own_followups_are_left_out():
    followup = FollowupEvent(key="thank-you:a@x", title="Send thanks", description="",
                             start=datetime(2030, 3, 11, 12, 0, tzinfo=UTC),
                             end=datetime(2030, 3, 11, 12, 15, tzinfo=UTC))
    own = build_followup_ics(followup, "followup-1@interview-followup",
                             datetime(2030, 1, 1, tzinfo=UTC))
    theirs = vcal(*vevent("a@x", ":20300311T100000Z", ":20300311T110000Z", "SUMMARY:Interview"))
    events, problems = parse_ics(own, "own.ics", *WIDE, BERLIN)
    assert events == [] and problems == []
    events, _ = parse_ics(theirs.replace(b"END:VCALENDAR", own.split(b"VERSION:2.0\r\n")[1]),
                          "mixed.ics", *WIDE, BERLIN)
    assert [e.uid for e in events] == ["a@x"]


def test_own_key():
    event = icalendar.Event()
    assert own_key(event) is None
    event.add("X-FOLLOWUP-KEY", "k:1")
    assert own_key(event) == "k:1"
    raw = icalendar.Event.from_ical(
        "BEGIN:VEVENT\r\nX-FOLLOWUP-KEY:a\\,b\\;c\r\nEND:VEVENT\r\n")
    assert own_key(raw) == "a,b;c"


# -- robustness ---------------------------------------------------------------

_SAMPLES = [p.read_bytes() for p in sorted(FIXTURES.glob("*.ics"))]


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.sampled_from(_SAMPLES), st.data())
def test_mangled_files_never_raise(sample, data):
    """Cut, splice and corrupt the fixtures at random: never an exception,
    every event aware and ordered, every problem naming the source."""
    cut = data.draw(st.integers(0, len(sample)))
    cut2 = data.draw(st.integers(0, len(sample)))
    noise = data.draw(st.binary(max_size=40))
    mangled = sample[:min(cut, cut2)] + noise + sample[max(cut, cut2):]
    events, problems = parse_ics(mangled, "m.ics", *WIDE, BERLIN)
    for event in events:
        assert event.start.tzinfo is not None and event.start <= event.end
    assert all(p.source == "m.ics" for p in problems)


@settings(max_examples=100, deadline=None)
@given(st.lists(st.sampled_from([
    "BEGIN:VCALENDAR", "END:VCALENDAR", "BEGIN:VEVENT", "END:VEVENT", "BEGIN:VALARM",
    "END:VALARM", "BEGIN:VTIMEZONE", "END:VTIMEZONE", "UID:u", "UID:v",
    "DTSTART:20300311T100000Z", "DTSTART;VALUE=DATE:20300311", "DTSTART;TZID=Foo:20300311T1000",
    "DTEND:20300311T090000Z", "DURATION:-PT1H", "DURATION:P1W", "RRULE:FREQ=DAILY;COUNT=3",
    "RRULE:FREQ=NOPE", "EXDATE:20300312T100000Z", "RDATE:20300320T100000Z/PT1H",
    "RECURRENCE-ID:20300312T100000Z", "STATUS:CANCELLED", "X-WR-TIMEZONE:Europe/Paris",
    "X-WR-TIMEZONE:Nope", "TZID:Foo", "ATTENDEE;CN=x:mailto:X@Y.Z", " folded", ":", "",
]), max_size=40))
def test_random_line_soup_never_raises(lines):
    events, problems = parse_ics("\r\n".join(lines).encode(), "soup.ics", *WIDE, BERLIN)
    for event in events:
        assert event.start <= event.end and event.end.tzinfo is not None
    assert all(p.source == "soup.ics" for p in problems)


# -- writing follow-ups -------------------------------------------------------

FOLLOWUP = FollowupEvent(
    key="follow-up-call:interview-1@acme.example", title="Call ACME about the interview",
    description="Ask Jane Doe whether there is news.\nShe said: Monday, maybe; Tuesday.",
    start=datetime(2030, 3, 18, 10, 0, tzinfo=BERLIN),
    end=datetime(2030, 3, 18, 10, 15, tzinfo=BERLIN),
)
STAMP = datetime(2030, 3, 1, 8, 0, tzinfo=UTC)


def test_followup_ics_shape():
    data = build_followup_ics(FOLLOWUP, "followup-abc@interview-followup", STAMP)
    assert data == build_followup_ics(FOLLOWUP, "followup-abc@interview-followup", STAMP)
    calendar = icalendar.Calendar.from_ical(data)
    assert str(calendar["PRODID"]) == PRODID and str(calendar["VERSION"]) == "2.0"
    (event,) = calendar.walk("VEVENT")
    assert str(event["UID"]) == "followup-abc@interview-followup"
    assert event["DTSTART"].dt == FOLLOWUP.start
    assert event["DTSTART"].dt.utcoffset() == timedelta(0)
    assert event["DTEND"].dt == FOLLOWUP.end
    assert event["DTSTAMP"].dt == STAMP
    assert str(event["SUMMARY"]) == FOLLOWUP.title
    assert str(event["DESCRIPTION"]) == FOLLOWUP.description
    assert str(event["TRANSP"]) == "TRANSPARENT"
    assert own_key(event) == FOLLOWUP.key
    assert "ATTENDEE" not in event and "ORGANIZER" not in event
    (alarm,) = event.walk("VALARM")
    assert str(alarm["ACTION"]) == "DISPLAY"
    assert alarm["TRIGGER"].dt == timedelta(minutes=-10)
    assert b"TRIGGER:-PT10M" in data


def test_followup_without_reminder_has_no_alarm():
    event = FollowupEvent(**{**FOLLOWUP.__dict__, "reminder_minutes": None})
    data = build_followup_ics(event, "u", STAMP)
    assert b"VALARM" not in data


def test_hostile_title_cannot_inject_properties():
    hostile = "Thanks\r\nATTENDEE:mailto:boss@corp.example\rORGANIZER:x\nEND:VEVENT\u2028;,\\"
    event = FollowupEvent(**{**FOLLOWUP.__dict__, "title": hostile, "description": hostile,
                             "key": "k;1,2\nATTENDEE:x"})
    data = build_followup_ics(event, "u", STAMP)
    lines = data.decode().split("\r\n")
    assert not [line for line in lines if line.startswith(("ATTENDEE", "ORGANIZER"))]
    assert lines.count("END:VEVENT") == 1
    assert b"\r" not in data.replace(b"\r\n", b"") and b"\n" not in data.replace(b"\r\n", b"")
    key, _, _, title = read_followup_ics(data)
    assert key == "k;1,2\nATTENDEE:x"
    assert title == "Thanks\nATTENDEE:mailto:boss@corp.example\nORGANIZER:x\nEND:VEVENT;,\\"


def test_read_followup_back():
    data = build_followup_ics(FOLLOWUP, "u", STAMP)
    key, start, end, title = read_followup_ics(data)
    assert (key, start, end, title) == (FOLLOWUP.key, FOLLOWUP.start, FOLLOWUP.end, FOLLOWUP.title)
    assert start.tzinfo is not None


def test_read_followup_moved_in_a_calendar_app():
    data = build_followup_ics(FOLLOWUP, "u", STAMP).replace(
        b"DTSTART:20300318T090000Z", b"DTSTART;TZID=Europe/Berlin:20300318T140000").replace(
        b"DTEND:20300318T091500Z", b"DURATION:PT30M")
    _, start, end, _ = read_followup_ics(data)
    assert start == datetime(2030, 3, 18, 14, 0, tzinfo=BERLIN)
    assert end - start == timedelta(minutes=30)


@pytest.mark.parametrize("data", [
    b"", b"garbage", vcal(*vevent("a@x", ":20300311T100000Z")),
    b"BEGIN:VCALENDAR\r\nBEGIN:VEVENT\r\nX-FOLLOWUP-KEY:k\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n",
])
def test_read_followup_rejects_what_is_not_one(data):
    assert read_followup_ics(data) is None


def test_naive_followup_times_are_refused():
    event = FollowupEvent(**{**FOLLOWUP.__dict__, "start": datetime(2030, 3, 18, 10, 0)})
    with pytest.raises(ValueError):
        build_followup_ics(event, "u", STAMP)


def test_a_vevent_nested_in_another_is_read_as_an_event_of_its_own():
    data = (FIXTURES / "nested_vevent.ics").read_bytes()
    events, problems = parse_ics(data, "nested.ics", datetime(2026, 11, 1, tzinfo=timezone.utc),
                                 datetime(2027, 1, 1, tzinfo=timezone.utc), ZoneInfo("Europe/Berlin"))
    assert [e.uid for e in events] == ["outer@nested.example", "inner@nested.example"]
    assert problems == []
