"""A calendar on a CalDAV server (``type = "caldav"``): Nextcloud, Fastmail,
iCloud, Radicale, Baïkal, SOGo and others.

Reading. The first scan asks the server for the calendar's sync token
(PROPFIND) and for every event overlapping the window (a calendar-query
REPORT with a time range, a little wider than the window). Later scans send
one sync-collection REPORT (RFC 6578) with the server's token: when nothing
changed that is the whole scan, one request. Changed objects are fetched
with one calendar-multiget and parsed on this side with ``parse_ics``
(recurrences are expanded here, never by the server). Servers without
sync-collection are read by comparing the calendar's ctag, and then every
object's etag, with the previous scan. A token the server rejects, or one
issued for another window, means a full scan. See ``token.py`` for what the
sync token carries.

Writing. Each follow-up is its own object ``followup-<sha256(key)[:32]>.ics``
in the ``write_to`` calendar, with the UID derived from that name, so a
follow-up can exist only once. It is created with ``If-None-Match: *`` and
changed or deleted only with ``If-Match`` on the etag the daemon last saw;
the server's 412 means the user changed it (``Conflict``).

Discovery (principal, calendars) happens once per connector instance and is
kept for the following scans; an account configured with calendar URLs
needs none at all.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta, timezone, tzinfo
from typing import Any
from urllib.parse import unquote, urljoin, urlsplit

from daemon.collection import is_own_name, new_uid, own_file_name, read_whole_uids, still_there
from daemon.connector import Calendar, Context, Option
from daemon.errors import Conflict, ConnectorError, SyncTokenExpired
from daemon.icalfiles import build_followup_ics, followup_uid, parse_ics, read_followup_ics
from daemon.interest import Interest, raw_uids
from daemon.model import CalendarEvent, FollowupEvent, Problem, ScanResult, StoredItem
from daemon.options import text, web_address
from daemon.secrets import PasswordAccount

from . import dav
from .dav import CALDAV, CS, DAV, Entry, Server, Unsupported
from .discovery import Collection, Discovery
from .token import SyncState, decode, encode

log = logging.getLogger("followup.caldav")

#: the server's time-range filter is asked for this much more on each side;
#: ``parse_ics`` then keeps exactly the window (floating times, all-day events)
QUERY_MARGIN = timedelta(days=2)
#: objects asked for in one calendar-multiget
MULTIGET_BATCH = 100
#: pages of a truncated sync-collection answer (RFC 6578 3.6) read in one scan
SYNC_PAGES = 50
ICS_TYPE = "text/calendar; charset=utf-8"
UTC = timezone.utc


class CalDAVCalendar(PasswordAccount, Calendar):
    """``type = "caldav"``: one calendar of a CalDAV account is scanned, and
    follow-ups go into it or into another calendar of the same account."""

    options = {
        "url": Option(str, required=True, help=(
            "The CalDAV server or principal URL, e.g. https://cloud.example.org/remote.php/dav "
            "(a bare domain is looked up as RFC 6764 says)."),
            check=web_address(bare_host=True, secrets_hint=(
                "store it in the keyring with 'followup auth NAME'"))),
        "username": Option(str, required=True, help="The login name.", check=text()),
        "calendar": Option(str, required=True, help=(
            "The calendar to scan: its display name (as your calendar app shows it) "
            "or its URL."), check=text()),
        "write_to": Option(str, help=(
            "The calendar follow-up events go to, by display name or URL; by default "
            "the scanned calendar. A name that does not exist yet is created.")),
        "password_command": Option(str, help=(
            "A command that prints the password (run without a shell), for machines "
            "without a keyring; otherwise the password is kept in the keyring by "
            "'followup auth NAME'.")),
    }

    def __init__(self, name: str, config: dict[str, Any], context: Context):
        super().__init__(name, config, context)
        self._interest: Interest | None = None  # of the scan under way
        self._skipped: set[str] = set()  # UIDs of changed objects left unparsed in it
        self.url = config["url"].strip()
        self.username = config["username"].strip()
        self.calendar_ref = config["calendar"].strip()
        write_to = config.get("write_to")
        self.write_to_ref = write_to.strip() if isinstance(write_to, str) and write_to.strip() \
            else None
        if config.get("password_command"):
            hint = "Check what password_command prints."
        else:
            hint = f"Store the right one with 'followup auth {name}'."
        self.server = Server(name, self.url, self.username, self.password, hint)
        #: the account's calendars, the scanned one and the one written to
        self.found = Discovery(name, self.url, self.username, self.server, self.calendar_ref,
                               self.write_to_ref)
        self._sync_ok = True  # false once the server refused a sync-collection REPORT

    def close(self) -> None:
        self.server.close()
        self.found.forget()

    # -- requests --------------------------------------------------------------

    def _multistatus(self, method: str, col: Collection, value: str, body: str,
                     depth: str | None) -> dav.Multistatus:
        """A PROPFIND or REPORT on the collection ``col`` (configured as
        ``value``); its 207 answer read."""
        headers = {"Depth": depth} if depth is not None else {}
        response = self.server.request(method, col.url, body, headers)
        if response.status == 404:
            raise self.found.missing(col, value)
        if response.status != 207:
            raise ConnectorError(f"{self.name}: {method} {col.url} failed: "
                                 f"HTTP {response.status} {response.reason or ''}".rstrip())
        return dav.read_multistatus(response.tree, f"{self.name}: {method} {col.url}")

    def _collection_props(self, col: Collection, value: str, *props: str) -> Entry:
        """The properties of the collection itself (PROPFIND, depth 0)."""
        found = self._multistatus("PROPFIND", col, value, dav.propfind(*props), "0")
        entry = next((e for e in found.entries if self._rel(col, e.href) == ""),
                     found.entries[0] if found.entries else None)
        if entry is None:
            raise ConnectorError(f"{self.name}: PROPFIND {col.url} answered nothing")
        if DAV + "resourcetype" in entry.props and CALDAV + "calendar" not in entry.types:
            raise ConnectorError(f"{self.name}: {col.url} ({value!r}) is not a calendar")
        name = entry.props.get(DAV + "displayname")
        if name:
            col.name = name
        return entry

    def _list(self, col: Collection, value: str) -> tuple[str | None, dict, dict]:
        """(ctag, {href: etag} of the other objects, {href: etag} of the
        daemon's own) in the collection (PROPFIND, depth 1)."""
        found = self._multistatus("PROPFIND", col, value, dav.propfind(
            "D:resourcetype", "D:getetag", "CS:getctag"), "1")
        ctag, others, own = None, {}, {}
        for entry in found.entries:
            rel = self._rel(col, entry.href)
            if rel == "":
                ctag = entry.props.get(CS + "getctag") or None
            elif entry.status == 200 and DAV + "collection" not in entry.types:
                (own if is_own_name(rel) else others)[rel] = entry.props.get(DAV + "getetag") or None
        return ctag, others, own

    def _multiget(self, col: Collection, value: str, rels: set[str]) -> dict[str, tuple]:
        """href -> (etag, calendar data) for the objects ``rels`` that exist."""
        got: dict[str, tuple] = {}
        ordered = sorted(rels)
        for i in range(0, len(ordered), MULTIGET_BATCH):
            hrefs = [self._abs_path(col, rel) for rel in ordered[i:i + MULTIGET_BATCH]]
            found = self._multistatus("REPORT", col, value, dav.calendar_multiget(hrefs), None)
            for entry in found.entries:
                data = entry.props.get(CALDAV + "calendar-data")
                if entry.status == 200 and data is not None:
                    got[self._rel(col, entry.href)] = (entry.props.get(DAV + "getetag"), data)
        return got

    @staticmethod
    def _rel(col: Collection, href: str) -> str:
        """An href as the token keeps it: the object's name when it lies in
        ``col``, "" for ``col`` itself, else the whole path."""
        path = dav.href_path(href)
        folder = unquote(col.path).rstrip("/")
        if unquote(path).rstrip("/") == folder:
            return ""
        parent, _, name = path.rstrip("/").rpartition("/")
        return name if unquote(parent) == folder else path

    @staticmethod
    def _abs_path(col: Collection, rel: str) -> str:
        return rel if rel.startswith("/") else col.path + rel

    # -- scanning --------------------------------------------------------------

    def check(self) -> str:
        """Reach the server, find both calendars and count the events."""
        source = self.found.source()
        self._collection_props(source, self.calendar_ref, "D:resourcetype", "D:displayname")
        _, others, _ = self._list(source, self.calendar_ref)
        count = f"{len(others)} event{'' if len(others) == 1 else 's'}"
        target = self.found.target(create=False)
        if target is None:
            where = f"'{self.write_to_ref}' (created with the first follow-up)"
        elif target.url == source.url:
            where = "the same calendar"
        else:
            if target.name is None:
                self._collection_props(target, self.write_to_ref or "", "D:resourcetype",
                                       "D:displayname")
            where = target.label
        return f"calendar {source.label} ({count}), follow-ups go to {where}"

    def scan(self, start: datetime, end: datetime, tz: tzinfo,
             sync_token: str | None = None, interest: Interest | None = None) -> ScanResult:
        """The events overlapping [start, end): only what changed when
        ``sync_token`` comes from a scan of the same window, else all."""
        # objects that cannot match ``interest`` are not parsed (only their UIDs
        # are read), so the token is only good for the same interest
        self._interest, self._skipped = interest, set()
        source = self.found.source()
        window = [source.url, start.astimezone(UTC).isoformat(), end.astimezone(UTC).isoformat(),
                  getattr(tz, "key", None) or str(tz), interest.token() if interest else "*"]
        state = decode(sync_token, window) if sync_token else None
        if state is not None and (state.mode == "etag" or self._sync_ok):
            try:
                if state.mode == "sync":
                    return self._sync_scan(source, state, start, end, tz)
                return self._etag_scan(source, state, start, end, tz)
            except SyncTokenExpired:
                log.info("%s: the server no longer accepts the sync token; reading the "
                         "whole window", self.name)
            except Unsupported:
                log.info("%s: the server cannot report changes (sync-collection); "
                         "comparing etags instead", self.name)
                self._sync_ok = False
        return self._full_scan(source, window, start, end, tz)

    def _full_scan(self, source: Collection, window: list[str], start: datetime,
                   end: datetime, tz: tzinfo) -> ScanResult:
        value = self.calendar_ref
        # the token is read before the events: a change in between is reported again
        info = self._collection_props(source, value, "D:resourcetype", "D:displayname",
                                      "D:sync-token", "CS:getctag")
        marker = info.props.get(DAV + "sync-token") if self._sync_ok else None
        table: dict[str, list] = {}
        if marker:
            mode = "sync"
        else:
            mode = "etag"
            marker, others, _ = self._list(source, value)
            table = {rel: [etag, []] for rel, etag in others.items()}
        body = dav.calendar_query(_utc_stamp(start - QUERY_MARGIN), _utc_stamp(end + QUERY_MARGIN))
        found = self._multistatus("REPORT", source, value, body, "1")
        objects: dict[str, tuple] = {}
        without_data = set()
        for entry in found.entries:
            rel = self._rel(source, entry.href)
            if entry.status != 200 or rel == "" or is_own_name(rel):
                continue
            data = entry.props.get(CALDAV + "calendar-data")
            if data is None:
                without_data.add(rel)  # some servers leave the data out: ask for it
            else:
                objects[rel] = (entry.props.get(DAV + "getetag"), data)
        if without_data:
            objects.update(self._multiget(source, value, without_data))
        events: list[CalendarEvent] = []
        problems: list[Problem] = []
        for rel in sorted(objects):
            etag, data = objects[rel]
            found_events, found_uids = self._read(source, rel, data, start, end, tz, problems)
            events.extend(found_events)
            uids = sorted(found_uids)
            if uids or mode == "etag":
                table[rel] = [etag, uids]
        state = SyncState(window, mode, marker, table)
        return ScanResult(events=events, problems=problems, sync_token=encode(state), full=True,
                          total=len(state.uids()))

    def _sync_scan(self, source: Collection, state: SyncState, start: datetime,
                   end: datetime, tz: tzinfo) -> ScanResult:
        """What changed since the server's sync token (RFC 6578)."""
        changed: dict[str, str | None] = {}
        deleted: set[str] = set()
        marker = state.marker or ""
        for _ in range(SYNC_PAGES):
            response = self.server.request("REPORT", source.url, dav.sync_collection(marker),
                                           {"Depth": "0"})
            status = response.status
            if status == 404:
                raise self.found.missing(source, self.calendar_ref)
            if status == 410 or (status in (400, 403, 409, 412)
                                 and dav.VALID_SYNC_TOKEN in dav.preconditions(response.tree)):
                raise SyncTokenExpired(f"{self.name}: sync token rejected")
            if status in (400, 403, 405, 409, 415, 422, 501):
                raise Unsupported(f"{self.name}: sync-collection REPORT: HTTP {status}")
            if status != 207:
                raise ConnectorError(f"{self.name}: REPORT {source.url} failed: HTTP {status}")
            found = dav.read_multistatus(response.tree, f"{self.name}: REPORT {source.url}")
            if not found.sync_token:
                raise Unsupported(f"{self.name}: the sync-collection answer has no sync token")
            truncated = False
            for entry in found.entries:
                rel = self._rel(source, entry.href)
                if entry.status == 507:
                    truncated = True  # RFC 6578 3.6: more changes with the new token
                elif rel == "" or is_own_name(rel):
                    continue
                elif entry.status in (404, 410):
                    deleted.add(rel)
                    changed.pop(rel, None)
                else:
                    changed[rel] = entry.props.get(DAV + "getetag") or None
                    deleted.discard(rel)
            marker = found.sync_token
            if not truncated:
                break
        return self._apply_changes(source, state, marker, changed, deleted, start, end, tz)

    def _etag_scan(self, source: Collection, state: SyncState, start: datetime,
                   end: datetime, tz: tzinfo) -> ScanResult:
        """What changed, found by comparing the ctag and the etags."""
        value = self.calendar_ref
        if state.marker is not None:
            info = self._collection_props(source, value, "CS:getctag")
            if info.props.get(CS + "getctag") == state.marker:
                return ScanResult(full=False, sync_token=encode(state), total=len(state.uids()))
        ctag, others, _ = self._list(source, value)
        changed = {rel: etag for rel, etag in others.items()
                   if rel not in state.table or etag is None or state.table[rel][0] != etag}
        deleted = set(state.table) - set(others)
        return self._apply_changes(source, state, ctag, changed, deleted, start, end, tz)

    def _apply_changes(self, source: Collection, state: SyncState, marker: str | None,
                       changed: dict[str, str | None], deleted: set[str], start: datetime,
                       end: datetime, tz: tzinfo) -> ScanResult:
        """Read the changed objects and work out the delta against ``state``."""
        table = {rel: list(entry) for rel, entry in state.table.items()}
        fetch = {rel for rel, etag in changed.items()
                 if etag is None or rel not in table or table[rel][0] != etag}
        previous = {rel: table[rel] for rel in fetch | deleted if rel in table}
        old_uids = {uid for entry in previous.values() for uid in entry[1]}
        for rel in deleted:
            table.pop(rel, None)
        events: list[CalendarEvent] = []
        problems: list[Problem] = []

        def read(rels: set[str]) -> set[str]:
            got = self._multiget(source, self.calendar_ref, rels)
            found_uids: set[str] = set()
            for rel in sorted(rels):
                before = table.get(rel)
                if rel not in got:  # deleted since the server listed it
                    if before is not None:
                        old_uids.update(before[1])
                        table.pop(rel)
                    continue
                etag, data = got[rel]
                found, uids = self._read(source, rel, data, start, end, tz, problems, before)
                events.extend(found)
                if uids or state.mode == "etag":
                    table[rel] = [etag, sorted(uids)]
                else:
                    table.pop(rel, None)
                found_uids.update(uids)
            return found_uids

        read_whole_uids(table, fetch, lambda entry: entry[1], read, set(old_uids))
        new_state = SyncState(state.window, state.mode, marker, table)
        present = new_state.uids()
        return ScanResult(events=events, problems=problems, full=False,
                          removed_uids=old_uids - present, total=len(present),
                          skipped_uids=set(self._skipped), sync_token=encode(new_state))

    def _read(self, col: Collection, rel: str, data: str, start: datetime, end: datetime,
              tz: tzinfo, problems: list[Problem], before: list | None = None
              ) -> tuple[list[CalendarEvent], set[str]]:
        """The events of one object in the window and the UIDs it holds;
        ``before`` is its entry in the previous token. An object that cannot
        match the scan's interest is not parsed: its UIDs come from its text
        and are reported as skipped (with those it held before)."""
        raw = data.encode("utf-8")
        if self._interest is not None and not self._interest.may_match(raw):
            uids = raw_uids(raw)
            self._skipped |= uids | set(before[1] if before else ())
            return [], uids
        found, found_problems = parse_ics(raw, unquote(self._abs_path(col, rel)), start, end, tz)
        problems.extend(found_problems)
        return found, {e.uid for e in found} | still_there(before[1] if before else None, found, found_problems)

    # -- the daemon's own events -----------------------------------------------

    def list_own(self) -> list[StoredItem]:
        """Every follow-up in the ``write_to`` calendar that still carries
        the key its name was made from."""
        target = self.found.target(create=False)
        if target is None:
            return []
        value = self.write_to_ref or self.calendar_ref
        _, _, own = self._list(target, value)
        if not own:
            return []
        items = []
        for rel, (etag, data) in sorted(self._multiget(target, value, set(own)).items()):
            item = _item(urljoin(target.url, self._abs_path(target, rel)), data, etag)
            if item is not None:
                items.append(item)
        return items

    def find_own(self, key: str) -> StoredItem | None:
        """The follow-up with ``key`` as it is on the server now, or None."""
        target = self.found.target(create=False)
        if target is None:
            return None
        _, item = self._fetch_own(urljoin(target.url, own_file_name(key)))
        return item if item is not None and item.key == key else None

    def create_event(self, event: FollowupEvent) -> StoredItem:
        """PUT the follow-up with ``If-None-Match: *``; when it exists
        already, return the existing one."""
        target = self.found.target(create=True)
        name = own_file_name(event.key)
        url = urljoin(target.url, name)
        data = build_followup_ics(event, new_uid(name), _now())
        response = self.server.request("PUT", url, data, {
            "Content-Type": ICS_TYPE, "If-None-Match": "*"})
        if response.status in (200, 201, 204):
            return self._written(url, data, response, event.key)
        if response.status == 412:  # it exists: somebody (an earlier run) was first
            exists, item = self._fetch_own(url)
            if not exists:
                raise ConnectorError(f"{self.name}: {url} appeared and vanished while it was "
                                     "being written; try again")
            if item is None or item.key != event.key:
                raise Conflict(f"{self.name}: {url} exists but no longer holds the follow-up "
                               f"{event.key!r} (edited by hand?); it is left alone")
            return item
        raise self._write_failed("PUT", url, target, response)

    def replace_event(self, item: StoredItem, event: FollowupEvent) -> StoredItem:
        """PUT the new version with ``If-Match`` on ``item.etag``."""
        url = self._own_url(item)
        if url is None:
            raise Conflict(f"{self.name}: the follow-up {item.key!r} was deleted")
        if not item.etag:
            raise ConnectorError(f"{self.name}: no etag known for {url}; it is left alone")
        # the UID it has (earlier versions wrote others) is kept: a changed
        # UID reads as another event to clients and sync tools
        current = self.server.request("GET", url, "", {"Accept": "text/calendar"})
        if current.status in (404, 410) or (current.status == 200 and current.headers.get("ETag")
                                            and current.headers["ETag"] != item.etag):
            raise Conflict(f"{self.name}: {url} was changed or deleted since it was "
                           "written; it is left alone")
        uid = followup_uid(current.raw) if current.status == 200 else None
        data = build_followup_ics(event, uid or new_uid(own_file_name(item.key)), _now())
        response = self.server.request("PUT", url, data, {
            "Content-Type": ICS_TYPE, "If-Match": item.etag})
        if response.status in (200, 201, 204):
            return self._written(url, data, response, item.key)
        if response.status in (404, 410, 412):
            raise Conflict(f"{self.name}: {url} was changed or deleted since it was "
                           "written; it is left alone")
        raise self._write_failed("PUT", url, self.found.target_col, response)

    def delete_event(self, item: StoredItem) -> None:
        """DELETE with ``If-Match`` on ``item.etag``; nothing if it is gone."""
        url = self._own_url(item)
        if url is None:
            return
        if not item.etag:  # nothing to compare with: only a missing item is fine
            if self._fetch_own(url)[0]:
                raise Conflict(f"{self.name}: no etag known for {url}; it is left alone")
            return
        response = self.server.request("DELETE", url, "", {"If-Match": item.etag})
        if response.status in (200, 202, 204, 404, 410):
            return
        if response.status == 412:
            exists, _ = self._fetch_own(url)
            if not exists:
                return
            raise Conflict(f"{self.name}: {url} was changed since it was written; "
                           "it is left alone")
        raise self._write_failed("DELETE", url, self.found.target_col, response)

    def _own_url(self, item: StoredItem) -> str | None:
        """Where the follow-up ``item`` lives: its ref when that is one of
        this account's follow-up URLs for its key, else derived from the key."""
        name = own_file_name(item.key)
        parts = urlsplit(item.ref or "")
        if (parts.scheme in ("http", "https") and parts.path.rsplit("/", 1)[-1] == name
                and parts.netloc in self.found.known_hosts()):
            return item.ref
        target = self.found.target(create=False)
        return None if target is None else urljoin(target.url, name)

    def _fetch_own(self, url: str) -> tuple[bool, StoredItem | None]:
        """(whether ``url`` exists, the follow-up in it or None)."""
        response = self.server.request("GET", url, "", {"Accept": "text/calendar"})
        if response.status in (404, 410):
            return False, None
        if response.status != 200:
            raise ConnectorError(f"{self.name}: GET {url} failed: HTTP {response.status}")
        try:
            data = response.raw
        except UnicodeDecodeError:
            return True, None
        etag = response.headers.get("ETag") or self._etag_of(url)
        return True, _item(url, data, etag)

    def _etag_of(self, url: str) -> str:
        response = self.server.request("PROPFIND", url, dav.propfind("D:getetag"), {"Depth": "0"})
        if response.status == 207:
            found = dav.read_multistatus(response.tree, f"{self.name}: PROPFIND {url}")
            for entry in found.entries:
                if entry.props.get(DAV + "getetag"):
                    return entry.props[DAV + "getetag"]
        raise ConnectorError(f"{self.name}: the server gives no etag for {url}")

    def _written(self, url: str, data: bytes, response, key: str) -> StoredItem:
        """The item just written. A server that stored the data as sent
        returns its etag; one that changed it (or says nothing) is asked."""
        etag = response.headers.get("ETag")
        if etag and not etag.startswith("W/"):
            item = _item(url, data, etag)
            if item is not None:
                return item
        _, item = self._fetch_own(url)
        if item is None or item.key != key:
            raise ConnectorError(f"{self.name}: {url} was written but cannot be read back")
        return item

    def _write_failed(self, method: str, url: str, col: Collection | None,
                      response) -> ConnectorError:
        found = dav.preconditions(response.tree)
        if found & dav.UID_CONFLICTS:
            return Conflict(f"{self.name}: another item in the calendar already has the UID "
                            f"of {url}; it is left alone")
        if response.status in (404, 409) and col is not None:
            self.found.forget()  # the calendar may be gone: look again next time
            return ConnectorError(f"{self.name}: cannot write into the calendar {col.label} "
                                  f"({method} {url}: HTTP {response.status}); does it still "
                                  "exist?")
        return ConnectorError(f"{self.name}: {method} {url} failed: HTTP {response.status} "
                              f"{response.reason or ''}".rstrip())


# -- helpers --------------------------------------------------------------------


def _now() -> datetime:
    return datetime.now(UTC).replace(microsecond=0)


def _utc_stamp(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")


def _item(url: str, data: bytes | str, etag: str | None) -> StoredItem | None:
    """The follow-up stored at ``url``, or None when the data does not hold
    the key the object's name was made from (it is not the daemon's any more)."""
    if not etag:
        return None
    parsed = read_followup_ics(data.encode("utf-8") if isinstance(data, str) else data)
    if parsed is None:
        return None
    key, start, end, title = parsed
    if own_file_name(key) != unquote(urlsplit(url).path.rpartition("/")[2]):
        return None
    return StoredItem(key=key, ref=url, etag=etag, start=start, end=end, title=title)
