"""The Calendar contract (``daemon.connector.Calendar``), for every harness."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest

from daemon.errors import Conflict, ConnectorError, SyncTokenExpired
from daemon.interest import Interest
from daemon.model import FollowupEvent

from .samples import VTIMEZONE_BERLIN, vcalendar, vevent

BERLIN = ZoneInfo("Europe/Berlin")
UTC = timezone.utc
WINDOW = (datetime(2030, 3, 1, tzinfo=UTC), datetime(2030, 4, 1, tzinfo=UTC))

INTERVIEW = vcalendar(VTIMEZONE_BERLIN, vevent(
    "interview-1@acme.example", ";TZID=Europe/Berlin:20300311T140000",
    ";TZID=Europe/Berlin:20300311T150000", "Interview with ACME",
    "ORGANIZER;CN=Jane Doe:mailto:Jane.Doe@ACME.example",
    "ATTENDEE;CN=Alex Applicant;PARTSTAT=ACCEPTED:mailto:alex@example.org",
    "ATTENDEE;CN=Bob Roe;PARTSTAT=NEEDS-ACTION;ROLE=REQ-PARTICIPANT:mailto:Bob.Roe@acme.example",
))
WEEKLY = vcalendar(vevent(
    "weekly@team.example", ":20300304T090000Z", ":20300304T091500Z", "Team sync",
    "RRULE:FREQ=WEEKLY;COUNT=3",
))
FLOATING = vcalendar(vevent(
    "floating@example.org", ":20300313T100000", ":20300313T110000", "Phone screen"))
ALL_DAY = vcalendar(vevent(
    "all-day@example.org", ";VALUE=DATE:20300314", ";VALUE=DATE:20300316", "Onsite days"))
OUTSIDE = vcalendar(vevent(
    "later@example.org", ":20300505T090000Z", ":20300505T100000Z", "Interview in May"))


def followup(key: str = "follow-up-call:interview-1@acme.example", **changes) -> FollowupEvent:
    event = FollowupEvent(
        key=key, title="Call ACME about the interview",
        description="Ask Jane Doe whether there is news.",
        start=datetime(2030, 3, 18, 10, 0, tzinfo=BERLIN),
        end=datetime(2030, 3, 18, 10, 15, tzinfo=BERLIN),
    )
    return replace(event, **changes)


@pytest.fixture
def h(calendar_harness):
    return calendar_harness


@pytest.fixture
def cal(h):
    calendar = h.make()
    yield calendar
    calendar.close()


def scan(cal, sync_token=None):
    return cal.scan(*WINDOW, BERLIN, sync_token=sync_token)


def by_uid(result) -> dict[str, list]:
    out: dict[str, list] = {}
    for event in result.events:
        out.setdefault(event.uid, []).append(event)
    return out


def assert_item(item, event: FollowupEvent) -> None:
    assert item is not None
    assert item.key == event.key
    assert item.start == event.start and item.end == event.end
    assert item.title == event.title


# -- scanning -----------------------------------------------------------------


def test_scan_returns_source_event_with_its_fields(h, cal):
    h.add_source_event(INTERVIEW)
    result = scan(cal)
    assert result.full
    assert not [p for p in result.problems if p.severity == "error"]
    (event,) = result.events
    assert event.uid == "interview-1@acme.example"
    assert event.title == "Interview with ACME"
    assert event.start == datetime(2030, 3, 11, 14, 0, tzinfo=BERLIN)
    assert event.end == datetime(2030, 3, 11, 15, 0, tzinfo=BERLIN)
    assert not event.all_day and event.recurrence_id is None
    assert event.organizer is not None
    assert event.organizer.email == "jane.doe@acme.example"
    assert event.organizer.name == "Jane Doe"
    people = {a.email: a for a in event.attendees}
    assert set(people) == {"alex@example.org", "bob.roe@acme.example"}
    assert people["bob.roe@acme.example"].name == "Bob Roe"
    assert people["bob.roe@acme.example"].partstat == "NEEDS-ACTION"
    assert people["alex@example.org"].partstat == "ACCEPTED"


def test_scan_keeps_to_the_window(h, cal):
    h.add_source_event(INTERVIEW)
    h.add_source_event(OUTSIDE)
    assert set(by_uid(scan(cal))) == {"interview-1@acme.example"}


def test_recurring_events_expand(h, cal):
    h.add_source_event(WEEKLY)
    events = sorted(scan(cal).events, key=lambda e: e.start)
    assert [e.start for e in events] == [
        datetime(2030, 3, day, 9, 0, tzinfo=UTC) for day in (4, 11, 18)]
    assert all(e.uid == "weekly@team.example" for e in events)
    assert all(e.end - e.start == timedelta(minutes=15) for e in events)
    for e in events:
        assert e.recurrence_id == e.start
        assert e.recurrence_id.utcoffset() == timedelta(0)


def test_floating_times_are_placed_in_tz(h, cal):
    h.add_source_event(FLOATING)
    (event,) = scan(cal).events
    assert event.start == datetime(2030, 3, 13, 10, 0, tzinfo=BERLIN)
    assert event.start.utcoffset() is not None


def test_all_day_events_span_local_midnights(h, cal):
    h.add_source_event(ALL_DAY)
    (event,) = scan(cal).events
    assert event.all_day
    assert event.start == datetime(2030, 3, 14, tzinfo=BERLIN)
    assert event.end == datetime(2030, 3, 16, tzinfo=BERLIN)


def test_own_followups_are_not_scanned(h, cal):
    h.add_source_event(INTERVIEW)
    cal.create_event(followup())
    cal.create_event(followup(key="status-check:interview-1@acme.example",
                              title="Status check: ACME"))
    result = scan(cal)
    assert set(by_uid(result)) == {"interview-1@acme.example"}
    assert not [e for e in result.events if e.title.startswith(("Call ACME", "Status check"))]


def test_incremental_scan_reports_changed_and_removed(h, cal):
    changed = h.add_source_event(INTERVIEW)
    removed = h.add_source_event(FLOATING)
    h.add_source_event(WEEKLY)
    first = scan(cal)
    assert set(by_uid(first)) == {"interview-1@acme.example", "floating@example.org",
                                  "weekly@team.example"}
    h.change_source_event(changed, INTERVIEW.replace(
        b"SUMMARY:Interview with ACME", b"SUMMARY:Final round with ACME").replace(
        b"20300311T140000", b"20300311T160000").replace(b"20300311T150000", b"20300311T170000"))
    h.remove_source_event(removed)
    second = scan(cal, first.sync_token) if first.sync_token else scan(cal)
    events = by_uid(second)
    (new,) = events["interview-1@acme.example"]
    assert new.title == "Final round with ACME"
    assert new.start == datetime(2030, 3, 11, 16, 0, tzinfo=BERLIN)
    assert "floating@example.org" not in events
    if second.full:
        assert set(events) == {"interview-1@acme.example", "weekly@team.example"}
    else:
        assert "floating@example.org" in second.removed_uids
        assert "interview-1@acme.example" not in second.removed_uids


def test_interest_never_hides_a_matching_event_and_names_what_stopped_matching(h, cal):
    # A connector may leave out what cannot match ``interest``; whatever it
    # does, an event whose title holds a keyword is returned, and an event
    # that stops matching is named (returned, skipped or removed) so the
    # core can forget it.
    interest = Interest.from_keywords(["interview", "phone screen"])
    changed = h.add_source_event(INTERVIEW)
    h.add_source_event(FLOATING)
    h.add_source_event(WEEKLY)
    first = cal.scan(*WINDOW, BERLIN, interest=interest)
    assert {"interview-1@acme.example", "floating@example.org"} <= set(by_uid(first))
    h.change_source_event(changed, INTERVIEW.replace(b"SUMMARY:Interview with ACME",
                                                     b"SUMMARY:Lunch with ACME"))
    second = cal.scan(*WINDOW, BERLIN, sync_token=first.sync_token, interest=interest)
    named = set(by_uid(second)) | second.skipped_uids | second.removed_uids
    assert second.full or "interview-1@acme.example" in named
    assert "floating@example.org" in by_uid(second) or not second.full


def test_unknown_sync_token_means_full_scan_or_expired(h, cal):
    h.add_source_event(INTERVIEW)
    h.add_source_event(WEEKLY)
    try:
        result = scan(cal, "garbage-sync-token-0000")
    except SyncTokenExpired:
        result = scan(cal)
    assert result.full
    assert set(by_uid(result)) == {"interview-1@acme.example", "weekly@team.example"}


# -- the daemon's own events --------------------------------------------------


def test_create_event_is_idempotent(h, cal):
    event = followup()
    first = cal.create_event(event)
    second = cal.create_event(event)
    assert second.ref == first.ref and second.etag == first.etag
    assert h.own_count() == 1
    again = h.make().create_event(event)  # after a restart
    assert again.ref == first.ref
    assert h.own_count() == 1


def test_find_own_and_list_own_read_back(h, cal):
    a = followup()
    b = followup(key="status-check:interview-1@acme.example", title="Status check: ACME",
                 start=datetime(2030, 3, 25, 9, 0, tzinfo=BERLIN),
                 end=datetime(2030, 3, 25, 9, 15, tzinfo=BERLIN), reminder_minutes=None)
    assert cal.find_own(a.key) is None
    assert cal.list_own() == []
    item_a, item_b = cal.create_event(a), cal.create_event(b)
    assert_item(item_a, a)
    assert_item(cal.find_own(a.key), a)
    assert_item(cal.find_own(b.key), b)
    assert cal.find_own(a.key).etag == item_a.etag
    listed = {item.key: item for item in cal.list_own()}
    assert set(listed) == {a.key, b.key}
    assert_item(listed[a.key], a)
    assert_item(listed[b.key], b)
    assert (listed[b.key].ref, listed[b.key].etag) == (item_b.ref, item_b.etag)


def test_update_with_current_etag(h, cal):
    item = cal.create_event(followup())
    moved = followup(title="Call ACME (moved)",
                     start=datetime(2030, 3, 19, 11, 0, tzinfo=BERLIN),
                     end=datetime(2030, 3, 19, 11, 30, tzinfo=BERLIN))
    updated = cal.update_event(item, moved)
    assert updated.etag != item.etag
    assert_item(updated, moved)
    assert_item(cal.find_own(moved.key), moved)
    assert h.own_count() == 1


def test_update_with_stale_etag_raises_and_changes_nothing(h, cal):
    item = cal.create_event(followup())
    current = cal.update_event(item, followup(title="Call ACME (moved)"))
    with pytest.raises(Conflict):
        cal.update_event(item, followup(title="Should not be written"))
    now = cal.find_own(item.key)
    assert (now.etag, now.title) == (current.etag, "Call ACME (moved)")


def test_update_never_changes_a_key(h, cal):
    item = cal.create_event(followup())
    with pytest.raises(ConnectorError, match="key cannot change") as info:
        cal.update_event(item, followup(key="b" * 40, title="Should not be written"))
    assert not isinstance(info.value, Conflict)
    assert cal.find_own(item.key).etag == item.etag and cal.find_own("b" * 40) is None
    assert h.own_count() == 1


def test_update_after_user_edit_raises_conflict(h, cal):
    event = followup()
    item = cal.create_event(event)
    h.user_edit_own(event.key)
    with pytest.raises(Conflict):
        cal.update_event(item, followup(title="Should not be written"))
    now = cal.find_own(event.key)
    assert now.title == event.title
    assert now.start == event.start + timedelta(hours=1)


def test_delete_is_idempotent(h, cal):
    item = cal.create_event(followup())
    cal.delete_event(item)
    assert cal.find_own(item.key) is None
    assert h.own_count() == 0
    cal.delete_event(item)


def test_delete_after_user_edit_raises_conflict_and_keeps_it(h, cal):
    event = followup()
    item = cal.create_event(event)
    h.user_edit_own(event.key)
    with pytest.raises(Conflict):
        cal.delete_event(item)
    now = cal.find_own(event.key)
    assert now is not None and now.etag != item.etag
    assert now.start == event.start + timedelta(hours=1)
    assert h.own_count() == 1


def test_user_deleted_followup_is_gone(h, cal):
    event = followup()
    item = cal.create_event(event)
    h.user_delete_own(event.key)
    assert cal.find_own(event.key) is None
    assert cal.list_own() == []
    cal.delete_event(item)


def test_source_items_never_change(h, cal):
    for ics in (INTERVIEW, WEEKLY, FLOATING, ALL_DAY, OUTSIDE):
        h.add_source_event(ics)
    before = h.source_snapshot()
    assert len(before) == 5
    a = followup()
    b = followup(key="status-check:interview-1@acme.example", title="Status check: ACME")
    state: dict = {}

    def stale_update():
        with pytest.raises(Conflict):
            cal.update_event(state["a"], followup(title="stale"))

    def delete_edited():
        h.user_edit_own(b.key)
        with pytest.raises(Conflict):
            cal.delete_event(state["b"])

    steps = [
        lambda: scan(cal),
        lambda: state.update(a=cal.create_event(a)),
        lambda: state.update(b=cal.create_event(b)),
        lambda: cal.create_event(a),
        lambda: cal.find_own(a.key),
        lambda: cal.list_own(),
        lambda: state.update(a2=cal.update_event(state["a"], followup(title="Moved"))),
        stale_update,
        delete_edited,
        lambda: scan(cal),
        lambda: cal.delete_event(state["a2"]),
        lambda: cal.delete_event(state["a2"]),
        lambda: cal.check(),
    ]
    for number, step in enumerate(steps):
        step()
        assert h.source_snapshot() == before, f"source items changed by step {number}"
