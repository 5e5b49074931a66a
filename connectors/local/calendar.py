"""A calendar in a folder of ``.ics`` files (a vdir, as written by vdirsyncer,
khal, Evolution or a calendar export) or in one ``.ics`` file.

Source files are only ever read. The daemon's follow-ups are files of their
own, ``followup-<sha256(key)[:32]>.ics`` in ``write_to``: the name follows
from the key, so a follow-up cannot be created twice, and the etag is the
SHA-256 of the file's bytes, so any edit by the user is noticed.

Incremental scans compare each file's (name, mtime_ns, size, inode) with the
sync token of the previous scan: an unchanged folder costs one directory
listing and a ``stat`` per file, and only changed files are read again. A
file that cannot match the scan's ``Interest`` (no keyword in a title or
description) is read but not parsed: only its UIDs are taken from it.
"""

from __future__ import annotations

import errno
import hashlib
import json
import os
import stat
import tempfile
from collections.abc import Iterator
from datetime import datetime, timezone, tzinfo
from pathlib import Path
from typing import Any, NamedTuple

from daemon.collection import OWN_NAME, new_uid, own_file_name, pack, read_whole_uids, still_there, unpack
from daemon.connector import Calendar, Context, Option
from daemon.errors import ConfigError, Conflict, ConnectorError
from daemon.files import read_regular
from daemon.icalfiles import build_followup_ics, followup_uid, parse_ics, read_followup_ics
from daemon.interest import Interest, raw_uids
from daemon.model import CalendarEvent, FollowupEvent, Problem, ScanResult, StoredItem
from daemon.options import text

from .files import etag, sync_folder, write_and_sync

_TOKEN_PREFIX = "local2."
_FILE_TYPE = 0o170000  # stat.S_IFMT as a mask


class _File(NamedTuple):
    # plain values, not Paths or a dataclass: a scan makes one per file
    path: str
    mtime_ns: int
    size: int
    inode: int

    @property
    def signature(self) -> list[int]:
        return [self.mtime_ns, self.size, self.inode]

    def same_as(self, entry: list) -> bool:
        """Unchanged since ``entry`` of a token was made."""
        return entry[0] == self.mtime_ns and entry[1] == self.size and entry[2] == self.inode


class LocalCalendar(Calendar):
    """``type = "local"``: a vdir folder of ``.ics`` files or one ``.ics`` file."""

    options = {
        "path": Option(str, required=True, help=(
            "A folder of .ics files (a vdir) or a single .ics file. Relative "
            "paths are relative to the config file; ~ is expanded."), check=text("a folder or .ics file")),
        "write_to": Option(str, help=(
            "The folder the follow-up events are written to. Required when "
            "path is a single file; defaults to path when it is a folder."), check=text("a folder")),
    }

    def __init__(self, name: str, config: dict[str, Any], context: Context):
        super().__init__(name, config, context)
        self.path = context.resolve(config["path"])
        write_to = config.get("write_to")
        if write_to:
            self.write_to = context.resolve(write_to)
        elif self._is_single_file():
            raise ConfigError(
                f"calendar {name!r}: write_to is required when path is a single file "
                f"({self.path}); name a folder for the follow-up events")
        else:
            self.write_to = self.path
        # the last token issued, its window and file table
        self._issued: tuple[str, list[str], dict[str, list]] | None = None
        # file name -> ((mtime_ns, size, inode), the key it carries or None)
        self._own_cache: dict[str, tuple] = {}

    def _is_single_file(self) -> bool:
        if self.path.exists():
            return not self.path.is_dir()
        return self.path.suffix.lower() == ".ics"

    # -- scanning -------------------------------------------------------------

    def check(self) -> str:
        """Count the source files and check that follow-ups can be written."""
        files = self._list_sources()
        target = self.write_to
        if target.exists():
            if not target.is_dir():
                raise ConnectorError(f"write_to {target} is not a folder")
            if not os.access(target, os.W_OK | os.X_OK):
                raise ConnectorError(f"cannot write follow-ups to {target}: permission denied")
        count = len(files)
        return f"{count} .ics file{'' if count == 1 else 's'}, follow-ups go to {target}"

    def scan(self, start: datetime, end: datetime, tz: tzinfo,
             sync_token: str | None = None, interest: Interest | None = None) -> ScanResult:
        """Read the events of every source file that overlap [start, end).

        With a token from a scan over the same window and interest only
        changed files are read (``full=False``); any other token means a full
        scan. A file that cannot match ``interest`` is not parsed: its UIDs
        are taken from its raw text.
        """
        window = self._window(start, end, tz, interest)
        if sync_token and _token_digest(sync_token) == self._listing_digest(window):
            return ScanResult(full=False, sync_token=sync_token)  # not a file changed
        files = self._list_sources()
        previous = self._previous(sync_token, window) if sync_token else None
        reader = _SourceReader(start, end, tz, interest)
        if previous is None:
            return self._full_scan(files, reader, window)
        return self._incremental_scan(files, previous, sync_token, reader, window)

    def _previous(self, token: str, window: list[str]) -> dict[str, list] | None:
        """The file table of ``token``; the one this connector issued last is
        kept decoded (a long-running daemon hands it straight back)."""
        if self._issued is not None and self._issued[:2] == (token, window):
            return self._issued[2]
        return _decode_token(token, window)

    def _issue(self, window: list[str], table: dict[str, list]) -> str:
        token = _encode_token(window, table)
        self._issued = (token, window, table)
        return token

    def _full_scan(self, files: dict[str, _File], reader: _SourceReader, window) -> ScanResult:
        table: dict[str, list] = {}
        for name in sorted(files):
            uids = reader.read(files[name])
            if uids is not None:  # None: vanished while we looked
                table[name] = reader.entry(files[name], uids)
        return ScanResult(events=reader.events, problems=reader.problems, full=True,
                          total=len({uid for entry in table.values() for uid in entry[3]}),
                          sync_token=self._issue(window, table))

    def _incremental_scan(self, files: dict[str, _File], previous: dict[str, list],
                          token: str, reader: _SourceReader, window) -> ScanResult:
        changed = {name for name, f in files.items()
                   if name not in previous or not f.same_as(previous[name])}
        gone = set(previous) - set(files)
        if not changed and not gone:
            return ScanResult(full=False, sync_token=token)  # nothing to parse

        table = {name: previous[name] for name in files if name not in changed}
        old_uids = {uid for name in changed | gone if name in previous
                    for uid in previous[name][3]}

        def read(names: set[str]) -> set[str]:
            found: set[str] = set()
            for name in sorted(names):
                uids = reader.read(files[name], previous.get(name))
                if uids is None:  # vanished while we looked
                    table.pop(name, None)
                    continue
                table[name] = reader.entry(files[name], uids)
                found.update(uids)
            return found

        read_whole_uids(table, changed, lambda entry: entry[3], read, set(old_uids))
        present = {uid for entry in table.values() for uid in entry[3]}
        return ScanResult(events=reader.events, problems=reader.problems, full=False,
                          removed_uids=old_uids - present, total=len(present),
                          skipped_uids=reader.skipped, sync_token=self._issue(window, table))

    def _list_sources(self) -> dict[str, _File]:
        """name -> file for every source ``.ics`` file (the daemon's own and
        hidden files left out). Raises ``ConnectorError`` if ``path`` is
        missing or cannot be listed."""
        make = tuple.__new__  # a third faster than _File() for 100,000 files
        return {name: make(_File, (path, st.st_mtime_ns, st.st_size, st.st_ino))
                for name, path, st in self._sources()}

    def _listing_digest(self, window: list[str]) -> str:
        """The digest ``_encode_token`` puts in a token, from the folder as it
        is now; nothing is kept per file, so it costs little more than the
        ``stat`` calls."""
        return _digest(window, [f"{name}\0{st.st_mtime_ns}\0{st.st_size}\0{st.st_ino}\0"
                                for name, _, st in self._sources()])

    def _sources(self) -> Iterator[tuple[str, str, os.stat_result]]:
        """(name, path, stat) of every source file; see ``_list_sources``."""
        try:
            info = os.stat(self.path)
        except FileNotFoundError:
            raise ConnectorError(f"calendar folder or file {self.path} does not exist") from None
        except OSError as exc:
            raise ConnectorError(f"cannot open {self.path}: {_os_reason(exc)}") from None
        if stat.S_ISREG(info.st_mode):
            yield self.path.name, str(self.path), info
            return
        if not stat.S_ISDIR(info.st_mode):
            raise ConnectorError(f"{self.path} is neither a folder nor a file")
        try:
            with os.scandir(self.path) as entries:
                # once per file on every pass: slices, not startswith
                for entry in entries:
                    name = entry.name
                    if (name[-4:].lower() != ".ics" or name[:1] == "."
                            or name[:9] == "followup-" and OWN_NAME.match(name)):
                        continue
                    try:
                        st = entry.stat()  # follows symlinks
                    except OSError:
                        continue  # a dangling link or a file deleted meanwhile
                    if st.st_mode & _FILE_TYPE == stat.S_IFREG:
                        yield name, entry.path, st
        except OSError as exc:
            raise ConnectorError(f"cannot list {self.path}: {_os_reason(exc)}") from None

    def _window(self, start: datetime, end: datetime, tz: tzinfo,
                interest: Interest | None) -> list[str]:
        # files left unread are only right for the same interest
        return [str(self.path), start.isoformat(), end.isoformat(),
                getattr(tz, "key", None) or str(tz), interest.token() if interest else "*"]

    # -- the daemon's own events ----------------------------------------------

    def list_own(self) -> list[StoredItem]:
        """Every ``.ics`` file in ``write_to`` that carries the daemon's
        marker, whatever its name (a sync tool that rebuilt the folder may
        have named it after its UID or at random)."""
        items = []
        for name in sorted(set(self._own_names().values())):
            data = self._read_own(name)
            item = _item(name, data) if data is not None else None
            if item is not None:
                items.append(item)
        return items

    def find_own(self, key: str) -> StoredItem | None:
        """The follow-up with ``key`` as it is on disk now, or None: under
        its own name, else under any name in ``write_to``."""
        name = own_file_name(key)
        data = self._read_own(name)
        if data is None:
            name = self._own_names().get(key)
            data = self._read_own(name) if name else None
        if data is None:
            return None
        item = _item(name, data)
        return item if item is not None and item.key == key else None

    def _own_names(self) -> dict[str, str]:
        """key -> file name of every plain ``.ics`` file in ``write_to`` that
        carries the marker. A file is read again only when its size, mtime
        or inode changed."""
        try:
            with os.scandir(self.write_to) as entries:
                found = [(e.name, e.stat(follow_symlinks=False)) for e in entries
                         if e.name[-4:].lower() == ".ics" and e.name[:1] != "."]
        except FileNotFoundError:
            return {}
        except OSError as exc:
            raise ConnectorError(f"cannot list {self.write_to}: {_os_reason(exc)}") from None
        cache: dict[str, tuple] = {}
        out: dict[str, str] = {}
        for name, st in found:
            if not stat.S_ISREG(st.st_mode):
                continue
            signature = (st.st_mtime_ns, st.st_size, st.st_ino)
            known = self._own_cache.get(name)
            if known is not None and known[0] == signature:
                key = known[1]
            else:
                try:
                    data = read_regular(self.write_to / name)
                except OSError:
                    continue
                parsed = read_followup_ics(data) if b"X-FOLLOWUP-KEY" in data.upper() else None
                key = parsed[0] if parsed else None
            cache[name] = (signature, key)
            if key is not None:
                # the own name wins when a copy exists under another name too
                if key not in out or name == own_file_name(key):
                    out[key] = name
        self._own_cache = cache
        return out

    def create_event(self, event: FollowupEvent) -> StoredItem:
        """Write the follow-up unless it exists already; never two copies.

        The file is written to a temporary name first and then hard-linked to
        its final name, which fails if the name exists: of two writers only
        one can create it, and readers never see half a file.
        """
        name = own_file_name(event.key)
        data = self._read_own(name)
        if data is not None:
            return self._existing(name, data, event.key)
        elsewhere = self.find_own(event.key)  # renamed by a sync tool: still there
        if elsewhere is not None:
            return elsewhere
        new = build_followup_ics(event, new_uid(name), _now())
        self._ensure_folder()
        if not self._create_exclusive(self.write_to / name, new):
            data = self._read_own(name)  # somebody else was quicker
            if data is None:
                raise ConnectorError(f"{self.write_to / name} appeared and vanished while "
                                     "it was being written; try again")
            return self._existing(name, data, event.key)
        return _item(name, new) or _fail_read_back(self.write_to / name)

    def replace_event(self, item: StoredItem, event: FollowupEvent) -> StoredItem:
        """Replace the follow-up if its file is still exactly as ``item`` saw it."""
        name = _checked_ref(item.ref)
        old = self._expect_etag(name, item)
        new = build_followup_ics(event, followup_uid(old) or new_uid(own_file_name(event.key)), _now())
        path = self.write_to / name
        temp = self._write_temp(new)
        try:
            os.replace(temp, path)
        except OSError as exc:
            _remove(temp)
            raise ConnectorError(f"cannot write {path}: {_os_reason(exc)}") from None
        sync_folder(self.write_to)
        return _item(name, new) or _fail_read_back(path)

    def delete_event(self, item: StoredItem) -> None:
        """Delete the follow-up if it is unchanged; nothing if it is gone."""
        name = _checked_ref(item.ref)
        try:
            self._expect_etag(name, item)
        except _Gone:
            return
        try:
            os.unlink(self.write_to / name)
        except FileNotFoundError:
            return
        except OSError as exc:
            raise ConnectorError(f"cannot delete {self.write_to / name}: {_os_reason(exc)}") \
                from None
        sync_folder(self.write_to)

    def _existing(self, name: str, data: bytes, key: str) -> StoredItem:
        item = _item(name, data)
        if item is None or item.key != key:
            raise Conflict(f"{self.write_to / name} exists but no longer holds the follow-up "
                           f"{key!r} (edited by hand?); it is left alone")
        return item

    def _expect_etag(self, name: str, item: StoredItem) -> bytes:
        """The file's bytes, if they are still the ones ``item`` saw."""
        data = self._read_own(name)
        if data is None:
            raise _Gone(f"{self.write_to / name} was deleted")
        elif etag(data) != item.etag:
            raise Conflict(f"{self.write_to / name} was changed since it was written; "
                           "it is left alone")
        return data

    def _read_own(self, name: str) -> bytes | None:
        try:
            return read_regular(self.write_to / name)
        except FileNotFoundError:
            return None
        except OSError as exc:
            raise ConnectorError(f"cannot read {self.write_to / name}: {_os_reason(exc)}") \
                from None

    def _ensure_folder(self) -> None:
        try:
            self.write_to.mkdir(mode=0o700, parents=True, exist_ok=True)
        except OSError as exc:
            raise ConnectorError(f"cannot create {self.write_to}: {_os_reason(exc)}") from None

    def _write_temp(self, data: bytes) -> str:
        """A fsynced temporary file in ``write_to`` holding ``data``. Its name
        starts with a dot and does not end in .ics, so no scan picks it up."""
        try:
            fd, temp = tempfile.mkstemp(prefix=".followup-", suffix=".tmp", dir=self.write_to)
        except OSError as exc:
            raise ConnectorError(f"cannot write to {self.write_to}: {_os_reason(exc)}") from None
        try:
            write_and_sync(fd, data)
        except OSError as exc:
            _remove(temp)
            raise ConnectorError(f"cannot write to {self.write_to}: {_os_reason(exc)}") from None
        return temp

    def _create_exclusive(self, path: Path, data: bytes) -> bool:
        """Create ``path`` with ``data`` unless it exists; False if it does."""
        temp = self._write_temp(data)
        try:
            try:
                os.link(temp, path)
            except FileExistsError:
                return False
            except OSError as exc:
                if exc.errno not in (errno.EPERM, errno.ENOTSUP, errno.EOPNOTSUPP,
                                     errno.ENOSYS, errno.EMLINK, errno.EXDEV):
                    raise ConnectorError(f"cannot write {path}: {_os_reason(exc)}") from None
                # no hard links here (some network and FAT file systems)
                return _create_with_o_excl(path, data)
        finally:
            _remove(temp)
        sync_folder(path.parent)
        return True


class _Gone(Conflict):
    """The follow-up's file no longer exists."""


class _SourceReader:
    """Reads source files for one scan, collecting events and problems."""

    def __init__(self, start: datetime, end: datetime, tz: tzinfo, interest: Interest | None):
        self.start, self.end, self.tz, self.interest = start, end, tz, interest
        self.events: list[CalendarEvent] = []
        self.problems: list[Problem] = []
        self.skipped: set[str] = set()
        self.unreadable: set[str] = set()  # paths to try again at the next scan

    def entry(self, file: _File, uids: set[str]) -> list:
        """The file's entry in a token. A file that could not be read gets
        a signature no file has, so the next scan reads it again (fixing its
        permissions changes neither its size nor its mtime)."""
        signature = [-1, -1, -1] if file.path in self.unreadable else file.signature
        return [*signature, sorted(uids)]

    def read(self, file: _File, before: list | None = None) -> set[str] | None:
        """The UIDs in ``file`` (its events added to ``events``); None if it
        is gone. ``before`` is the file's entry in the previous token."""
        try:
            data = read_regular(file.path)
        except FileNotFoundError:
            return None
        except OSError as exc:
            self.unreadable.add(file.path)
            self.problems.append(Problem(file.path, f"cannot be read: {_os_reason(exc)}"))
            return still_there(before[3] if before else None, [], self.problems[-1:])
        if self.interest is not None and not self.interest.may_match(data):
            uids = raw_uids(data)
            # what the file held before is forgotten too, even under another UID
            self.skipped |= uids | set(before[3] if before else ())
            return uids
        events, problems = parse_ics(data, file.path, self.start, self.end, self.tz)
        self.events.extend(events)
        self.problems.extend(problems)
        return {e.uid for e in events} | still_there(before[3] if before else None, events, problems)


# -- helpers --------------------------------------------------------------------



def _item(name: str, data: bytes) -> StoredItem | None:
    """The stored item in a follow-up file, or None when the file carries
    no marker (it is not the daemon's). The name does not matter: a file
    named after its UID or at random by a sync tool is still ours."""
    parsed = read_followup_ics(data)
    if parsed is None:
        return None
    key, start, end, title = parsed
    return StoredItem(key=key, ref=name, etag=etag(data), start=start, end=end, title=title)


def _fail_read_back(path: Path) -> StoredItem:
    raise ConnectorError(f"{path} was written but cannot be read back")


def _checked_ref(ref: str) -> str:
    """A follow-up's file name: a plain ``.ics`` name in ``write_to``."""
    if (not ref or "/" in ref or "\0" in ref or ref.startswith(".")
            or ref[-4:].lower() != ".ics"):
        raise ConnectorError(f"{ref!r} is not the name of a follow-up file")
    return ref


def _now() -> datetime:
    return datetime.now(timezone.utc).replace(microsecond=0)


def _create_with_o_excl(path: Path, data: bytes) -> bool:
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return False
    except OSError as exc:
        raise ConnectorError(f"cannot write {path}: {_os_reason(exc)}") from None
    try:
        write_and_sync(fd, data)
    except OSError as exc:
        _remove(str(path))
        raise ConnectorError(f"cannot write {path}: {_os_reason(exc)}") from None
    sync_folder(path.parent)
    return True




def _remove(path: str) -> None:
    try:
        os.unlink(path)
    except OSError:
        pass


def _os_reason(exc: OSError) -> str:
    return exc.strerror or str(exc)


def _digest(window: list[str], lines: list[str]) -> str:
    """A digest of the window and one "name NUL mtime_ns NUL size NUL inode
    NUL" record per file (NUL is the one character a file name cannot hold):
    equal digests mean not a file was added, removed or changed. Sorts
    ``lines``."""
    lines.sort()
    text = json.dumps(window) + "\n" + "".join(lines)
    # surrogateescape: a file name that is not valid UTF-8 is still hashed
    return hashlib.blake2b(text.encode("utf-8", "surrogateescape"), digest_size=16).hexdigest()


def _token_digest(token: str) -> str | None:
    if not token.startswith(_TOKEN_PREFIX):
        return None
    return token[len(_TOKEN_PREFIX):].partition(".")[0]


def _encode_token(window: list[str], table: dict[str, list]) -> str:
    """The digest of the listing, then window and name -> [mtime_ns, size,
    inode, [uids]] as a compact string. The digest lets a scan that finds
    nothing changed skip decoding the table (100,000 entries: half a second)."""
    packed = pack({"w": window, "f": table})
    digest = _digest(window, [f"{n}\0{e[0]}\0{e[1]}\0{e[2]}\0" for n, e in table.items()])
    return f"{_TOKEN_PREFIX}{digest}.{packed}"


def _decode_token(token: str, window: list[str]) -> dict[str, list] | None:
    """The file table of a token issued for ``window``, or None (full scan)."""
    if not token.startswith(_TOKEN_PREFIX):
        return None
    content = unpack(token[len(_TOKEN_PREFIX):].partition(".")[2])
    if not isinstance(content, dict) or content.get("w") != window:
        return None
    table = content.get("f")
    # the checksum caught damage: check the shape, cheaply (100,000 entries)
    if not isinstance(table, dict):
        return None
    for entry in table.values():
        if type(entry) is not list or len(entry) != 4 or type(entry[3]) is not list:
            return None
    return table
