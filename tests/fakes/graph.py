"""A small stateful stand-in for Microsoft Graph, for tests.

``FakeGraph`` is an HTTP server on 127.0.0.1 (a free port) that answers the
requests the Outlook connectors make, in the documented response shapes,
and enforces what Graph enforces:

- calendar view delta rounds: ``@odata.nextLink`` pages
  (``Prefer: odata.maxpagesize``), an ``@odata.deltaLink`` at the end,
  ``@removed`` entries, 410 ``SyncStateNotFound`` once the state is gone;
- ``changeKey`` changes on every edit, ``If-Match`` with an old one -> 412;
- custom internet message headers must start with ``x-`` and a message
  takes at most 5 of them (400 otherwise);
- more than 4 requests in flight for one mailbox -> 429 with Retry-After;
- extended property filters compare the value case-insensitively.

For the tests it also refuses writes to items without the daemon's key
property (403: "never touches foreign items"), records every attempt to
send mail, keeps a request log, injects faults on demand (status codes,
a dropped connection after a write was applied, expired tokens, expired
delta state) and offers helpers to act as the user and other parties.

Each mailbox is selected by its access token: ``new_mailbox()`` returns a
``FakeMailbox`` whose ``token`` the connector under test is given.
"""

from __future__ import annotations

import copy
import itertools
import json
import re
import socket
import threading
import time
import uuid
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from email.utils import getaddresses, parseaddr
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, quote, urlsplit
from zoneinfo import ZoneInfo

import icalendar
import recurring_ical_events
from icalendar.timezone.windows_to_olson import WINDOWS_TO_OLSON

KEY_PROPERTY = "String {66f5a359-4659-4830-9070-00047ec6ac6e} Name FollowupKey"
MAX_IN_FLIGHT = 4
MAX_CUSTOM_HEADERS = 5
DEFAULT_PAGE = 10
UTC = timezone.utc
OLSON_TO_WINDOWS = {}
for _win, _olson in WINDOWS_TO_OLSON.items():
    OLSON_TO_WINDOWS.setdefault(_olson, _win)

_ids = itertools.count(1)
# Only the documented form: an id and a value clause
# (https://learn.microsoft.com/graph/api/singlevaluelegacyextendedproperty-get);
# "ep/id eq" alone is not documented and is refused here.
_KEY_FILTER = re.compile(
    r"^singleValueExtendedProperties/Any\(ep: ep/id eq '((?:[^']|'')*)'"
    r" and ep/value eq '((?:[^']|'')*)'\)$")
_MAIL_FILTER = re.compile(
    r"^receivedDateTime ge (\S+)(?: and from/emailAddress/address eq '((?:[^']|'')*)')?$")
_PARTSTAT = {"ACCEPTED": "accepted", "DECLINED": "declined",
             "TENTATIVE": "tentativelyAccepted", "NEEDS-ACTION": "none"}


def _unquote(value: str | None) -> str | None:
    return None if value is None else value.replace("''", "'")


def _new_key() -> str:
    return uuid.uuid4().hex[:16]


def _graph_time(moment: datetime) -> str:
    """dateTimeTimeZone.dateTime as Graph writes it (7 fraction digits)."""
    return moment.strftime("%Y-%m-%dT%H:%M:%S.0000000")


def _instant(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _parse_instant(text: str) -> datetime:
    text = re.sub(r"\.\d+", "", text.strip()).replace("Z", "+00:00")
    value = datetime.fromisoformat(text)
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def _zone(name: str) -> Any:
    if name in ("UTC", "Etc/UTC"):
        return UTC
    return ZoneInfo(WINDOWS_TO_OLSON.get(name, name))


def _from_dttz(value: dict) -> datetime:
    naive = _parse_instant(value["dateTime"]).replace(tzinfo=None)
    return naive.replace(tzinfo=_zone(value.get("timeZone") or "UTC"))


class GraphError(Exception):
    def __init__(self, status: int, code: str, message: str = "", headers: dict | None = None):
        super().__init__(message)
        self.status, self.code, self.message = status, code, message
        self.headers = headers or {}


@dataclass
class Fault:
    status: int | None  # None: drop the connection after applying the request
    times: int = 1
    method: str | None = None
    path: str | None = None  # substring of the path
    retry_after: str | None = None
    code: str = "ServiceUnavailable"

    def matches(self, method: str, path: str) -> bool:
        return ((self.method is None or self.method == method)
                and (self.path is None or self.path in path))


@dataclass
class StoredEvent:
    """A source event (an iCalendar object, as invitations arrive) or an
    event created through the API (Graph JSON)."""

    id: str
    change_key: str
    ics: bytes | None = None
    data: dict | None = None
    created: str = field(default_factory=lambda: _instant(datetime.now(UTC)))


@dataclass
class FakeCalendar:
    id: str
    name: str
    default: bool = False
    events: dict[str, StoredEvent] = field(default_factory=dict)


@dataclass
class LoggedRequest:
    mailbox: str | None
    method: str
    path: str
    query: dict[str, str]
    status: int


class FakeMailbox:
    """One user's calendars and mail in the fake."""

    def __init__(self, fake: "FakeGraph", address: str, tz: str):
        self.fake = fake
        self.token = "token-" + uuid.uuid4().hex
        self.address = address
        self.tz = ZoneInfo(tz)
        self.refuse_named_delta = False  # see the calendarView/delta route
        main = FakeCalendar(id=f"cal-{next(_ids)}", name="Calendar", default=True)
        self.calendars: dict[str, FakeCalendar] = {main.id: main}
        self.folders = {"drafts": f"fld-drafts-{next(_ids)}", "inbox": f"fld-inbox-{next(_ids)}",
                        "deleteditems": f"fld-deleted-{next(_ids)}",
                        "sentitems": f"fld-sent-{next(_ids)}"}
        self.messages: dict[str, dict] = {}
        self.delta_states: dict[str, dict] = {}
        self.pages: dict[str, tuple[list[dict], str]] = {}
        self.in_flight = 0
        self.peak_in_flight = 0
        self.sent: list[str] = []  # every attempt to send mail

    @property
    def main(self) -> FakeCalendar:
        return next(c for c in self.calendars.values() if c.default)

    # -- acting as other parties and as the user ----------------------------------

    def add_source_event(self, ics: bytes, calendar: str | None = None) -> str:
        """Store an invitation (a VCALENDAR with one UID); returns its id."""
        with self.fake.lock:
            cal = self.calendars[calendar] if calendar else self.main
            event = StoredEvent(id=f"evt-{next(_ids)}", change_key=_new_key(), ics=ics)
            cal.events[event.id] = event
            return event.id

    def add_json_event(self, data: dict, calendar: str | None = None) -> str:
        """Store an event given as Graph JSON (a single instance)."""
        with self.fake.lock:
            cal = self.calendars[calendar] if calendar else self.main
            event_id = data.get("id") or f"evt-{next(_ids)}"
            stored = StoredEvent(id=event_id, change_key=_new_key(),
                                 data={"type": "singleInstance", **copy.deepcopy(data),
                                       "id": event_id})
            cal.events[event_id] = stored
            return event_id

    def change_source_event(self, event_id: str, ics: bytes) -> None:
        with self.fake.lock:
            event = self._find_stored(event_id)[1]
            event.ics, event.change_key = ics, _new_key()

    def change_json_event(self, event_id: str, **changes) -> None:
        with self.fake.lock:
            event = self._find_stored(event_id)[1]
            event.data.update(changes)
            event.change_key = _new_key()

    def remove_event(self, event_id: str) -> None:
        with self.fake.lock:
            cal, _ = self._find_stored(event_id)
            del cal.events[event_id]

    def own_events(self) -> list[tuple[FakeCalendar, StoredEvent]]:
        return [(cal, e) for cal in self.calendars.values() for e in cal.events.values()
                if e.data is not None and _key_of(e.data) is not None]

    def own_event(self, key: str) -> StoredEvent:
        found = [e for _, e in self.own_events() if _key_of(e.data) == key]
        assert len(found) == 1, f"{len(found)} follow-ups with key {key!r}"
        return found[0]

    def user_edit_own(self, key: str, hours: int = 1) -> None:
        """Move the follow-up ``hours`` later, as the user would in Outlook."""
        with self.fake.lock:
            event = self.own_event(key)
            for name in ("start", "end"):
                moved = _from_dttz(event.data[name]) + timedelta(hours=hours)
                event.data[name] = {"dateTime": _graph_time(moved.astimezone(UTC)),
                                    "timeZone": "UTC"}
            event.change_key = _new_key()

    def user_delete_own(self, key: str) -> None:
        with self.fake.lock:
            event = self.own_event(key)
            for cal in self.calendars.values():
                cal.events.pop(event.id, None)

    def deliver(self, raw: bytes, received: datetime | None = None) -> str:
        """Deliver an internet message into the inbox; returns its id."""
        msg = BytesParser(policy=policy.default).parsebytes(raw)
        name, address = parseaddr(str(msg.get("From", "")))
        received = received or datetime.now(UTC)
        message = {
            "id": f"msg-{next(_ids)}", "changeKey": _new_key(),
            "parentFolderId": self.folders["inbox"], "isDraft": False,
            "receivedDateTime": _instant(received), "createdDateTime": _instant(received),
            "subject": str(msg.get("Subject", "")),
            "from": {"emailAddress": {"name": name, "address": address}},
            "sender": {"emailAddress": {"name": name, "address": address}},
            "toRecipients": [{"emailAddress": {"name": n, "address": a}}
                             for n, a in getaddresses([str(msg.get("To", ""))])],
            "internetMessageId": str(msg.get("Message-ID", "")) or
            f"<{uuid.uuid4().hex}@fake.example>",
            "internetMessageHeaders": [{"name": k, "value": str(v)} for k, v in msg.items()],
            "body": {"contentType": "text", "content": msg.get_body(("plain",)).get_content()
                     if msg.get_body(("plain",)) else ""},
        }
        with self.fake.lock:
            self.messages[message["id"]] = message
        return message["id"]

    def add_message(self, **fields) -> str:
        """Store a message given as Graph JSON (e.g. without headers, as
        mail within one organization arrives)."""
        message = {"id": f"msg-{next(_ids)}", "changeKey": _new_key(), "isDraft": False,
                   "parentFolderId": self.folders["inbox"], **fields}
        with self.fake.lock:
            self.messages[message["id"]] = message
        return message["id"]

    def drafts(self) -> list[dict]:
        return [m for m in self.messages.values()
                if m["parentFolderId"] == self.folders["drafts"]]

    def draft_by_message_id(self, message_id: str) -> dict:
        found = [m for m in self.drafts() if m.get("internetMessageId") == message_id]
        assert len(found) == 1, f"{len(found)} drafts with Message-ID {message_id}"
        return found[0]

    def user_edit_draft(self, message_id: str) -> None:
        with self.fake.lock:
            message = self.draft_by_message_id(message_id)
            message["body"]["content"] = (message["body"]["content"].rstrip("\n")
                                          + "\nPS: looking forward to it.\n")
            message["changeKey"] = _new_key()

    def user_send_draft(self, message_id: str, keep_properties: bool = True) -> None:
        """Send as Outlook does: the draft becomes a message in Sent Items."""
        with self.fake.lock:
            message = self.draft_by_message_id(message_id)
            message["parentFolderId"] = self.folders["sentitems"]
            message["isDraft"] = False
            message["changeKey"] = _new_key()
            if not keep_properties:
                message.pop("singleValueExtendedProperties", None)

    def user_delete_draft(self, message_id: str) -> None:
        """Delete as Outlook does: the draft moves to Deleted Items."""
        with self.fake.lock:
            message = self.draft_by_message_id(message_id)
            message["parentFolderId"] = self.folders["deleteditems"]
            message["changeKey"] = _new_key()

    def mime(self, message: dict) -> bytes:
        """The message as ``GET /me/messages/{id}/$value`` gives it."""
        out = EmailMessage(policy=policy.SMTP)
        out["From"] = self.address
        to = [r["emailAddress"] for r in message.get("toRecipients") or []]
        if to:
            out["To"] = ", ".join(f"{r.get('name') or ''} <{r['address']}>".strip() for r in to)
        out["Subject"] = message.get("subject") or ""
        out["Message-ID"] = message.get("internetMessageId") or ""
        for header in message.get("internetMessageHeaders") or []:
            if header["name"].lower() not in ("from", "to", "subject", "message-id"):
                out[header["name"]] = header["value"]
        out.set_content(message.get("body", {}).get("content") or "")
        return out.as_bytes()

    # -- internals ----------------------------------------------------------------

    def _find_stored(self, event_id: str) -> tuple[FakeCalendar, StoredEvent]:
        for cal in self.calendars.values():
            if event_id in cal.events:
                return cal, cal.events[event_id]
        raise GraphError(404, "ErrorItemNotFound", "The specified object was not found in the store.")

    def instances(self, cal: FakeCalendar, start: datetime, end: datetime,
                  utc: bool) -> list[dict]:
        """The calendar view of ``cal`` over [start, end)."""
        out = []
        for event in cal.events.values():
            if event.data is not None:
                s, e = _from_dttz(event.data["start"]), _from_dttz(event.data["end"])
                if s < end and e > start:
                    out.append(self.render_json(event, utc))
            else:
                out.extend(self._ics_instances(event, start, end, utc))
        return sorted(out, key=lambda d: (d["start"]["dateTime"], d["id"]))

    def render_json(self, event: StoredEvent, utc: bool, expand: bool = False) -> dict:
        data = copy.deepcopy(event.data)
        if not expand:
            data.pop("singleValueExtendedProperties", None)
        data["changeKey"] = event.change_key
        data["@odata.etag"] = f'W/"{event.change_key}"'
        data.setdefault("iCalUId", f"ical-{event.id}")
        data.setdefault("isOrganizer", True)
        data.setdefault("isCancelled", False)
        data.setdefault("isAllDay", False)
        data.setdefault("attendees", [])
        data.setdefault("responseStatus", {"response": "organizer"})
        if utc:
            for name in ("start", "end"):
                moment = _from_dttz(data[name]).astimezone(UTC)
                data[name] = {"dateTime": _graph_time(moment), "timeZone": "UTC"}
        return data

    def _ics_instances(self, event: StoredEvent, start: datetime, end: datetime,
                       utc: bool) -> list[dict]:
        cal = icalendar.Calendar.from_ical(event.ics)
        masters = [c for c in cal.walk("VEVENT") if "RECURRENCE-ID" not in c]
        recurring = any("RRULE" in c or "RDATE" in c for c in masters)
        exceptions = {_instant(self._moment(c.decoded("RECURRENCE-ID"))[0])
                      for c in cal.walk("VEVENT") if "RECURRENCE-ID" in c}
        return [self._render_ics(event, comp, recurring, utc, exceptions)
                for comp in recurring_ical_events.of(cal).between(start, end)]

    def _moment(self, value: Any) -> tuple[datetime, bool]:
        if isinstance(value, datetime):
            return (value if value.tzinfo else value.replace(tzinfo=self.tz)), False
        if isinstance(value, date):
            return datetime.combine(value, datetime.min.time(), tzinfo=self.tz), True
        raise ValueError(value)

    def _render_ics(self, event: StoredEvent, comp, recurring: bool, utc: bool,
                    exceptions: set[str]) -> dict:
        start, all_day = self._moment(comp.decoded("DTSTART"))
        end = self._moment(comp.decoded("DTEND"))[0] if "DTEND" in comp else start
        uid = str(comp.get("UID"))
        if recurring:
            rid = comp.get("RECURRENCE-ID")
            original = self._moment(rid.dt)[0] if rid is not None else start
            event_id = f"{event.id}-{_instant(original).replace('-', '').replace(':', '')}"
            kind = "exception" if _instant(original) in exceptions else "occurrence"
        else:
            event_id, kind, original = event.id, "singleInstance", None

        def person(value) -> dict:
            address = str(value).removeprefix("mailto:").removeprefix("MAILTO:")
            return {"emailAddress": {"name": str(value.params.get("CN", "")), "address": address}}

        organizer = comp.get("ORGANIZER")
        attendees = comp.get("ATTENDEE") or []
        if not isinstance(attendees, list):
            attendees = [attendees]
        graph_attendees, response = [], "none"
        for a in attendees:
            partstat = str(a.params.get("PARTSTAT", "NEEDS-ACTION")).upper()
            kind_a = ("resource" if str(a.params.get("CUTYPE", "")).upper() in ("ROOM", "RESOURCE")
                      else "optional" if str(a.params.get("ROLE", "")).upper() == "OPT-PARTICIPANT"
                      else "required")
            entry = {**person(a), "type": kind_a,
                     "status": {"response": _PARTSTAT.get(partstat, "none"),
                                "time": "0001-01-01T00:00:00Z"}}
            graph_attendees.append(entry)
            if entry["emailAddress"]["address"].lower() == self.address:
                response = entry["status"]["response"]
        is_organizer = (organizer is not None and
                        str(organizer).lower().removeprefix("mailto:") == self.address)
        if all_day:
            def dt(m):
                return {"dateTime": _graph_time(m.replace(tzinfo=None)),
                        "timeZone": "UTC" if utc else OLSON_TO_WINDOWS.get(self.tz.key, self.tz.key)}
        elif utc:
            def dt(m):
                return {"dateTime": _graph_time(m.astimezone(UTC)), "timeZone": "UTC"}
        else:
            def dt(m):
                key = getattr(m.tzinfo, "key", None) or "UTC"
                return {"dateTime": _graph_time(m), "timeZone": OLSON_TO_WINDOWS.get(key, key)}
        data = {
            "@odata.etag": f'W/"{event.change_key}"',
            "id": event_id, "changeKey": event.change_key, "iCalUId": uid, "type": kind,
            "subject": str(comp.get("SUMMARY", "")),
            "body": {"contentType": "text", "content": str(comp.get("DESCRIPTION", ""))},
            "bodyPreview": str(comp.get("DESCRIPTION", ""))[:255],
            "start": dt(start), "end": dt(end), "isAllDay": all_day,
            "isCancelled": str(comp.get("STATUS", "")).upper() == "CANCELLED",
            "isOrganizer": is_organizer,
            "responseStatus": {"response": "organizer" if is_organizer else response,
                               "time": "0001-01-01T00:00:00Z"},
            "location": {"displayName": str(comp.get("LOCATION", ""))},
            "organizer": person(organizer) if organizer is not None else None,
            "attendees": graph_attendees, "transactionId": None,
        }
        if kind != "singleInstance":
            data["seriesMasterId"] = event.id
            data["originalStart"] = _instant(original)
            # v1.0 gives each occurrence an iCalUId of its own ("different
            # for each occurrence in a recurring series", event resource
            # reference); ``uid``, shared by the series, exists only in beta
            data["iCalUId"] = f"{uid}-{_instant(original).replace(':', '').replace('-', '')}"
        return data


class FakeGraph:
    """The fake Graph server. ``start()`` it, ``new_mailbox()`` per test."""

    def __init__(self):
        self.lock = threading.RLock()
        self.mailboxes: dict[str, FakeMailbox] = {}
        self.log: list[LogEntry] = []
        self.faults: list[Fault] = []
        self.expired_tokens: set[str] = set()
        self.delay = 0.0  # seconds every request takes inside the server
        self.server: ThreadingHTTPServer | None = None

    def start(self) -> "FakeGraph":
        fake = self

        class Handler(_Handler):
            graph = fake

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()
            self.server = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/v1.0"

    def new_mailbox(self, address: str = "alex@example.org", tz: str = "Europe/Berlin"
                    ) -> FakeMailbox:
        box = FakeMailbox(self, address.lower(), tz)
        with self.lock:
            self.mailboxes[box.token] = box
        return box

    # -- fault injection and inspection -------------------------------------------

    def fail(self, status: int, times: int = 1, method: str | None = None,
             path: str | None = None, retry_after: str | None = None,
             code: str = "ServiceUnavailable") -> None:
        """Answer the next ``times`` matching requests with ``status``."""
        with self.lock:
            self.faults.append(Fault(status, times, method, path, retry_after, code))

    def drop_after_apply(self, method: str, path: str | None = None, times: int = 1) -> None:
        """Apply the next matching request, then close the connection
        without an answer."""
        with self.lock:
            self.faults.append(Fault(None, times, method, path))

    def expire_token(self, token: str) -> None:
        self.expired_tokens.add(token)

    def expire_delta(self, box: FakeMailbox) -> None:
        """Forget every delta round of ``box`` (its links answer 410)."""
        with self.lock:
            box.delta_states.clear()
            box.pages.clear()

    def requests(self, box: FakeMailbox | None = None, method: str | None = None
                 ) -> list[LoggedRequest]:
        with self.lock:
            return [r for r in self.log
                    if (box is None or r.mailbox == box.token)
                    and (method is None or r.method == method)]

    def clear_log(self) -> None:
        with self.lock:
            self.log.clear()

    def _take_fault(self, method: str, path: str) -> Fault | None:
        with self.lock:
            for fault in self.faults:
                if fault.times > 0 and fault.matches(method, path):
                    fault.times -= 1
                    return fault
        return None


LogEntry = LoggedRequest


def _key_of(data: dict) -> str | None:
    for prop in data.get("singleValueExtendedProperties") or []:
        if prop.get("id", "").lower() == KEY_PROPERTY.lower():
            return prop.get("value")
    return None


def _select(data: dict, query: dict) -> dict:
    """Apply ``$select`` (id and @odata.etag always stay) and ``$expand``
    of the key property."""
    out = dict(data)
    props = out.pop("singleValueExtendedProperties", None)
    if "$select" in query:
        keep = set(query["$select"].split(",")) | {"id", "@odata.etag"}
        out = {k: v for k, v in out.items() if k in keep}
    elif "internetMessageHeaders" in out and "receivedDateTime" in out:
        out.pop("internetMessageHeaders")  # only returned when selected
    if "singleValueExtendedProperties" in query.get("$expand", "") and props:
        wanted = re.search(r"id eq '((?:[^']|'')*)'", query["$expand"])
        out["singleValueExtendedProperties"] = [
            p for p in props if not wanted or p["id"].lower() == _unquote(wanted.group(1)).lower()]
    return out


def _key_match(data: dict, query: dict) -> bool:
    match = _KEY_FILTER.match(query.get("$filter", ""))
    if not match:
        raise GraphError(400, "BadRequest", f"unsupported $filter {query.get('$filter')!r}")
    prop_id, value = _unquote(match.group(1)), _unquote(match.group(2))
    for prop in data.get("singleValueExtendedProperties") or []:
        # The id's name is case-sensitive, the value is not (documented).
        if prop["id"] == prop_id and (value is None or prop["value"].lower() == value.lower()):
            return True
    return False


class _Handler(BaseHTTPRequestHandler):
    graph: FakeGraph
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # answers are several writes: avoid 40 ms stalls

    def log_message(self, format, *args):  # quiet
        pass

    def do_GET(self):
        self._serve("GET")

    def do_POST(self):
        self._serve("POST")

    def do_PATCH(self):
        self._serve("PATCH")

    def do_DELETE(self):
        self._serve("DELETE")

    # -- plumbing -------------------------------------------------------------------

    def _serve(self, method: str) -> None:
        graph = self.graph
        parts = urlsplit(self.path)
        path = parts.path.removeprefix("/v1.0/").strip("/")
        query = {k: v[-1] for k, v in parse_qs(parts.query, keep_blank_values=True).items()}
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        auth = self.headers.get("Authorization", "")
        token = auth.removeprefix("Bearer ").strip()
        box = graph.mailboxes.get(token)
        status, body, headers, drop = 500, None, {}, False
        counted = False
        try:
            if box is None or token in graph.expired_tokens:
                raise GraphError(401, "InvalidAuthenticationToken", "Access token has expired or is not yet valid.")
            with graph.lock:
                box.in_flight += 1
                counted = True
                box.peak_in_flight = max(box.peak_in_flight, box.in_flight)
                too_many = box.in_flight > MAX_IN_FLIGHT
            if too_many:
                raise GraphError(429, "ApplicationThrottled", "Too many concurrent requests.",
                                 {"Retry-After": "1"})
            fault = graph._take_fault(method, path)
            if fault is not None and fault.status is not None:
                extra = {"Retry-After": fault.retry_after} if fault.retry_after else {}
                raise GraphError(fault.status, fault.code, "injected fault", extra)
            drop = fault is not None and fault.status is None
            if graph.delay:
                time.sleep(graph.delay)
            data = json.loads(raw) if raw else None
            with graph.lock:
                status, body, headers = _route(box, method, path, query, data, self.headers,
                                               graph.url)
        except GraphError as exc:
            status, headers = exc.status, exc.headers
            body = {"error": {"code": exc.code, "message": exc.message}}
        except Exception as exc:  # a bug in the fake: make it visible
            status, body = 500, {"error": {"code": "FakeBug", "message": repr(exc)}}
        finally:
            if counted:
                with graph.lock:
                    box.in_flight -= 1
        with graph.lock:
            graph.log.append(LoggedRequest(box.token if box else None, method, path, query, status))
        if drop:
            self.close_connection = True
            try:
                self.connection.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            return
        payload = b"" if body is None else (
            body if isinstance(body, bytes) else json.dumps(body).encode("utf-8"))
        self.send_response(status)
        self.send_header("Content-Type", headers.pop("Content-Type", "application/json"))
        for name, value in headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)


def _prefer(headers) -> dict[str, str]:
    out = {}
    for value in headers.get_all("Prefer") or []:
        for part in value.split(","):
            name, _, val = part.strip().partition("=")
            out[name.strip().lower()] = val.strip().strip('"')
    return out


def _if_match(headers, current: str) -> None:
    wanted = headers.get("If-Match")
    if wanted is None:
        return
    wanted = wanted.strip()
    if wanted.startswith("W/"):
        wanted = wanted[2:]
    if wanted.strip('"') != current:
        raise GraphError(412, "ErrorIrresolvableConflict",
                         "The change key passed in the request does not match the current change key for the item.")


def _page(box: FakeMailbox, items: list[dict], size: int, base: str, path: str,
          final: dict[str, Any]) -> dict:
    """One page of ``items``; the rest is kept behind a nextLink."""
    head, rest = items[:size], items[size:]
    if rest:
        token = uuid.uuid4().hex
        box.pages[token] = (rest, json.dumps(final))
        return {"value": head, "@odata.nextLink": f"{base}/{path}?$skiptoken={token}"}
    return {"value": head, **final}


def _route(box: FakeMailbox, method: str, path: str, query: dict, data: Any, headers,
           base: str) -> tuple[int, Any, dict]:
    prefer = _prefer(headers)
    utc = prefer.get("outlook.timezone", "").upper() == "UTC"
    segs = path.split("/")
    if segs[0] != "me":
        raise GraphError(400, "BadRequest", f"unsupported path {path}")
    segs = segs[1:]

    if any(s.lower() in ("send", "sendmail") for s in segs):
        box.sent.append(path)
        return 202, None, {}

    # -- calendars and events ----------------------------------------------------------
    if segs == ["calendars"] and method == "GET":
        return 200, {"value": [{"id": c.id, "name": c.name, "isDefaultCalendar": c.default,
                                "changeKey": c.id} for c in box.calendars.values()]}, {}
    if segs == ["calendars"] and method == "POST":
        name = (data or {}).get("name")
        if any(c.name == name for c in box.calendars.values()):
            raise GraphError(409, "ErrorFolderExists", "A folder with the specified name already exists.")
        cal = FakeCalendar(id=f"cal-{next(_ids)}", name=name)
        box.calendars[cal.id] = cal
        return 201, {"id": cal.id, "name": cal.name, "isDefaultCalendar": False}, {}
    if segs[-2:] == ["calendarView", "delta"] and method == "GET":
        cal = box.main if len(segs) == 2 else box.calendars.get(segs[1])
        if cal is None:
            raise GraphError(404, "ErrorItemNotFound", "calendar not found")
        if cal is not box.main and box.refuse_named_delta:
            # documented for the main calendar only: a tenant may refuse it elsewhere
            raise GraphError(400, "ErrorInvalidRequest", "Delta is not supported on this folder.")
        return 200, _delta(box, cal, query, prefer, utc, base, path), {}
    if len(segs) in (1, 3) and segs[-1] == "events":
        cal = box.main if len(segs) == 1 else box.calendars.get(segs[1])
        if cal is None:
            raise GraphError(404, "ErrorItemNotFound", "calendar not found")
        if method == "GET":
            if "$skiptoken" in query:
                return 200, _next_page(box, query, 10, base, path), {}
            found = [_select(box.render_json(e, utc, expand=True), query)
                     for e in cal.events.values()
                     if e.data is not None and _key_match(e.data, query)]
            return 200, _page(box, found, int(query.get("$top", DEFAULT_PAGE)), base, path, {}), {}
        if method == "POST":
            return _create_event(box, cal, data, utc)
    if len(segs) == 2 and segs[0] == "events":
        return _event_item(box, method, segs[1], query, data, headers, utc)

    # -- mail --------------------------------------------------------------------------
    if segs == ["messages"] and method == "POST":
        return _create_message(box, data)
    if segs == ["messages"] and method == "GET" or (
            len(segs) == 3 and segs[0] == "mailFolders" and segs[2] == "messages"):
        if "$skiptoken" in query:
            return 200, _next_page(box, query, 10, base, path), {}
        folder = box.folders.get(segs[1].lower(), segs[1]) if len(segs) == 3 else None
        return 200, _list_messages(box, folder, query, base, path), {}
    if len(segs) == 2 and segs[0] == "mailFolders" and method == "GET":
        folder = box.folders.get(segs[1].lower())
        if folder is None:
            raise GraphError(404, "ErrorItemNotFound", "folder not found")
        count = sum(1 for m in box.messages.values() if m["parentFolderId"] == folder)
        return 200, _select({"id": folder, "displayName": segs[1].capitalize(),
                             "totalItemCount": count}, query), {}
    if len(segs) in (2, 3) and segs[0] == "messages":
        message = box.messages.get(segs[1])
        if message is None:
            raise GraphError(404, "ErrorItemNotFound", "The specified object was not found in the store.")
        if len(segs) == 3 and segs[2] == "$value" and method == "GET":
            return 200, box.mime(message), {"Content-Type": "text/plain"}
        if len(segs) == 2 and method == "GET":
            return 200, _select(_message_json(message), query), {}
        if len(segs) == 2 and method == "DELETE":
            if _key_of(message) is None:
                raise GraphError(403, "ErrorAccessDenied", "fake: not the daemon's message")
            _if_match(headers, message["changeKey"])
            if message["parentFolderId"] == box.folders["deleteditems"]:
                del box.messages[message["id"]]
            else:
                message["parentFolderId"] = box.folders["deleteditems"]
                message["changeKey"] = _new_key()
            return 204, None, {}
    raise GraphError(400, "BadRequest", f"fake: unsupported {method} {path}")


def _next_page(box: FakeMailbox, query: dict, size: int, base: str, path: str) -> dict:
    entry = box.pages.pop(query["$skiptoken"], None)
    if entry is None:
        raise GraphError(410, "SyncStateNotFound", "The sync state is not found.")
    rest, final = entry
    return _page(box, rest, size, base, path, json.loads(final))


def _delta(box: FakeMailbox, cal: FakeCalendar, query: dict, prefer: dict, utc: bool,
           base: str, path: str) -> dict:
    size = int(prefer.get("odata.maxpagesize") or DEFAULT_PAGE)
    if "$skiptoken" in query:
        return _next_page(box, query, size, base, path)
    if "$deltatoken" in query:
        state = box.delta_states.pop(query["$deltatoken"], None)
        if state is None or state["cal"] != cal.id:
            raise GraphError(410, "SyncStateNotFound", "The sync state generation is not found.")
        start, end = state["start"], state["end"]
        now = {d["id"]: d for d in box.instances(cal, start, end, utc)}
        items = [d for i, d in now.items() if state["seen"].get(i) != d["changeKey"]]
        items += [{"@odata.type": "#microsoft.graph.event", "id": i, "@removed": {"reason": "deleted"}}
                  for i in state["seen"] if i not in now]
    else:
        try:
            start = _parse_instant(query["startDateTime"])
            end = _parse_instant(query["endDateTime"])
        except KeyError:
            raise GraphError(400, "ErrorInvalidParameter",
                             "startDateTime and endDateTime are required") from None
        now = {d["id"]: d for d in box.instances(cal, start, end, utc)}
        items = list(now.values())
    token = uuid.uuid4().hex
    box.delta_states[token] = {"cal": cal.id, "start": start, "end": end,
                               "seen": {i: d["changeKey"] for i, d in now.items()}}
    link = f"{base}/{path}?$deltatoken={token}"
    return _page(box, items, size, base, path, {"@odata.deltaLink": link})


def _create_event(box: FakeMailbox, cal: FakeCalendar, data: dict, utc: bool):
    if not isinstance(data, dict) or "start" not in data or "end" not in data:
        raise GraphError(400, "ErrorInvalidRequest", "start and end are required")
    tid = data.get("transactionId")
    if tid:
        for event in cal.events.values():
            if event.data is not None and event.data.get("transactionId") == tid:
                return 201, box.render_json(event, utc), {}
    stored = StoredEvent(id=f"evt-{next(_ids)}", change_key=_new_key(),
                         data={**copy.deepcopy(data), "type": "singleInstance",
                               "isOrganizer": True})
    stored.data["id"] = stored.id
    stored.data["iCalUId"] = f"ical-{stored.id}"
    cal.events[stored.id] = stored
    return 201, box.render_json(stored, utc), {}


def _event_item(box: FakeMailbox, method: str, event_id: str, query: dict, data: Any,
                headers, utc: bool):
    try:
        cal, stored = box._find_stored(event_id)
    except GraphError:
        if method != "GET" or "-" not in event_id:
            raise
        # an occurrence id: "<series id>-<original start>"
        series, _, stamp = event_id.rpartition("-")
        cal, stored = box._find_stored(series)
        moment = datetime.strptime(stamp, "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC)
        for item in box.instances(cal, moment - timedelta(days=2), moment + timedelta(days=2), utc):
            if item["id"] == event_id:
                return 200, _select(item, query), {}
        raise
    if method == "GET":
        if stored.data is None:
            masters = [c for c in icalendar.Calendar.from_ical(stored.ics).walk("VEVENT")
                       if "RECURRENCE-ID" not in c]
            if event_id == stored.id and masters and ("RRULE" in masters[0] or "RDATE" in masters[0]):
                # a series master, as GET /me/events/{seriesMasterId} gives it
                master = masters[0]
                return 200, _select({"id": stored.id, "type": "seriesMaster", "changeKey": stored.change_key,
                                     "iCalUId": str(master.get("UID")),
                                     "subject": str(master.get("SUMMARY", ""))}, query), {}
            found = [d for d in box._ics_instances(stored, datetime(1900, 1, 1, tzinfo=UTC),
                                                   datetime(2200, 1, 1, tzinfo=UTC), utc)
                     if d["id"] == event_id]
            if not found:
                raise GraphError(404, "ErrorItemNotFound", "not found")
            return 200, _select(found[0], query), {}
        return 200, _select(box.render_json(stored, utc, expand=True), query), {}
    if stored.data is None or _key_of(stored.data) is None:
        raise GraphError(403, "ErrorAccessDenied", "fake: not the daemon's event")
    _if_match(headers, stored.change_key)
    if method == "DELETE":
        del cal.events[event_id]
        return 204, None, {}
    if method == "PATCH":
        for name in ("subject", "body", "start", "end", "isReminderOn",
                     "reminderMinutesBeforeStart", "location"):
            if name in (data or {}):
                stored.data[name] = copy.deepcopy(data[name])
        stored.change_key = _new_key()
        return 200, box.render_json(stored, utc), {}
    raise GraphError(405, "MethodNotAllowed", method)


def _create_message(box: FakeMailbox, data: dict):
    headers = (data or {}).get("internetMessageHeaders") or []
    for header in headers:
        if not str(header.get("name", "")).lower().startswith("x-"):
            raise GraphError(400, "InvalidInternetMessageHeader",
                             "The internet message header name should start with 'x-' or 'X-'.")
    if len(headers) > MAX_CUSTOM_HEADERS:
        raise GraphError(400, "InvalidInternetMessageHeaderCollection",
                         "Maximum number of headers in one message should be less than or equal to 5.")
    now = _instant(datetime.now(UTC))
    message = {**copy.deepcopy(data), "id": f"msg-{next(_ids)}", "changeKey": _new_key(),
               "parentFolderId": box.folders["drafts"], "isDraft": True,
               "createdDateTime": now, "receivedDateTime": now,
               "from": {"emailAddress": {"name": "", "address": box.address}}}
    message.setdefault("internetMessageId", f"<{uuid.uuid4().hex}@fake.example>")
    # the shape of the documented example (message resource, webLink)
    message["webLink"] = ("https://outlook.office365.com/owa/?ItemID=" + quote(message["id"], safe="")
                          + "&exvsurl=1&viewmodel=ReadMessageItem")
    box.messages[message["id"]] = message
    return 201, _select(_message_json(message), {}), {}


def _message_json(message: dict) -> dict:
    return {**message, "@odata.etag": f'W/"{message["changeKey"]}"'}


def _list_messages(box: FakeMailbox, folder: str | None, query: dict, base: str,
                   path: str) -> dict:
    items = [m for m in box.messages.values() if folder is None or m["parentFolderId"] == folder]
    wanted = query.get("$filter", "")
    if wanted.startswith("singleValueExtendedProperties"):
        items = [m for m in items if _key_match(m, query)]
    elif wanted.startswith("internetMessageId eq "):
        value = _unquote(re.fullmatch(r"internetMessageId eq '((?:[^']|'')*)'", wanted).group(1))
        items = [m for m in items if m.get("internetMessageId") == value]
    elif wanted:
        match = _MAIL_FILTER.match(wanted)
        if not match:
            raise GraphError(400, "BadRequest", f"fake: unsupported $filter {wanted!r}")
        since = _parse_instant(match.group(1))
        sender = _unquote(match.group(2))
        items = [m for m in items if _parse_instant(m["receivedDateTime"]) >= since
                 and (sender is None or (m.get("from") or {}).get("emailAddress", {})
                      .get("address", "").lower() == sender.lower())]
    if query.get("$orderby", "").startswith("receivedDateTime"):
        items.sort(key=lambda m: m["receivedDateTime"],
                   reverse=query["$orderby"].endswith("desc"))
    shown = [_select(_message_json(m), query) for m in items]
    return _page(box, shown, int(query.get("$top", DEFAULT_PAGE)), base, path, {})
