"""Harnesses for the Google connectors on the fake server in
``tests/fakes/google.py``: Google Calendar ("google-fake") and Gmail
("gmail-fake"). Each test gets its own fake server; the harness checks at
the end that the fake saw no forbidden request (a write to a foreign event,
attendees, a send)."""

from __future__ import annotations

import itertools
import json
from datetime import datetime, timedelta, timezone
from email import policy
from email.parser import BytesParser
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from daemon.connector import Context

from .harness import CalendarHarness, MailboxHarness

BERLIN = ZoneInfo("Europe/Berlin")
USER = "alex@example.org"
_counter = itertools.count(1)


def _context(tmp_path: Path) -> Context:
    state = tmp_path / "state"
    state.mkdir(exist_ok=True)
    return Context(base_dir=tmp_path, state_dir=state, user_addresses=frozenset({USER}))


def credentials(fake, scopes, refresh_token: str = "refresh-1"):
    """Credentials whose token endpoint is the fake, granted ``scopes``."""
    from google.oauth2.credentials import Credentials

    fake.grant(refresh_token, scopes)
    return Credentials(token=None, refresh_token=refresh_token, token_uri=fake.token_uri,
                       client_id="client-1.apps.googleusercontent.com",
                       client_secret="client-secret-1", scopes=list(scopes))


def no_sleep(seconds: float) -> None:
    """Retries in tests do not wait."""


# -- calendar ------------------------------------------------------------------------


def _google_time(value: datetime, all_day: bool, end: bool = False) -> dict:
    if all_day:
        return {"date": value.astimezone(BERLIN).date().isoformat()}
    return {"dateTime": value.isoformat(), "timeZone": "Europe/Berlin"}


def _person(attendee, organizer: bool = False) -> dict:
    out = {"email": attendee.email}
    if attendee.name:
        out["displayName"] = attendee.name
    if attendee.email == USER:
        out["self"] = True
    if not organizer:
        out["responseStatus"] = {"NEEDS-ACTION": "needsAction", "ACCEPTED": "accepted",
                                 "DECLINED": "declined", "TENTATIVE": "tentative"}.get(
            attendee.partstat, "needsAction")
    return out


def ics_to_google(ics: bytes, base_id: str) -> list[dict]:
    """The Google Event resources Google would hold for an imported iCalendar
    object: one event, or a recurring master plus one instance per
    occurrence (ids ``<base>_<UTC start>``)."""
    from daemon.ics.ical import parse_ics

    window = (datetime(2029, 1, 1, tzinfo=timezone.utc), datetime(2032, 1, 1, tzinfo=timezone.utc))
    events, problems = parse_ics(ics, base_id, *window, BERLIN)
    assert events and not [p for p in problems if p.severity == "error"], problems
    out = []
    recurring = any(e.recurrence_id is not None for e in events)
    if recurring:
        first = min(events, key=lambda e: e.start)
        out.append({"id": base_id, "iCalUID": first.uid, "summary": first.title,
                    "start": _google_time(first.start, first.all_day),
                    "end": _google_time(first.end, first.all_day),
                    "recurrence": ["RRULE:FREQ=WEEKLY"]})
    for e in events:
        resource = {"id": base_id, "iCalUID": e.uid, "summary": e.title,
                    "description": e.description, "location": e.location,
                    "start": _google_time(e.start, e.all_day),
                    "end": _google_time(e.end, e.all_day)}
        if e.organizer is not None:
            resource["organizer"] = _person(e.organizer, organizer=True)
        if e.attendees:
            resource["attendees"] = [_person(a) for a in e.attendees]
        if e.recurrence_id is not None:
            stamp = e.recurrence_id.astimezone(timezone.utc).strftime("%Y%m%dT%H%M%SZ")
            resource["id"] = f"{base_id}_{stamp.lower()}"
            resource["recurringEventId"] = base_id
            resource["originalStartTime"] = _google_time(e.recurrence_id, e.all_day)
        out.append(resource)
    return out


class GoogleCalendarHarness(CalendarHarness):
    """``connectors.google.GoogleCalendar`` on the fake, reading ``primary``
    and writing into its own "Interview follow-ups" calendar."""

    name = "google-fake"

    @classmethod
    def require(cls) -> None:
        pytest.importorskip("googleapiclient")

    def __init__(self, tmp_path: Path):
        super().__init__(tmp_path)
        from tests.fakes.google import FakeGoogle

        self.fake = FakeGoogle(user=USER)
        self.handles: dict[str, list[str]] = {}

    def make(self, config: dict | None = None, **kwargs):
        from connectors.google.auth import CALENDAR_APP_SCOPE, CALENDAR_READ_SCOPES
        from connectors.google.calendar import GoogleCalendar
        from connectors.google.retry import RetryPolicy

        if "credentials" not in kwargs:
            kwargs["credentials"] = credentials(self.fake,
                                                (*CALENDAR_READ_SCOPES, CALENDAR_APP_SCOPE))
        kwargs.setdefault("retry", RetryPolicy(sleep=no_sleep))
        return GoogleCalendar("contract", config or {"calendars": ["primary"]},
                              _context(self.tmp_path), endpoint=self.fake.calendar_endpoint,
                              **kwargs)

    def close(self) -> None:
        try:
            assert self.fake.violations == [], self.fake.violations
        finally:
            self.fake.close()

    def add_source_event(self, ics: bytes) -> str:
        handle = f"src{next(_counter):04d}"
        self.handles[handle] = []
        self.change_source_event(handle, ics)
        return handle

    def change_source_event(self, handle: str, ics: bytes) -> None:
        resources = ics_to_google(ics, handle)
        new_ids = [r["id"] for r in resources]
        for old in self.handles[handle]:
            if old not in new_ids:
                self.fake.remove_event("primary", old)
        for resource in resources:
            self.fake.put_event("primary", resource)
        self.handles[handle] = new_ids

    def remove_source_event(self, handle: str) -> None:
        for event_id in self.handles.pop(handle):
            self.fake.remove_event("primary", event_id)

    def source_snapshot(self) -> dict[str, bytes]:
        """One entry per source object: all the resources it became, as JSON."""
        out: dict[str, list] = {}
        for cal in self.fake.calendars.values():
            for event_id, event in cal.events.items():
                if not event_id.startswith(("fu", "fh")):  # not a follow-up, live or deleted
                    out.setdefault(event_id.split("_")[0], []).append(event)
        return {name: json.dumps(events, sort_keys=True).encode() for name, events in out.items()}

    def own_count(self) -> int:
        return len(self.fake.own_events())

    def _own(self, key: str) -> tuple[str, dict]:
        for cal_id, event in self.fake.own_events():
            if event["extendedProperties"]["private"].get("followupKey") == key:
                return cal_id, event
        raise AssertionError(f"no follow-up with key {key!r}")

    def user_edit_own(self, key: str) -> None:
        cal_id, event = self._own(key)

        def later(e: dict) -> None:
            for part in ("start", "end"):
                moved = datetime.fromisoformat(e[part]["dateTime"]) + timedelta(hours=1)
                e[part]["dateTime"] = moved.isoformat()

        self.fake.edit_event(cal_id, event["id"], later)

    def user_delete_own(self, key: str) -> None:
        cal_id, event = self._own(key)
        self.fake.remove_event(cal_id, event["id"])


# -- mailbox -------------------------------------------------------------------------


def _headers(raw: bytes):
    return BytesParser(policy=policy.default).parsebytes(raw, headersonly=True)


class GmailHarness(MailboxHarness):
    """``connectors.google.GmailMailbox`` on the fake, which starts with a
    draft of the user's own and two unrelated messages."""

    name = "gmail-fake"

    @classmethod
    def require(cls) -> None:
        pytest.importorskip("googleapiclient")

    def __init__(self, tmp_path: Path, keep_message_id: bool = True):
        super().__init__(tmp_path)
        from tests.fakes.google import FakeGoogle

        self.fake = FakeGoogle(user=USER, keep_message_id=keep_message_id)
        own = (b"From: Alex <alex@example.org>\r\nTo: mom@example.net\r\nSubject: Sunday\r\n"
               b"Message-ID: <own-draft@example.org>\r\n\r\nSee you on Sunday.\r\n")
        self.fake._add_message(own, ["DRAFT"])
        self.fake.drafts["r1"] = next(iter(self.fake.messages))
        self.fake.deliver(b"From: News <news@shop.example>\r\nTo: alex@example.org\r\n"
                          b"Subject: Sale\r\nDate: Tue, 14 Nov 2023 22:13:20 +0000\r\n"
                          b"Message-ID: <sale@shop.example>\r\n\r\nEverything must go.\r\n",
                          datetime(2023, 11, 14, 22, 13, 20, tzinfo=timezone.utc))
        self.fake.deliver(b"From: Jane Doe <jane.doe@acme.example>\r\nTo: alex@example.org\r\n"
                          b"Subject: Old thread\r\nDate: Tue, 14 Nov 2023 22:13:22 +0000\r\n"
                          b"Message-ID: <old@acme.example>\r\n\r\nAn old message.\r\n",
                          datetime(2023, 11, 14, 22, 13, 22, tzinfo=timezone.utc))

    def make(self, config: dict | None = None, **kwargs):
        from connectors.google.auth import GMAIL_SCOPES
        from connectors.google.gmail import GmailMailbox
        from connectors.google.retry import RetryPolicy

        if "credentials" not in kwargs:
            kwargs["credentials"] = credentials(self.fake, GMAIL_SCOPES)
        kwargs.setdefault("retry", RetryPolicy(sleep=no_sleep))
        return GmailMailbox("contract", config or {}, _context(self.tmp_path),
                            endpoint=self.fake.gmail_endpoint, **kwargs)

    def close(self) -> None:
        try:
            assert self.fake.violations == [], self.fake.violations
        finally:
            self.fake.close()

    def deliver(self, raw: bytes, received: datetime | None = None) -> None:
        self.fake.deliver(raw, received)

    def _own_drafts(self) -> dict[str, bytes]:
        return {d: self.fake.draft_raw(d) for d in self.fake.drafts
                if _headers(self.fake.draft_raw(d)).get("X-Followup-Key") is not None}

    def snapshot(self) -> dict[str, bytes]:
        own = {self.fake.drafts[d] for d in self._own_drafts()}
        return {m: msg["raw"] for m, msg in self.fake.messages.items() if m not in own}

    def _draft_id(self, message_id: str) -> str:
        found = self.fake.draft_ids_by_message_id(message_id)
        assert len(found) == 1, f"{len(found)} drafts with Message-ID {message_id}"
        return found[0]

    def draft_bytes(self, message_id: str) -> bytes | None:
        found = self.fake.draft_ids_by_message_id(message_id)
        return self.fake.draft_raw(found[0]) if found else None

    def link_opens(self, link: str, message_id: str) -> bool:
        # Gmail's Drafts view, compose= the draft's message id, in the user's account
        wanted = self.fake.drafts[self._draft_id(message_id)]
        return link == f"https://mail.google.com/mail/?authuser={self.fake.user}#drafts?compose={wanted}"

    def is_marked_draft(self, message_id: str) -> bool:
        draft = self._draft_id(message_id)
        return self.fake.messages[self.fake.drafts[draft]]["labelIds"] == ["DRAFT"]

    def draft_count(self) -> int:
        return len(self._own_drafts())

    def user_edit_draft(self, message_id: str) -> None:
        self.fake.user_edit_draft(self._draft_id(message_id), lambda raw: raw.rstrip(b"\r\n")
                                  + b"\r\nPS: looking forward to it.\r\n")

    def user_delete_draft(self, message_id: str) -> None:
        self.fake.user_delete_draft(self._draft_id(message_id))


#: the harnesses this module adds to ``registry.HARNESSES``
HARNESSES = [GoogleCalendarHarness, GmailHarness]
