"""Harness for the IMAP connector on a private Dovecot (one per session).

Each test gets a user of its own. The mail of the other parties (delivery,
the user's mail client) goes through a second IMAP connection, as it would
in real life.
"""

from __future__ import annotations

from datetime import datetime
from email import policy
from email.parser import BytesHeaderParser
from pathlib import Path

import pytest

from daemon.connector import Context

from .harness import MailboxHarness

PEEK = b"BODY.PEEK[]"
KEY_HEADER = "X-Followup-Key"


def _headers(raw: bytes):
    return BytesHeaderParser(policy=policy.default).parsebytes(raw)


class DovecotMailboxHarness(MailboxHarness):
    """``connectors.imap.ImapMailbox`` on a Dovecot user whose mailbox
    starts with mail of its own: a draft in Drafts, two messages in INBOX
    and one in Archive."""

    name = "dovecot"

    @classmethod
    def require(cls) -> None:
        pytest.importorskip("imapclient")
        from tests.servers import dovecot

        dovecot.shared()

    def __init__(self, tmp_path: Path):
        super().__init__(tmp_path)
        from tests.servers import dovecot

        self.server = dovecot.shared()
        self.account = self.server.add_user()
        self.client = self.server.connect(self.account)
        self.client.append("Drafts", (
            b"From: Alex <alex@example.org>\r\nTo: mom@example.net\r\nSubject: Sunday\r\n"
            b"Message-ID: <own-draft@example.org>\r\n\r\nSee you on Sunday.\r\n"),
            flags=(b"\\Draft", b"\\Seen"))
        self.client.append("INBOX", (
            b"From: News <news@shop.example>\r\nTo: alex@example.org\r\nSubject: Sale\r\n"
            b"Date: Tue, 14 Nov 2023 22:13:20 +0000\r\nMessage-ID: <sale@shop.example>\r\n\r\n"
            b"Everything must go.\r\n"), flags=(b"\\Seen",))
        self.client.append("INBOX", (
            b"From: Jane Doe <jane.doe@acme.example>\r\nTo: alex@example.org\r\nSubject: Old thread\r\n"
            b"Date: Tue, 14 Nov 2023 22:13:22 +0000\r\nMessage-ID: <old@acme.example>\r\n\r\n"
            b"An old message from before.\r\n"))
        self.client.append("Archive", (
            b"From: Bob <bob@acme.example>\r\nTo: alex@example.org\r\nSubject: Archived\r\n"
            b"Date: Wed, 15 Nov 2023 09:00:00 +0000\r\nMessage-ID: <archived@acme.example>\r\n\r\n"
            b"Filed away.\r\n"), flags=(b"\\Seen",))

    def config(self) -> dict:
        return {"host": self.server.host, "port": self.server.port, "username": self.account.user,
                "tls": "none", "password_command": f"echo {self.account.password}"}

    def make(self):
        from connectors.imap import ImapMailbox

        state = self.tmp_path / "state"
        state.mkdir(exist_ok=True)
        context = Context(base_dir=self.tmp_path, state_dir=state,
                          user_addresses=frozenset({"alex@example.org"}))
        return ImapMailbox("contract", self.config(), context)

    def close(self) -> None:
        try:
            self.client.logout()
        except Exception:  # noqa: BLE001 - the server may have been stopped by the test
            pass

    # -- the other parties ---------------------------------------------------------

    def deliver(self, raw: bytes, received: datetime | None = None) -> None:
        self.client.append("INBOX", raw.replace(b"\r\n", b"\n").replace(b"\n", b"\r\n"),
                           msg_time=received)

    def _messages(self, folder: str) -> dict[int, tuple[bytes, frozenset[bytes]]]:
        """UID -> (bytes, flags) of every message in ``folder``."""
        self.client.select_folder(folder, readonly=True)
        uids = self.client.search("ALL")
        fetched = self.client.fetch(uids, [PEEK, b"FLAGS"]) if uids else {}
        return {uid: (entry[b"BODY[]"], frozenset(entry[b"FLAGS"]) - {b"\\Recent"})
                for uid, entry in fetched.items()}

    def _drafts(self, message_id: str) -> list[tuple[int, bytes, frozenset[bytes]]]:
        return [(uid, raw, flags) for uid, (raw, flags) in sorted(self._messages("Drafts").items())
                if str(_headers(raw).get("Message-ID", "")).strip() == message_id
                and b"\\Deleted" not in flags]

    def _draft(self, message_id: str) -> tuple[int, bytes, frozenset[bytes]]:
        found = self._drafts(message_id)
        assert len(found) == 1, f"{len(found)} drafts with Message-ID {message_id}"
        return found[0]

    def snapshot(self) -> dict[str, bytes]:
        """Every other message by folder and UID, with its flags (so a
        fetch that sets \\Seen, or a \\Deleted flag, shows too)."""
        result = {}
        for _, _, folder in self.client.list_folders():
            for uid, (raw, flags) in self._messages(folder).items():
                if _headers(raw).get(KEY_HEADER) is None:
                    result[f"{folder}/{uid}"] = b" ".join(sorted(flags)) + b"\r\n" + raw
        return result

    def draft_bytes(self, message_id: str) -> bytes | None:
        found = self._drafts(message_id)
        return found[-1][1] if found else None

    def is_marked_draft(self, message_id: str) -> bool:
        return b"\\Draft" in self._draft(message_id)[2]

    def draft_count(self) -> int:
        return sum(1 for raw, flags in self._messages("Drafts").values()
                   if _headers(raw).get(KEY_HEADER) is not None and b"\\Deleted" not in flags)

    def user_edit_draft(self, message_id: str) -> None:
        """Save an edited copy and remove the old one, as mail clients do
        (IMAP messages cannot change in place)."""
        uid, raw, flags = self._draft(message_id)
        edited = raw.rstrip(b"\r\n") + b"\r\nPS: looking forward to it.\r\n"
        self.client.append("Drafts", edited, flags=tuple(flags))
        self._remove("Drafts", uid)

    def user_delete_draft(self, message_id: str) -> None:
        uid, _, _ = self._draft(message_id)
        self._remove("Drafts", uid)

    def _remove(self, folder: str, uid: int) -> None:
        self.client.select_folder(folder)
        self.client.add_flags([uid], [b"\\Deleted"], silent=True)
        self.client.uid_expunge([uid])
