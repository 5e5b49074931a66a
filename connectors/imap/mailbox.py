"""Drafts and replies on an IMAP server (config ``type = "imap"``).

Drafts are appended to the Drafts folder with the ``\\Draft`` flag, so mail
clients show them as drafts and nothing sends them. A draft is found again
by its Message-ID or its ``X-Followup-Key`` header; its etag is the hash of
its full bytes. Replies are looked for with SEARCH and only their header
fields are fetched, never a body. Messages other than the daemon's own
drafts are never changed: every fetch uses ``BODY.PEEK`` (no ``\\Seen``),
and a draft is removed with ``UID EXPUNGE`` of exactly its UID.
"""

from __future__ import annotations

import imaplib
import logging
import re
from collections import OrderedDict
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any, ClassVar, NamedTuple

if TYPE_CHECKING:
    from imapclient import IMAPClient

from daemon.connector import Context, Mailbox, Option
from daemon.errors import ConfigError, Conflict, ConnectorError, Unsupported
from daemon.headers import normalize_message_id, wanted
from daemon.model import Draft, Received, ReplySearch, StoredItem
from daemon.secrets import PasswordAccount

from . import folders as folder_rules
from . import query, settings
from .folders import Folder
from .session import FolderState, Session, response_code, server_text

log = logging.getLogger("followup")

DRAFT = b"\\Draft"
SEEN = b"\\Seen"
DELETED = b"\\Deleted"

#: at most this many matching messages are read when looking for a draft
MAX_CANDIDATES = 20
#: searches and header fields remembered between calls (messages never change)
SEARCH_CACHE = 256
HEADER_CACHE = 20000

_APPENDUID = re.compile(rb"\[APPENDUID (\d+) (\d+)\]", re.I)
_LINE_END = re.compile(rb"\r?\n")


class _Found(NamedTuple):
    uid: int
    raw: bytes
    deleted: bool = False


def _crlf(raw: bytes) -> bytes:
    """The message with CRLF line ends, as IMAP requires."""
    return _LINE_END.sub(b"\r\n", raw)


def _parse_ref(ref: str) -> tuple[str, int, int] | None:
    """``(folder, uidvalidity, uid)`` from a ref ``folder/uidvalidity/uid``."""
    folder, _, rest = ref.rpartition("/")
    folder, _, validity = folder.rpartition("/")
    if not folder or not validity.isdigit() or not rest.isdigit():
        return None
    return folder, int(validity), int(rest)


class ImapMailbox(PasswordAccount, Mailbox):
    """Drafts into an IMAP Drafts folder, replies from IMAP folders, over one
    connection kept for the life of the connector."""

    options: ClassVar[dict[str, Option]] = settings.OPTIONS

    @classmethod
    def validate(cls, name: str, options: dict[str, Any]) -> list[str]:
        try:
            settings.parse(name, options)
        except ConfigError as exc:
            return exc.problems
        return []

    def __init__(self, name: str, config: dict[str, Any], context: Context):
        super().__init__(name, config, context)
        self.settings = settings.parse(name, config)
        hint = ("check what password_command prints" if config.get("password_command")
                else f"run 'followup auth {name}' to store the right password")
        s = self.settings
        self._session = Session(name, s.host, s.port, s.tls, s.username, self.password, hint)
        self._folders: list[Folder] | None = None
        self._drafts: str | None = None
        self._replies: list[str] | None = None
        #: (folder, criteria) -> (folder state, UIDs found)
        self._searches: OrderedDict[tuple[str, bytes], tuple[FolderState, list[int]]] = OrderedDict()
        #: (folder, uidvalidity, uid) -> header fields of a possible reply
        self._headers: OrderedDict[tuple[str, int, int], Received | None] = OrderedDict()

    # -- folders ---------------------------------------------------------------

    def _folder_list(self, client: IMAPClient) -> list[Folder]:
        if self._folders is None:
            self._folders = folder_rules.list_folders(client)
        return self._folders

    def _drafts_folder(self, client: IMAPClient) -> str:
        if self._drafts is None:
            self._drafts = folder_rules.drafts_folder(
                self._folder_list(client), self.settings.drafts, self.name)
        return self._drafts

    def _reply_folders(self, client: IMAPClient) -> list[str]:
        if self._replies is None:
            self._replies = folder_rules.reply_folders(
                self._folder_list(client), self.settings.reply_folders, self.name)
        return self._replies

    def _forget_folders(self) -> None:
        """Look the folders up again next time (one was renamed or removed)."""
        self._folders = self._drafts = self._replies = None

    def _missing_folder(self, client: IMAPClient, folder: str, exc: imaplib.IMAP4.error) -> ConnectorError:
        """The error for a folder that cannot be opened, naming those that exist."""
        self._forget_folders()
        try:
            existing = folder_rules.names(folder_rules.list_folders(client))
        except imaplib.IMAP4.abort:
            raise
        except imaplib.IMAP4.error:
            existing = "(cannot be listed)"
        return ConnectorError(f"{self.name}: cannot open the folder {folder!r} "
                              f"({server_text(exc)}); the folders are: {existing}")

    def _open(self, client: IMAPClient, folder: str, readonly: bool = False,
              fresh: bool = False) -> FolderState:
        try:
            return self._session.select(client, folder, readonly=readonly, fresh=fresh)
        except imaplib.IMAP4.abort:
            raise
        except imaplib.IMAP4.error as exc:
            if response_code(server_text(exc)) in ("NONEXISTENT", None):
                raise self._missing_folder(client, folder, exc) from None
            raise self._session.failure(f"opening {folder!r}", exc) from None

    # -- drafts ----------------------------------------------------------------

    def _item(self, key: str, folder: str, uidvalidity: int | None, found: _Found) -> StoredItem:
        return StoredItem(key=key, ref=f"{folder}/{uidvalidity or 0}/{found.uid}",
                          etag=query.etag(found.raw))

    def _locate(self, client: IMAPClient, key: str, message_id: str | None) -> _Found | None:
        """The newest live draft in the selected folder carrying the marker
        with ``key`` (checked exactly: SEARCH matches substrings)."""
        return self._search_drafts(client, key, message_id)[0]

    def _search_drafts(self, client: IMAPClient, key: str,
                       message_id: str | None) -> tuple[_Found | None, bool]:
        """``_locate``, and whether a live message without the marker holds
        ``message_id`` (one SEARCH finds both)."""
        uids = client.search(query.draft_criteria(key, message_id))
        if not uids:
            return None, False
        newest = sorted(uids, reverse=True)[:MAX_CANDIDATES]
        fetched = client.fetch(newest, [query.FULL])
        wanted = normalize_message_id(message_id) if message_id else ""
        foreign = False
        for uid in newest:
            raw = fetched.get(uid, {}).get(b"BODY[]")
            if not isinstance(raw, bytes):
                continue
            if query.is_draft_of(raw, key, message_id):
                return _Found(uid, raw), False
            foreign = foreign or (bool(wanted) and query.message_id_of(raw) == wanted)
        return None, foreign

    def _fetch(self, client: IMAPClient, uid: int, key: str) -> _Found | None:
        """The message ``uid`` of the selected folder if it is the draft for ``key``."""
        entry = client.fetch([uid], [query.FULL, b"FLAGS"]).get(uid)
        if not entry:
            return None
        raw = entry.get(b"BODY[]")
        if not isinstance(raw, bytes) or not query.is_draft_of(raw, key, None):
            return None
        flags = {f.upper() for f in entry.get(b"FLAGS", ()) if isinstance(f, bytes)}
        return _Found(uid, raw, DELETED.upper() in flags)

    def find_draft(self, key: str, message_id: str) -> StoredItem | None:
        """The daemon's draft with this key or Message-ID in the Drafts
        folder, or None (a draft flagged ``\\Deleted`` counts as gone)."""
        def find(client: IMAPClient) -> StoredItem | None:
            folder = self._drafts_folder(client)
            state = self._open(client, folder)
            found = self._locate(client, key, message_id)
            return None if found is None else self._item(key, folder, state.uidvalidity, found)

        return self._session.run("looking for a draft", find)

    def create_draft(self, draft: Draft) -> StoredItem:
        """Append ``draft`` to the Drafts folder flagged ``\\Draft`` and
        ``\\Seen``, unless a draft with its Message-ID or key is there
        already (then that one is returned). The etag is taken from the
        stored message, which some servers change slightly on the way in."""
        raw = _crlf(draft.raw)

        def create(client: IMAPClient) -> StoredItem:
            folder = self._drafts_folder(client)
            state = self._open(client, folder)
            found, foreign = self._search_drafts(client, draft.key, draft.message_id)
            if found is not None:
                return self._item(draft.key, folder, state.uidvalidity, found)
            if foreign:
                raise Conflict(f"{self.name}: a message with the draft's Message-ID is in {folder!r} "
                               "without followup's marker (edited by a client, or not ours): "
                               "left as it is, and not written again")
            response = self._append(client, folder, raw)
            match = _APPENDUID.search(response if isinstance(response, bytes) else b"")
            if match and int(match[1]) == state.uidvalidity:
                found = self._fetch(client, int(match[2]), draft.key)
            if found is None:  # no UIDPLUS: find it like any other time
                state = self._open(client, folder)
                found = self._locate(client, draft.key, draft.message_id)
            if found is None:
                raise ConnectorError(
                    f"{self.name}: the draft was stored in {folder!r} but cannot be found there again")
            return self._item(draft.key, folder, state.uidvalidity, found)

        return self._session.run("creating a draft", create)

    def _append(self, client: IMAPClient, folder: str, raw: bytes) -> Any:
        try:
            return client.append(folder, raw, flags=(DRAFT, SEEN))
        except imaplib.IMAP4.abort:
            raise
        except imaplib.IMAP4.error as exc:
            if "TRYCREATE" in str(exc).upper():
                raise self._missing_folder(client, folder, exc) from None
            raise self._session.failure(f"storing a draft in {folder!r}", exc) from None

    def delete_draft(self, item: StoredItem) -> None:
        """Remove the draft ``item`` if its bytes are still the ones the
        daemon wrote: ``Conflict`` if the user changed it, nothing if it is
        gone. Only its own UID is expunged (UIDPLUS); a server without
        UIDPLUS gets ``Unsupported`` and the draft stays, for the user."""
        def delete(client: IMAPClient) -> None:
            folder = self._drafts_folder(client)
            state = self._open(client, folder)
            by_ref = None
            ref = _parse_ref(item.ref)
            if ref is not None and ref[0] == folder and ref[1] == state.uidvalidity:
                by_ref = self._fetch(client, ref[2], item.key)
            if by_ref is not None and not by_ref.deleted:
                target = by_ref
            else:
                # Gone, or flagged \Deleted by a mail client that saved an
                # edited copy: the live copy, if any, is the draft now.
                target = self._locate(client, item.key, None)
                if target is None:
                    if by_ref is None or query.etag(by_ref.raw) != item.etag:
                        return
                    target = by_ref  # an earlier delete was cut short: finish it
            if query.etag(target.raw) != item.etag:
                raise Conflict(f"{self.name}: the draft in {folder!r} was changed after followup "
                               "wrote it, so it is left as it is")
            if not self._can_expunge_one(client):
                raise Unsupported(
                    f"{self.name}: {self.settings.host} does not support UIDPLUS (RFC 4315), which "
                    "followup needs to remove only its own draft; a plain EXPUNGE would also remove "
                    f"every other message marked as deleted in {folder!r}. The draft was left in place")
            client.add_flags([target.uid], [DELETED], silent=True)
            client.uid_expunge([target.uid])

        self._session.run("deleting a draft", delete)

    def find_sent(self, key: str, message_id: str) -> bool | None:
        """Whether the Sent folder (SPECIAL-USE ``\\Sent`` or a usual name)
        holds the draft, by its marker or its Message-ID; None without a
        Sent folder."""
        def look(client: IMAPClient) -> bool | None:
            folder = folder_rules.sent_folder(self._folder_list(client))
            if folder is None:
                return None
            self._open(client, folder, readonly=True, fresh=True)
            uids = sorted(client.search(query.draft_criteria(key, message_id)), reverse=True)
            fetched = client.fetch(uids[:MAX_CANDIDATES], [query.FULL]) if uids else {}
            wanted = normalize_message_id(message_id)
            for entry in fetched.values():
                raw = entry.get(b"BODY[]")
                if isinstance(raw, bytes) and (query.is_draft_of(raw, key, None)
                                               or (wanted and query.message_id_of(raw) == wanted)):
                    return True
            return False

        return self._session.run("looking among the sent messages", look)

    def _can_expunge_one(self, client: IMAPClient) -> bool:
        """True if the server can expunge single UIDs (UIDPLUS)."""
        return client.has_capability("UIDPLUS")

    # -- replies ---------------------------------------------------------------

    def find_replies(self, search: ReplySearch, since: datetime) -> list[Received]:
        """The messages in the reply folders that ``search`` asks for, dated
        at or after ``since``, as their answer headers.

        One EXAMINE per folder; when the folder changed since the same
        search last ran, a SEARCH, and a FETCH of header fields for
        messages not read before.
        """
        if not search:
            return []
        if since.tzinfo is None:
            since = since.replace(tzinfo=timezone.utc)
        criteria = query.replies_criteria(search, since)

        def look(client: IMAPClient) -> list[Received]:
            found: dict[str, Received] = {}
            for folder in self._reply_folders(client):
                for header in self._search(client, folder, criteria):
                    if header.date >= since and wanted(header, search):
                        found.setdefault(header.ref, header)  # the same message in INBOX and All Mail
            return sorted(found.values(), key=lambda r: (r.date, r.ref))

        return self._session.run("looking for replies", look)

    def _search(self, client: IMAPClient, folder: str, criteria: bytes) -> list[Received]:
        """The header fields of the messages in ``folder`` matching
        ``criteria``, from the caches where the folder has not changed."""
        state = self._open(client, folder, readonly=True, fresh=True)
        cache_key = (folder, criteria)
        cached = self._searches.get(cache_key)
        if cached is not None and state.complete and cached[0] == state:
            uids = cached[1]
            self._searches.move_to_end(cache_key)
        else:
            uids = client.search(criteria)
            if state.complete:
                self._searches[cache_key] = (state, list(uids))
                while len(self._searches) > SEARCH_CACHE:
                    self._searches.popitem(last=False)
        validity = state.uidvalidity or 0
        missing = [uid for uid in uids if (folder, validity, uid) not in self._headers]
        if missing:
            fetched = client.fetch(missing, query.REPLY_FETCH)
            for uid in missing:
                entry = fetched.get(uid)
                if entry is not None:  # else expunged meanwhile: ask again next time
                    self._headers[(folder, validity, uid)] = query.received(
                        entry, f"{folder}/{validity}/{uid}")
            while len(self._headers) > HEADER_CACHE:
                self._headers.popitem(last=False)
        result = []
        for uid in uids:
            header = self._headers.get((folder, validity, uid))
            if header is not None:
                result.append(header)
        return result

    # -- the account -----------------------------------------------------------

    def check(self) -> str:
        """Log in, find the Drafts and reply folders, and describe them, e.g.
        "drafts in 'Drafts', replies from INBOX, Archive"."""
        def look(client: IMAPClient) -> str:
            self._forget_folders()
            drafts = self._drafts_folder(client)
            replies = self._reply_folders(client)
            for folder in (drafts, *replies):  # each can be opened
                self._open(client, folder, readonly=True, fresh=True)
            summary = f"drafts in {drafts!r}, replies from {', '.join(replies)}"
            if not self._can_expunge_one(client):
                summary += ("; the server lacks UIDPLUS, so drafts that are no longer needed "
                            "are left for you to delete")
            return summary

        return self._session.run("checking the account", look)

    def close(self) -> None:
        """Log out."""
        self._session.close()
