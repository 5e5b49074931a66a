"""``type = "google"``: Google Calendar through the Calendar API v3.

Reading: ``events.list`` with ``singleEvents=true`` over the scan window,
then incremental with the ``nextSyncToken`` of the previous scan: an idle
poll costs one request per calendar. Google refuses a sync token together
with ``timeMin``/``timeMax``, so incremental results are filtered to the
window here, and a cache of the window's events (in the connector's state
file) lets an incremental scan deliver every occurrence of a changed UID, as
``ScanResult`` asks. A 410 ``fullSyncRequired`` becomes ``SyncTokenExpired``.
Reference: https://developers.google.com/calendar/api/guides/sync and
https://developers.google.com/calendar/api/v3/reference/events/list
(``items[]`` are Event resources; ``nextPageToken``/``nextSyncToken``).

Writing, least privilege: follow-ups go into a calendar of their own
("Interview follow-ups", created by the connector: scope
``calendar.app.created``); ``write_to = "source"`` writes into the first
source calendar instead (scope ``calendar.events``). Each follow-up gets a
client-chosen id derived from its key (base32hex: lower-case a-v and 0-9,
5-1024 characters, https://developers.google.com/calendar/api/v3/reference/events/insert)
and carries the key in ``extendedProperties.private``; a 409 on insert means
it exists already. Updates and deletes carry the etag last seen in
``If-Match`` (412 → ``Conflict``;
https://developers.google.com/calendar/api/guides/version-resources).
Follow-ups never have attendees.
"""

from __future__ import annotations

import hashlib
import json
from datetime import datetime, timezone, tzinfo
from typing import Any

from daemon.connector import Calendar, Context, Option
from daemon.errors import (
    Conflict,
    ConnectorError,
    SyncTokenExpired,
    TransientError,
)
from daemon.interest import Interest
from daemon.model import (
    CalendarEvent,
    FollowupEvent,
    Problem,
    ScanResult,
    StoredItem,
)
from daemon.options import one_or_more, text

from . import state as statefile
from .account import GoogleAccount
from .auth import (
    AUTH_OPTIONS,
    CALENDAR_APP_SCOPE,
    CALENDAR_EVENTS_SCOPE,
    CALENDAR_READ_SCOPES,
    require_scopes,
)
from .events import (
    OWN_MARKER,
    event_id_for,
    followup_body,
    own_key,
    relevant,
    shows_body,
    stored_item,
    to_event,
    tz_name,
    uid_of,
)
from .retry import Ambiguous, ApiStatus, RetryPolicy

DEFAULT_TARGET = "Interview follow-ups"
PAGE_SIZE = 2500  # the largest page events.list allows
class GoogleCalendar(GoogleAccount, Calendar):
    """Google calendars scanned for interviews; follow-ups written into a
    calendar of their own (or the source calendar)."""

    API, STATE = ("calendar", "v3"), "calendar"
    options = {
        **AUTH_OPTIONS,
        "calendars": Option((str, list), default=["primary"], help=(
            "Calendars to scan: \"primary\", calendar ids, or calendar names as shown in "
            "Google Calendar."), check=one_or_more("a calendar name or id")),
        "write_to": Option(str, default=DEFAULT_TARGET, help=(
            "Name of the calendar the follow-ups go into; created if missing. \"source\" "
            "writes into the first scanned calendar instead (needs wider access)."),
            check=text('a calendar name or "source"')),
    }

    def __init__(self, name: str, config: dict[str, Any], context: Context, *,
                 credentials: Any = None, endpoint: str | None = None,
                 retry: RetryPolicy | None = None):
        super().__init__(name, config, context)
        wanted = config.get("calendars", ["primary"])
        self.wanted = [c.strip() for c in ([wanted] if isinstance(wanted, str) else wanted)]
        self.write_to = config.get("write_to", DEFAULT_TARGET).strip()
        self._connect_setup(context, config, self.scopes(), credentials, endpoint, retry)
        self._sources: list[tuple[str, str]] | None = None  # (as configured, calendar id)
        self._target: str | None = None

    def scopes(self) -> tuple[str, ...]:
        """The OAuth scopes this configuration needs, and no more."""
        write = CALENDAR_EVENTS_SCOPE if self.write_to == "source" else CALENDAR_APP_SCOPE
        return (*CALENDAR_READ_SCOPES, write)

    # -- plumbing -------------------------------------------------------------------

    def _state(self) -> dict[str, Any]:
        return statefile.load(self._state_path) or {}

    def _calendar_list(self) -> list[dict]:
        items: list[dict] = []
        page = None
        while True:
            answer = self._call(self._api("calendarList").list(pageToken=page),
                                "list calendars")
            items.extend(answer.get("items", []))
            page = answer.get("nextPageToken")
            if not page:
                return items

    def _resolve_sources(self, listing: list[dict] | None = None) -> list[tuple[str, str]]:
        """(configured name, calendar id) of every calendar to scan; names are
        looked up once per process with calendarList.list."""
        if self._sources is not None:
            return self._sources
        found = []
        for wanted in self.wanted:
            if wanted == "primary" or "@" in wanted:
                found.append((wanted, wanted))
                continue
            if listing is None:
                listing = self._calendar_list()
            matches = [c for c in listing if c.get("summary") == wanted
                       or c.get("summaryOverride") == wanted]
            if len(matches) != 1:
                names = ", ".join(sorted(repr(c.get("summary", "")) for c in listing))
                problem = "no calendar" if not matches else f"{len(matches)} calendars"
                raise ConnectorError(f"{self.name}: {problem} named {wanted!r} (calendars: "
                                     f"{names})")
            found.append((wanted, matches[0]["id"]))
        self._sources = found
        return found

    def _target_id(self, create: bool) -> str | None:
        """The id of the calendar follow-ups go into; created when ``create``
        and missing. None when it does not exist and ``create`` is false."""
        if self.write_to == "source":
            return self._resolve_sources()[0][1]
        if self._target:
            return self._target
        data = self._state()
        if data.get("target", {}).get("name") == self.write_to:
            self._target = data["target"]["id"]
            return self._target
        found = self._find_target(self._calendar_list())
        if found is None and create:
            body = {"summary": self.write_to,
                    "description": "Follow-ups written by interview-followup."}
            try:
                found = self._call(self._api("calendars").insert(body=body),
                                   f"create the calendar {self.write_to!r}", write=True)["id"]
            except Ambiguous:
                found = self._find_target(self._calendar_list())  # created after all?
                if found is None:
                    raise
        if found is not None:
            self._target = found
            data["target"] = {"name": self.write_to, "id": found}
            self._save(data)
        return found

    def _find_target(self, listing: list[dict]) -> str | None:
        owned = [c for c in listing if c.get("summary") == self.write_to
                 and c.get("accessRole") == "owner"]
        return owned[0]["id"] if owned else None

    # -- check ----------------------------------------------------------------------

    def check(self) -> str:
        """Find the calendars; e.g. "reads primary; follow-ups go to
        'Interview follow-ups' (created on the first write)"."""
        listing = self._calendar_list()
        require_scopes(self.name, self._login_used, self.scopes())
        sources = self._resolve_sources(listing)
        reads = ", ".join(name for name, _ in sources)
        if self.write_to == "source":
            return f"reads {reads}; follow-ups go to {sources[0][0]}"
        exists = self._target or self._find_target(listing)
        note = "" if exists else " (created on the first write)"
        return f"reads {reads}; follow-ups go to {self.write_to!r}{note}"

    # -- scanning -------------------------------------------------------------------

    def scan(self, start: datetime, end: datetime, tz: tzinfo,
             sync_token: str | None = None, interest: Interest | None = None) -> ScanResult:
        """Read the events overlapping [start, end); with the token of the
        previous scan over the same window only the changes are fetched."""
        # ``interest`` is not used: the API sends structured events: nothing to gain from skipping
        sources = self._resolve_sources()
        window = [start.astimezone(timezone.utc).isoformat(),
                  end.astimezone(timezone.utc).isoformat(), tz_name(tz)]
        data = self._state()
        cache = data.get("scan")
        if sync_token:
            if not isinstance(cache, dict) or cache.get("token") != sync_token:
                raise SyncTokenExpired(f"{self.name}: sync token not known here; full scan "
                                       "needed")
            same = cache.get("window") == window and list(cache.get("calendars", {})) == [
                cal_id for _, cal_id in sources]
            if same:
                return self._incremental(data, cache, start, end, tz)
        return self._full(data, sources, window, start, end, tz)

    def _list_all(self, what: str, **params: Any) -> tuple[list[dict], str | None]:
        items: list[dict] = []
        page = None
        while True:
            request = self._api("events").list(pageToken=page, maxResults=PAGE_SIZE, **params)
            answer = self._call(request, what, expect=(410,) if "syncToken" in params else ())
            items.extend(answer.get("items", []))
            page = answer.get("nextPageToken")
            if not page:
                return items, answer.get("nextSyncToken")

    def _full(self, data, sources, window, start, end, tz) -> ScanResult:
        calendars: dict[str, dict] = {}
        for label, cal_id in sources:
            items, token = self._list_all(
                f"list the events of {label}", calendarId=cal_id, singleEvents=True,
                timeMin=window[0], timeMax=window[1])
            calendars[cal_id] = {"label": label, "token": token, "items": {
                i["id"]: i for i in items if relevant(i, start, end, tz)}}
        return self._finish(data, window, calendars, None, start, end, tz)

    def _incremental(self, data, cache, start, end, tz) -> ScanResult:
        calendars = cache["calendars"]
        touched: set[str] = set()
        for cal_id, entry in calendars.items():
            if not entry.get("token"):
                raise SyncTokenExpired(f"{self.name}: no sync token for {entry['label']}")
            try:
                changes, token = self._list_all(
                    f"sync the events of {entry['label']}", calendarId=cal_id,
                    singleEvents=True, syncToken=entry["token"])
            except ApiStatus as exc:  # 410 fullSyncRequired
                raise SyncTokenExpired(f"{self.name}: Google wants a full scan of "
                                       f"{entry['label']} ({exc.reason})") from None
            items = entry["items"]
            for item in changes:
                old = items.pop(item.get("id", ""), None)
                if old is not None:
                    touched.add(uid_of(old))
                if relevant(item, start, end, tz):
                    items[item["id"]] = item
                    touched.add(uid_of(item))
            entry["token"] = token
        return self._finish(data, cache["window"], calendars, touched, start, end, tz)

    def _finish(self, data, window, calendars, touched, start, end, tz) -> ScanResult:
        """Map the cached items to events (all, or those of ``touched`` UIDs),
        save the cache and return the result with a token naming it."""
        events: list[CalendarEvent] = []
        problems: list[Problem] = []
        seen: set[tuple[str, datetime | None]] = set()
        present: set[str] = set()
        for entry in calendars.values():
            for item in entry["items"].values():
                uid = uid_of(item)
                present.add(uid)
                if touched is not None and uid not in touched:
                    continue
                try:
                    event = to_event(item, tz, self.context.user_addresses)
                except (KeyError, TypeError, ValueError) as exc:
                    problems.append(Problem(f"{entry['label']}/{item.get('id', '?')}",
                                            f"unreadable event ({exc.__class__.__name__})",
                                            uid=uid))
                    continue
                if (event.uid, event.recurrence_id) in seen:
                    continue  # the same event seen in two calendars
                seen.add((event.uid, event.recurrence_id))
                events.append(event)
        digest = hashlib.sha256(json.dumps(
            [window, [(c, e["token"]) for c, e in calendars.items()]]).encode()).hexdigest()
        token = f"g1.{digest[:40]}" if all(e["token"] for e in calendars.values()) else None
        data["scan"] = {"token": token, "window": window, "calendars": calendars}
        self._save(data)
        if touched is None:
            return ScanResult(events=events, problems=problems, sync_token=token, full=True,
                              total=len(present))
        return ScanResult(events=events, problems=problems, sync_token=token, full=False,
                          removed_uids=touched - present, total=len(present))

    # -- the daemon's own events ----------------------------------------------------

    def list_own(self) -> list[StoredItem]:
        """Every live follow-up in the target calendar."""
        target = self._target_id(create=False)
        if target is None:
            return []
        items, _ = self._list_all("list the follow-ups", calendarId=target,
                                  privateExtendedProperty=f"{OWN_MARKER}=1")
        return [stored_item(i) for i in items if i.get("status") != "cancelled" and own_key(i)]

    def find_own(self, key: str) -> StoredItem | None:
        """The follow-up with ``key`` (one events.get), or None."""
        target = self._target_id(create=False)
        if target is None:
            return None
        found = self._get(target, event_id_for(key))
        if found is None or found.get("status") == "cancelled" or own_key(found) != key:
            return None
        return stored_item(found)

    def _get(self, target: str, event_id: str) -> dict | None:
        try:
            return self._call(self._api("events").get(calendarId=target, eventId=event_id),
                              "read a follow-up", expect=(404, 410))
        except ApiStatus:
            return None

    def create_event(self, event: FollowupEvent) -> StoredItem:
        """Insert the follow-up under its key's id; if that id exists (409),
        return the existing follow-up. An unanswered insert is resolved by
        reading the id before anything is sent again."""
        target = self._target_id(create=True)
        assert target is not None
        body = followup_body(event)
        for _ in range(2):
            request = self._api("events").insert(calendarId=target, body=body,
                                                   sendUpdates="none")
            try:
                return stored_item(self._call(request, "write a follow-up", write=True,
                                        expect=(409, 403)))
            except ApiStatus as exc:
                if exc.status == 403:
                    hint = ("" if self.write_to == "source" else "; if you made that calendar "
                            "yourself, rename it so followup can create its own")
                    raise ConnectorError(f"{self.name}: Google refuses writes to the calendar "
                                         f"{self.write_to!r} ({exc.reason}){hint}") from None
                return self._existing(target, body, event)
            except Ambiguous:
                if self._get(target, body["id"]) is not None:
                    return self._existing(target, body, event)
                # certainly not written: sending once more is safe
        raise TransientError(f"{self.name}: the follow-up could not be written; will try again")

    def _existing(self, target: str, body: dict, event: FollowupEvent) -> StoredItem:
        found = self._get(target, body["id"])
        if found is None:
            raise TransientError(f"{self.name}: follow-up {body['id']} exists but cannot be "
                                 "read yet; will try again")
        if found.get("status") == "cancelled":
            # Deleted ids stay taken at Google (an insert answers 409): bring
            # the event back instead, saying so (an update leaves it cancelled)
            return self._replace(target, {**body, "status": "confirmed"}, found["etag"],
                                 "write a follow-up", revive=True)
        if own_key(found) != event.key:
            raise Conflict(f"{self.name}: event {body['id']} is not the follow-up "
                           f"{event.key!r}; left alone")
        return stored_item(found)

    def _replace(self, target: str, body: dict, etag: str, what: str, revive: bool = False) -> StoredItem:
        request = self._api("events").update(calendarId=target, eventId=body["id"],
                                               body=body, sendUpdates="none")
        request.headers["If-Match"] = etag
        try:
            return stored_item(self._call(request, what, write=True,
                                    expect=(412, 404, 410, 403) if revive else (412, 404, 410)))
        except ApiStatus as exc:
            if exc.status == 403:  # deleted in the web UI: Google will not bring it back
                raise Conflict(f"{self.name}: follow-up {body['id']} was deleted in Google Calendar "
                               "and cannot be brought back; it is not written again") from None
            raise Conflict(f"{self.name}: follow-up {body['id']} was changed meanwhile; "
                           "left alone") from None
        except Ambiguous:
            found = self._get(target, body["id"])
            if found is not None and found.get("etag") != etag and shows_body(found, body):
                return stored_item(found)  # our write arrived
            if found is not None and found.get("etag") == etag:
                raise  # not applied: the core tries again later
            raise Conflict(f"{self.name}: follow-up {body['id']} changed while it was being "
                           "written; left alone") from None

    def replace_event(self, item: StoredItem, event: FollowupEvent) -> StoredItem:
        """Replace the follow-up if its etag is still ``item.etag``."""
        body = followup_body(event)
        self._own_ref(item, body["id"])
        target = self._target_id(create=False)
        if target is None:
            raise Conflict(f"{self.name}: the calendar {self.write_to!r} is gone")
        return self._replace(target, body, item.etag, "update a follow-up")

    def delete_event(self, item: StoredItem) -> None:
        """Delete the follow-up if its etag is still ``item.etag``; nothing
        if it is gone already."""
        event_id = event_id_for(item.key)
        self._own_ref(item, event_id)
        target = self._target_id(create=False)
        if target is None:
            return
        for _ in range(2):
            request = self._api("events").delete(calendarId=target, eventId=event_id,
                                                   sendUpdates="none")
            request.headers["If-Match"] = item.etag
            try:
                self._call(request, "delete a follow-up", write=True, expect=(404, 410, 412))
                return
            except ApiStatus as exc:
                if exc.status in (404, 410):
                    return
                found = self._get(target, event_id)
                if found is None or found.get("status") == "cancelled":
                    return
                raise Conflict(f"{self.name}: follow-up {event_id} was changed by someone "
                               "else; left alone") from None
            except Ambiguous:
                found = self._get(target, event_id)
                if found is None or found.get("status") == "cancelled":
                    return
                if found.get("etag") != item.etag:
                    raise Conflict(f"{self.name}: follow-up {event_id} was changed; left "
                                   "alone") from None
        raise TransientError(f"{self.name}: the follow-up could not be deleted; will try again")

    def _own_ref(self, item: StoredItem, event_id: str) -> None:
        if item.ref != event_id:
            raise ConnectorError(f"{self.name}: {item.ref!r} is not the id of the follow-up "
                                 f"{item.key!r}; refusing to touch it")
