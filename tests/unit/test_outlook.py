"""The Outlook connectors beyond the shared contract: request counts,
faults, throttling, field mapping, what is never done, and sign-in with
MSAL (offline, through its ``http_client`` hook)."""

from __future__ import annotations

import base64
import json
import os
import re
import threading
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import requests

from connectors.outlook import OutlookCalendar, OutlookMailbox, auth
from connectors.outlook.events import to_event
from connectors.outlook.graph import GraphClient
from daemon.connector import Context
from daemon.errors import AuthError, ConfigError, Conflict, ConnectorError, SyncTokenExpired, TransientError
from daemon.model import FollowupEvent, ReplySearch, StoredItem
from tests.contract import samples
from tests.fakes.graph import KEY_PROPERTY, FakeGraph

UTC = timezone.utc
BERLIN = ZoneInfo("Europe/Berlin")
WINDOW = (datetime(2030, 3, 1, tzinfo=UTC), datetime(2030, 4, 1, tzinfo=UTC))
USER = "alex@example.org"
PACKAGE = Path(__file__).resolve().parents[2] / "connectors" / "outlook"


@pytest.fixture(scope="module")
def fake():
    server = FakeGraph().start()
    yield server
    server.stop()


@pytest.fixture
def box(fake):
    mailbox = fake.new_mailbox(USER)
    fake.faults.clear()
    fake.delay = 0.0
    return mailbox


@pytest.fixture
def sleeps():
    return []


def context(tmp_path: Path) -> Context:
    return Context(base_dir=tmp_path, state_dir=tmp_path, user_addresses=frozenset({USER}))


@pytest.fixture
def make_calendar(fake, box, tmp_path, sleeps):
    def make(**config):
        return OutlookCalendar("work", {"client_id": "cid", "graph_url": fake.url, **config},
                               context(tmp_path), token=lambda: box.token, sleep=sleeps.append)
    return make


@pytest.fixture
def make_mailbox(fake, box, tmp_path, sleeps):
    def make(**config):
        return OutlookMailbox("work mail", {"client_id": "cid", "graph_url": fake.url, **config},
                              context(tmp_path), token=lambda: box.token, sleep=sleeps.append)
    return make


def event_ics(uid: str, day: int, summary: str = "Interview with ACME") -> bytes:
    return samples.vcalendar(samples.vevent(
        uid, f":203003{day:02d}T130000Z", f":203003{day:02d}T140000Z", summary,
        "ORGANIZER;CN=Jane Doe:mailto:jane.doe@acme.example",
        f"ATTENDEE;PARTSTAT=ACCEPTED:mailto:{USER}"))


def followup(key: str = "a" * 40, **changes) -> FollowupEvent:
    base = dict(key=key, title="Call ACME", description="Ask about news.",
                start=datetime(2030, 3, 18, 10, tzinfo=BERLIN),
                end=datetime(2030, 3, 18, 10, 15, tzinfo=BERLIN))
    return FollowupEvent(**{**base, **changes})


def json_event(event_id: str, day: int, **fields) -> dict:
    return {"id": event_id, "iCalUId": f"uid-{event_id}", "subject": "Interview",
            "start": {"dateTime": f"2030-03-{day:02d}T13:00:00.0000000", "timeZone": "UTC"},
            "end": {"dateTime": f"2030-03-{day:02d}T14:00:00.0000000", "timeZone": "UTC"},
            "isOrganizer": False, **fields}


# -- scanning: request counts and delta semantics ------------------------------------


def test_idle_poll_is_one_request_per_calendar(fake, box, make_calendar):
    box.add_source_event(event_ics("one@acme.example", 11))
    cal = make_calendar()
    first = cal.scan(*WINDOW, BERLIN)
    fake.clear_log()
    second = cal.scan(*WINDOW, BERLIN, sync_token=first.sync_token)
    assert not second.full and second.events == [] and not second.removed_uids
    # after a restart too: the token alone is enough
    third = make_calendar().scan(*WINDOW, BERLIN, sync_token=second.sync_token)
    assert not third.full and third.events == []
    logged = fake.requests(box)
    assert [(r.method, r.path) for r in logged] == [("GET", "me/calendarView/delta")] * 2
    assert all("$deltatoken" in r.query for r in logged)


def test_delta_round_follows_next_links_and_sends_prefer_headers(fake, box, make_calendar):
    for day in range(2, 9):
        box.add_source_event(event_ics(f"e{day}@acme.example", day))
    cal = make_calendar()
    cal.page_size = 3
    result = cal.scan(*WINDOW, BERLIN)
    assert result.full and result.total == 7 and len(result.events) == 7
    logged = fake.requests(box)
    assert len(logged) == 3  # 3 + 3 + 1 events
    assert logged[0].query == {"startDateTime": "2030-03-01T00:00:00Z",
                               "endDateTime": "2030-04-01T00:00:00Z"}
    assert "$skiptoken" in logged[1].query


def test_expired_delta_state_raises_sync_token_expired(fake, box, make_calendar):
    box.add_source_event(event_ics("one@acme.example", 11))
    cal = make_calendar()
    token = cal.scan(*WINDOW, BERLIN).sync_token
    fake.expire_delta(box)
    with pytest.raises(SyncTokenExpired):
        cal.scan(*WINDOW, BERLIN, sync_token=token)
    assert cal.scan(*WINDOW, BERLIN).full


def test_another_window_starts_a_new_round(fake, box, make_calendar):
    box.add_source_event(event_ics("one@acme.example", 11))
    cal = make_calendar()
    token = cal.scan(*WINDOW, BERLIN).sync_token
    later = (WINDOW[0] + timedelta(days=1), WINDOW[1] + timedelta(days=1))
    result = cal.scan(*later, BERLIN, sync_token=token)
    assert result.full and [e.uid for e in result.events] == ["one@acme.example"]
    assert "$deltatoken" not in fake.requests(box)[-1].query


def test_changed_occurrence_brings_its_whole_series(fake, box, make_calendar):
    """v1.0 gives each occurrence its own iCalUId: the series is told by
    its seriesMasterId (regression: occurrences were taken as separate events)."""
    series = {"seriesMasterId": "master-1", "type": "occurrence"}
    box.add_json_event(json_event("occ-1", 4, originalStart="2030-03-04T13:00:00Z",
                                  iCalUId="040000008200E00074C5B7101A82E008000000001", **series))
    box.add_json_event(json_event("occ-2", 11, originalStart="2030-03-11T13:00:00Z",
                                  iCalUId="040000008200E00074C5B7101A82E008000000002", **series))
    cal = make_calendar()
    first = cal.scan(*WINDOW, BERLIN)
    assert {e.uid for e in first.events} == {"series-master-1"}
    box.change_json_event("occ-2", subject="Interview (moved room)", type="exception")
    fake.clear_log()
    second = cal.scan(*WINDOW, BERLIN, sync_token=first.sync_token)
    assert not second.full
    assert sorted(e.source for e in second.events) == ["occ-1", "occ-2"]
    assert [(r.method, r.path) for r in fake.requests(box)] == [
        ("GET", "me/calendarView/delta"), ("GET", "me/events/occ-1")]
    box.remove_event("occ-1")
    box.remove_event("occ-2")
    third = cal.scan(*WINDOW, BERLIN, sync_token=second.sync_token)
    assert third.removed_uids == {"series-master-1"} and third.total == 0


def test_scan_of_a_named_calendar(fake, box, make_calendar):
    other = next(iter(box.calendars))  # the main calendar is called "Calendar"
    box.add_source_event(event_ics("one@acme.example", 11), calendar=other)
    result = make_calendar(calendar="Calendar").scan(*WINDOW, BERLIN)
    assert [e.uid for e in result.events] == ["one@acme.example"]
    with pytest.raises(ConnectorError, match="no calendar named"):
        make_calendar(calendar="Nope").scan(*WINDOW, BERLIN)


def test_a_named_calendar_graph_will_not_track_is_one_clear_message(box, make_calendar):
    from tests.fakes.graph import FakeCalendar

    box.calendars["cal-interviews"] = FakeCalendar(id="cal-interviews", name="Interviews")
    box.refuse_named_delta = True
    with pytest.raises(ConnectorError, match="documented for the main calendar only") as err:
        make_calendar(calendar="Interviews").scan(*WINDOW, BERLIN)
    assert "Leave out 'calendar'" in str(err.value) and "Interviews" in str(err.value)


# -- field mapping --------------------------------------------------------------------


def test_declined_invitation_marks_the_user_declined(box, make_calendar):
    box.add_json_event(json_event(
        "e1", 11, responseStatus={"response": "declined", "time": "2030-03-01T10:00:00Z"},
        organizer={"emailAddress": {"name": "Jane", "address": "Jane@ACME.example"}},
        attendees=[{"type": "resource", "status": {"response": "accepted"},
                    "emailAddress": {"name": "Room 1", "address": "room1@acme.example"}},
                   {"type": "optional", "status": {"response": "tentativelyAccepted"},
                    "emailAddress": {"name": "Bob", "address": "bob@acme.example"}}]))
    (event,) = make_calendar().scan(*WINDOW, BERLIN).events
    people = {a.email: a for a in event.attendees}
    assert people[USER].partstat == "DECLINED"
    assert people["room1@acme.example"].cutype == "ROOM"
    assert people["bob@acme.example"].partstat == "TENTATIVE"
    assert people["bob@acme.example"].role == "OPT-PARTICIPANT"
    assert event.organizer.email == "jane@acme.example"


def test_windows_time_zone_names_and_other_fields():
    data = {"id": "x", "iCalUId": "u", "type": "exception", "subject": "Onsite",
            "originalStart": "2030-03-11T12:00:00Z", "isCancelled": True,
            "body": {"contentType": "html", "content": "<p>Bring <b>ID</b></p>"},
            "start": {"dateTime": "2030-03-11T14:00:00.0000000",
                      "timeZone": "W. Europe Standard Time"},
            "end": {"dateTime": "2030-03-11T15:00:00.0000000", "timeZone": "Europe/Berlin"}}
    event = to_event(data, BERLIN, frozenset({USER}))
    assert event.start == datetime(2030, 3, 11, 14, tzinfo=BERLIN)
    assert event.end == datetime(2030, 3, 11, 15, tzinfo=BERLIN)
    assert event.recurrence_id == datetime(2030, 3, 11, 12, tzinfo=UTC)
    assert event.status == "CANCELLED"
    assert "Bring" in event.description and "<" not in event.description
    odd = to_event({**data, "start": {"dateTime": "2030-03-11T14:00:00", "timeZone": "Mars"}},
                   BERLIN, frozenset())
    assert odd.warnings and odd.start == datetime(2030, 3, 11, 14, tzinfo=UTC)


def test_write_to_source_keeps_own_events_out_of_the_scan(box, make_calendar):
    box.add_source_event(event_ics("one@acme.example", 11))
    cal = make_calendar(write_to="source")
    item = cal.create_event(followup())
    assert len(box.main.events) == 2
    assert [e.uid for e in cal.scan(*WINDOW, BERLIN).events] == ["one@acme.example"]
    assert [i.ref for i in cal.list_own()] == [item.ref]


def test_followup_calendar_is_created_once_and_has_no_attendees(fake, box, make_calendar):
    cal = make_calendar()
    assert cal.list_own() == []
    assert len(box.calendars) == 1  # reading creates nothing
    cal.create_event(followup("a" * 40))
    make_calendar().create_event(followup("b" * 40))
    names = sorted(c.name for c in box.calendars.values())
    assert names == ["Calendar", "Interview follow-ups"]
    for _, event in box.own_events():
        assert event.data["attendees"] == []
        assert event.data["transactionId"].startswith("followup-")
        assert event.data["singleValueExtendedProperties"][0]["id"] == KEY_PROPERTY


def test_keys_differing_in_case_are_kept_apart(box, make_calendar):
    # Graph compares extended property values case-insensitively.
    cal = make_calendar()
    cal.create_event(followup("Key-A"))
    assert cal.find_own("key-a") is None
    cal.create_event(followup("key-a"))
    assert sorted(i.key for i in cal.list_own()) == ["Key-A", "key-a"]


# -- faults ---------------------------------------------------------------------------


def test_429_waits_for_retry_after(fake, box, make_calendar, sleeps):
    fake.fail(429, times=2, retry_after="7", code="ApplicationThrottled")
    assert make_calendar().scan(*WINDOW, BERLIN).full
    assert sleeps == [7.0, 7.0]


def test_503_without_retry_after_backs_off_with_full_jitter(fake, box):
    waits: list[float] = []
    client = GraphClient(fake.url, lambda: box.token, "m", sleep=waits.append,
                         rand=lambda: 0.5)
    fake.fail(503, times=3)
    assert client.get("me/calendars")["value"]
    assert waits == [0.5, 1.0, 2.0]


def test_server_errors_end_as_transient_error_after_bounded_retries(fake, box, make_calendar,
                                                                    sleeps):
    fake.fail(500, times=100, code="InternalServerError")
    with pytest.raises(TransientError):
        make_calendar().scan(*WINDOW, BERLIN)
    assert len(fake.requests(box)) == 6 and len(sleeps) == 5
    fake.faults.clear()


def test_very_long_retry_after_is_handed_to_the_core(fake, box, make_calendar, sleeps):
    fake.fail(429, times=1, retry_after="3600")
    with pytest.raises(TransientError) as info:
        make_calendar().scan(*WINDOW, BERLIN)
    assert info.value.retry_after == 3600 and sleeps == []


def test_expired_token_is_an_auth_error(fake, box, make_calendar):
    fake.expire_token(box.token)
    with pytest.raises(AuthError, match="run followup auth work"):
        make_calendar().scan(*WINDOW, BERLIN)


def test_unreachable_graph_is_transient(box, tmp_path, sleeps):
    cal = OutlookCalendar("work", {"client_id": "cid", "graph_url": "http://127.0.0.1:9/v1.0"},
                          context(tmp_path), token=lambda: box.token, sleep=sleeps.append)
    with pytest.raises(TransientError):
        cal.scan(*WINDOW, BERLIN)


def test_create_event_dropped_after_apply_is_looked_up_not_resent(fake, box, make_calendar):
    cal = make_calendar()
    cal.list_own()
    fake.drop_after_apply("POST", "/events")
    fake.clear_log()
    item = cal.create_event(followup())
    assert len(box.own_events()) == 1
    calls = [(r.method, r.path.split("/")[-1]) for r in fake.requests(box)]
    assert calls.count(("POST", "events")) == 1
    assert calls[-1] == ("GET", "events")  # the lookup after the lost answer
    assert cal.find_own(item.key) == item


def test_create_draft_dropped_after_apply_is_looked_up_not_resent(fake, box, make_mailbox):
    mail = make_mailbox()
    fake.drop_after_apply("POST", "messages")
    item = mail.create_draft(samples.draft())
    assert len(box.drafts()) == 1
    assert len(fake.requests(box, "POST")) == 1
    assert mail.find_draft(item.key, "") == item


def test_create_draft_after_a_503_is_sent_again_only_when_missing(fake, box, make_mailbox):
    fake.fail(503, times=1, method="POST", path="messages", retry_after="2")
    make_mailbox().create_draft(samples.draft())
    assert len(box.drafts()) == 1
    assert len(fake.requests(box, "POST")) == 2


def test_at_most_four_requests_in_flight_per_mailbox(fake, box, make_calendar, make_mailbox):
    fake.delay = 0.05
    # a calendar and a mailbox of one Microsoft account share its 4 slots
    connectors = [make_calendar(), make_calendar(), make_mailbox(account="work")]
    errors: list[Exception] = []

    def work(conn):
        try:
            for _ in range(3):
                conn.list_own() if isinstance(conn, OutlookCalendar) else conn.find_draft("k", "")
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(c,)) for c in connectors * 3]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert box.peak_in_flight <= 4
    assert not [r for r in fake.requests(box) if r.status == 429]


def test_the_fake_throttles_a_fifth_concurrent_request(fake, box):
    fake.delay = 0.1
    statuses: list[int] = []

    def call():
        statuses.append(requests.get(f"{fake.url}/me/calendars",
                                     headers={"Authorization": f"Bearer {box.token}"}).status_code)

    threads = [threading.Thread(target=call) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert 429 in statuses and 200 in statuses


# -- mail -----------------------------------------------------------------------------


def test_draft_fields_and_header_rules(fake, box, make_mailbox):
    d = samples.draft()
    make_mailbox().create_draft(d)
    (stored,) = box.drafts()
    assert stored["subject"] == d.subject
    assert stored["body"] == {"contentType": "text", "content": d.text}
    assert stored["toRecipients"] == [{"emailAddress": {"name": "Jane Doe",
                                                         "address": "jane.doe@acme.example"}}]
    assert stored["internetMessageId"] == d.message_id
    assert stored["internetMessageHeaders"] == [{"name": "x-followup-key", "value": d.key}]
    auth_header = {"Authorization": f"Bearer {box.token}"}
    bad_name = {"subject": "s", "internetMessageHeaders": [{"name": "Followup-Key", "value": "1"}]}
    too_many = {"subject": "s", "internetMessageHeaders": [
        {"name": f"x-h{i}", "value": "1"} for i in range(6)]}
    for body in (bad_name, too_many):
        answer = requests.post(f"{fake.url}/me/messages", json=body, headers=auth_header)
        assert answer.status_code == 400


def S(addresses=(), domains=()) -> ReplySearch:
    """The search for replies from these senders."""
    return ReplySearch(senders=(*addresses, *domains))


def test_replies_are_one_listing_without_bodies(fake, box, make_mailbox):
    since = datetime(2030, 3, 1, tzinfo=UTC)
    box.deliver(samples.incoming("jane.doe@acme.example", since), since + timedelta(hours=1))
    box.deliver(samples.incoming("someone@else.example", since), since + timedelta(hours=2))
    fake.clear_log()
    replies = make_mailbox().find_replies(S(["jane.doe@acme.example", "bob@acme.example"], []), since)
    assert [r.get("from") for r in replies] == ["jane.doe@acme.example"]
    (logged,) = fake.requests(box)
    assert "body" not in logged.query["$select"].split(",")
    assert logged.query["$filter"] == "receivedDateTime ge 2030-03-01T00:00:00Z"


def test_the_listing_is_bounded(fake, box, make_mailbox):
    since = datetime(2030, 3, 1, tzinfo=UTC)
    for n in range(8):
        box.deliver(samples.incoming(f"p{n}@acme.example", since), since + timedelta(hours=n))
    fake.clear_log()
    replies = make_mailbox(reply_scan_limit=5).find_replies(S(["x@y.example"], ["acme.example"]),
                                                            since)
    assert len(replies) == 5  # the newest five
    assert min(r.date for r in replies) == since + timedelta(hours=3)
    assert len(fake.requests(box)) == 1


def test_mail_within_the_organization_brings_its_envelope_instead_of_headers(box, make_mailbox):
    # Graph gives no internet headers for mail that never left Exchange; the
    # envelope fields stand in, and the core judges the subject
    since = datetime(2030, 3, 1, tzinfo=UTC)
    sender = {"emailAddress": {"name": "Jane", "address": "jane.doe@acme.example"}}
    box.add_message(subject="Automatic reply: Thank you", **{"from": sender, "sender": sender},
                    replyTo=[{"emailAddress": {"name": "HR", "address": "hr@acme.example"}}],
                    receivedDateTime="2030-03-02T10:00:00Z", internetMessageHeaders=None)
    (reply,) = make_mailbox().find_replies(S(["jane.doe@acme.example"], []), since)
    assert dict(reply.headers) == {"from": "Jane <jane.doe@acme.example>",
                                   "sender": "Jane <jane.doe@acme.example>",
                                   "reply-to": "HR <hr@acme.example>",
                                   "subject": "Automatic reply: Thank you"}


def test_foreign_items_are_never_touched(fake, box, make_mailbox, make_calendar):
    source = box.add_source_event(event_ics("one@acme.example", 11))
    before = box.main.events[source].ics
    other = box.add_message(parentFolderId=box.folders["drafts"], isDraft=True, subject="Mine",
                            internetMessageId="<mine@example.org>")
    changed = dict(box.messages[other])
    with pytest.raises(Conflict):
        make_mailbox().delete_draft(StoredItem(key="k", ref=other, etag=changed["changeKey"]))
    assert box.messages[other] == changed
    cal = make_calendar()
    with pytest.raises(ConnectorError):
        cal.delete_event(StoredItem(key="k", ref=source, etag="x"))
    with pytest.raises(ConnectorError):
        cal.update_event(StoredItem(key="k", ref=source, etag="x"), followup("k"))
    assert box.main.events[source].ics == before
    assert not [r for r in fake.requests(box) if r.method in ("PATCH", "DELETE")
                and r.status < 400]


def test_nothing_is_ever_sent(fake, box, make_mailbox):
    mail = make_mailbox()
    item = mail.create_draft(samples.draft())
    mail.find_replies(S(["jane.doe@acme.example"], ["acme.example"]), datetime(2030, 1, 1, tzinfo=UTC))
    mail.delete_draft(item)
    assert box.sent == []
    assert not [r for r in fake.requests(box) if "send" in r.path.lower()]
    for path in PACKAGE.rglob("*.py"):
        text = path.read_text(encoding="utf-8")
        assert not re.search(r"\bsend(mail)?\b|/send|sendMail", text, re.IGNORECASE), path


# -- sign-in --------------------------------------------------------------------------


@pytest.fixture
def memory(memory_keyring):
    auth._apps.clear()
    yield memory_keyring
    auth._apps.clear()


@pytest.fixture
def no_keyring(failing_keyring):
    auth._apps.clear()
    yield
    auth._apps.clear()


def _b64(data: dict) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).decode().rstrip("=")


class _Answer:
    def __init__(self, status: int, body: dict):
        self.status_code, self.text, self.headers = status, json.dumps(body), {}

    def raise_for_status(self):
        if self.status_code >= 400:
            raise requests.HTTPError(str(self.status_code))


class FakeLogin:
    """Answers MSAL's requests to login.microsoftonline.com offline."""

    BASE = "https://login.microsoftonline.com/common"

    def __init__(self):
        self.calls: list[tuple[str, str, dict]] = []
        self.refresh_works = True
        self.issued = 0
        self.expires_in = 3600

    def get(self, url, params=None, headers=None, **kwargs):
        self.calls.append(("GET", url, {}))
        if url.endswith("/.well-known/openid-configuration"):
            return _Answer(200, {
                "authorization_endpoint": f"{self.BASE}/oauth2/v2.0/authorize",
                "token_endpoint": f"{self.BASE}/oauth2/v2.0/token",
                "device_authorization_endpoint": f"{self.BASE}/oauth2/v2.0/devicecode",
                "issuer": "https://login.microsoftonline.com/{tenantid}/v2.0"})
        if "/discovery/instance" in url:
            return _Answer(200, {
                "tenant_discovery_endpoint": f"{self.BASE}/v2.0/.well-known/openid-configuration",
                "metadata": [{"preferred_network": "login.microsoftonline.com",
                              "preferred_cache": "login.windows.net",
                              "aliases": ["login.microsoftonline.com", "login.windows.net",
                                          "login.microsoft.com", "sts.windows.net"]}]})
        return _Answer(404, {"error": "not_found"})

    def post(self, url, params=None, data=None, headers=None, **kwargs):
        data = dict(data or {})
        self.calls.append(("POST", url, data))
        if url.endswith("/devicecode"):
            return _Answer(200, {
                "device_code": "device-1", "user_code": "ABCD-EFGH", "interval": 0,
                "verification_uri": "https://microsoft.com/devicelogin", "expires_in": 900,
                "message": "To sign in, open https://microsoft.com/devicelogin and enter ABCD-EFGH"})
        if url.endswith("/token"):
            if data.get("grant_type") == "refresh_token" and not self.refresh_works:
                return _Answer(400, {"error": "invalid_grant",
                                     "error_description": "AADSTS700082: expired"})
            self.issued += 1
            now = int(time.time())
            id_token = "e30." + _b64({"aud": "cid", "oid": "uid", "tid": "tid", "sub": "s",
                                      "iss": "https://login.microsoftonline.com/tid/v2.0",
                                      "preferred_username": USER, "iat": now,
                                      "exp": now + 3600}) + ".sig"
            return _Answer(200, {
                "access_token": f"access-{self.issued}", "refresh_token": f"refresh-{self.issued}",
                "id_token": id_token, "client_info": _b64({"uid": "uid", "utid": "tid"}),
                "expires_in": self.expires_in, "token_type": "Bearer",
                "scope": self.scope})
        return _Answer(404, {"error": "not_found"})

    def close(self):
        pass

    scope = "Calendars.ReadWrite Mail.ReadWrite openid profile offline_access"


def test_device_login_then_silent_tokens_from_the_keyring(memory):
    login = FakeLogin()
    shown: list[str] = []
    tokens = auth.MsalTokens("work", "cid", store=auth.KeyringStore("work"), http_client=login)
    assert tokens.device_login(shown.append) == USER
    assert "ABCD-EFGH" in shown[0]
    stored = memory.items[(auth.SERVICE, "work")]
    assert "access-1" not in stored and "refresh-1" not in stored  # packed, not plain text
    assert tokens() == "access-1"
    writes = memory.writes
    assert tokens() == "access-1" and memory.writes == writes  # unchanged: not written again
    discovery = [c for c in login.calls if c[1].endswith("openid-configuration")]
    assert len(discovery) == 1
    # A new process: the cache comes from the keyring, no sign-in needed.
    auth._apps.clear()
    again = auth.MsalTokens("work", "cid", http_client=login)
    assert again() == "access-1"
    assert auth.SCOPES == ["Calendars.ReadWrite", "Mail.ReadWrite"]
    scope = next(c[2]["scope"] for c in login.calls if c[1].endswith("/devicecode"))
    assert "Calendars.ReadWrite" in scope and "Mail.ReadWrite" in scope


def test_expired_access_token_is_refreshed_and_stored(memory):
    login = FakeLogin()
    login.expires_in = 1  # MSAL refreshes tokens this close to expiry
    tokens = auth.MsalTokens("work", "cid", http_client=login)
    tokens.device_login(lambda text: None)
    writes = memory.writes
    assert tokens() == "access-2"
    assert memory.writes == writes + 1
    grants = [c[2].get("grant_type") for c in login.calls if c[1].endswith("/token")]
    assert grants[-1] == "refresh_token"


def test_revoked_refresh_token_asks_to_reconnect(memory):
    login = FakeLogin()
    login.expires_in = 1
    tokens = auth.MsalTokens("work", "cid", http_client=login)
    tokens.device_login(lambda text: None)
    login.refresh_works = False
    with pytest.raises(AuthError, match="reconnect needed: run followup auth work"):
        tokens()


def test_not_signed_in_asks_to_run_auth(memory):
    with pytest.raises(AuthError, match="run followup auth work"):
        auth.MsalTokens("work", "cid", http_client=FakeLogin())()


def test_connector_uses_msal_tokens(memory, fake, box, tmp_path):
    login = FakeLogin()
    tokens = auth.MsalTokens("work", "cid", http_client=login)
    tokens.device_login(lambda text: None)
    fake.mailboxes["access-1"] = box  # the fake accepts the MSAL token for this mailbox
    cal = OutlookCalendar("work", {"client_id": "cid", "graph_url": fake.url},
                          context(tmp_path), token=tokens)
    assert cal.scan(*WINDOW, BERLIN).full


def test_without_keyring_token_file_is_required(no_keyring, tmp_path):
    with pytest.raises(AuthError, match="token_file"):
        auth.tokens_for("work", {"client_id": "cid"}, tmp_path, http_client=FakeLogin())()


def test_token_file_must_be_private(no_keyring, tmp_path):
    folder = tmp_path / "secret"
    folder.mkdir(mode=0o755)
    folder.chmod(0o755)
    config = {"client_id": "cid", "token_file": "secret/outlook.json"}
    with pytest.raises(AuthError, match="chmod 700"):
        auth.tokens_for("work", config, tmp_path, http_client=FakeLogin())()
    folder.chmod(0o700)
    login = FakeLogin()
    tokens = auth.tokens_for("work", config, tmp_path, http_client=login)
    tokens.device_login(lambda text: None)
    path = folder / "outlook.json"
    assert path.stat().st_mode & 0o777 == 0o600
    assert tokens() == "access-1"
    path.chmod(0o644)
    auth._apps.clear()
    with pytest.raises(AuthError, match="chmod 600"):
        auth.tokens_for("work", config, tmp_path, http_client=login)()


def test_config_checks(tmp_path):
    with pytest.raises(ConfigError, match="tenant"):
        auth.MsalTokens("work", "cid", tenant="bad tenant/")
    with pytest.raises(ConfigError, match="client_id"):
        auth.MsalTokens("work", "")
    assert OutlookCalendar.options["tenant"].default == "common"
    assert OutlookCalendar.options["client_id"].required
    assert OutlookCalendar.options["write_to"].default == "Interview follow-ups"


def test_registered_types_load(monkeypatch):
    from daemon import registry

    monkeypatch.setitem(registry.CALENDAR_TYPES, "outlook", "connectors.outlook:OutlookCalendar")
    monkeypatch.setitem(registry.MAILBOX_TYPES, "outlook", "connectors.outlook:OutlookMailbox")
    assert registry.calendar_class("outlook") is OutlookCalendar
    assert registry.mailbox_class("outlook") is OutlookMailbox
    assert os.path.isdir(PACKAGE)


def test_check_names_a_permission_the_sign_in_lacks(memory, fake, box, tmp_path):
    auth._apps.clear()
    login = FakeLogin()
    login.scope = "https://graph.microsoft.com/Calendars.ReadWrite openid profile offline_access"
    tokens = auth.MsalTokens("work", "cid", http_client=login)
    tokens.device_login(lambda text: None)
    for n in range(1, 6):  # MSAL refreshes a token that lacks a requested scope
        fake.mailboxes[f"access-{n}"] = box
    cal = OutlookCalendar("work", {"client_id": "cid", "graph_url": fake.url},
                          context(tmp_path), token=tokens)
    with pytest.raises(AuthError, match="lacks Mail.ReadWrite"):
        cal.check()
    login.scope = "Calendars.ReadWrite Mail.ReadWrite offline_access"
    auth._apps.clear()
    tokens = auth.MsalTokens("work2", "cid", http_client=login)
    tokens.device_login(lambda text: None)
    for n in range(1, 12):
        fake.mailboxes[f"access-{n}"] = box
    cal = OutlookCalendar("work", {"client_id": "cid", "graph_url": fake.url},
                          context(tmp_path), token=tokens)
    assert "follow-ups go to" in cal.check()


@pytest.mark.parametrize("keep_properties", [True, False])
def test_a_sent_draft_is_found_in_sent_items(box, make_mailbox, keep_properties):
    mail = make_mailbox()
    d = samples.draft()
    mail.create_draft(d)
    assert mail.find_sent(d.key, d.message_id) is False
    box.user_send_draft(d.message_id, keep_properties=keep_properties)
    assert mail.find_sent(d.key, d.message_id) is True
    other = samples.draft(key="other-key", message_id="<other@alex.example.org>")
    assert mail.find_sent(other.key, other.message_id) is False
