"""What the contract tests need from a backend beyond the connector itself.

A harness owns one fresh backend for one test: it builds the connector
(``make``) and plays the other parties, the people and programs that put
events and mail there or that the user edits things with. To run the
contract suite against a new connector, subclass ``CalendarHarness`` or
``MailboxHarness`` and add the class to ``registry.HARNESSES``.

Lifecycle: the fixture calls ``require()`` (skip when the backend cannot run
here), then ``cls(tmp_path)``, hands the instance to the test and calls
``close()`` afterwards. A harness for a server keeps the server for the whole
session (e.g. in a class attribute) and gives each test its own empty
calendar or mailbox.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import ClassVar

from daemon.connector import Calendar, Mailbox


class Harness:
    """Common part of calendar and mailbox harnesses."""

    #: test id shown by pytest, e.g. "local" or "radicale"
    name: ClassVar[str] = "?"

    def __init__(self, tmp_path: Path):
        self.tmp_path = tmp_path

    @classmethod
    def require(cls) -> None:
        """Skip the test (``pytest.skip``/``pytest.importorskip``) when the
        backend or its libraries are not available here."""

    def close(self) -> None:
        """Release what this test used (called after every test)."""


class CalendarHarness(Harness):
    """A calendar backend, its source events and a simulated user."""

    def make(self) -> Calendar:
        """A new connector instance on this test's calendar. Calling it again
        gives a second instance on the same calendar (a daemon restart)."""
        raise NotImplementedError

    def add_source_event(self, ics: bytes) -> str:
        """Store a calendar object (a VCALENDAR with one UID) as somebody
        else's event; return a handle for the two methods below."""
        raise NotImplementedError

    def change_source_event(self, handle: str, ics: bytes) -> None:
        """Replace a source event (the same UID) as its organizer would."""
        raise NotImplementedError

    def remove_source_event(self, handle: str) -> None:
        """Delete a source event as its organizer would."""
        raise NotImplementedError

    def source_snapshot(self) -> dict[str, bytes]:
        """The bytes of every source item (everything but the daemon's own
        follow-ups), by a stable name, for byte-for-byte comparison."""
        raise NotImplementedError

    def own_count(self) -> int:
        """How many follow-up items the daemon's writes left in the backend."""
        raise NotImplementedError

    def user_edit_own(self, key: str) -> None:
        """Move the follow-up with ``key`` one hour later, as the user would
        in a calendar app (its etag changes)."""
        raise NotImplementedError

    def user_delete_own(self, key: str) -> None:
        """Delete the follow-up with ``key`` as the user would."""
        raise NotImplementedError


class MailboxHarness(Harness):
    """A mail backend, its other mail and a simulated user."""

    def make(self) -> Mailbox:
        """A new connector instance on this test's mailbox (see
        ``CalendarHarness.make``)."""
        raise NotImplementedError

    def deliver(self, raw: bytes, received: datetime | None = None) -> None:
        """Deliver a message into the inbox the connector searches for
        replies; ``received`` is its arrival time (now when None)."""
        raise NotImplementedError

    def snapshot(self) -> dict[str, bytes]:
        """The bytes of every message that is not one of the daemon's drafts
        (inbox mail and the user's own drafts), by a stable name."""
        raise NotImplementedError

    def draft_bytes(self, message_id: str) -> bytes | None:
        """The stored message with this Message-ID in the Drafts folder."""
        raise NotImplementedError

    def is_marked_draft(self, message_id: str) -> bool:
        """True if the provider marks that message as a draft (Maildir ``D``
        flag, IMAP ``\\Draft``, the provider's draft state)."""
        raise NotImplementedError

    def draft_count(self) -> int:
        """How many of the daemon's drafts (messages with ``X-Followup-Key``)
        are in the Drafts folder."""
        raise NotImplementedError

    def user_edit_draft(self, message_id: str) -> None:
        """Change the draft's text as the user would in a mail client."""
        raise NotImplementedError

    def user_delete_draft(self, message_id: str) -> None:
        """Delete the draft as the user would."""
        raise NotImplementedError

    def link_opens(self, link: str, message_id: str) -> bool:
        """Whether ``link`` (``StoredItem.link``) is the provider's web
        address of the draft with this Message-ID. A provider without a web
        view gives no link: the default accepts only ""."""
        return link == ""
