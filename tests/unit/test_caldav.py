"""The CalDAV connector against a real Radicale: what the contract suite does
not cover. Request counts, the objects as other clients see them, failures
(wrong password, a server that goes away, 5xx/429, rejected sync tokens, a
server without sync-collection) and the core's reactions to them.

A ``CountingProxy`` between connector and server counts the requests and
plays the failures.
"""

from __future__ import annotations

import sqlite3
from datetime import datetime, timedelta, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from connectors.caldav import CalDAVCalendar
from connectors.caldav.token import decode, encode
from daemon.app.config import from_dict
from daemon.errors import AuthError, ConfigError, Conflict, ConnectorError, TransientError
from daemon.model import FollowupEvent
from tests.contract.caldav_harness import RadicaleCalendarHarness
from tests.contract.samples import vcalendar, vevent
from tests.servers.radicale import CountingProxy, Radicale

UTC = timezone.utc
BERLIN = ZoneInfo("Europe/Berlin")
WINDOW = (datetime(2030, 3, 1, tzinfo=UTC), datetime(2030, 4, 1, tzinfo=UTC))
SYNC_ERROR = (b'<?xml version="1.0" encoding="utf-8"?>'
              b'<D:error xmlns:D="DAV:"><D:valid-sync-token/></D:error>')


def event(uid: str, day: int, title: str = "Interview with ACME", *extra: str) -> bytes:
    return vcalendar(vevent(uid, f":203003{day:02d}T100000Z", f":203003{day:02d}T110000Z",
                            title, *extra))


def followup(key: str = "call-acme", **changes) -> FollowupEvent:
    values = {"key": key, "title": "Call ACME about the interview",
              "description": "Ask Jane Doe whether there is news.",
              "start": datetime(2030, 3, 18, 10, 0, tzinfo=BERLIN),
              "end": datetime(2030, 3, 18, 10, 15, tzinfo=BERLIN)}
    values.update(changes)
    return FollowupEvent(**values)


def scan(cal, token=None):
    return cal.scan(*WINDOW, BERLIN, sync_token=token)


def uids(result) -> set[str]:
    return {e.uid for e in result.events}


@pytest.fixture
def h(tmp_path):
    RadicaleCalendarHarness.require()
    harness = RadicaleCalendarHarness(tmp_path)
    yield harness
    harness.close()


@pytest.fixture
def proxy():
    server = Radicale.shared()
    counting = CountingProxy(server.port).start()
    yield counting
    counting.stop()


def methods(proxy: CountingProxy) -> list[str]:
    return [method for method, _ in proxy.requests]


# -- what a scan costs ----------------------------------------------------------


def test_idle_poll_is_one_request_and_a_change_two(h, proxy):
    handles = [h.add_source_event(event(f"uid-{n}@acme.example", 10 + n)) for n in range(3)]
    cal = h.make(url=proxy.url)
    first = scan(cal)
    assert first.full and uids(first) == {"uid-0@acme.example", "uid-1@acme.example",
                                          "uid-2@acme.example"}
    assert first.total == 3
    # discovery (with the login challenge), the calendar's sync token, the events
    assert proxy.count() <= 6 and methods(proxy)[-2:] == ["PROPFIND", "REPORT"]

    token = first.sync_token
    proxy.reset()
    for _ in range(3):
        idle = scan(cal, token)
        assert not idle.full and idle.events == [] and idle.removed_uids == set()
        assert idle.total == 3
        token = idle.sync_token
    assert methods(proxy) == ["REPORT"] * 3  # the sync-collection REPORT, nothing else

    h.change_source_event(handles[1], event("uid-1@acme.example", 20, "Final round"))
    proxy.reset()
    changed = scan(cal, token)
    assert methods(proxy) == ["REPORT", "REPORT"]  # sync-collection, calendar-multiget
    assert not changed.full and [(e.uid, e.title) for e in changed.events] == [
        ("uid-1@acme.example", "Final round")]
    assert changed.removed_uids == set()

    h.remove_source_event(handles[2])
    proxy.reset()
    removed = scan(cal, changed.sync_token)
    assert methods(proxy) == ["REPORT"]
    assert removed.events == [] and removed.removed_uids == {"uid-2@acme.example"}
    assert removed.total == 2


def test_restart_with_a_stored_token_needs_no_discovery_with_a_calendar_url(h, proxy):
    h.add_source_event(event("a@acme.example", 10))
    path = "/" + h.calendar_url.split("/", 3)[3]
    token = scan(h.make(url=proxy.url, calendar=path)).sync_token
    proxy.reset()
    again = h.make(url=proxy.url, calendar=path)  # a daemon restart
    assert scan(again, token).events == []
    assert methods(proxy) == ["REPORT", "REPORT"]  # the login challenge (401), then the REPORT
    proxy.reset()
    scan(again, token)
    assert methods(proxy) == ["REPORT"]


def test_objects_that_cannot_match_are_not_parsed(h, monkeypatch):
    import connectors.caldav.calendar as module
    from daemon.interest import Interest

    interest = Interest.from_keywords(["interview"])
    h.add_source_event(event("iv@acme.example", 10))
    dentist = h.add_source_event(event("d@x.example", 11, "Dentist"))
    parsed = []
    real = module.parse_ics
    monkeypatch.setattr(module, "parse_ics", lambda *a, **kw: parsed.append(a[1]) or real(*a, **kw))
    cal = h.make()
    first = cal.scan(*WINDOW, BERLIN, interest=interest)
    assert uids(first) == {"iv@acme.example"} and first.total == 2 and len(parsed) == 1
    h.change_source_event(dentist, event("d@x.example", 12, "Dentist (moved)"))
    second = cal.scan(*WINDOW, BERLIN, sync_token=first.sync_token, interest=interest)
    assert not second.full and second.events == [] and second.skipped_uids == {"d@x.example"}
    assert len(parsed) == 1
    # another interest: the token is not good for it
    wider = Interest.from_keywords(["interview", "dentist"])
    third = cal.scan(*WINDOW, BERLIN, sync_token=second.sync_token, interest=wider)
    assert third.full and uids(third) == {"iv@acme.example", "d@x.example"}


def test_own_writes_are_not_read_back_by_the_next_scan(h, proxy):
    h.add_source_event(event("a@acme.example", 10))
    cal = h.make(url=proxy.url)
    token = scan(cal).sync_token
    cal.create_event(followup())
    proxy.reset()
    result = scan(cal, token)
    assert methods(proxy) == ["REPORT"]
    assert result.events == [] and result.removed_uids == set() and result.total == 1
    full = scan(cal)
    assert uids(full) == {"a@acme.example"}


def test_window_change_means_a_full_scan(h):
    h.add_source_event(event("a@acme.example", 10))
    cal = h.make()
    token = scan(cal).sync_token
    later = cal.scan(WINDOW[0] + timedelta(days=1), WINDOW[1] + timedelta(days=1), BERLIN, token)
    assert later.full and uids(later) == {"a@acme.example"}


# -- the objects as other clients see them ----------------------------------------


def test_followup_as_another_client_reads_it(h):
    import icalendar

    cal = h.make()
    written = followup(reminder_minutes=None)
    item = cal.create_event(written)
    assert item.ref.startswith(h.calendar_url) and item.ref.endswith(".ics")
    with h.server.client(h.user) as other:
        response = other.request(item.ref, "GET")
        assert response.status == 200
        assert response.headers["ETag"] == item.etag
        parsed = icalendar.Calendar.from_ical(response.raw)
    (vevent_,) = parsed.walk("VEVENT")
    assert str(vevent_["X-FOLLOWUP-KEY"]) == written.key
    assert "ATTENDEE" not in vevent_ and "ORGANIZER" not in vevent_
    assert vevent_.decoded("DTSTART") == written.start
    assert vevent_.decoded("DTEND") == written.end
    assert vevent_.decoded("DTSTART").utcoffset() == timedelta(0)
    assert str(vevent_["SUMMARY"]) == written.title
    assert str(vevent_["UID"]) == item.ref.rsplit("/", 1)[1].removesuffix(".ics")
    assert str(vevent_.get("TRANSP")) == "TRANSPARENT"


def test_write_to_a_new_calendar_is_made_once(h, proxy):
    h.add_source_event(event("a@acme.example", 10))
    cal = h.make(url=proxy.url, write_to="Interview follow-ups")
    assert cal.check() == ("calendar 'Work' (1 event), follow-ups go to 'Interview follow-ups' "
                           "(created with the first follow-up)")
    assert cal.list_own() == [] and cal.find_own("call-acme") is None
    assert proxy.count("MKCALENDAR") == 0
    item = cal.create_event(followup())
    cal.create_event(followup(key="status-acme"))
    assert proxy.count("MKCALENDAR") == 1
    assert h.own_count() == 0  # nothing in the scanned calendar
    assert not item.ref.startswith(h.calendar_url)
    assert uids(scan(cal)) == {"a@acme.example"}

    proxy.reset()
    again = h.make(url=proxy.url, write_to="Interview follow-ups")  # after a restart
    assert {i.key for i in again.list_own()} == {"call-acme", "status-acme"}
    assert again.create_event(followup()).ref == item.ref
    assert proxy.count("MKCALENDAR") == 0
    assert again.check() == ("calendar 'Work' (1 event), follow-ups go to "
                             "'Interview follow-ups'")


def test_check_names_calendar_and_count(h):
    h.add_source_event(event("a@acme.example", 10))
    h.add_source_event(event("b@acme.example", 11))
    cal = h.make()
    cal.create_event(followup())
    assert cal.check() == "calendar 'Work' (2 events), follow-ups go to the same calendar"


# -- failures -------------------------------------------------------------------


@pytest.mark.parametrize("calendar", ["Wrok", "/{user}/no-such-calendar/"])
def test_unknown_calendar_lists_the_calendars_there(h, calendar):
    h.server.make_calendar(h.user, "Family")
    with pytest.raises(ConnectorError) as info:
        scan(h.make(calendar=calendar.format(user=h.user)))
    message = str(info.value)
    assert calendar.format(user=h.user) in message
    assert "'Work'" in message and "'Family'" in message and h.user in message


def test_deleted_calendar_is_reported_with_the_calendars_that_exist(h):
    cal = h.make()
    token = scan(cal).sync_token
    with h.server.client(h.user) as other:
        assert other.request(h.calendar_url, "DELETE").status in (200, 204)
    with pytest.raises(ConnectorError) as info:
        scan(cal, token)
    assert "'Work'" in str(info.value) and "does not exist" in str(info.value)


def test_wrong_password_is_an_auth_error_naming_account_and_url(h):
    cal = h.make(password_command="echo not-the-password")
    with pytest.raises(AuthError) as info:
        scan(cal)
    message = str(info.value)
    assert "contract" in message and h.server.url in message and repr(h.user) in message
    assert "401" in message and "wrong password" in message
    assert "not-the-password" not in message and h.password not in message
    with pytest.raises(AuthError):
        cal.check()


@pytest.fixture
def stored(memory_keyring):
    """The passwords in the test keyring, by (service, account)."""
    return memory_keyring.items


def test_authorize_stores_only_a_password_that_works(h, stored, monkeypatch):
    from daemon import secrets

    config = h.config()
    del config["password_command"]
    typed = iter(["not-the-password", h.password])
    monkeypatch.setattr(secrets, "ask", lambda account: next(typed))
    with pytest.raises(AuthError):
        CalDAVCalendar("work", config, None).authorize()
    assert stored == {}
    message = CalDAVCalendar("work", config, None).authorize()
    assert message.startswith("work: password stored in the keyring (calendar 'Work'")
    assert stored == {(secrets.SERVICE, "work"): h.password}
    assert scan(CalDAVCalendar("work", config, None)).full  # later runs read the keyring


@pytest.mark.parametrize("status, headers, retry_after", [
    (503, {"Retry-After": "120"}, 120.0),
    (429, {"Retry-After": "7"}, 7.0),
    (500, {}, None),
    (502, {"Retry-After": "30"}, 30.0),
])
def test_server_trouble_is_transient(h, proxy, status, headers, retry_after):
    cal = h.make(url=proxy.url)
    token = scan(cal).sync_token
    proxy.answer(status, headers)
    with pytest.raises(TransientError) as info:
        scan(cal, token)
    assert info.value.retry_after == retry_after
    assert scan(cal, token).sync_token  # and then it works again


def test_server_gone_is_transient_and_it_recovers(h, proxy):
    h.add_source_event(event("a@acme.example", 10))
    cal = h.make(url=proxy.url)
    token = scan(cal).sync_token
    proxy.stop()
    with pytest.raises(TransientError) as info:
        scan(cal, token)
    assert "cannot reach" in str(info.value) and "connection refused" in str(info.value)
    with pytest.raises(TransientError):
        cal.create_event(followup())
    proxy.start()
    assert scan(cal, token).events == []
    cal.create_event(followup())
    assert h.own_count() == 1


def test_lost_answer_to_a_create_never_makes_two(h, proxy):
    cal = h.make(url=proxy.url)
    proxy.lose_answer("PUT")
    with pytest.raises(TransientError):
        cal.create_event(followup())
    assert h.own_count() == 1  # the server did store it
    item = cal.create_event(followup())  # the retry finds it (412) and returns it
    assert item.key == "call-acme" and h.own_count() == 1
    assert cal.find_own("call-acme").etag == item.etag


def test_update_after_the_user_edited_is_a_conflict(h, proxy):
    cal = h.make(url=proxy.url)
    item = cal.create_event(followup())
    h.user_edit_own("call-acme")
    proxy.reset()
    with pytest.raises(Conflict):
        cal.update_event(item, followup(title="Not written"))
    assert methods(proxy) == ["GET"]  # another etag: nothing written
    now = cal.find_own("call-acme")
    assert now.title == "Call ACME about the interview" and now.etag != item.etag
    with pytest.raises(Conflict):
        cal.delete_event(item)
    assert h.own_count() == 1


def test_sync_token_the_server_forgot_means_a_full_scan(h):
    h.add_source_event(event("a@acme.example", 10))
    h.add_source_event(event("b@acme.example", 11))
    cal = h.make()
    first = scan(cal)
    window = [h.calendar_url, WINDOW[0].isoformat(), WINDOW[1].isoformat(), "Europe/Berlin", "*"]
    state = decode(first.sync_token, window)
    assert state is not None and state.mode == "sync"
    state.marker = "http://radicale.org/ns/sync/0000000000000000"  # long expired
    again = scan(cal, encode(state))
    assert again.full and uids(again) == {"a@acme.example", "b@acme.example"}


def test_sync_token_rejected_with_409_means_a_full_scan(h, proxy):
    h.add_source_event(event("a@acme.example", 10))
    cal = h.make(url=proxy.url)
    token = scan(cal).sync_token
    proxy.answer(409, {"Content-Type": "application/xml"}, SYNC_ERROR, method="REPORT")
    again = scan(cal, token)
    assert again.full and uids(again) == {"a@acme.example"}


def test_server_without_sync_collection_compares_etags(h, proxy):
    handles = [h.add_source_event(event(f"uid-{n}@acme.example", 10 + n)) for n in range(3)]
    proxy.answer(501, method="REPORT", match=b"sync-collection", times=1000)
    cal = h.make(url=proxy.url)
    token = scan(cal).sync_token
    fallback = scan(cal, token)  # the REPORT is refused: read again, by etags from now on
    assert fallback.full and len(uids(fallback)) == 3
    token = fallback.sync_token
    proxy.reset()
    idle = scan(cal, token)
    assert methods(proxy) == ["PROPFIND"]  # the ctag only
    assert not idle.full and idle.events == [] and idle.total == 3

    h.change_source_event(handles[0], event("uid-0@acme.example", 25, "Onsite"))
    h.remove_source_event(handles[1])
    proxy.reset()
    delta = scan(cal, idle.sync_token)
    assert methods(proxy) == ["PROPFIND", "PROPFIND", "REPORT"]  # ctag, etags, multiget
    assert not delta.full
    assert [(e.uid, e.title) for e in delta.events] == [("uid-0@acme.example", "Onsite")]
    assert delta.removed_uids == {"uid-1@acme.example"} and delta.total == 2


def test_changed_recurring_event_comes_whole(h):
    handle = h.add_source_event(event("weekly@acme.example", 4, "Panel interview",
                                      "RRULE:FREQ=WEEKLY;COUNT=3"))
    cal = h.make()
    token = scan(cal).sync_token
    moved = vcalendar(
        vevent("weekly@acme.example", ":20300304T100000Z", ":20300304T110000Z",
               "Panel interview", "RRULE:FREQ=WEEKLY;COUNT=3"),
        vevent("weekly@acme.example", ":20300312T150000Z", ":20300312T160000Z",
               "Panel interview (moved)", "RECURRENCE-ID:20300311T100000Z"))
    h.change_source_event(handle, moved)
    delta = scan(cal, token)
    assert not delta.full
    assert sorted((e.start.day, e.title) for e in delta.events) == [
        (4, "Panel interview"), (12, "Panel interview (moved)"), (18, "Panel interview")]


def test_broken_object_is_a_problem_and_keeps_its_uid(h, proxy):
    handle = h.add_source_event(event("a@acme.example", 10))
    h.add_source_event(event("b@acme.example", 11))
    cal = h.make(url=proxy.url)
    token = scan(cal).sync_token
    h.change_source_event(handle, event("a@acme.example", 12, "Changed"))
    # the server hands out the changed object damaged (no DTSTART)
    href = h.calendar_url.split("/", 3)[3] + handle
    broken = ("BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//x//EN\r\nBEGIN:VEVENT\r\n"
              "UID:a@acme.example\r\nDTSTAMP:20300101T000000Z\r\nSUMMARY:Broken\r\n"
              "END:VEVENT\r\nEND:VCALENDAR\r\n")
    proxy.answer(207, {"Content-Type": "application/xml; charset=utf-8"}, (
        '<?xml version="1.0" encoding="utf-8"?>'
        '<D:multistatus xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav">'
        f"<D:response><D:href>/{href}</D:href><D:propstat><D:prop>"
        f'<D:getetag>"broken"</D:getetag><C:calendar-data>{broken}</C:calendar-data>'
        "</D:prop><D:status>HTTP/1.1 200 OK</D:status></D:propstat></D:response>"
        "</D:multistatus>").encode(), method="REPORT", match=b"calendar-multiget")
    delta = scan(cal, token)
    assert delta.events == [] and delta.removed_uids == set()
    assert [p.uid for p in delta.problems if p.severity == "error"] == ["a@acme.example"]
    assert delta.total == 2


@pytest.mark.parametrize("changes, expected", [
    ({"url": "https://alex:hunter2@dav.example.org/"}, "must not contain the password"),
    ({"url": "dav.example.org/caldav"}, "must start with https://"),
    ({"url": "ftp://dav.example.org/"}, "must start with https://"),
    ({"username": " "}, "must not be empty"),
    ({"calendar": ""}, "must not be empty"),
])
def test_config_problems(tmp_path, changes, expected):
    config = {"url": "https://dav.example.org/", "username": "alex", "calendar": "Work"}
    config.update(changes)
    with pytest.raises(ConfigError) as info:
        CalDAVCalendar("work", config, None)
    key, value = next(iter(changes.items()))
    assert f"calendar 'work': {key} {expected}" in str(info.value)
    # the same problem stops the config from loading, named by its key
    from daemon.app.config import load

    lines = [f'{k} = "{v}"' for k, v in {**config, key: value}.items()]
    path = tmp_path / "config.toml"
    path.write_text('[me]\nemail = "alex@example.org"\ntimezone = "UTC"\n[[calendars]]\nname = "work"\n'
                    'type = "caldav"\n' + "\n".join(lines) + "\n")
    with pytest.raises(ConfigError) as info:
        load(path)
    assert any(f"calendars[1].{key}: {expected}" in line for line in info.value.problems), info.value.problems


# -- through the engine ---------------------------------------------------------


NY = ZoneInfo("America/New_York")
START = datetime(2026, 11, 16, 14, 0, tzinfo=NY)  # a Monday
ME = "me@example.org"


def interview(uid: str, start: datetime, title: str = "Phone Screen - Acme Corp") -> bytes:
    def utc(moment):
        return moment.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")

    return vcalendar(vevent(
        uid, f":{utc(start)}", f":{utc(start + timedelta(hours=1))}", title,
        "ORGANIZER;CN=Jane Doe:mailto:jane@acme.example",
        "ATTENDEE;CN=Jane Doe;PARTSTAT=ACCEPTED:mailto:jane@acme.example",
        f"ATTENDEE;CN=Alex Morgan;PARTSTAT=ACCEPTED:mailto:{ME}"))


def settings(tmp_path: Path, *calendars: dict):
    data = {"me": {"name": "Alex Morgan", "email": ME, "timezone": "America/New_York",
                   "country": "US"},
            "state": {"path": str(tmp_path / "state.sqlite3")},
            "calendars": list(calendars)}
    return from_dict(data, source=tmp_path / "config.toml", base_dir=tmp_path)


def caldav_account(h: RadicaleCalendarHarness, url: str, **changes) -> dict:
    return {"name": "work", "type": "caldav", **h.config(url=url, **changes)}


def engine_for(tmp_path: Path, *calendars: dict):
    from daemon.app.engine import Engine

    return Engine(settings(tmp_path, *calendars))


def records(tmp_path: Path) -> list[tuple]:
    db = sqlite3.connect(tmp_path / "state.sqlite3")
    try:
        return sorted(db.execute("SELECT key, kind, state FROM actions"))
    finally:
        db.close()


def test_wrong_password_stops_only_that_account(h, tmp_path):
    folder = tmp_path / "personal"
    folder.mkdir()
    (folder / "acme.ics").write_bytes(interview("acme-1@example.org", START))
    h.add_source_event(interview("acme-2@example.org", START + timedelta(hours=3)))
    engine = engine_for(
        tmp_path, caldav_account(h, h.server.url, password_command="echo wrong"),
        {"name": "personal", "type": "local", "path": str(folder)})
    try:
        report = engine.run_pass(START + timedelta(hours=2), apply=True)
    finally:
        engine.close()
    assert "reconnect needed" in report.account_errors["work"]
    assert "wrong password" in report.account_errors["work"]
    assert "personal" not in report.account_errors
    assert len(list(folder.glob("followup-*.ics"))) == 1  # the local calendar got its follow-up
    assert h.own_count() == 0


def troubled(report, account: str) -> bool:
    """Whether a call of ``account`` failed in the pass (the engine may
    stop the account or only count the failure and retry soon)."""
    return account in report.account_errors or bool(getattr(report, "strikes", {}).get(account))


def test_server_gone_mid_run_then_nothing_twice(h, proxy, tmp_path):
    h.add_source_event(interview("acme-1@example.org", START))
    engine = engine_for(tmp_path, caldav_account(h, proxy.url))
    try:
        proxy.lose_answer("PUT")  # the follow-up is stored, the answer never arrives
        report = engine.run_pass(START + timedelta(hours=2), apply=True)
        assert troubled(report, "work")
        assert h.own_count() == 1
        proxy.stop()  # the server is gone
        report = engine.run_pass(START + timedelta(hours=4), apply=True)
        assert "work" in report.account_errors or "work" in getattr(engine, "holds", {})
        proxy.start()  # and back
        for hours in (6, 8):
            report = engine.run_pass(START + timedelta(hours=hours), apply=True)
        assert not troubled(report, "work")
    finally:
        engine.close()
    assert h.own_count() == 1
    assert [state for _, kind, state in records(tmp_path) if kind == "follow_up_call"] == ["done"]


def test_calendar_suddenly_empty_is_not_believed(h, proxy, tmp_path):
    handles = [h.add_source_event(interview("acme-1@example.org", START))]
    handles += [h.add_source_event(interview(f"other-{n}@example.org", START + timedelta(days=n),
                                             title=f"Lunch {n}")) for n in (1, 2, 3)]
    engine = engine_for(tmp_path, caldav_account(h, proxy.url))
    try:
        report = engine.run_pass(START + timedelta(hours=2), apply=True)
        assert report.account_errors == {} and h.own_count() == 1
        before = records(tmp_path)
        for handle in handles:
            h.remove_source_event(handle)
        # the same day: an incremental scan that reports every UID removed
        report = engine.run_pass(START + timedelta(hours=3), apply=True)
        assert "reads as empty" in report.account_errors["work"]
        assert h.own_count() == 1 and records(tmp_path) == before
        # the next day: the window moved, so the scan is a full one
        report = engine.run_pass(START + timedelta(days=1), apply=True)
        assert "reads as empty" in report.account_errors["work"]
        assert h.own_count() == 1 and records(tmp_path) == before
    finally:
        engine.close()


def test_empty_scans_report_a_zero_total(h):
    handles = [h.add_source_event(event(f"uid-{n}@acme.example", 10 + n)) for n in range(3)]
    cal = h.make()
    token = scan(cal).sync_token
    for handle in handles:
        h.remove_source_event(handle)
    delta = scan(cal, token)
    assert not delta.full and delta.total == 0 and len(delta.removed_uids) == 3
    full = scan(cal)
    assert full.full and full.total == 0


def test_a_runaway_series_on_the_server_is_one_problem(h):
    """Regression: FREQ=SECONDLY without an end hung every pass."""
    h.add_source_event(vcalendar(vevent("storm@globex.example", ":20300301T090000Z", ":20300301T100000Z",
                                        "Interview with Globex", "RRULE:FREQ=SECONDLY")))
    h.add_source_event(event("a@acme.example", 10))
    result = scan(h.make())
    assert uids(result) == {"a@acme.example"}
    (problem,) = [p for p in result.problems if p.severity == "error"]
    assert problem.uid == "storm@globex.example" and "repeats more than" in problem.message


def test_an_update_keeps_the_uid_an_earlier_version_wrote(h):
    cal = h.make()
    item = cal.create_event(followup())
    url = item.ref
    stem = url.rsplit("/", 1)[1].removesuffix(".ics")
    with h.server.client(h.user) as client:
        data = client.request(url, "GET").raw
        data = data.encode() if isinstance(data, str) else data
        old = data.replace(f"UID:{stem}\n".encode(), f"UID:{stem}@interview-followup\n".encode())
        assert old != data
        # as an earlier version wrote it (Radicale refuses a UID changed in place: 409)
        assert client.request(url, "DELETE").status in (200, 204)
        assert client.request(url, "PUT", old, {"Content-Type": "text/calendar"}).status in (200, 201, 204)
    current = cal.find_own(item.key)
    moved = cal.update_event(current, followup(start=datetime(2030, 3, 19, 10, 0, tzinfo=BERLIN),
                                               end=datetime(2030, 3, 19, 10, 15, tzinfo=BERLIN)))
    with h.server.client(h.user) as client:
        data = client.request(moved.ref, "GET").raw
    data = data.encode() if isinstance(data, str) else data
    assert f"UID:{stem}@interview-followup".encode() in data and b"20300319T" in data
