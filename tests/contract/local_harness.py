"""Harnesses for the local connectors: a vdir calendar folder and Maildirs."""

from __future__ import annotations

import itertools
import os
import time
from datetime import datetime, timedelta
from email import policy
from email.parser import BytesHeaderParser
from pathlib import Path

import pytest

from daemon.connector import Context

from .harness import CalendarHarness, MailboxHarness

_counter = itertools.count(1)


def _write_changed(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` and make sure its mtime moves on, so that a
    change is visible even on file systems with coarse timestamps."""
    before = path.stat().st_mtime_ns if path.exists() else None
    path.write_bytes(data)
    after = path.stat().st_mtime_ns
    if before is not None and after <= before:
        newer = before + 1_000_000_000
        os.utime(path, ns=(newer, newer))


def _context(tmp_path: Path) -> Context:
    state = tmp_path / "state"
    state.mkdir(exist_ok=True)
    return Context(base_dir=tmp_path, state_dir=state,
                   user_addresses=frozenset({"alex@example.org"}))


class LocalCalendarHarness(CalendarHarness):
    """``connectors.local.calendar.LocalCalendar`` on a vdir folder: source
    events are ``*.ics`` files, the daemon's follow-ups ``followup-*.ics``."""

    name = "local"
    OWN_GLOB = "followup-*.ics"

    @classmethod
    def require(cls) -> None:
        pytest.importorskip("connectors.local.calendar")

    def __init__(self, tmp_path: Path):
        super().__init__(tmp_path)
        self.folder = tmp_path / "calendar"
        self.folder.mkdir()

    def make(self):
        from connectors.local.calendar import LocalCalendar

        return LocalCalendar("contract", {"path": str(self.folder)}, _context(self.tmp_path))

    def add_source_event(self, ics: bytes) -> str:
        handle = f"event-{next(_counter)}.ics"
        (self.folder / handle).write_bytes(ics)
        return handle

    def change_source_event(self, handle: str, ics: bytes) -> None:
        _write_changed(self.folder / handle, ics)

    def remove_source_event(self, handle: str) -> None:
        (self.folder / handle).unlink()

    def _own_files(self) -> list[Path]:
        return sorted(self.folder.glob(self.OWN_GLOB))

    def source_snapshot(self) -> dict[str, bytes]:
        own = set(self._own_files())
        return {p.name: p.read_bytes() for p in sorted(self.folder.glob("*.ics")) if p not in own}

    def own_count(self) -> int:
        return len(self._own_files())

    def _own_file(self, key: str):
        from icalendar import Calendar

        for path in self._own_files():
            cal = Calendar.from_ical(path.read_bytes())
            for event in cal.walk("VEVENT"):
                if str(event.get("X-FOLLOWUP-KEY", "")) == key:
                    return path, cal, event
        raise AssertionError(f"no follow-up with key {key!r} in {self.folder}")

    def user_edit_own(self, key: str) -> None:
        path, cal, event = self._own_file(key)
        for name in ("DTSTART", "DTEND"):
            if name in event:
                moved = event.decoded(name) + timedelta(hours=1)
                del event[name]
                event.add(name, moved)
        _write_changed(path, cal.to_ical())

    def user_delete_own(self, key: str) -> None:
        path, _, _ = self._own_file(key)
        path.unlink()


class MaildirHarness(MailboxHarness):
    """``connectors.local.maildir.MaildirMailbox`` on ``Mail/Drafts`` and
    ``Mail/INBOX`` (relative to the config's base dir). Both start with mail
    of the user's own: a draft and two unrelated messages."""

    name = "maildir"

    def __init__(self, tmp_path: Path):
        super().__init__(tmp_path)
        self.drafts = tmp_path / "Mail" / "Drafts"
        self.inbox = tmp_path / "Mail" / "INBOX"
        for box in (self.drafts, self.inbox):
            for sub in ("cur", "new", "tmp"):
                (box / sub).mkdir(parents=True)
        (self.drafts / "cur" / "1700000000.M1P1.laptop:2,DS").write_bytes(
            b"From: Alex <alex@example.org>\nTo: mom@example.net\n"
            b"Subject: Sunday\nMessage-ID: <own-draft@example.org>\n\nSee you on Sunday.\n")
        (self.inbox / "cur" / "1700000001.M2P1.laptop:2,S").write_bytes(
            b"From: News <news@shop.example>\nTo: alex@example.org\n"
            b"Subject: Sale\nDate: Tue, 14 Nov 2023 22:13:20 +0000\n"
            b"Message-ID: <sale@shop.example>\n\nEverything must go.\n")
        (self.inbox / "new" / "1700000002.M3P1.laptop").write_bytes(
            b"From: Jane Doe <jane.doe@acme.example>\nTo: alex@example.org\n"
            b"Subject: Old thread\nDate: Tue, 14 Nov 2023 22:13:22 +0000\n"
            b"Message-ID: <old@acme.example>\n\nAn old message from before.\n")

    def make(self):
        from connectors.local.maildir import MaildirMailbox

        return MaildirMailbox("contract", {"drafts": "Mail/Drafts", "inbox": "Mail/INBOX"},
                              _context(self.tmp_path))

    def deliver(self, raw: bytes, received: datetime | None = None) -> None:
        when = (received.timestamp() if received is not None else time.time())
        path = self.inbox / "new" / f"{int(when)}.M{next(_counter)}P{os.getpid()}.harness"
        path.write_bytes(raw)
        os.utime(path, (when, when))

    @staticmethod
    def _files(box: Path) -> list[Path]:
        return sorted(p for sub in ("cur", "new") for p in (box / sub).iterdir() if p.is_file())

    @staticmethod
    def _headers(path: Path):
        return BytesHeaderParser(policy=policy.default).parsebytes(path.read_bytes())

    def _draft_files(self, message_id: str) -> list[Path]:
        return [p for p in self._files(self.drafts)
                if str(self._headers(p).get("Message-ID", "")).strip() == message_id]

    def _draft_file(self, message_id: str) -> Path:
        files = self._draft_files(message_id)
        assert len(files) == 1, f"{len(files)} drafts with Message-ID {message_id}"
        return files[0]

    def snapshot(self) -> dict[str, bytes]:
        return {str(p.relative_to(self.tmp_path)): p.read_bytes()
                for box in (self.drafts, self.inbox) for p in self._files(box)
                if self._headers(p).get("X-Followup-Key") is None}

    def draft_bytes(self, message_id: str) -> bytes | None:
        files = self._draft_files(message_id)
        return files[0].read_bytes() if files else None

    def is_marked_draft(self, message_id: str) -> bool:
        name = self._draft_file(message_id).name
        _, sep, flags = name.rpartition(":2,")
        return bool(sep) and "D" in flags

    def draft_count(self) -> int:
        return sum(1 for p in self._files(self.drafts)
                   if self._headers(p).get("X-Followup-Key") is not None)

    def user_edit_draft(self, message_id: str) -> None:
        """Add a line to the text and mark it seen, as a mail client does
        (the unique part of the name is kept, the flags change)."""
        path = self._draft_file(message_id)
        path.write_bytes(path.read_bytes().rstrip(b"\n") + b"\nPS: looking forward to it.\n")
        if path.parent.name == "cur" and path.name.endswith(":2,D"):
            path.rename(path.with_name(path.name + "S"))

    def user_delete_draft(self, message_id: str) -> None:
        self._draft_file(message_id).unlink()
