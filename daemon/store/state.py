"""The state database (SQLite): follow-up records, scan cache, sync tokens.

It is the only source of truth about what the daemon did. Every write is
its own transaction with ``synchronous=FULL`` in WAL mode, so a record that
says an effect happened survives a crash or power loss, and the intent of an
effect is on disk before the provider is called.
"""

from __future__ import annotations

import json
import os
import sqlite3
import stat
from collections.abc import Iterable
from dataclasses import asdict, fields
from datetime import datetime, timezone
from pathlib import Path

from daemon.errors import ConfigError, StateError
from daemon.model import Attendee, CalendarEvent
from daemon.plan.records import Record

SCHEMA_VERSION = 3
#: how long a statement waits for another program's lock before failing
BUSY_TIMEOUT_MS = 5000

SCHEMA = """
CREATE TABLE IF NOT EXISTS actions (
    key TEXT PRIMARY KEY,
    kind TEXT NOT NULL,
    calendar TEXT NOT NULL,
    target TEXT NOT NULL,
    interview TEXT NOT NULL,
    process TEXT NOT NULL,
    due TEXT NOT NULL,
    state TEXT NOT NULL,
    recipient TEXT NOT NULL DEFAULT '',
    reason TEXT NOT NULL DEFAULT '',
    cause TEXT NOT NULL DEFAULT '',
    op TEXT,
    ref TEXT,
    etag TEXT,
    content_hash TEXT,
    message_id TEXT,
    user_changed INTEGER NOT NULL DEFAULT 0,
    updated_at TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS actions_interview ON actions(interview);
CREATE TABLE IF NOT EXISTS sync (
    account TEXT PRIMARY KEY,
    total INTEGER,
    scanned_at TEXT
);
-- apart from sync: an unchanged token (up to megabytes) is then never rewritten
CREATE TABLE IF NOT EXISTS tokens (
    account TEXT PRIMARY KEY,
    token TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS events (
    calendar TEXT NOT NULL,
    uid TEXT NOT NULL,
    rid TEXT NOT NULL,
    start TEXT NOT NULL,
    data TEXT NOT NULL,
    PRIMARY KEY (calendar, uid, rid)
);
CREATE TABLE IF NOT EXISTS accounts (
    name TEXT PRIMARY KEY,
    status TEXT NOT NULL,
    message TEXT NOT NULL DEFAULT '',
    since TEXT NOT NULL,
    last_ok TEXT
);
-- what each account is (its type and options), to recognise a rename; and
-- the name its follow-up keys were made with (its first name)
CREATE TABLE IF NOT EXISTS identities (
    role TEXT NOT NULL,  -- calendar or mailbox
    name TEXT NOT NULL,
    identity TEXT NOT NULL,
    key_name TEXT NOT NULL,
    PRIMARY KEY (role, name)
);
CREATE TABLE IF NOT EXISTS meta (
    key TEXT PRIMARY KEY,
    value TEXT
);
-- the user's own verdicts: include / exclude an event (target: its UID, or
-- "title:" and a text), answered (target: a process), not_answered (a message)
CREATE TABLE IF NOT EXISTS verdicts (
    kind TEXT NOT NULL,
    target TEXT NOT NULL,
    made_at TEXT NOT NULL,
    PRIMARY KEY (kind, target)
);
"""

def _move_tokens(db: sqlite3.Connection) -> None:
    """Schema 3: sync tokens move to a table of their own (sync.token stays
    behind, unused)."""
    db.execute("CREATE TABLE IF NOT EXISTS tokens (account TEXT PRIMARY KEY, token TEXT NOT NULL)")
    if any(row[1] == "token" for row in db.execute("PRAGMA table_info(sync)")):
        db.execute("INSERT INTO tokens SELECT account, token FROM sync WHERE token IS NOT NULL")
        db.execute("UPDATE sync SET token=NULL")


# Schema changes, applied in order to a database of an older version: SQL
# statements or functions of the connection.
MIGRATIONS = {
    2: ["ALTER TABLE accounts ADD COLUMN last_ok TEXT"],
    3: [_move_tokens],
}


def _advice(path: Path, exc: sqlite3.Error) -> str:
    """What a failed statement means for the user, naming the database."""
    text = str(exc)
    low = text.lower()
    if "locked" in low or "busy" in low:
        hint = ("another program holds it (a backup, or a second followup with this [state] path); "
                "try again when it is done")
    elif "readonly" in low or "read-only" in low:
        hint = "it cannot be written: check the file's and its folder's permissions"
    elif "full" in low:
        hint = "the disk is full: free some space"
    elif "malformed" in low or "not a database" in low or "corrupt" in low:
        hint = ("it is damaged: move it aside (followup takes back what it finds in your calendars "
                "and drafts, see the README) or restore a backup")
    else:
        hint = "check the file and its folder"
    return f"state database {path}: {text}; {hint}"


class _Connection(sqlite3.Connection):
    """Every failure of the state database is a ``StateError`` naming the
    file and what to do, never an sqlite3 traceback."""

    path: Path = Path()

    def _wrap(self, call, *args):
        try:
            return call(*args)
        except sqlite3.Error as exc:
            raise StateError(_advice(self.path, exc)) from exc

    def execute(self, *args):
        return self._wrap(super().execute, *args)

    def executemany(self, *args):
        return self._wrap(super().executemany, *args)

    def executescript(self, *args):
        return self._wrap(super().executescript, *args)

    def __exit__(self, *args):
        return self._wrap(super().__exit__, *args)


def _private(path: Path) -> None:
    """Create the database file readable by the user alone (SQLite gives
    its -wal and -shm files the same mode), or make an existing one so.
    A new file is never created through a symbolic link."""
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC, 0o600)
    except FileExistsError:
        for one in (path, Path(f"{path}-wal"), Path(f"{path}-shm")):
            try:
                info = os.stat(one)
                if stat.S_ISREG(info.st_mode) and info.st_mode & 0o077 and info.st_uid == os.getuid():
                    os.chmod(one, 0o600)
            except OSError:
                continue
        return
    os.close(fd)


def _iso(dt: datetime | None) -> str | None:
    return None if dt is None else dt.astimezone(timezone.utc).isoformat()


def _dt(text: str | None) -> datetime | None:
    return None if text is None else datetime.fromisoformat(text)


def event_to_json(e: CalendarEvent) -> str:
    d = asdict(e)
    for k in ("start", "end", "recurrence_id"):
        d[k] = _iso(d[k])
    text = json.dumps(d, ensure_ascii=False, separators=(",", ":"))
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        # a file name that is not UTF-8 (kept as surrogates): escaped, it
        # is stored and read back unchanged
        text = json.dumps(d, ensure_ascii=True, separators=(",", ":"))
    return text


def event_from_json(text: str) -> CalendarEvent:
    d = json.loads(text)
    for k in ("start", "end", "recurrence_id"):
        d[k] = _dt(d[k])
    d["organizer"] = Attendee(**d["organizer"]) if d["organizer"] else None
    d["attendees"] = tuple(Attendee(**a) for a in d["attendees"])
    d["warnings"] = tuple(d["warnings"])
    d["categories"] = tuple(d.get("categories") or ())
    return CalendarEvent(**d)


_RECORD_FIELDS = [f.name for f in fields(Record)]
# the column of a field whose name differs from it
_RECORD_COLUMNS = [{"pending_op": "op"}.get(name, name) for name in _RECORD_FIELDS]


class State:
    """One open state database. Not shared between threads."""

    def __init__(self, path: Path):
        self.path = Path(path)
        self.created = not self.path.exists()
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
            _private(self.path)
            self.db = sqlite3.connect(self.path, isolation_level=None, factory=_Connection)
            self.db.path = self.path
            self.db.execute("PRAGMA journal_mode=WAL")
            self.db.execute("PRAGMA synchronous=FULL")
            self.db.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
            version = self.db.execute("PRAGMA user_version").fetchone()[0]
        except (OSError, sqlite3.Error) as exc:
            raise ConfigError(f"{self.path}: cannot open the state database: {exc}") from None
        if version > SCHEMA_VERSION:
            raise ConfigError(
                f"{self.path}: state database is from a newer version (schema {version}); upgrade followup")
        if 0 < version < SCHEMA_VERSION:
            with self.db:
                self.db.execute("BEGIN IMMEDIATE")
                for step in range(version + 1, SCHEMA_VERSION + 1):
                    for statement in MIGRATIONS.get(step, ()):
                        if callable(statement):
                            statement(self.db)
                        else:
                            self.db.execute(statement)
                self.db.execute(f"PRAGMA user_version={SCHEMA_VERSION}")
        self.db.executescript(SCHEMA)
        self.db.execute(f"PRAGMA user_version={SCHEMA_VERSION}")

    def close(self) -> None:
        self.db.close()

    # -- records -----------------------------------------------------------

    def records(self) -> dict[str, Record]:
        cur = self.db.execute(f"SELECT {', '.join(_RECORD_COLUMNS)} FROM actions")
        out = {}
        for row in cur:
            d = dict(zip(_RECORD_FIELDS, row))
            d["due"] = _dt(d["due"])
            d["user_changed"] = bool(d["user_changed"])
            out[d["key"]] = Record(**d)
        return out

    def put(self, rec: Record, now: datetime) -> None:
        """Insert or replace one record, durably."""
        values = [getattr(rec, f) for f in _RECORD_FIELDS]
        values[_RECORD_FIELDS.index("due")] = _iso(rec.due)
        values[_RECORD_FIELDS.index("user_changed")] = int(rec.user_changed)
        names = ", ".join([*_RECORD_COLUMNS, "updated_at"])
        marks = ", ".join("?" * (len(_RECORD_FIELDS) + 1))
        self.db.execute(f"INSERT OR REPLACE INTO actions ({names}) VALUES ({marks})",
                        [*values, _iso(now)])

    # -- scan cache and sync tokens -------------------------------------------

    def sync_info(self, account: str) -> tuple[str | None, int | None]:
        token = self.db.execute("SELECT token FROM tokens WHERE account=?", (account,)).fetchone()
        total = self.db.execute("SELECT total FROM sync WHERE account=?", (account,)).fetchone()
        return (token[0] if token else None, total[0] if total else None)

    def cached_events(self, calendar: str) -> list[CalendarEvent]:
        cur = self.db.execute("SELECT data FROM events WHERE calendar=?", (calendar,))
        return [event_from_json(row[0]) for row in cur]

    def store_scan(self, calendar: str, events: Iterable[CalendarEvent], *, full: bool,
                   removed_uids: Iterable[str], window_start: datetime, token: str | None,
                   total: int | None, now: datetime) -> None:
        """Merge a scan into the cache, in one transaction.

        A full scan replaces what it covers (events starting inside the
        window); events that started before the window are kept, since their
        follow-ups can still be ahead. An incremental scan replaces the
        events of every UID it names."""
        events = list(events)
        with self.db:
            self.db.execute("BEGIN IMMEDIATE")
            if full:
                self.db.execute("DELETE FROM events WHERE calendar=? AND start>=?",
                                (calendar, _iso(window_start)))
            for uid in {*removed_uids, *(e.uid for e in events)}:
                self.db.execute("DELETE FROM events WHERE calendar=? AND uid=?", (calendar, uid))
            self.db.executemany(
                "INSERT OR REPLACE INTO events (calendar, uid, rid, start, data) VALUES (?,?,?,?,?)",
                [(calendar, e.uid, _iso(e.recurrence_id) or "", _iso(e.start), event_to_json(e))
                 for e in events])
            # an unknown total (None) keeps the last one known
            self.db.execute(
                "INSERT OR REPLACE INTO sync (account, total, scanned_at) VALUES "
                "(?,COALESCE(?,(SELECT total FROM sync WHERE account=?)),?)",
                (calendar, total, calendar, _iso(now)))
            if token is None:
                self.db.execute("DELETE FROM tokens WHERE account=?", (calendar,))
            else:
                self.db.execute(
                    "INSERT INTO tokens (account, token) VALUES (?,?) ON CONFLICT(account) "
                    "DO UPDATE SET token=excluded.token WHERE token IS NOT excluded.token",
                    (calendar, token))

    def prune_events(self, before: datetime) -> None:
        """Forget cached events that started before ``before``: every
        follow-up of theirs is long past."""
        self.db.execute("DELETE FROM events WHERE start<?", (_iso(before),))

    def forget_token(self, account: str) -> None:
        self.db.execute("DELETE FROM tokens WHERE account=?", (account,))

    # -- account health ------------------------------------------------------

    def set_account(self, name: str, status: str, message: str, now: datetime) -> None:
        row = self.db.execute("SELECT status, since, last_ok FROM accounts WHERE name=?", (name,)).fetchone()
        since = row[1] if row and row[0] == status else _iso(now)
        last_ok = _iso(now) if status == "ok" else (row[2] if row else None)
        self.db.execute(
            "INSERT OR REPLACE INTO accounts (name, status, message, since, last_ok) VALUES (?,?,?,?,?)",
            (name, status, message, since, last_ok))

    def accounts(self) -> dict[str, tuple[str, str, datetime, datetime | None]]:
        """name -> (status, message, since, last good pass)."""
        cur = self.db.execute("SELECT name, status, message, since, last_ok FROM accounts")
        return {r[0]: (r[1], r[2], _dt(r[3]), _dt(r[4])) for r in cur}

    # -- account names ---------------------------------------------------------

    def follow_renames(self, calendars: dict[str, str], mailboxes: dict[str, str]) -> list[tuple[str, str]]:
        """``calendars``, ``mailboxes``: account name -> identity (type and
        options). A name seen for the first time whose identity belongs to
        a name of the same role no longer configured is a rename: the old
        name's records, cache and tokens move to the new name, and keys keep
        being made with the name they were first made with. Returns the
        (old, new) renames."""
        renames = []
        with self.db:
            self.db.execute("BEGIN IMMEDIATE")
            for role, configured in (("calendar", calendars), ("mailbox", mailboxes)):
                known = {name: identity for name, identity in self.db.execute(
                    "SELECT name, identity FROM identities WHERE role=?", (role,))}
                for name, identity in sorted(configured.items()):
                    if name in known:
                        if known[name] != identity:
                            self.db.execute("UPDATE identities SET identity=? WHERE role=? AND name=?",
                                            (identity, role, name))
                        continue
                    old = next((o for o, i in sorted(known.items()) if i == identity and o not in configured),
                               None)
                    if old is None:
                        self.db.execute("INSERT INTO identities (role, name, identity, key_name) "
                                        "VALUES (?,?,?,?)", (role, name, identity, name))
                        continue
                    self._rename(role, old, name, still_used={*calendars, *mailboxes})
                    known[name] = known.pop(old)
                    renames.append((old, name))
        return renames

    def _rename(self, role: str, old: str, new: str, still_used: set[str]) -> None:
        db = self.db
        # a calendar's follow-ups are events; a mailbox's are drafts
        kinds = "('handwritten_note', 'follow_up_call')"
        db.execute(f"UPDATE actions SET target=? WHERE target=? AND kind {'' if role == 'calendar' else 'NOT '}IN "
                   f"{kinds}", (new, old))
        if role == "calendar":
            sep = "\x1f"
            db.execute("UPDATE actions SET calendar=? WHERE calendar=?", (new, old))
            db.execute("UPDATE actions SET interview=? || substr(interview, ?) WHERE substr(interview, 1, ?)=?",
                       (new + sep, len(old) + 2, len(old) + 1, old + sep))
            old_p, new_p = f"event:{old}/", f"event:{new}/"
            db.execute("UPDATE actions SET process=? || substr(process, ?) WHERE substr(process, 1, ?)=?",
                       (new_p, len(old_p) + 1, len(old_p), old_p))
            db.execute("UPDATE verdicts SET target=? || substr(target, ?) WHERE kind='answered' "
                       "AND substr(target, 1, ?)=?", (new_p, len(old_p) + 1, len(old_p), old_p))
            db.execute("DELETE FROM events WHERE calendar=?", (new,))
            db.execute("UPDATE events SET calendar=? WHERE calendar=?", (new, old))
        if old not in still_used:  # tables by account name, shared by a calendar and a mailbox of one name
            for table, column in (("sync", "account"), ("tokens", "account"), ("accounts", "name")):
                db.execute(f"DELETE FROM {table} WHERE {column}=?", (new,))
                db.execute(f"UPDATE {table} SET {column}=? WHERE {column}=?", (new, old))
        db.execute("UPDATE identities SET name=? WHERE role=? AND name=?", (new, role, old))

    def key_names(self) -> dict[str, str]:
        """Calendar name -> the name its follow-up keys are made with."""
        return {name: key_name for name, key_name in self.db.execute(
            "SELECT name, key_name FROM identities WHERE role='calendar' AND name != key_name")}

    def stray_accounts(self, configured: Iterable[str]) -> dict[str, int]:
        """Accounts no longer in the config that still have follow-ups in
        the state: name -> how many."""
        names = set(configured)
        out: dict[str, int] = {}
        for calendar, target, count in self.db.execute(
                "SELECT calendar, target, count(*) FROM actions GROUP BY calendar, target"):
            for name in {calendar, target} - names:
                out[name] = out.get(name, 0) + count
        return out

    # -- the user's verdicts ---------------------------------------------------

    def set_verdict(self, kind: str, target: str, now: datetime) -> None:
        """Record the user's verdict; the opposite verdict on the same target goes."""
        opposite = {"include": "exclude", "exclude": "include",
                    "answered": None, "not_answered": None}[kind]
        with self.db:
            self.db.execute("BEGIN IMMEDIATE")
            if opposite:
                self.db.execute("DELETE FROM verdicts WHERE kind=? AND target=?", (opposite, target))
            self.db.execute("INSERT OR REPLACE INTO verdicts (kind, target, made_at) VALUES (?,?,?)",
                            (kind, target, _iso(now)))

    def drop_verdict(self, kind: str, target: str) -> bool:
        """Forget a verdict; False when there was none."""
        cur = self.db.execute("DELETE FROM verdicts WHERE kind=? AND target=?", (kind, target))
        return cur.rowcount > 0

    def verdicts(self) -> dict[str, dict[str, datetime]]:
        """kind -> target -> when the user said so."""
        out: dict[str, dict[str, datetime]] = {}
        for kind, target, made_at in self.db.execute("SELECT kind, target, made_at FROM verdicts"):
            out.setdefault(kind, {})[target] = _dt(made_at)
        return out

    def set_meta(self, key: str, value: str | None) -> None:
        self.db.execute("INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)", (key, value))

    def meta(self, key: str) -> str | None:
        row = self.db.execute("SELECT value FROM meta WHERE key=?", (key,)).fetchone()
        return row[0] if row else None
