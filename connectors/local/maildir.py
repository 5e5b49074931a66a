"""Drafts and replies in local Maildir folders (config ``type = "maildir"``).

Drafts go into a Maildir (usually the Drafts folder that a local mail client
or a sync tool such as mbsync or offlineimap uses) with the ``D`` flag, so
they are never sent by anything. Replies are looked for in one or more inbox
Maildirs, reading headers only. Files the daemon did not write are never
renamed, changed or deleted.

A draft's file name is ``followup.<hash>.<host>:2,D``, where ``<hash>`` is
derived from the follow-up key. Mail clients keep the part before ``:2,``
when they change flags, so the draft is found again by that prefix; failing
that, by its ``Message-ID`` or ``X-Followup-Key`` header.
"""

from __future__ import annotations

import hashlib
import os
import secrets
import stat
import time
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from daemon.connector import Context, Mailbox, Option
from daemon.errors import Conflict, ConnectorError
from daemon.files import open_regular, read_regular
from daemon.headers import KEY_HEADER, normalize_message_id, raw_header, received_of, wanted
from daemon.model import Draft, Received, ReplySearch, StoredItem
from daemon.options import one_or_more, text

from .files import etag, sync_folder, write_and_sync

if TYPE_CHECKING:
    from email.message import Message

#: every file the daemon writes starts with this
PREFIX = "followup."
HASH_LENGTH = 24
#: files in ``cur/`` and ``new/`` older than ``since`` minus this are not read
MTIME_SLACK = timedelta(days=1)
#: the daemon's leftovers in ``tmp/`` older than this are removed (Maildir rule)
STALE_TMP_SECONDS = 36 * 3600
#: header blocks longer than this are cut (a broken file, not mail)
HEAD_LIMIT = 256 * 1024

_MESSAGE_DIRS = ("cur", "new")


def key_hash(key: str) -> str:
    """The part of a draft's file name derived from its follow-up key."""
    return hashlib.sha256(key.encode("utf-8")).hexdigest()[:HASH_LENGTH]


def hostname() -> str:
    """This host's name made safe for a Maildir file name."""
    import socket  # here: checking a config loads this module, not a mailbox

    name = socket.gethostname() or "localhost"
    return name.replace("/", "\\057").replace(":", "\\072")


def _plain_file(path: Path) -> bool:
    """A regular file, not reached through a symbolic link."""
    try:
        return stat.S_ISREG(os.lstat(path).st_mode)
    except OSError:
        return False


def draft_name(key: str, host: str | None = None) -> str:
    """The file name a new draft for ``key`` gets in ``cur/``."""
    return f"{PREFIX}{key_hash(key)}.{host or hostname()}:2,D"


def read_head(path: Path) -> bytes:
    """The header block of the message in ``path`` (up to the blank line)."""
    lines: list[bytes] = []
    size = 0
    with os.fdopen(open_regular(path), "rb") as f:
        while size <= HEAD_LIMIT:
            line = f.readline(HEAD_LIMIT + 1 - size)
            if not line or line in (b"\n", b"\r\n"):
                break
            lines.append(line)
            size += len(line)
    return b"".join(lines)


def parse_head(path: Path) -> Message:
    """The headers of the message in ``path``, parsed with ``policy.default``."""
    from email import policy  # here: most of the email package, not needed to check a config
    from email.parser import BytesHeaderParser

    return BytesHeaderParser(policy=policy.default).parsebytes(read_head(path))














def message_files(folder: Path, follow_links: bool = True) -> Iterator[tuple[Path, float]]:
    """``(path, mtime)`` of every message file in ``folder``'s cur/ and new/.

    Hidden files, directories and entries that cannot be stat'ed (broken
    links) are left out, and with ``follow_links`` false every symbolic
    link; a missing cur/ or new/ is empty.
    """
    for sub in _MESSAGE_DIRS:
        try:
            entries = list(os.scandir(folder / sub))
        except (FileNotFoundError, NotADirectoryError):
            continue
        for entry in sorted(entries, key=lambda e: e.name):
            if entry.name.startswith("."):
                continue
            try:
                if not entry.is_file(follow_symlinks=follow_links):
                    continue
                mtime = entry.stat().st_mtime
            except OSError:
                continue
            yield Path(entry.path), mtime





def _plural(count: int, word: str) -> str:
    return f"{count} {word}{'' if count == 1 else 's'}"


class MaildirMailbox(Mailbox):
    """Drafts into a local Maildir, replies from local inbox Maildirs."""

    options: ClassVar[dict[str, Option]] = {
        "drafts": Option(
            str, required=True,
            help="Path of the Drafts Maildir (relative to the config file; ~ allowed). "
                 "Created with cur/, new/ and tmp/ if missing.",
            check=text("the path of a Maildir folder"),
        ),
        "inbox": Option(
            (str, list), default=None,
            help="Maildir folder, or list of folders, where replies are looked for. "
                 "Without it replies are not looked for.",
            check=one_or_more("a Maildir path"),
        ),
        "sent": Option(
            str, default=None,
            help="Maildir folder your mail program keeps sent mail in. With it, a draft you "
                 "already sent is never written again, even after the state database is lost.",
            check=text("a Maildir path"),
        ),
    }

    def __init__(self, name: str, config: dict[str, Any], context: Context):
        super().__init__(name, config, context)
        self._identities: dict[str, tuple[float, str, str | None]] = {}  # file name -> (mtime, id, key)
        inbox = config.get("inbox") or []
        #: the Drafts Maildir
        self.drafts = context.resolve(config["drafts"])
        #: the Maildirs searched for replies
        self.inboxes = [context.resolve(i) for i in ([inbox] if isinstance(inbox, str) else inbox)]
        sent = config.get("sent")
        #: where sent mail is kept (None: not known)
        self.sent = context.resolve(sent) if sent else None
        self._host = hostname()

    # -- paths -----------------------------------------------------------------

    def _ensure_drafts(self) -> None:
        try:
            self.drafts.mkdir(mode=0o700, parents=True, exist_ok=True)
            for sub in ("cur", "new", "tmp"):
                (self.drafts / sub).mkdir(mode=0o700, exist_ok=True)
        except OSError as exc:
            raise ConnectorError(f"cannot create the Drafts Maildir {self.drafts}: {exc}") from exc

    def _ref(self, path: Path) -> str:
        return path.relative_to(self.drafts).as_posix()

    def _from_ref(self, ref: str, key: str) -> Path | None:
        """The file ``ref`` names, if it is one of the daemon's draft names."""
        sub, _, name = ref.partition("/")
        if sub not in _MESSAGE_DIRS or "/" in name or not name.startswith(PREFIX + key_hash(key) + "."):
            return None
        path = self.drafts / sub / name
        return path if _plain_file(path) else None

    # -- finding drafts --------------------------------------------------------

    def _locate(self, key: str, message_id: str | None = None, ref: str | None = None) -> Path | None:
        """The current file of the daemon's draft for ``key``, or None.

        Only a plain file (no symbolic link) that carries the daemon's marker
        with ``key`` counts: a message that merely shares the draft's name
        or Message-ID is somebody else's. Tried in order: the file ``ref``
        names; a file whose name starts with the key's prefix (a client that
        changes flags keeps it); any file in Drafts with the marker.
        ``message_id`` is no longer a way in (kept for the callers).
        """
        files = list(message_files(self.drafts, follow_links=False))
        mtimes = {path: mtime for path, mtime in files}
        if ref:
            path = self._from_ref(ref, key)
            if path is not None and path in mtimes and self._identity(path, mtimes[path])[1] == key:
                return path
        prefix = PREFIX + key_hash(key) + "."
        for path, mtime in files:
            if path.name.startswith(prefix) and self._identity(path, mtime)[1] == key:
                return path
        for path, mtime in files:
            if self._identity(path, mtime)[1] == key:
                return path
        return None

    def _identity(self, path: Path, mtime: float) -> tuple[str, str | None]:
        """A draft file's Message-ID and follow-up key, read once per
        version of the file (a long-running daemon looks often)."""
        cached = self._identities.get(path.name)
        if cached is not None and cached[0] == mtime:
            return cached[1], cached[2]
        try:
            msg = parse_head(path)
            found = (normalize_message_id(raw_header(msg, "Message-ID")), raw_header(msg, KEY_HEADER))
        except Exception:
            found = ("", None)
        self._identities[path.name] = (mtime, *found)
        return found

    def _item(self, key: str, path: Path) -> StoredItem:
        return StoredItem(key=key, ref=self._ref(path), etag=etag(read_regular(path)))

    def _find(self, key: str, message_id: str | None, ref: str | None = None) -> StoredItem | None:
        for _ in range(3):  # the file may be renamed by a client while we look
            path = self._locate(key, message_id, ref)
            if path is None:
                return None
            try:
                return self._item(key, path)
            except FileNotFoundError:
                ref = None
        return None

    # -- the Mailbox contract --------------------------------------------------

    def find_draft(self, key: str, message_id: str) -> StoredItem | None:
        """The daemon's draft for ``key``/``message_id`` with its current ref
        (a client may have renamed it), or None when it is gone."""
        try:
            return self._find(key, message_id)
        except OSError as exc:
            raise ConnectorError(f"cannot read the Drafts Maildir {self.drafts}: {exc}") from exc

    def create_draft(self, draft: Draft) -> StoredItem:
        """Write ``draft`` into ``cur/`` with the ``D`` flag, crash safe: the
        message is written and synced in ``tmp/``, then linked into ``cur/``.
        An existing draft for the key is returned instead; ``Conflict`` when
        a message without the marker holds the Message-ID."""
        self._ensure_drafts()
        try:
            existing = self._find(draft.key, draft.message_id)
            if existing is not None:
                return existing
            wanted_id = normalize_message_id(draft.message_id)
            for path, mtime in message_files(self.drafts, follow_links=False):
                found_id, found_key = self._identity(path, mtime)
                if wanted_id and found_id == wanted_id and found_key != draft.key:
                    raise Conflict(f"{self._ref(path)} in {self.drafts} has the draft's Message-ID "
                                   "without followup's marker (edited by a client, or not ours): "
                                   "left as it is, and not written again")
            self._clean_tmp()
            target = self._write(draft)
            return self._item(draft.key, target)
        except OSError as exc:
            raise ConnectorError(f"cannot write a draft into {self.drafts}: {exc}") from exc

    def _write(self, draft: Draft) -> Path:
        data = draft.raw.replace(b"\r\n", b"\n")  # Maildir files use LF line ends
        target = self.drafts / "cur" / draft_name(draft.key, self._host)
        tmp = self.drafts / "tmp" / (
            f"{PREFIX}{key_hash(draft.key)}.{self._host}.{os.getpid()}.{secrets.token_hex(6)}")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            write_and_sync(fd, data)
            try:
                os.link(tmp, target)
            except FileExistsError:
                if not (_plain_file(target) and raw_header(parse_head(target), KEY_HEADER) == draft.key):
                    # not ours (a link, another message): ours goes beside it
                    target = target.with_name(draft_name(draft.key, f"{self._host}-{secrets.token_hex(4)}"))
                    os.link(tmp, target)
                # else written meanwhile by another run: keep that one
            except OSError:
                if not target.exists():  # a file system without hard links
                    os.replace(tmp, target)
            sync_folder(target.parent)
        finally:
            tmp.unlink(missing_ok=True)
        return target

    def _clean_tmp(self) -> None:
        """Remove the daemon's own leftovers in ``tmp/`` from a crash."""
        cutoff = time.time() - STALE_TMP_SECONDS
        try:
            entries = list(os.scandir(self.drafts / "tmp"))
        except OSError:
            return
        for entry in entries:
            try:
                if entry.name.startswith(PREFIX) and entry.stat().st_mtime < cutoff:
                    os.unlink(entry.path)
            except OSError:
                pass

    def delete_draft(self, item: StoredItem) -> None:
        """Delete the draft if its bytes are still the ones the daemon wrote;
        ``Conflict`` if the user changed it; nothing if it is gone."""
        try:
            path = self._locate(item.key, None, item.ref)
            if path is None:
                return
            try:
                data = read_regular(path)
            except FileNotFoundError:
                return
            if etag(data) != item.etag:
                raise Conflict(f"draft {self._ref(path)} in {self.drafts} was changed; left alone")
            path.unlink(missing_ok=True)
            sync_folder(path.parent)
        except OSError as exc:
            raise ConnectorError(f"cannot delete a draft in {self.drafts}: {exc}") from exc

    def find_sent(self, key: str, message_id: str) -> bool | None:
        """Whether the ``sent`` Maildir holds the draft (its marker or its
        Message-ID); None when no ``sent`` folder is configured."""
        if self.sent is None:
            return None
        if not self.sent.is_dir():
            raise ConnectorError(f"sent Maildir {self.sent} not found")
        wanted = normalize_message_id(message_id)
        for path, _ in message_files(self.sent):
            try:
                msg = parse_head(path)
            except Exception:  # noqa: BLE001 - unreadable: not it
                continue
            if raw_header(msg, KEY_HEADER) == key or (
                    wanted and normalize_message_id(raw_header(msg, "Message-ID")) == wanted):
                return True
        return False

    def find_replies(self, search: ReplySearch, since: datetime) -> list[Received]:
        """The messages in the inbox folders that ``search`` asks for,
        dated at or after ``since``, as their answer headers.

        Only headers are read, and files last modified more than a day
        before ``since`` are not opened at all. Unreadable files are skipped.
        """
        if not self.inboxes or not search:
            return []
        if since.tzinfo is None:
            since = since.replace(tzinfo=timezone.utc)
        cutoff = (since - MTIME_SLACK).timestamp()
        found: dict[str, Received] = {}
        for inbox in self.inboxes:
            if not inbox.is_dir():
                raise ConnectorError(f"inbox Maildir {inbox} not found")
            for path, mtime in message_files(inbox):
                if mtime < cutoff:
                    continue
                try:
                    received = received_of(parse_head(path), str(path), mtime)
                except Exception:  # unreadable or hopelessly broken: skip it
                    continue
                if received.date >= since and wanted(received, search):
                    found.setdefault(received.ref, received)
        return sorted(found.values(), key=lambda r: (r.date, r.ref))

    def check(self) -> str:
        """Create the Drafts Maildir if needed and describe both sides, e.g.
        "Drafts at PATH (3 drafts by followup), replies from 1 inbox folder"."""
        self._ensure_drafts()
        try:
            count = sum(1 for path, _ in message_files(self.drafts) if path.name.startswith(PREFIX))
        except OSError as exc:
            raise ConnectorError(f"cannot read the Drafts Maildir {self.drafts}: {exc}") from exc
        for inbox in self.inboxes:
            if not inbox.is_dir():
                raise ConnectorError(f"inbox Maildir {inbox} not found")
            if not any((inbox / sub).is_dir() for sub in _MESSAGE_DIRS):
                raise ConnectorError(f"{inbox} is not a Maildir (no cur/ or new/ in it)")
        replies = (f"replies from {_plural(len(self.inboxes), 'inbox folder')}" if self.inboxes
                   else "no inbox folder, replies are not looked for")
        return f"Drafts at {self.drafts} ({_plural(count, 'draft')} by followup), {replies}"
