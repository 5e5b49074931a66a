"""Google connectors against the fake server: request counts, faults,
mapping details and the login's storage. The shared behaviour is in the
contract suite (``tests/contract``, harnesses "google-fake"/"gmail-fake")."""

from __future__ import annotations

import json
import os
import re
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

pytest.importorskip("googleapiclient")

from connectors.google import auth as google_auth  # noqa: E402
from connectors.google.calendar import GoogleCalendar  # noqa: E402
from connectors.google.events import event_id_for, to_event  # noqa: E402
from connectors.google.gmail import GmailMailbox  # noqa: E402
from connectors.google.retry import RetryPolicy  # noqa: E402
from daemon.connector import Context  # noqa: E402
from daemon.errors import AuthError, Conflict, ConnectorError, SyncTokenExpired, TransientError  # noqa: E402
from daemon.model import FollowupEvent, ReplySearch, StoredItem  # noqa: E402, ReplySearch
from tests.contract import samples  # noqa: E402
from tests.contract.google_harness import (  # noqa: E402
    GmailHarness,
    GoogleCalendarHarness,
    credentials,
)

BERLIN = ZoneInfo("Europe/Berlin")
UTC = timezone.utc
WINDOW = (datetime(2030, 3, 1, tzinfo=UTC), datetime(2030, 4, 1, tzinfo=UTC))
SOURCE = Path(__file__).resolve().parents[2] / "connectors" / "google"
KEY = "0123456789abcdef0123456789abcdef01234567"


class Sleeps(list):
    def __call__(self, seconds: float) -> None:
        self.append(seconds)


@pytest.fixture
def ch(tmp_path):
    harness = GoogleCalendarHarness(tmp_path)
    yield harness
    harness.close()


@pytest.fixture
def mh(tmp_path):
    harness = GmailHarness(tmp_path)
    yield harness
    harness.close()


def followup(key: str = KEY, **changes) -> FollowupEvent:
    values = dict(key=key, title="Call ACME", description="Ask about news.",
                  start=datetime(2030, 3, 18, 10, 0, tzinfo=BERLIN),
                  end=datetime(2030, 3, 18, 10, 15, tzinfo=BERLIN))
    values.update(changes)
    return FollowupEvent(**values)


def event(event_id: str, day: int, **extra) -> dict:
    return {"id": event_id, "iCalUID": f"{event_id}@acme.example", "summary": "Interview",
            "start": {"dateTime": f"2030-03-{day:02d}T14:00:00+01:00"},
            "end": {"dateTime": f"2030-03-{day:02d}T15:00:00+01:00"}, **extra}


# -- safety by construction ---------------------------------------------------------


def test_no_code_path_can_send_mail():
    sources = {p.name: p.read_text() for p in SOURCE.glob("*.py")}
    assert "gmail.py" in sources
    for name, text in sources.items():
        assert not re.search(r"\bsend\b", text, re.IGNORECASE), f"'send' in {name}"


def test_follow_up_ids_are_base32hex_and_stable():
    assert event_id_for(KEY) == "fu" + KEY
    other = event_id_for("thank-you:interview-1@acme.example")
    assert re.fullmatch(r"[a-v0-9]{5,1024}", other)
    assert other == event_id_for("thank-you:interview-1@acme.example") != event_id_for("x")


def test_registry_names(monkeypatch):
    from daemon import registry

    monkeypatch.setitem(registry.CALENDAR_TYPES, "google", "connectors.google:GoogleCalendar")
    monkeypatch.setitem(registry.MAILBOX_TYPES, "gmail", "connectors.google:GmailMailbox")
    assert registry.calendar_class("google") is GoogleCalendar
    assert registry.mailbox_class("gmail") is GmailMailbox


def test_scopes_are_least_privilege(tmp_path):
    context = Context(base_dir=tmp_path, state_dir=tmp_path)
    default = GoogleCalendar("c", {}, context).scopes()
    assert google_auth.CALENDAR_APP_SCOPE in default
    assert google_auth.CALENDAR_EVENTS_SCOPE not in default
    source = GoogleCalendar("c", {"write_to": "source"}, context).scopes()
    assert google_auth.CALENDAR_EVENTS_SCOPE in source
    assert google_auth.CALENDAR_APP_SCOPE not in source


# -- the fake is as strict as Google ------------------------------------------------


def test_fake_refuses_sync_token_with_a_window_and_unknown_parameters(ch):
    from googleapiclient.errors import HttpError

    service = ch.make().service
    with pytest.raises(HttpError) as err:
        service.events().list(calendarId="primary", syncToken="sync.1",
                              timeMin="2030-03-01T00:00:00Z").execute()
    assert err.value.resp.status == 400
    bad = service.events().list(calendarId="primary")
    bad.uri += "&colour=blue"
    with pytest.raises(HttpError) as err:
        bad.execute()
    assert err.value.resp.status == 400


# -- scanning -----------------------------------------------------------------------


def test_idle_poll_is_one_request_per_calendar(ch):
    ch.fake.add_calendar("work@group.calendar.google.com", "Work")
    ch.fake.put_event("primary", event("a1", 11))
    ch.fake.put_event("work@group.calendar.google.com", event("b1", 12))
    cal = ch.make({"calendars": ["primary", "Work"]})
    first = cal.scan(*WINDOW, BERLIN)
    assert {e.uid for e in first.events} == {"a1@acme.example", "b1@acme.example"}
    before = ch.fake.count()
    second = cal.scan(*WINDOW, BERLIN, sync_token=first.sync_token)
    assert not second.full and second.events == [] and second.removed_uids == set()
    assert ch.fake.methods_called()[before:] == ["calendar.events.list"] * 2
    assert all("syncToken" in q and "timeMin" not in q for _, _, q in ch.fake.log[before:])


def test_polls_reuse_the_api_collection(ch, monkeypatch):
    # googleapiclient builds a collection's methods anew on every
    # service.events(); made for every poll, an idle daemon grew by megabytes
    ch.fake.put_event("primary", event("a1", 11))
    cal = ch.make()
    token = cal.scan(*WINDOW, BERLIN).sync_token
    made = []
    real = cal.service.events
    monkeypatch.setattr(cal.service, "events", lambda: made.append(1) or real())
    for _ in range(3):
        token = cal.scan(*WINDOW, BERLIN, sync_token=token).sync_token
    assert made == []


def test_incremental_scan_sends_all_occurrences_and_removals(ch):
    for day in (4, 11, 18):
        ch.fake.put_event("primary", event(f"w1_{day}", day, iCalUID="weekly@x",
                                           recurringEventId="w1",
                                           originalStartTime={"dateTime": f"2030-03-{day:02d}T13:00:00Z"}))
    ch.fake.put_event("primary", event("gone1", 20))
    cal = ch.make()
    first = cal.scan(*WINDOW, BERLIN)
    ch.fake.remove_event("primary", "w1_11")  # one occurrence cancelled
    ch.fake.remove_event("primary", "gone1")
    second = cal.scan(*WINDOW, BERLIN, sync_token=first.sync_token)
    assert sorted(e.recurrence_id.day for e in second.events) == [4, 18]
    assert all(e.recurrence_id.utcoffset() == timedelta(0) for e in second.events)
    assert second.removed_uids == {"gone1@acme.example"}
    assert second.total == 1


def test_expired_sync_token_raises_then_full_scan_works(ch):
    ch.fake.put_event("primary", event("a1", 11))
    cal = ch.make()
    first = cal.scan(*WINDOW, BERLIN)
    ch.fake.expire_sync_tokens()
    with pytest.raises(SyncTokenExpired):
        cal.scan(*WINDOW, BERLIN, sync_token=first.sync_token)
    again = cal.scan(*WINDOW, BERLIN)
    assert again.full and [e.uid for e in again.events] == ["a1@acme.example"]


def test_mapping_of_google_specifics():
    me = frozenset({"alex@example.org"})
    item = event("a1", 11, eventType="default", endTimeUnspecified=True, attendees=[
        {"email": "alex.alias@example.org", "self": True, "responseStatus": "declined"},
        {"email": "Room-1@acme.example", "resource": True, "responseStatus": "accepted"}],
        organizer={"email": "Jane@ACME.example", "displayName": "Jane"})
    mapped = to_event(item, BERLIN, me)
    assert mapped.end == mapped.start and mapped.warnings
    people = {a.email: a for a in mapped.attendees}
    assert people["alex@example.org"].partstat == "DECLINED"
    assert people["room-1@acme.example"].cutype == "RESOURCE"
    assert mapped.organizer.email == "jane@acme.example" and mapped.source == "a1"
    all_day = to_event({"id": "d1", "iCalUID": "d", "start": {"date": "2030-03-14"},
                        "end": {"date": "2030-03-15"}}, BERLIN, me)
    assert all_day.all_day and all_day.start == datetime(2030, 3, 14, tzinfo=BERLIN)


def test_only_default_events_are_scanned(ch):
    ch.fake.put_event("primary", event("a1", 11))
    ch.fake.put_event("primary", event("ooo1", 12, eventType="outOfOffice"))
    assert [e.uid for e in ch.make().scan(*WINDOW, BERLIN).events] == ["a1@acme.example"]


# -- retries and faults on reads ----------------------------------------------------


@pytest.mark.parametrize("status, reason", [(429, "rateLimitExceeded"), (500, "backendError"),
                                            (503, "backendError"),
                                            (403, "userRateLimitExceeded")])
def test_reads_are_retried(ch, status, reason):
    sleeps = Sleeps()
    ch.fake.fail("calendar.events.list", status, reason, times=2)
    cal = ch.make(retry=RetryPolicy(sleep=sleeps, random=lambda: 0.5))
    assert cal.scan(*WINDOW, BERLIN).full
    assert sleeps == [1.0, 2.0]  # full jitter: random * base * 2**attempt


def test_retry_after_is_honoured(ch):
    sleeps = Sleeps()
    ch.fake.fail("calendar.events.list", 429, "rateLimitExceeded", retry_after="7")
    ch.make(retry=RetryPolicy(sleep=sleeps)).scan(*WINDOW, BERLIN)
    assert sleeps == [7.0]


def test_exhausted_retries_become_transient_error(ch):
    ch.fake.fail("calendar.events.list", 503, "backendError", times=99)
    cal = ch.make(retry=RetryPolicy(attempts=3, sleep=Sleeps()))
    with pytest.raises(TransientError) as err:
        cal.scan(*WINDOW, BERLIN)
    assert err.value.retry_after is not None
    assert ch.fake.count("calendar.events.list") == 3


def test_quota_exceeded_waits_long_without_retrying(ch):
    ch.fake.fail("calendar.events.list", 403, "quotaExceeded", times=9)
    with pytest.raises(TransientError) as err:
        ch.make().scan(*WINDOW, BERLIN)
    assert err.value.retry_after >= 3600
    assert ch.fake.count("calendar.events.list") == 1


def test_revoked_login_asks_to_reconnect(ch):
    cal = ch.make()
    ch.fake.revoke("refresh-1")
    with pytest.raises(AuthError) as err:
        cal.scan(*WINDOW, BERLIN)
    assert "reconnect needed: run followup auth contract" in str(err.value)
    assert "refresh-1" not in str(err.value) and "at-" not in str(err.value)


def test_a_refresh_refused_for_its_scopes_asks_to_reconnect(ch):
    """Regression: invalid_scope read as "Google is not answering"."""
    cal = ch.make()
    ch.fake.grant("refresh-1", ["https://www.googleapis.com/auth/gmail.metadata"])  # scopes taken away
    ch.fake.access.clear()
    with pytest.raises(AuthError) as err:
        cal.scan(*WINDOW, BERLIN)
    assert "reconnect needed: run followup auth contract" in str(err.value)
    assert ch.fake.count("calendar.events.list") == 0


# -- writes under faults ------------------------------------------------------------


def test_dropped_insert_after_write_is_not_sent_twice(ch):
    cal = ch.make()
    cal.check()
    ch.fake.fail("calendar.events.insert", drop="after")
    item = cal.create_event(followup())
    assert item.key == KEY and item.ref == "fu" + KEY
    assert ch.own_count() == 1
    assert ch.fake.count("calendar.events.insert") == 1
    calls = ch.fake.methods_called()
    assert calls.index("calendar.events.get") > calls.index("calendar.events.insert")


def test_unanswered_insert_that_did_not_happen_is_sent_once_more(ch):
    cal = ch.make()
    ch.fake.fail("calendar.events.insert", 500, "backendError")
    item = cal.create_event(followup())
    assert cal.find_own(KEY) == item
    assert ch.fake.count("calendar.events.insert") == 2
    assert ch.own_count() == 1


def test_insert_is_retried_after_rate_limit(ch):
    sleeps = Sleeps()
    cal = ch.make(retry=RetryPolicy(sleep=sleeps))
    ch.fake.fail("calendar.events.insert", 429, "rateLimitExceeded", retry_after="2")
    cal.create_event(followup())
    assert sleeps == [2.0] and ch.own_count() == 1


def test_dropped_update_after_write_is_a_success(ch):
    cal = ch.make()
    item = cal.create_event(followup())
    ch.fake.fail("calendar.events.update", drop="after")
    updated = cal.update_event(item, followup(title="Moved"))
    assert updated.title == "Moved" and updated.etag != item.etag


def test_recreating_a_deleted_follow_up_revives_its_id(ch):
    cal = ch.make()
    item = cal.create_event(followup())
    cal.delete_event(item)
    again = cal.create_event(followup(title="Again"))
    assert again.ref == item.ref and again.title == "Again"
    assert ch.own_count() == 1


def test_a_follow_up_deleted_in_the_web_ui_is_not_asked_for_every_pass(ch):
    """Regression: Google answers 403 to bringing back an event deleted in
    its web UI; the same error came back at every pass."""
    cal = ch.make()
    item = cal.create_event(followup())
    (cal_id, _), = ch.fake.own_events()
    ch.fake.remove_event(cal_id, item.ref, in_web_ui=True)
    with pytest.raises(Conflict, match="deleted in Google Calendar and cannot be brought back"):
        cal.create_event(followup(title="Again"))
    assert ch.fake.count("calendar.events.insert") == 2  # 409, then one update: 403


def test_follow_ups_go_to_their_own_calendar_with_private_key(ch):
    cal = ch.make()
    cal.create_event(followup())
    (cal_id, stored), = ch.fake.own_events()
    assert ch.fake.calendars[cal_id].summary == "Interview follow-ups"
    assert ch.fake.calendars[cal_id].app_created
    assert "attendees" not in stored
    assert stored["extendedProperties"]["private"]["followupKey"] == KEY
    assert cal.check().endswith("'Interview follow-ups'")
    ch.make().create_event(followup(key="1" * 40))  # a restart finds the same calendar
    assert ch.fake.count("calendar.calendars.insert") == 1


def test_foreign_events_are_never_touched(ch):
    ch.fake.put_event("primary", event("a1", 11))
    cal = ch.make({"write_to": "source"}, credentials=credentials(
        ch.fake, (*google_auth.CALENDAR_READ_SCOPES, google_auth.CALENDAR_EVENTS_SCOPE)))
    foreign = StoredItem(key=KEY, ref="a1", etag=ch.fake.calendar("primary").events["a1"]["etag"])
    with pytest.raises(ConnectorError):
        cal.update_event(foreign, followup())
    with pytest.raises(ConnectorError):
        cal.delete_event(foreign)
    item = cal.create_event(followup())  # into the source calendar
    assert [e.uid for e in cal.scan(*WINDOW, BERLIN).events] == ["a1@acme.example"]
    cal.delete_event(item)
    assert ch.fake.violations == []
    assert not [m for m in ch.fake.methods_called() if m in ("calendar.events.update",)]


# -- Gmail --------------------------------------------------------------------------


def test_draft_create_dropped_after_write_is_not_sent_twice(mh):
    box = mh.make()
    mh.fake.fail("gmail.users.drafts.create", drop="after")
    draft = samples.draft()
    item = box.create_draft(draft)
    assert mh.draft_count() == 1
    assert mh.fake.count("gmail.users.drafts.create") == 1
    calls = mh.fake.methods_called()
    assert "gmail.users.drafts.list" in calls[calls.index("gmail.users.drafts.create"):]
    assert box.find_draft(draft.key, draft.message_id) == item


def test_draft_found_when_gmail_replaces_the_message_id(tmp_path):
    harness = GmailHarness(tmp_path, keep_message_id=False)
    try:
        draft = samples.draft()
        first = harness.make().create_draft(draft)
        for path in (tmp_path / "state").glob("google-*-gmail.json"):
            path.unlink()  # the record is lost: only the key header is left
        again = harness.make().create_draft(draft)
        assert again == first
        assert harness.draft_count() == 1
    finally:
        harness.close()


def S(addresses=(), domains=()) -> ReplySearch:
    """The search for replies from these senders."""
    return ReplySearch(senders=(*addresses, *domains))


def test_no_search_parameter_is_ever_used(mh):
    box = mh.make()
    draft = samples.draft()
    box.create_draft(draft)
    box.find_draft(draft.key, draft.message_id)
    box.find_replies(S(["jane.doe@acme.example"], ["acme.example"]),
                     datetime.now(UTC) - timedelta(days=3))
    assert not [q for _, _, q in mh.fake.log if "q" in q]


def test_reply_idle_poll_is_one_request_and_new_mail_costs_one_more(mh):
    box = mh.make()
    since = datetime.now(UTC) - timedelta(days=2)
    assert box.find_replies(S(["jane.doe@acme.example"], []), since) == []
    before = mh.fake.count()
    assert box.find_replies(S(["jane.doe@acme.example"], []), since) == []
    assert mh.fake.methods_called()[before:] == ["gmail.users.history.list"]
    at = datetime.now(UTC).replace(microsecond=0) - timedelta(hours=1)
    mh.deliver(samples.incoming("Jane <jane.doe@acme.example>", at, subject="News"), at)
    before = mh.fake.count()
    (reply,) = box.find_replies(S(["jane.doe@acme.example"], []), since)
    assert (reply.get("from"), reply.get("subject"), reply.date) == ("Jane <jane.doe@acme.example>", "News", at)
    assert mh.fake.methods_called()[before:] == ["gmail.users.history.list",
                                                  "gmail.users.messages.get"]
    get = [q for m, _, q in mh.fake.log if m == "gmail.users.messages.get"][-1]
    assert get["format"] == ["metadata"] and "From" in get["metadataHeaders"]


def test_expired_history_id_means_a_bounded_rescan(mh):
    box = mh.make()
    since = datetime.now(UTC) - timedelta(days=2)
    box.find_replies(S(["jane.doe@acme.example"], []), since)
    at = datetime.now(UTC).replace(microsecond=0) - timedelta(hours=1)
    mh.deliver(samples.incoming("jane.doe@acme.example", at), at)
    mh.fake.expire_history()
    assert len(box.find_replies(S(["jane.doe@acme.example"], []), since)) == 1
    assert "gmail.users.messages.list" in mh.fake.methods_called()[-4:]


def test_edited_draft_is_not_deleted(mh):
    box = mh.make()
    draft = samples.draft()
    item = box.create_draft(draft)
    mh.user_edit_draft(draft.message_id)
    from daemon.errors import Conflict

    with pytest.raises(Conflict):
        box.delete_draft(item)
    assert mh.fake.count("gmail.users.drafts.delete") == 0


# -- the stored login ----------------------------------------------------------------


class _BrokenKeyring:
    class errors:
        class KeyringError(Exception):
            pass

    @classmethod
    def get_password(cls, *args):
        raise cls.errors.KeyringError("no backend")

    set_password = get_password


def test_without_keyring_the_message_names_token_file(tmp_path, monkeypatch):
    monkeypatch.setattr(google_auth, "_keyring", lambda: (_BrokenKeyring, _BrokenKeyring.errors))
    cal = GoogleCalendar("work", {}, Context(base_dir=tmp_path, state_dir=tmp_path))
    with pytest.raises(AuthError) as err:
        cal.scan(*WINDOW, BERLIN)
    assert "token_file" in str(err.value)


def test_token_file_is_private_and_checked(tmp_path, ch):
    from google.oauth2.credentials import Credentials

    path = tmp_path / "secret" / "google.json"
    login = google_auth.GoogleLogin("work", {"token_file": str(path)}, Context(tmp_path, tmp_path),
                                    google_auth.GMAIL_SCOPES)
    ch.fake.grant("refresh-9", google_auth.GMAIL_SCOPES)
    login.store(Credentials(token="not-stored-either", refresh_token="refresh-9",
                            token_uri=ch.fake.token_uri, client_id="c", client_secret="s"))
    assert os.stat(path).st_mode & 0o777 == 0o600
    assert os.stat(path.parent).st_mode & 0o777 == 0o700
    assert json.loads(path.read_text())["refresh_token"] == "refresh-9"
    assert login.credentials().refresh_token == "refresh-9"
    os.chmod(path, 0o644)
    with pytest.raises(AuthError) as err:
        login.credentials()
    assert "chmod 600" in str(err.value) and "refresh-9" not in str(err.value)


def test_check_names_a_permission_the_user_did_not_grant(tmp_path):
    from connectors.google.auth import CALENDAR_READ_SCOPES, GMAIL_SCOPES
    from tests.contract.google_harness import GmailHarness, GoogleCalendarHarness, credentials

    (tmp_path / "c").mkdir()
    (tmp_path / "m").mkdir()
    cal_h = GoogleCalendarHarness(tmp_path / "c")
    try:
        cal = cal_h.make(credentials=credentials(cal_h.fake, CALENDAR_READ_SCOPES, "partial"))
        with pytest.raises(AuthError, match="calendar.app.created"):
            cal.check()
        assert "reads primary" in cal_h.make().check()
    finally:
        cal_h.close()
    mail_h = GmailHarness(tmp_path / "m")
    try:
        box = mail_h.make(credentials=credentials(mail_h.fake, GMAIL_SCOPES[:1], "partial"))
        with pytest.raises(AuthError, match="does not allow"):
            box.check()
    finally:
        mail_h.close()


def test_followup_auth_runs_the_loopback_login_and_keeps_the_token_in_the_keyring(
        ch, tmp_path, monkeypatch, memory_keyring):
    """The installed-app flow end to end: the printed URL, Google's redirect
    to the local port (played by a thread), the code exchanged at the token
    endpoint, the login checked and stored."""
    import threading
    import urllib.request

    from google_auth_oauthlib.flow import Flow

    monkeypatch.setenv("OAUTHLIB_INSECURE_TRANSPORT", "1")  # the fake's token endpoint is plain http
    secrets_file = tmp_path / "client_secret.json"
    secrets_file.write_text(json.dumps({"installed": {
        "client_id": "client-1.apps.googleusercontent.com", "client_secret": "s",
        "auth_uri": "https://accounts.google.com/o/oauth2/auth", "token_uri": ch.fake.token_uri,
        "redirect_uris": ["http://localhost"]}}))
    port = google_auth._free_port()
    monkeypatch.setattr(google_auth, "_free_port", lambda: port)
    states = []
    real_url = Flow.authorization_url
    monkeypatch.setattr(Flow, "authorization_url",
                        lambda self, **kw: (lambda r: states.append(r[1]) or r)(real_url(self, **kw)))
    cal = GoogleCalendar("work", {"client_secrets": str(secrets_file)},
                         Context(base_dir=tmp_path, state_dir=tmp_path),
                         endpoint=ch.fake.calendar_endpoint, retry=RetryPolicy(sleep=lambda s: None))
    ch.fake.codes["code-1"] = list(cal.scopes())

    def browser():
        for _ in range(200):
            if states:
                try:
                    urllib.request.urlopen(f"http://localhost:{port}/?state={states[0]}&code=code-1",
                                           timeout=5).read()
                    return
                except OSError:
                    pass
            time.sleep(0.05)

    helper = threading.Thread(target=browser, daemon=True)
    helper.start()
    result = cal.authorize()
    helper.join(5)
    assert "connected to Google" in result and "keyring" in result
    stored = json.loads(memory_keyring.items[(google_auth.SERVICE, "work")])
    assert stored["refresh_token"] == "refresh-from-code-1"
    assert "refresh-from-code-1" not in result
