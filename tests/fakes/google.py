"""A small stateful stand-in for Google Calendar v3, Gmail v1 and the OAuth
token endpoint, on 127.0.0.1 and a free port.

It implements only what ``connectors.google`` uses, and it is strict about
that: every request is checked against the discovery documents shipped in
``googleapiclient`` (path and method, query parameter names, types, enums,
repetition, required parameters, global parameters), against the scopes of
the access token (including the ``calendar.app.created`` limit to
calendars the app created and Gmail's refusal of ``q`` and full/raw
formats for a token holding ``gmail.metadata``), and against Google's rule
that a ``syncToken`` cannot be combined with ``timeMin``/``timeMax``/
``orderBy``/``q``/``iCalUID``/``updatedMin``/extended-property filters.

Writes to an event that does not carry the daemon's private ``followup``
property, any attendees in a written event, deleting a draft without
``X-Followup-Key`` and any call to a send endpoint are refused and recorded
in ``violations``. ``log`` records every API request; ``fail`` queues
faults (an error status with a reason and ``Retry-After``, or a dropped
connection before or after the change was applied); the other public
methods play the user and other parties.
"""

from __future__ import annotations

import base64
import email.utils
import functools
import itertools
import json
import os
import re
import threading
from dataclasses import dataclass, field
from datetime import date, datetime, time, timezone
from email import policy
from email.parser import BytesParser
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit
from zoneinfo import ZoneInfo

import googleapiclient

_DOCS = os.path.join(os.path.dirname(googleapiclient.__file__), "discovery_cache", "documents")
CAL = "https://www.googleapis.com/auth/"
APP_CREATED = CAL + "calendar.app.created"
GMAIL_METADATA = "https://www.googleapis.com/auth/gmail.metadata"
SYNC_RESTRICTIONS = ("iCalUID", "orderBy", "privateExtendedProperty", "q",
                     "sharedExtendedProperty", "timeMin", "timeMax", "updatedMin")
EVENT_ID = re.compile(r"^[a-v0-9]{5,1024}$")
OWN_MARKER = "followup"


class ApiError(Exception):
    def __init__(self, status: int, reason: str, message: str = "", headers=None):
        super().__init__(message or reason)
        self.status, self.reason, self.message = status, reason, message or reason
        self.headers = headers or {}


@dataclass
class Fault:
    """A queued fault for requests of ``method`` (a discovery id like
    ``calendar.events.insert``, or ``token``)."""

    method: str
    status: int = 500
    reason: str = "backendError"
    retry_after: str | None = None
    drop: str | None = None  # "before" or "after" the change is applied
    times: int = 1


@dataclass
class Method:
    id: str
    http: str
    pattern: re.Pattern
    names: list[str]
    params: dict[str, dict]
    scopes: list[str]


@dataclass
class Calendar:
    id: str
    summary: str
    time_zone: str = "Europe/Berlin"
    app_created: bool = False
    primary: bool = False
    events: dict[str, dict] = field(default_factory=dict)
    changed: dict[str, int] = field(default_factory=dict)  # event id -> change number


@functools.lru_cache(maxsize=None)
def _load_methods(doc_name: str, prefix: str) -> tuple[dict, list[Method]]:
    with open(os.path.join(_DOCS, doc_name), encoding="utf-8") as handle:
        doc = json.load(handle)
    methods: list[Method] = []

    def walk(resources: dict) -> None:
        for resource in resources.values():
            for m in resource.get("methods", {}).values():
                names = re.findall(r"{\+?(\w+)}", m["path"])
                regex = re.sub(r"{\+?\w+}", "([^/]+)", re.escape(prefix + m["path"])
                               .replace(r"\{", "{").replace(r"\}", "}"))
                methods.append(Method(m["id"], m["httpMethod"], re.compile(f"^/{regex}$"), names,
                                      m.get("parameters", {}), m.get("scopes", [])))
            walk(resource.get("resources", {}))

    walk(doc["resources"])
    return doc.get("parameters", {}), methods


def _b64decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _headers_of(raw: bytes) -> list[dict[str, str]]:
    msg = BytesParser(policy=policy.compat32).parsebytes(raw, headersonly=True)
    return [{"name": k, "value": re.sub(r"\r?\n[ \t]", " ", str(v)).strip()}
            for k, v in msg.items()]


def _header(raw: bytes, name: str) -> str | None:
    for h in _headers_of(raw):
        if h["name"].lower() == name.lower():
            return h["value"]
    return None


class FakeGoogle:
    """The fake server. Use as a context manager or call ``close``."""

    def __init__(self, *, user: str = "alex@example.org", time_zone: str = "Europe/Berlin",
                 keep_message_id: bool = True):
        self.user = user
        #: Gmail keeps the client's Message-ID on drafts (undocumented: test both)
        self.keep_message_id = keep_message_id
        self.lock = threading.RLock()
        self.log: list[tuple[str, str, dict[str, list[str]]]] = []
        self.violations: list[str] = []
        self.faults: list[Fault] = []
        self._numbers = itertools.count(1000)
        self.change = 0
        self.sync_floor = 0  # sync tokens below this change number are expired
        self.calendars: dict[str, Calendar] = {}
        self.add_calendar(user, user, time_zone=time_zone, primary=True)
        self.grants: dict[str, list[str]] = {}  # refresh token -> scopes
        self.access: dict[str, list[str]] = {}  # access token -> scopes
        self.revoked: set[str] = set()
        self.web_deleted: set[tuple[str, str]] = set()  # (calendar, event id)
        self.codes: dict[str, list[str]] = {}  # authorization code -> scopes (the login flow)
        # Gmail
        self.messages: dict[str, dict] = {}
        self.drafts: dict[str, str] = {}  # draft id -> message id
        self.history: list[tuple[int, str, list[str]]] = []
        self.history_id = 5000
        self.history_floor = 0
        global_params_cal, cal_methods = _load_methods("calendar.v3.json", "calendar/v3/")
        global_params_mail, mail_methods = _load_methods("gmail.v1.json", "")
        self.global_params = {**global_params_cal, **global_params_mail}
        self.methods = cal_methods + mail_methods
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(self))
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever,
                                        kwargs={"poll_interval": 0.05}, daemon=True)
        self._thread.start()
        host, port = self._server.server_address[:2]
        self.url = f"http://{host}:{port}"
        self.calendar_endpoint = self.url + "/calendar/v3/"
        self.gmail_endpoint = self.url + "/"
        self.token_uri = self.url + "/token"

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    # -- helpers for tests: logins, faults, the log ---------------------------------

    def grant(self, refresh_token: str, scopes: list[str] | tuple[str, ...]) -> None:
        """Accept ``refresh_token`` at the token endpoint, for ``scopes``."""
        self.grants[refresh_token] = list(scopes)

    def revoke(self, refresh_token: str) -> None:
        """The user revoked access: the token endpoint answers invalid_grant."""
        self.revoked.add(refresh_token)
        self.access.clear()

    def fail(self, method: str, status: int = 500, reason: str = "backendError", *,
             retry_after: str | None = None, drop: str | None = None, times: int = 1) -> None:
        """Queue a fault for the next ``times`` requests of ``method``."""
        self.faults.append(Fault(method, status, reason, retry_after, drop, times))

    def count(self, method: str | None = None) -> int:
        """How many API requests (of ``method``) were received."""
        return sum(1 for m, _, _ in self.log if method is None or m == method)

    def methods_called(self) -> list[str]:
        return [m for m, _, _ in self.log]

    def expire_sync_tokens(self) -> None:
        """Make every sync token issued so far answer 410 fullSyncRequired."""
        with self.lock:
            self.change += 1
            self.sync_floor = self.change

    def expire_history(self) -> None:
        """Make every history id issued so far answer 404 on history.list."""
        with self.lock:
            self.history_floor = self.history_id

    # -- helpers for tests: calendars ----------------------------------------------

    def add_calendar(self, cal_id: str, summary: str, *, time_zone: str = "Europe/Berlin",
                     primary: bool = False, app_created: bool = False) -> Calendar:
        cal = Calendar(cal_id, summary, time_zone, app_created, primary)
        self.calendars[cal_id] = cal
        return cal

    def calendar(self, cal_id: str) -> Calendar:
        if cal_id == "primary":
            return next(c for c in self.calendars.values() if c.primary)
        try:
            return self.calendars[cal_id]
        except KeyError:
            raise ApiError(404, "notFound", "Not Found") from None

    def _touch(self, cal: Calendar, event: dict) -> dict:
        self.change += 1
        event["etag"] = f'"{next(self._numbers)}{self.change:06d}"'
        event["updated"] = datetime.now(timezone.utc).isoformat().replace("+00:00", "Z")
        cal.events[event["id"]] = event
        cal.changed[event["id"]] = self.change
        return event

    def put_event(self, cal_id: str, event: dict) -> dict:
        """Create or replace an event as its organizer would (a source event)."""
        with self.lock:
            cal = self.calendar(cal_id)
            event = json.loads(json.dumps(event))
            event.setdefault("kind", "calendar#event")
            event.setdefault("status", "confirmed")
            event.setdefault("eventType", "default")
            event.setdefault("iCalUID", f"{event['id']}@google.com")
            return self._touch(cal, event)

    def remove_event(self, cal_id: str, event_id: str, in_web_ui: bool = False) -> None:
        """Delete an event as its organizer or the user would. The id stays
        taken (an insert of it answers 409). An event deleted in the web UI
        cannot be brought back by an update either: Google answers 403
        (reported in google-api-python-client and Calendar API issue
        threads; not in the reference)."""
        with self.lock:
            cal = self.calendar(cal_id)
            old = cal.events[event_id]
            gone = {k: old[k] for k in ("kind", "id", "recurringEventId", "originalStartTime")
                    if k in old}
            gone["status"] = "cancelled"
            if in_web_ui:
                self.web_deleted.add((cal.id, event_id))
            self._touch(cal, gone)

    def edit_event(self, cal_id: str, event_id: str, change) -> dict:
        """Apply ``change(event)`` as the user would in a calendar app."""
        with self.lock:
            cal = self.calendar(cal_id)
            event = json.loads(json.dumps(cal.events[event_id]))
            change(event)
            return self._touch(cal, event)

    def own_events(self) -> list[tuple[str, dict]]:
        """(calendar id, event) of every live event with the daemon's marker."""
        return [(c.id, e) for c in self.calendars.values() for e in c.events.values()
                if e.get("status") != "cancelled" and _is_own(e)]

    # -- helpers for tests: Gmail ---------------------------------------------------

    def deliver(self, raw: bytes, received: datetime | None = None,
                labels: tuple[str, ...] = ("INBOX", "UNREAD")) -> str:
        """A message arrives (``received`` is its internalDate)."""
        when = received or datetime.now(timezone.utc)
        with self.lock:
            return self._add_message(raw, list(labels), int(when.timestamp() * 1000))

    def _add_message(self, raw: bytes, labels: list[str], internal_ms: int | None = None) -> str:
        self.history_id += 7
        msg_id = f"{next(self._numbers):x}msg"
        self.messages[msg_id] = {
            "id": msg_id, "threadId": msg_id, "labelIds": labels, "raw": raw,
            "historyId": str(self.history_id),
            "internalDate": str(internal_ms if internal_ms is not None
                                else int(datetime.now(timezone.utc).timestamp() * 1000)),
        }
        self.history.append((self.history_id, msg_id, labels))
        return msg_id

    def draft_ids_by_message_id(self, message_id: str) -> list[str]:
        return [d for d, m in self.drafts.items()
                if _header(self.messages[m]["raw"], "Message-ID") == message_id]

    def draft_raw(self, draft_id: str) -> bytes:
        return self.messages[self.drafts[draft_id]]["raw"]

    def user_edit_draft(self, draft_id: str, change) -> None:
        """The user edits the draft: Gmail stores a new message under the same
        draft id (``change(raw) -> raw``)."""
        with self.lock:
            old = self.drafts[draft_id]
            raw = change(self.messages[old]["raw"])
            del self.messages[old]
            self.drafts[draft_id] = self._add_message(raw, ["DRAFT"])

    def user_delete_draft(self, draft_id: str) -> None:
        with self.lock:
            del self.messages[self.drafts.pop(draft_id)]

    # -- request handling -----------------------------------------------------------

    def handle(self, verb: str, raw_path: str, headers: dict[str, str], body: bytes):
        """(status, headers, body dict or None) for one request, or "drop"."""
        parts = urlsplit(raw_path)
        if parts.path == "/token":
            return self._token(verb, body)
        query = parse_qs(parts.query, keep_blank_values=True)
        with self.lock:
            try:
                method, args = self._route(verb, parts.path)
                self.log.append((method.id, verb, query))
                self._validate(method, query)
                self._authorize(method, headers, query, args)
                fault = self._take_fault(method.id)
                if fault is not None and fault.drop == "before":
                    return "drop"
                if fault is not None and fault.drop is None:
                    extra = {"Retry-After": fault.retry_after} if fault.retry_after else {}
                    raise ApiError(fault.status, fault.reason, headers=extra)
                payload = json.loads(body) if body else None
                handler = getattr(self, "_" + method.id.replace(".", "_"), None)
                if handler is None:
                    raise ApiError(501, "notImplemented", f"the fake has no {method.id}")
                status, result = handler(args, query, headers, payload)
                if fault is not None:  # dropped after the change was applied
                    return "drop"
                return status, {}, result
            except ApiError as exc:
                return exc.status, exc.headers, {"error": {
                    "code": exc.status, "message": exc.message,
                    "errors": [{"domain": "global", "reason": exc.reason,
                                "message": exc.message}]}}

    def _take_fault(self, method_id: str) -> Fault | None:
        for fault in self.faults:
            if fault.method == method_id:
                fault.times -= 1
                if fault.times <= 0:
                    self.faults.remove(fault)
                return fault
        return None

    def _route(self, verb: str, path: str) -> tuple[Method, dict[str, str]]:
        for m in self.methods:
            match = m.pattern.match(path)
            if match and m.http == verb:
                return m, {n: unquote(v) for n, v in zip(m.names, match.groups())}
        self.log.append(("?", verb, {"path": [path]}))
        raise ApiError(404, "notFound", f"no such method: {verb} {path}")

    def _validate(self, method: Method, query: dict[str, list[str]]) -> None:
        for name, values in query.items():
            spec = method.params.get(name)
            if spec is None or spec.get("location") != "query":
                spec = self.global_params.get(name)
            if spec is None:
                raise ApiError(400, "badRequest", f"unknown parameter {name!r} for {method.id}")
            if len(values) > 1 and not spec.get("repeated"):
                raise ApiError(400, "badRequest", f"{name} given {len(values)} times")
            for value in values:
                kind = spec.get("type")
                if kind == "boolean" and value not in ("true", "false"):
                    raise ApiError(400, "badRequest", f"{name} must be true or false")
                if kind == "integer" and not re.fullmatch(r"-?\d+", value):
                    raise ApiError(400, "badRequest", f"{name} must be an integer")
                if "enum" in spec and value not in spec["enum"]:
                    raise ApiError(400, "badRequest", f"{name}={value!r} is not allowed")
        for name, spec in method.params.items():
            if spec.get("required") and spec.get("location") == "query" and name not in query:
                raise ApiError(400, "required", f"{name} is required")
        if "syncToken" in query:
            clash = [p for p in SYNC_RESTRICTIONS if p in query]
            if clash or query.get("showDeleted") == ["false"]:
                raise ApiError(400, "invalid", "Sync token cannot be used with other request "
                               f"restrictions: {', '.join(clash) or 'showDeleted'}")

    def _authorize(self, method: Method, headers: dict[str, str], query, args) -> None:
        auth = headers.get("authorization", "")
        scopes = self.access.get(auth.removeprefix("Bearer ").strip())
        if not auth.startswith("Bearer ") or scopes is None:
            raise ApiError(401, "authError", "Invalid Credentials")
        allowed = [s for s in method.scopes if s in scopes]
        if not allowed:
            raise ApiError(403, "insufficientPermissions",
                           "Request had insufficient authentication scopes.")
        if allowed == [APP_CREATED] and "calendarId" in args:
            if not self.calendar(args["calendarId"]).app_created:
                raise ApiError(403, "forbidden", "calendar.app.created only reaches "
                               "calendars the app created")
        if method.id.startswith("gmail.") and GMAIL_METADATA in scopes:
            if "q" in query:
                raise ApiError(403, "forbidden", "Metadata scope does not support 'q' parameter")
            if query.get("format", ["full"])[0] in ("full", "raw") and method.id in (
                    "gmail.users.messages.get", "gmail.users.drafts.get"):
                raise ApiError(403, "forbidden", "Metadata scope doesn't allow format FULL")

    def _token(self, verb: str, body: bytes):
        with self.lock:
            self.log.append(("token", verb, {}))
            form = parse_qs(body.decode())
            fault = self._take_fault("token")
            if fault is not None:
                return fault.status, {}, {"error": fault.reason}
            code = form.get("code", [""])[0]
            if form.get("grant_type") == ["authorization_code"] and code in self.codes:
                refresh = f"refresh-from-{code}"
                self.grants[refresh] = self.codes.pop(code)  # a code is good once
                access = f"at-{next(self._numbers)}"
                self.access[access] = self.grants[refresh]
                return 200, {}, {"access_token": access, "refresh_token": refresh, "expires_in": 3599,
                                 "token_type": "Bearer", "scope": " ".join(self.grants[refresh])}
            refresh = form.get("refresh_token", [""])[0]
            if form.get("grant_type") != ["refresh_token"] or refresh not in self.grants \
                    or refresh in self.revoked:
                return 400, {}, {"error": "invalid_grant",
                                 "error_description": "Token has been expired or revoked."}
            asked = form.get("scope", [""])[0].split()
            if set(asked) - set(self.grants[refresh]):  # RFC 6749 section 6: no more than granted
                return 400, {}, {"error": "invalid_scope",
                                 "error_description": "Some requested scopes were invalid."}
            access = f"at-{next(self._numbers)}"
            self.access[access] = self.grants[refresh]
            return 200, {}, {"access_token": access, "expires_in": 3599, "token_type": "Bearer",
                             "scope": " ".join(self.grants[refresh])}

    # -- Calendar v3 ----------------------------------------------------------------

    def _calendar_calendarList_list(self, args, query, headers, body):
        items = [{"kind": "calendar#calendarListEntry", "id": c.id, "summary": c.summary,
                  "timeZone": c.time_zone, "accessRole": "owner",
                  **({"primary": True} if c.primary else {})} for c in self.calendars.values()]
        return 200, {"kind": "calendar#calendarList", "items": items}

    def _calendar_calendars_insert(self, args, query, headers, body):
        cal_id = f"c{next(self._numbers)}@group.calendar.google.com"
        cal = self.add_calendar(cal_id, body["summary"], time_zone=body.get("timeZone", "UTC"),
                                app_created=True)
        return 200, {"kind": "calendar#calendar", "id": cal.id, "summary": cal.summary,
                     "timeZone": cal.time_zone}

    def _calendar_events_list(self, args, query, headers, body):
        cal = self.calendar(args["calendarId"])
        one = {k: v[0] for k, v in query.items()}
        single = one.get("singleEvents") == "true"
        if "syncToken" in one:
            token = one["syncToken"]
            m = re.fullmatch(r"sync\.(\d+)", token)
            if not m or int(m.group(1)) < self.sync_floor:
                raise ApiError(410, "fullSyncRequired", "Sync token is no longer valid, a full "
                               "sync is required.")
            since = int(m.group(1))
            items = [e for i, e in cal.events.items() if cal.changed[i] > since]
        else:
            items = [e for e in cal.events.values()
                     if e.get("status") != "cancelled" or one.get("showDeleted") == "true"]
            if "timeMin" in one or "timeMax" in one:
                low = _instant(one.get("timeMin"))
                high = _instant(one.get("timeMax"))
                items = [e for e in items if e.get("status") == "cancelled"
                         or _overlaps(e, cal.time_zone, low, high)]
            if "privateExtendedProperty" in one:
                name, _, value = one["privateExtendedProperty"].partition("=")
                items = [e for e in items
                         if e.get("extendedProperties", {}).get("private", {}).get(name) == value]
            if "iCalUID" in one:
                items = [e for e in items if e.get("iCalUID") == one["iCalUID"]]
        if single:
            items = [e for e in items if "recurrence" not in e]
        else:
            items = [e for e in items if "recurringEventId" not in e]
        items.sort(key=lambda e: cal.changed[e["id"]])
        size = int(one.get("maxResults", "250"))
        start = int(one["pageToken"].removeprefix("page.")) if "pageToken" in one else 0
        page = items[start:start + size]
        result: dict[str, Any] = {"kind": "calendar#events", "summary": cal.summary,
                                  "timeZone": cal.time_zone, "items": page}
        if start + size < len(items):
            result["nextPageToken"] = f"page.{start + size}"
        elif not any(k in one for k in ("privateExtendedProperty", "iCalUID", "q")):
            result["nextSyncToken"] = f"sync.{self.change}"
        return 200, result

    def _calendar_events_get(self, args, query, headers, body):
        cal = self.calendar(args["calendarId"])
        event = cal.events.get(args["eventId"])
        if event is None:
            raise ApiError(404, "notFound", "Not Found")
        return 200, event

    def _check_own_write(self, event: dict | None, body: dict | None, what: str) -> None:
        if event is not None and not _is_own(event) and event.get("status") != "cancelled":
            self.violations.append(f"{what} of a foreign event {event['id']}")
            raise ApiError(403, "forbidden", "refused: not one of the daemon's events")
        if body is not None and body.get("attendees"):
            self.violations.append(f"{what} with attendees")
            raise ApiError(400, "badRequest", "refused: the daemon never invites anybody")

    def _if_match(self, event: dict, headers: dict[str, str]) -> None:
        wanted = headers.get("if-match")
        if wanted is not None and wanted != event.get("etag"):
            raise ApiError(412, "conditionNotMet", "Precondition Failed")

    def _calendar_events_insert(self, args, query, headers, body):
        cal = self.calendar(args["calendarId"])
        self._check_own_write(None, body, "insert")
        event_id = body.get("id") or f"{next(self._numbers)}auto"
        if not EVENT_ID.match(event_id):
            raise ApiError(400, "invalid", "Invalid resource id value.")
        if event_id in cal.events:
            raise ApiError(409, "duplicate", "The requested identifier already exists.")
        event = {**body, "kind": "calendar#event", "id": event_id,
                 "status": body.get("status", "confirmed"), "eventType": "default",
                 "iCalUID": f"{event_id}@google.com",
                 "organizer": {"email": cal.id, "displayName": cal.summary, "self": True},
                 "creator": {"email": self.user, "self": True}}
        return 200, self._touch(cal, event)

    def _calendar_events_update(self, args, query, headers, body):
        cal = self.calendar(args["calendarId"])
        old = cal.events.get(args["eventId"])
        if old is None:
            raise ApiError(404, "notFound", "Not Found")
        self._check_own_write(old, body, "update")
        self._if_match(old, headers)
        if (cal.id, old["id"]) in self.web_deleted:
            raise ApiError(403, "forbidden", "Forbidden")
        # a cancelled event stays cancelled unless the update says otherwise
        event = {**body, "kind": "calendar#event", "id": old["id"],
                 "status": body.get("status", old.get("status", "confirmed")), "eventType": "default",
                 "iCalUID": old.get("iCalUID", f"{old['id']}@google.com"),
                 "organizer": {"email": cal.id, "displayName": cal.summary, "self": True},
                 "creator": {"email": self.user, "self": True}}
        return 200, self._touch(cal, event)

    def _calendar_events_delete(self, args, query, headers, body):
        cal = self.calendar(args["calendarId"])
        old = cal.events.get(args["eventId"])
        if old is None:
            raise ApiError(404, "notFound", "Not Found")
        if old.get("status") == "cancelled":
            raise ApiError(410, "deleted", "Resource has been deleted")
        self._check_own_write(old, None, "delete")
        self._if_match(old, headers)
        self.remove_event(cal.id, old["id"])
        return 204, None

    # -- Gmail v1 -------------------------------------------------------------------

    def _gmail_users_getProfile(self, args, query, headers, body):
        return 200, {"emailAddress": self.user, "messagesTotal": len(self.messages),
                     "threadsTotal": len(self.messages), "historyId": str(self.history_id)}

    def _message(self, msg_id: str, fmt: str, wanted: list[str] | None = None) -> dict:
        msg = self.messages.get(msg_id)
        if msg is None:
            raise ApiError(404, "notFound", "Requested entity was not found.")
        out = {k: msg[k] for k in ("id", "threadId", "labelIds", "historyId", "internalDate")}
        if fmt == "metadata":
            found = _headers_of(msg["raw"])
            if wanted:
                low = {w.lower() for w in wanted}
                found = [h for h in found if h["name"].lower() in low]
            out["payload"] = {"mimeType": "text/plain", "headers": found}
        elif fmt == "raw":
            out["raw"] = base64.urlsafe_b64encode(msg["raw"]).decode()
        return out

    def _gmail_users_drafts_create(self, args, query, headers, body):
        raw = _b64decode(body["message"]["raw"])
        if not self.keep_message_id:  # the variant where Gmail assigns its own
            raw = re.sub(rb"(?im)^Message-ID:[^\r\n]*(\r?\n[ \t][^\r\n]*)*",
                         f"Message-ID: <gen{next(self._numbers)}@mail.gmail.com>".encode(),
                         raw, count=1)
        msg_id = self._add_message(raw, ["DRAFT"])
        draft_id = f"r{next(self._numbers)}"
        self.drafts[draft_id] = msg_id
        return 200, {"id": draft_id, "message": self._message(msg_id, "minimal")}

    def _gmail_users_drafts_get(self, args, query, headers, body):
        msg_id = self.drafts.get(args["id"])
        if msg_id is None:
            raise ApiError(404, "notFound", "Requested entity was not found.")
        fmt = query.get("format", ["full"])[0]
        return 200, {"id": args["id"], "message": self._message(msg_id, fmt)}

    def _gmail_users_drafts_list(self, args, query, headers, body):
        ids = sorted(self.drafts, key=lambda d: int(self.messages[self.drafts[d]]["historyId"]),
                     reverse=True)
        if "q" in query:
            m = re.fullmatch(r"rfc822msgid:(\S+)", query["q"][0])
            ids = [d for d in ids if m and (_header(self.draft_raw(d), "Message-ID") or "")
                   .strip("<>") == m.group(1).strip("<>")]
        size = int(query.get("maxResults", ["100"])[0])
        start = int(query["pageToken"][0]) if "pageToken" in query else 0
        page = ids[start:start + size]
        out: dict[str, Any] = {"drafts": [{"id": d, "message": {
            "id": self.drafts[d], "threadId": self.drafts[d]}} for d in page],
            "resultSizeEstimate": len(ids)}
        if start + size < len(ids):
            out["nextPageToken"] = str(start + size)
        if not page:
            del out["drafts"]
        return 200, out

    def _gmail_users_drafts_delete(self, args, query, headers, body):
        msg_id = self.drafts.get(args["id"])
        if msg_id is None:
            raise ApiError(404, "notFound", "Requested entity was not found.")
        if _header(self.messages[msg_id]["raw"], "X-Followup-Key") is None:
            self.violations.append(f"delete of the user's own draft {args['id']}")
        self.user_delete_draft(args["id"])
        return 204, None

    def _gmail_users_drafts_send(self, args, query, headers, body):
        self.violations.append("drafts.send called")
        raise ApiError(403, "forbidden", "refused: the daemon never sends")

    def _gmail_users_messages_send(self, args, query, headers, body):
        self.violations.append("messages.send called")
        raise ApiError(403, "forbidden", "refused: the daemon never sends")

    def _gmail_users_messages_list(self, args, query, headers, body):
        ids = sorted(self.messages, key=lambda i: int(self.messages[i]["internalDate"]),
                     reverse=True)
        for label in query.get("labelIds", []):
            ids = [i for i in ids if label in self.messages[i]["labelIds"]]
        size = int(query.get("maxResults", ["100"])[0])
        start = int(query["pageToken"][0]) if "pageToken" in query else 0
        page = ids[start:start + size]
        out: dict[str, Any] = {"resultSizeEstimate": len(ids)}
        if page:
            out["messages"] = [{"id": i, "threadId": self.messages[i]["threadId"]} for i in page]
        if start + size < len(ids):
            out["nextPageToken"] = str(start + size)
        return 200, out

    def _gmail_users_messages_get(self, args, query, headers, body):
        fmt = query.get("format", ["full"])[0]
        return 200, self._message(args["id"], fmt, query.get("metadataHeaders"))

    def _gmail_users_history_list(self, args, query, headers, body):
        start = int(query.get("startHistoryId", ["0"])[0])
        if start < self.history_floor:
            raise ApiError(404, "notFound", "Requested entity was not found.")
        types = query.get("historyTypes")
        records = []
        for hid, msg_id, labels in self.history:
            if hid <= start or (types and "messageAdded" not in types):
                continue
            label = query.get("labelId", [None])[0]
            if label and label not in labels:
                continue
            ref = {"id": msg_id, "threadId": msg_id, "labelIds": labels}
            records.append({"id": str(hid), "messages": [ref], "messagesAdded": [{"message": ref}]})
        out: dict[str, Any] = {"historyId": str(self.history_id)}
        if records:
            out["history"] = records
        return 200, out


def _is_own(event: dict) -> bool:
    return OWN_MARKER in event.get("extendedProperties", {}).get("private", {})


def _instant(text: str | None) -> datetime | None:
    if text is None:
        return None
    value = datetime.fromisoformat(text.replace("Z", "+00:00"))
    if value.tzinfo is None:
        raise ApiError(400, "badRequest", "timeMin/timeMax need a time zone offset")
    return value


def _when(part: dict, tz: str) -> datetime:
    if "dateTime" in part:
        return datetime.fromisoformat(part["dateTime"].replace("Z", "+00:00"))
    return datetime.combine(date.fromisoformat(part["date"]), time(0), ZoneInfo(tz))


def _overlaps(event: dict, tz: str, low: datetime | None, high: datetime | None) -> bool:
    start, end = _when(event["start"], tz), _when(event["end"], tz)
    return (low is None or end > low) and (high is None or start < high)


def _handler(fake: FakeGoogle):
    class Handler(BaseHTTPRequestHandler):
        def _serve(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            headers = {k.lower(): v for k, v in self.headers.items()}
            result = fake.handle(self.command, self.path, headers, body)
            if result == "drop":
                self.close_connection = True
                self.wfile.flush()
                return
            status, extra, payload = result
            data = json.dumps(payload).encode() if payload is not None else b""
            self.send_response(status)
            for name, value in extra.items():
                self.send_header(name, value)
            if data:
                self.send_header("Content-Type", "application/json; charset=UTF-8")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _serve

        def log_message(self, *args) -> None:
            pass

    return Handler


def message_date(raw: bytes) -> datetime | None:
    value = _header(raw, "Date")
    return email.utils.parsedate_to_datetime(value) if value else None
