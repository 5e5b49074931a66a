"""``type = "outlook"`` calendars: an Outlook / Microsoft 365 calendar
through Microsoft Graph.

Scanning uses delta queries on the calendar view
(https://learn.microsoft.com/graph/delta-query-events and
https://learn.microsoft.com/graph/api/event-delta): the first round
``GET /me/calendarView/delta?startDateTime=..&endDateTime=..`` follows
``@odata.nextLink`` to the ``@odata.deltaLink``; later scans GET that
link, one request when nothing changed. Entries with ``@removed`` are
deletions; 410 / ``syncStateNotFound`` means the round is over. The
window is part of the round, so another window starts a new round.

The sync token handed to the core holds the whole deltaLink, the window
and the map event id -> uid (compressed), needed to turn a removed id into
a removed uid and to deliver every occurrence of a changed series.

Follow-ups go into a calendar of their own ("Interview follow-ups",
created on the first write) unless ``write_to = "source"``. Each carries
the key in a single-value extended property and a ``transactionId``
derived from it; updates and deletes pass the ``changeKey`` last seen as
``If-Match`` (412 -> ``Conflict``) and only ever address the daemon's own
events.
"""

from __future__ import annotations

import base64
import json
import zlib
from collections.abc import Callable
from datetime import datetime, timezone, tzinfo
from typing import Any

from daemon.connector import Calendar, Context, Option
from daemon.errors import AuthError, Conflict, ConnectorError, SyncTokenExpired, TransientError
from daemon.interest import Interest
from daemon.model import CalendarEvent, FollowupEvent, Problem, ScanResult, StoredItem
from daemon.options import text

from .account import (
    KEY_EXPAND,
    OPTIONS,
    PREFER,
    GraphAccount,
    key_filter,
    key_of,
    own_properties,
    parse_instant,
    transaction_id,
    utc_text,
)
from .events import BadEvent, series_master, series_uid, to_event, zone
from .graph import NotFound, create_once, etag_header

DEFAULT_WRITE_TO = "Interview follow-ups"
_TOKEN_PREFIX = "graph1."
OWN_SELECT = "id,subject,start,end,changeKey,transactionId"


def _encode_token(state: dict) -> str:
    raw = zlib.compress(json.dumps(state, separators=(",", ":")).encode("utf-8"), 9)
    return _TOKEN_PREFIX + base64.urlsafe_b64encode(raw).decode("ascii")


def _decode_token(token: str) -> dict | None:
    """The state in a token of ours, or None for anything else."""
    if not token.startswith(_TOKEN_PREFIX):
        return None
    try:
        state = json.loads(zlib.decompress(base64.urlsafe_b64decode(token[len(_TOKEN_PREFIX):])))
    except (ValueError, zlib.error, TypeError):
        return None
    if not (isinstance(state, dict) and isinstance(state.get("link"), str)
            and isinstance(state.get("ids"), dict) and isinstance(state.get("window"), list)):
        return None
    return state


def _is_own(data: dict) -> bool:
    """True for the daemon's follow-ups (only met with write_to = "source")."""
    return str(data.get("transactionId") or "").startswith("followup-")


class OutlookCalendar(GraphAccount, Calendar):
    """An Outlook calendar read with delta queries, follow-ups written
    into a calendar of their own."""

    options = {
        **OPTIONS,
        "calendar": Option(str, default=None, help=(
            "Name of the calendar to scan. Default: the account's main calendar.")),
        "write_to": Option(str, default=DEFAULT_WRITE_TO, help=(
            "Name of the calendar the follow-up events go to, created when "
            "missing; \"source\" writes them into the scanned calendar."),
            check=text('a calendar name or "source"')),
    }
    #: events per page of a delta response (Prefer: odata.maxpagesize)
    page_size = 100

    def __init__(self, name: str, config: dict[str, Any], context: Context, *,
                 token: Callable[[], str] | None = None, session: Any = None,
                 sleep: Callable[[float], None] | None = None):
        super().__init__(name, config, context)
        self.write_to = config.get("write_to", DEFAULT_WRITE_TO).strip()
        self.calendar_name = (config.get("calendar") or "").strip() or None
        self._setup_graph(token, session, sleep, PREFER)
        self._calendar_ids: dict[str, str] = {}

    # -- calendars --------------------------------------------------------------

    def _calendar_id(self, name: str, create: bool = False) -> str | None:
        """The id of the calendar called ``name``; created if ``create``."""
        if name in self._calendar_ids:
            return self._calendar_ids[name]
        for cal in self.graph.pages("me/calendars", {"$select": "id,name"}):
            if cal.get("name") == name and isinstance(cal.get("id"), str):
                self._calendar_ids[name] = cal["id"]
                return cal["id"]
        if not create:
            return None
        try:
            made = self.graph.request("POST", "me/calendars", body={"name": name}).json()
        except ConnectorError as exc:
            # 409: made meanwhile by another run; read it back.
            if "409" not in str(exc):
                raise
            self._calendar_ids.pop(name, None)
            return self._calendar_id(name, create=False)
        self._calendar_ids[name] = made["id"]
        return made["id"]

    def _source_path(self) -> str:
        if self.calendar_name is None:
            return "me"
        cal_id = self._calendar_id(self.calendar_name)
        if cal_id is None:
            raise ConnectorError(f"calendar {self.name!r}: there is no calendar named "
                                 f"{self.calendar_name!r} in this account")
        return f"me/calendars/{cal_id}"

    def _target_path(self, create: bool) -> str | None:
        """Where follow-ups live (None: their calendar does not exist yet)."""
        if self.write_to.lower() == "source":
            return self._source_path()
        cal_id = self._calendar_id(self.write_to, create=create)
        return f"me/calendars/{cal_id}" if cal_id else None

    def check(self) -> str:
        """Reach the account and name the calendars read and written."""
        source = self.calendar_name or "main calendar"
        self._source_path()
        self.list_own()  # a request, so the token (and its permissions) is known
        self.require_scopes()
        target = self.write_to if self.write_to.lower() != "source" else source
        count = len(self.list_own())
        return (f"scans {source}, follow-ups go to {target} "
                f"({count} follow-up{'' if count == 1 else 's'})")

    # -- scanning -----------------------------------------------------------------

    def _window(self, start: datetime, end: datetime, tz: tzinfo) -> list[str]:
        return [utc_text(start), utc_text(end), getattr(tz, "key", None) or str(tz),
                self.calendar_name or ""]

    def scan(self, start: datetime, end: datetime, tz: tzinfo,
             sync_token: str | None = None, interest: Interest | None = None) -> ScanResult:
        """Events overlapping [start, end): a full delta round, or with a
        token of the same window the changes since (``full=False``).
        Raises ``SyncTokenExpired`` when Graph ended the round."""
        # ``interest`` is not used: Graph sends structured events: nothing to gain from skipping
        window = self._window(start, end, tz)
        state = _decode_token(sync_token) if sync_token else None
        if state is not None and state["window"] == window:
            return self._incremental(state, tz)
        return self._full(window, tz)

    def _delta(self, first: str, params: dict | None) -> tuple[dict[str, dict], set[str], str]:
        """Run delta pages from ``first``: (changed by id, removed ids, deltaLink)."""
        headers = {"Prefer": ", ".join((*PREFER, f"odata.maxpagesize={self.page_size}"))}
        changed: dict[str, dict] = {}
        removed: set[str] = set()
        url, query = first, params
        while True:
            data = self.graph.request("GET", url, params=query, headers=headers).json()
            for item in data.get("value") or []:
                if not isinstance(item, dict) or not isinstance(item.get("id"), str):
                    continue
                if "@removed" in item:
                    removed.add(item["id"])
                    changed.pop(item["id"], None)
                else:
                    changed[item["id"]] = item
                    removed.discard(item["id"])
            if data.get("@odata.nextLink"):
                url, query = data["@odata.nextLink"], None
            elif data.get("@odata.deltaLink"):
                return changed, removed, data["@odata.deltaLink"]
            else:
                raise ConnectorError(f"calendar {self.name!r}: delta response without "
                                     "@odata.nextLink or @odata.deltaLink")

    def _uid(self, data: dict, masters: dict[str, str]) -> str:
        """The UID of a source event: an occurrence's is its series
        master's ``iCalUId`` (v1.0 gives every occurrence an ``iCalUId`` of
        its own, and calendarView never lists the master), asked once per
        series and kept in ``masters``."""
        master = series_master(data)
        if master is None or (isinstance(data.get("uid"), str) and data["uid"]):
            return series_uid(data)
        if master not in masters:
            try:
                found = self.graph.get(f"me/events/{master}", **{"$select": "iCalUId"})
                masters[master] = series_uid(found)
            except (NotFound, BadEvent):
                masters[master] = f"series-{master}"
        return masters[master]

    def _read(self, items: dict[str, dict], tz: tzinfo, ids: dict[str, str],
              problems: list[Problem], masters: dict[str, str]) -> list[CalendarEvent]:
        """Convert source events; record their id -> uid in ``ids``."""
        events = []
        for event_id, data in items.items():
            if _is_own(data) or data.get("type") == "seriesMaster":
                continue
            try:
                uid = self._uid(data, masters)
            except BadEvent as exc:
                problems.append(Problem(f"{self.name}: event {event_id}", str(exc)))
                continue
            ids[event_id] = uid
            try:
                events.append(to_event(data, tz, self.context.user_addresses, uid))
            except (BadEvent, ValueError, TypeError) as exc:
                problems.append(Problem(f"{self.name}: event {event_id}", str(exc), uid=uid))
        return events

    def _full(self, window: list[str], tz: tzinfo) -> ScanResult:
        path = self._source_path()
        try:
            changed, _, link = self._delta(f"{path}/calendarView/delta",
                                           {"startDateTime": window[0], "endDateTime": window[1]})
        except (AuthError, SyncTokenExpired, TransientError):
            raise
        except ConnectorError as exc:
            if self.calendar_name is None:
                raise
            # calendarView/delta is documented for the main calendar only
            # (https://learn.microsoft.com/graph/api/event-delta)
            raise ConnectorError(
                f"calendar {self.name!r}: Graph does not track changes of the calendar "
                f"{self.calendar_name!r} ({exc}); calendarView/delta is documented for the main "
                "calendar only. Leave out 'calendar' to scan the main calendar, or move the "
                "interviews there") from None
        ids: dict[str, str] = {}
        masters: dict[str, str] = {}
        problems: list[Problem] = []
        events = self._read(changed, tz, ids, problems, masters)
        return ScanResult(events=events, problems=problems, full=True,
                          total=len(set(ids.values())),
                          sync_token=_encode_token({"window": window, "link": link, "ids": ids,
                                                    "masters": masters}))

    def _incremental(self, state: dict, tz: tzinfo) -> ScanResult:
        changed, removed, link = self._delta(state["link"], None)
        ids: dict[str, str] = dict(state["ids"])
        if not changed and not removed:
            return ScanResult(full=False, sync_token=_encode_token({**state, "link": link}))
        touched = {ids[i] for i in removed | set(changed) if i in ids}
        for event_id in removed:
            ids.pop(event_id, None)
        for event_id in changed:
            ids.pop(event_id, None)  # re-added by _read if still a source event
        problems: list[Problem] = []
        masters: dict[str, str] = dict(state.get("masters") or {})
        events = self._read(changed, tz, ids, problems, masters)
        touched |= {e.uid for e in events}
        # The core wants every occurrence of a changed uid: fetch the
        # unchanged siblings one by one (only when a series changed).
        for event_id, uid in list(ids.items()):
            if uid in touched and event_id not in changed:
                try:
                    data = self.graph.get(f"me/events/{event_id}")
                except NotFound:
                    ids.pop(event_id, None)
                    continue
                events.extend(self._read({event_id: data}, tz, ids, problems, masters))
        present = set(ids.values())
        return ScanResult(events=events, problems=problems, full=False,
                          removed_uids=touched - present, total=len(present),
                          sync_token=_encode_token({"window": state["window"], "link": link,
                                                    "ids": ids, "masters": masters}))

    # -- the daemon's own events --------------------------------------------------

    def _item(self, data: dict, key: str) -> StoredItem:
        def moment(value: dict | None) -> datetime | None:
            if not isinstance(value, dict) or not value.get("dateTime"):
                return None
            naive = parse_instant(value["dateTime"]).replace(tzinfo=None)
            return naive.replace(tzinfo=zone(value.get("timeZone")) or timezone.utc)

        return StoredItem(key=key, ref=data["id"], etag=str(data.get("changeKey") or ""),
                          start=moment(data.get("start")), end=moment(data.get("end")),
                          title=str(data.get("subject") or ""))

    def _own(self, key: str | None) -> list[StoredItem]:
        path = self._target_path(create=False)
        if path is None:
            return []
        params = {"$filter": key_filter(key), "$select": OWN_SELECT, "$expand": KEY_EXPAND}
        items = []
        for data in self.graph.pages(f"{path}/events", params):
            found = key_of(data)
            # Graph compares the value case-insensitively: compare exactly here.
            if found is not None and (key is None or found == key):
                items.append(self._item(data, found))
        return items

    def list_own(self) -> list[StoredItem]:
        """Every event carrying the daemon's key property in the follow-up calendar."""
        return self._own(None)

    def find_own(self, key: str) -> StoredItem | None:
        """The follow-up with ``key`` (found by its property), or None."""
        found = self._own(key)
        return found[0] if found else None

    @staticmethod
    def _fields(event: FollowupEvent) -> dict:
        return {
            "subject": event.title,
            "body": {"contentType": "text", "content": event.description},
            "start": {"dateTime": event.start.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S"),
                      "timeZone": "UTC"},
            "end": {"dateTime": event.end.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S"),
                    "timeZone": "UTC"},
            "isReminderOn": event.reminder_minutes is not None,
            "reminderMinutesBeforeStart": event.reminder_minutes or 0,
        }

    def create_event(self, event: FollowupEvent) -> StoredItem:
        """Create the follow-up unless one with its key exists. A create
        without an answer is resolved by looking the key up before any
        second attempt."""
        existing = self.find_own(event.key)
        if existing is not None:
            return existing
        path = self._target_path(create=True)
        body = {**self._fields(event), "attendees": [],
                "transactionId": transaction_id(event.key),
                "singleValueExtendedProperties": own_properties(event.key)}

        def post():
            data = self.graph.request("POST", f"{path}/events", body=body, repeat=False).json()
            return self._item(data, event.key)

        return create_once(self.graph, post, lambda: self.find_own(event.key),
                           f"calendar {self.name!r}: creating a follow-up")

    def replace_event(self, item: StoredItem, event: FollowupEvent) -> StoredItem:
        """PATCH the follow-up with ``If-Match`` its last changeKey."""
        try:
            data = self.graph.request("PATCH", f"me/events/{item.ref}", body=self._fields(event),
                                      headers=etag_header(item.etag)).json()
        except NotFound:
            raise Conflict(f"calendar {self.name!r}: the follow-up was deleted meanwhile") from None
        return self._item(data, item.key)

    def delete_event(self, item: StoredItem) -> None:
        """DELETE the follow-up with ``If-Match``; gone already is fine."""
        try:
            self.graph.request("DELETE", f"me/events/{item.ref}", headers=etag_header(item.etag))
        except NotFound:
            return

