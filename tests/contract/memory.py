"""The reference connectors: a calendar and a mailbox kept in memory.

This is the first file to read before writing a connector. Each method does
what ``daemon.connector`` asks in the fewest lines, with nothing of a
provider in the way, and both pass the whole contract suite
(``MemoryCalendarHarness``, ``MemoryMailboxHarness`` in ``registry.py``).
A real connector adds what its provider needs: paging, retries, an etag
the server keeps, a marker stored in a way its clients keep.

A backend (``CalendarStore``, ``MailStore``) is shared by every connector
instance made on it, as a server is, so a test can build a second instance
and see what the first one wrote.
"""

from __future__ import annotations

import hashlib
import itertools
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone, tzinfo
from email import policy
from email.parser import BytesParser
from pathlib import Path
from typing import Any

from daemon.connector import Calendar, Context, Mailbox, Option
from daemon.errors import Conflict
from daemon.headers import KEY_HEADER, normalize_message_id, received_of, wanted
from daemon.icalfiles import build_followup_ics, parse_ics, read_followup_ics
from daemon.interest import Interest, raw_uids
from daemon.model import Draft, FollowupEvent, Received, ReplySearch, ScanResult, StoredItem
from daemon.options import text

from .harness import CalendarHarness, MailboxHarness

_versions = itertools.count(1)


def _etag(data: bytes) -> str:
    """An etag that changes whenever the bytes do (and never repeats)."""
    return f"{next(_versions)}-{hashlib.sha256(data).hexdigest()[:12]}"


# -- calendar -----------------------------------------------------------------


@dataclass
class CalendarStore:
    """What a calendar server holds: source objects and own follow-ups, by
    name, each (bytes, etag); ``log`` has one entry per change of a source
    (its number, the object's name, the UIDs it held before), as a server
    keeps for its sync reports."""

    sources: dict[str, tuple[bytes, str]] = field(default_factory=dict)
    own: dict[str, tuple[bytes, str]] = field(default_factory=dict)
    log: list[tuple[int, str, frozenset[str]]] = field(default_factory=list)

    def put_source(self, name: str, data: bytes | None) -> None:
        """Add, change or (``data`` None) remove a source object."""
        before = frozenset(raw_uids(self.sources[name][0])) if name in self.sources else frozenset()
        if data is None:
            del self.sources[name]
        else:
            self.sources[name] = (data, _etag(data))
        self.log.append((len(self.log) + 1, name, before))


STORES: dict[str, Any] = {}  # backend name -> CalendarStore or MailStore


class MemoryCalendar(Calendar):
    """``type = "memory"`` (tests only): a calendar in a ``CalendarStore``."""

    options = {"store": Option(str, required=True, help="The backend's name.", check=text())}

    def __init__(self, name: str, config: dict[str, Any], context: Context):
        super().__init__(name, config, context)
        self.store: CalendarStore = STORES.setdefault(config["store"], CalendarStore())

    def scan(self, start: datetime, end: datetime, tz: tzinfo,
             sync_token: str | None = None, interest: Interest | None = None) -> ScanResult:
        # The token is "window|change number": a scan of the same window
        # after it reads only the objects changed since. Anything else is a
        # full scan (a token this calendar cannot read is never an error).
        window = f"{start.isoformat()}/{end.isoformat()}/{tz}"
        since = _token_change(sync_token, window)
        result = ScanResult(full=since is None, sync_token=f"{window}|{len(self.store.log)}")
        changed = [(name, before) for number, name, before in self.store.log if number > (since or 0)]
        names = sorted(self.store.sources) if since is None else sorted({name for name, _ in changed})
        for name in names:
            if name in self.store.sources:
                events, problems = parse_ics(self.store.sources[name][0], name, start, end, tz)
                result.events += events
                result.problems += problems
        if since is not None:  # a UID a changed object no longer brings is gone
            result.removed_uids = set().union(*(before for _, before in changed)) - {e.uid for e in result.events}
        return result

    def list_own(self) -> list[StoredItem]:
        return [item for name in sorted(self.store.own) if (item := self._item(name)) is not None]

    def find_own(self, key: str) -> StoredItem | None:
        return self._item(_own_name(key))

    def _item(self, name: str) -> StoredItem | None:
        if name not in self.store.own:
            return None
        data, etag = self.store.own[name]
        found = read_followup_ics(data)
        if found is None:  # not ours any more (the marker was removed)
            return None
        key, start, end, title = found
        return StoredItem(key=key, ref=name, etag=etag, start=start, end=end, title=title)

    def create_event(self, event: FollowupEvent) -> StoredItem:
        existing = self.find_own(event.key)
        if existing is not None:  # idempotent by key: the answer to a retry
            return existing
        data = build_followup_ics(event, f"followup-{_own_name(event.key)}", datetime.now(timezone.utc))
        self.store.own[_own_name(event.key)] = (data, _etag(data))
        return self._item(_own_name(event.key))

    def replace_event(self, item: StoredItem, event: FollowupEvent) -> StoredItem:
        self._expect(item)
        data = build_followup_ics(event, f"followup-{item.ref}", datetime.now(timezone.utc))
        self.store.own[item.ref] = (data, _etag(data))
        return self._item(item.ref)

    def delete_event(self, item: StoredItem) -> None:
        if item.ref not in self.store.own:
            return  # gone already
        self._expect(item)
        del self.store.own[item.ref]

    def _expect(self, item: StoredItem) -> None:
        """Only the version the core saw may be changed: the user's edits win."""
        current = self.store.own.get(item.ref)
        if current is None or current[1] != item.etag:
            raise Conflict(f"{self.name}: the follow-up {item.key!r} changed since it was written")


def _own_name(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()[:24] + ".ics"


def _token_change(token: str | None, window: str) -> int | None:
    if not token:
        return None
    issued_window, _, number = token.rpartition("|")
    if issued_window != window:
        return None
    try:
        return int(number)
    except ValueError:
        return None


# -- mailbox ------------------------------------------------------------------


@dataclass
class MailStore:
    """What a mail server holds, by id: drafts (bytes, etag), received mail
    (bytes, arrival time), sent mail (bytes)."""

    drafts: dict[str, tuple[bytes, str]] = field(default_factory=dict)
    inbox: dict[str, tuple[bytes, datetime]] = field(default_factory=dict)
    sent: dict[str, bytes] = field(default_factory=dict)


class MemoryMailbox(Mailbox):
    """``type = "memory"`` (tests only): a mailbox in a ``MailStore``."""

    options = {"store": Option(str, required=True, help="The backend's name.", check=text())}

    def __init__(self, name: str, config: dict[str, Any], context: Context):
        super().__init__(name, config, context)
        self.store: MailStore = STORES.setdefault(config["store"], MailStore())

    def create_draft(self, draft: Draft) -> StoredItem:
        existing = self.find_draft(draft.key, draft.message_id)
        if existing is not None:
            return existing
        for data, _ in self.store.drafts.values():  # the Message-ID is taken by mail not ours
            if _message_id(data) == _message_id(draft.raw) and _key(data) is None:
                raise Conflict(f"{self.name}: a draft not written by followup has {draft.message_id}")
        ref = f"draft-{next(_versions)}"
        self.store.drafts[ref] = (draft.raw, _etag(draft.raw))
        return StoredItem(key=draft.key, ref=ref, etag=self.store.drafts[ref][1])

    def find_draft(self, key: str, message_id: str) -> StoredItem | None:
        for ref, (data, etag) in self.store.drafts.items():
            if _key(data) == key:  # the marker, never the Message-ID alone
                return StoredItem(key=key, ref=ref, etag=etag)
        return None

    def find_sent(self, key: str, message_id: str) -> bool | None:
        wanted_id = normalize_message_id(message_id)
        return any(_key(data) == key or _message_id(data) == wanted_id for data in self.store.sent.values())

    def delete_draft(self, item: StoredItem) -> None:
        current = self.store.drafts.get(item.ref)
        if current is None:
            return
        if current[1] != item.etag:
            raise Conflict(f"{self.name}: the draft {item.key!r} was edited; it is left alone")
        del self.store.drafts[item.ref]

    def find_replies(self, search: ReplySearch, since: datetime) -> list[Received]:
        found = []
        for ref, (data, received) in self.store.inbox.items():
            item = received_of(_headers(data), ref, received.timestamp())
            if item.date >= since and wanted(item, search):
                found.append(item)
        return sorted(found, key=lambda r: (r.date, r.ref))


def _headers(data: bytes):
    return BytesParser(policy=policy.compat32).parsebytes(data, headersonly=True)


def _key(data: bytes) -> str | None:
    value = _headers(data).get(KEY_HEADER)
    return str(value).strip() if value else None


def _message_id(data: bytes) -> str:
    return normalize_message_id(_headers(data).get("Message-ID"))


# -- the harnesses: the simulated user and the server's side ------------------


class MemoryCalendarHarness(CalendarHarness):
    """``MemoryCalendar`` on a fresh ``CalendarStore``."""

    name = "memory"

    def __init__(self, tmp_path: Path):
        super().__init__(tmp_path)
        self.backend = f"calendar-{next(_versions)}"
        self.store = STORES[self.backend] = CalendarStore()

    def make(self) -> MemoryCalendar:
        return MemoryCalendar("contract", {"store": self.backend}, Context(self.tmp_path, self.tmp_path))

    def add_source_event(self, ics: bytes) -> str:
        handle = f"event-{next(_versions)}.ics"
        self.store.put_source(handle, ics)
        return handle

    def change_source_event(self, handle: str, ics: bytes) -> None:
        self.store.put_source(handle, ics)

    def remove_source_event(self, handle: str) -> None:
        self.store.put_source(handle, None)

    def source_snapshot(self) -> dict[str, bytes]:
        return {name: data for name, (data, _) in self.store.sources.items()}

    def own_count(self) -> int:
        return len(self.store.own)

    def _own(self, key: str) -> str:
        (name,) = [n for n, (data, _) in self.store.own.items() if (read_followup_ics(data) or ("",))[0] == key]
        return name

    def user_edit_own(self, key: str) -> None:
        from icalendar import Calendar as ICalendar

        name = self._own(key)
        cal = ICalendar.from_ical(self.store.own[name][0])
        for event in cal.walk("VEVENT"):  # the user moves it by an hour
            for prop in ("DTSTART", "DTEND"):
                moved = event.decoded(prop) + timedelta(hours=1)
                del event[prop]
                event.add(prop, moved)
        data = cal.to_ical()
        self.store.own[name] = (data, _etag(data))

    def user_delete_own(self, key: str) -> None:
        del self.store.own[self._own(key)]

    def close(self) -> None:
        STORES.pop(self.backend, None)


class MemoryMailboxHarness(MailboxHarness):
    """``MemoryMailbox`` on a fresh ``MailStore`` with a draft of the user's."""

    name = "memory"

    def __init__(self, tmp_path: Path):
        super().__init__(tmp_path)
        self.backend = f"mail-{next(_versions)}"
        self.store = STORES[self.backend] = MailStore()
        own = b"From: alex@example.org\r\nSubject: my own draft\r\nMessage-ID: <own@alex.example.org>\r\n\r\nhi\r\n"
        self.store.drafts["users-draft"] = (own, _etag(own))

    def make(self) -> MemoryMailbox:
        return MemoryMailbox("contract", {"store": self.backend}, Context(self.tmp_path, self.tmp_path))

    def deliver(self, raw: bytes, received: datetime | None = None) -> None:
        self.store.inbox[f"mail-{next(_versions)}"] = (raw, received or datetime.now(timezone.utc))

    def snapshot(self) -> dict[str, bytes]:
        mail = {ref: data for ref, (data, _) in self.store.inbox.items()}
        return mail | {ref: data for ref, (data, _) in self.store.drafts.items() if _key(data) is None}

    def _draft(self, message_id: str) -> str | None:
        wanted_id = normalize_message_id(message_id)
        return next((ref for ref, (data, _) in self.store.drafts.items() if _message_id(data) == wanted_id), None)

    def draft_bytes(self, message_id: str) -> bytes | None:
        ref = self._draft(message_id)
        return self.store.drafts[ref][0] if ref else None

    def is_marked_draft(self, message_id: str) -> bool:
        return self._draft(message_id) is not None  # everything in drafts is one

    def draft_count(self) -> int:
        return sum(1 for data, _ in self.store.drafts.values() if _key(data) is not None)

    def user_edit_draft(self, message_id: str) -> None:
        ref = self._draft(message_id)
        data = self.store.drafts[ref][0].rstrip(b"\r\n") + b"\r\nPS: looking forward to it.\r\n"
        self.store.drafts[ref] = (data, _etag(data))

    def user_delete_draft(self, message_id: str) -> None:
        del self.store.drafts[self._draft(message_id)]

    def close(self) -> None:
        STORES.pop(self.backend, None)
