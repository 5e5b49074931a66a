"""Harnesses for the Outlook connectors against the fake Microsoft Graph
(``tests/fakes/graph.py``): one server for the session, a fresh mailbox
per test, the connector given the mailbox's token instead of MSAL."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

from daemon.connector import Context

from .harness import CalendarHarness, MailboxHarness

USER = "alex@example.org"


def _context(tmp_path: Path) -> Context:
    state = tmp_path / "state"
    state.mkdir(exist_ok=True)
    return Context(base_dir=tmp_path, state_dir=state, user_addresses=frozenset({USER}))


class _GraphHarness:
    _fake = None

    @classmethod
    def fake(cls):
        # One server for every test of the session (harness classes share it).
        if _GraphHarness._fake is None:
            from tests.fakes.graph import FakeGraph

            _GraphHarness._fake = FakeGraph().start()
        return _GraphHarness._fake

    def config(self) -> dict:
        return {"client_id": "00000000-0000-0000-0000-000000000000",
                "graph_url": self.fake().url}

    @staticmethod
    def no_sleep(seconds: float) -> None:
        pass


class GraphCalendarHarness(_GraphHarness, CalendarHarness):
    """``connectors.outlook.OutlookCalendar`` on a fake Graph mailbox:
    source events are invitations stored as iCalendar data, follow-ups go
    to the "Interview follow-ups" calendar the connector creates."""

    name = "graph-calendar"

    def __init__(self, tmp_path: Path):
        super().__init__(tmp_path)
        self.box = self.fake().new_mailbox(USER)

    def make(self):
        from connectors.outlook import OutlookCalendar

        token = self.box.token
        return OutlookCalendar("contract", self.config(), _context(self.tmp_path),
                               token=lambda: token, sleep=self.no_sleep)

    def add_source_event(self, ics: bytes) -> str:
        return self.box.add_source_event(ics)

    def change_source_event(self, handle: str, ics: bytes) -> None:
        self.box.change_source_event(handle, ics)

    def remove_source_event(self, handle: str) -> None:
        self.box.remove_event(handle)

    def source_snapshot(self) -> dict[str, bytes]:
        out = {}
        for cal in self.box.calendars.values():
            for event in cal.events.values():
                if event.ics is not None:
                    out[event.id] = event.ics + event.change_key.encode()
                elif event.data is not None and "singleValueExtendedProperties" not in event.data:
                    out[event.id] = json.dumps(event.data, sort_keys=True).encode()
        return out

    def own_count(self) -> int:
        return len(self.box.own_events())

    def user_edit_own(self, key: str) -> None:
        self.box.user_edit_own(key)

    def user_delete_own(self, key: str) -> None:
        self.box.user_delete_own(key)


class GraphMailHarness(_GraphHarness, MailboxHarness):
    """``connectors.outlook.OutlookMailbox`` on a fake Graph mailbox that
    starts with a draft of the user's own and two unrelated messages."""

    name = "graph-mail"

    def __init__(self, tmp_path: Path):
        super().__init__(tmp_path)
        self.box = self.fake().new_mailbox(USER)
        self.box.add_message(
            parentFolderId=self.box.folders["drafts"], isDraft=True, subject="Sunday",
            internetMessageId="<own-draft@example.org>",
            toRecipients=[{"emailAddress": {"name": "", "address": "mom@example.net"}}],
            body={"contentType": "text", "content": "See you on Sunday.\n"},
            receivedDateTime="2023-11-14T22:13:19Z")
        self.box.deliver(
            b"From: News <news@shop.example>\r\nTo: alex@example.org\r\nSubject: Sale\r\n"
            b"Message-ID: <sale@shop.example>\r\n\r\nEverything must go.\r\n",
            datetime.fromisoformat("2023-11-14T22:13:20+00:00"))
        self.box.deliver(
            b"From: Jane Doe <jane.doe@acme.example>\r\nTo: alex@example.org\r\n"
            b"Subject: Old thread\r\nMessage-ID: <old@acme.example>\r\n\r\nAn old message.\r\n",
            datetime.fromisoformat("2023-11-14T22:13:22+00:00"))

    def make(self):
        from connectors.outlook import OutlookMailbox

        token = self.box.token
        return OutlookMailbox("contract", self.config(), _context(self.tmp_path),
                              token=lambda: token, sleep=self.no_sleep)

    def deliver(self, raw: bytes, received: datetime | None = None) -> None:
        self.box.deliver(raw, received)

    def snapshot(self) -> dict[str, bytes]:
        return {m["id"]: json.dumps(m, sort_keys=True).encode()
                for m in self.box.messages.values()
                if "singleValueExtendedProperties" not in m}

    def draft_bytes(self, message_id: str) -> bytes | None:
        found = [m for m in self.box.drafts() if m.get("internetMessageId") == message_id]
        return self.box.mime(found[0]) if found else None

    def link_opens(self, link: str, message_id: str) -> bool:
        return link == self.box.draft_by_message_id(message_id)["webLink"]

    def is_marked_draft(self, message_id: str) -> bool:
        return bool(self.box.draft_by_message_id(message_id).get("isDraft"))

    def draft_count(self) -> int:
        return sum(1 for m in self.box.drafts()
                   if any(h["name"].lower() == "x-followup-key"
                          for h in m.get("internetMessageHeaders") or []))

    def user_edit_draft(self, message_id: str) -> None:
        self.box.user_edit_draft(message_id)

    def user_delete_draft(self, message_id: str) -> None:
        self.box.user_delete_draft(message_id)

#: what ``registry.HARNESSES`` takes from this module
HARNESSES = [GraphCalendarHarness, GraphMailHarness]
