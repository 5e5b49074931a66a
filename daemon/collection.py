"""What the calendars kept as a collection of ``.ics`` objects share: a vdir
folder (``connectors.local``) and a CalDAV collection (``connectors.caldav``).

Both name the daemon's own objects the same way, give new follow-ups UIDs
sync tools keep, read a changed object's UIDs whole, never take an object
that cannot be read for a deleted one, and keep their sync state in a
compact token.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
import zlib
from collections.abc import Callable, Iterable
from typing import Any

from .model import CalendarEvent, Problem

#: the name of every follow-up object the daemon writes
OWN_NAME = re.compile(r"^followup-[0-9a-f]{32}\.ics$")


def own_file_name(key: str) -> str:
    """The object (file) name of the follow-up with ``key``."""
    return f"followup-{hashlib.sha256(key.encode('utf-8')).hexdigest()[:32]}.ics"


def is_own_name(name: str) -> bool:
    """Whether the last part of ``name`` is a follow-up's object name."""
    return bool(OWN_NAME.match(name.rpartition("/")[2]))


def new_uid(name: str) -> str:
    """A new follow-up's UID: its object name without ``.ics``. Only letters,
    digits and ``-``, so vdirsyncer names the file after it when it copies a
    calendar into a folder (it picks a random name for a UID with other
    characters, such as the ``@`` of earlier versions)."""
    return name.removesuffix(".ics")


def still_there(before: Iterable[str] | None, found: list[CalendarEvent],
                problems: list[Problem]) -> set[str]:
    """UIDs an object holds that cannot be read now: those of its unreadable
    events, and all it held ``before`` when none of it can be read. They
    are not reported as removed: an object caught half-written, or broken by
    an editor or a client, must not make its events look deleted; and when
    the object goes, they are (so what was said of them can go too)."""
    errors = [p for p in problems if p.severity == "error"]
    held = {p.uid for p in errors if p.uid}
    if before is not None and not found and any(p.uid is None for p in errors):
        held |= set(before)  # the whole object is unreadable
    return held


def read_whole_uids(table: dict[str, Any], first: set[str], uids_of: Callable[[Any], Iterable[str]],
                    read: Callable[[set[str]], set[str]], touched: set[str]) -> None:
    """Read the objects ``first``, then every unread object in ``table``
    that shares a UID with those touched so far, until none is left: one UID
    lives in one object (RFC 4791 4.1, and vdir style), but should it be
    split over several, it is delivered whole. ``read(names)`` reads a batch,
    updates ``table`` and returns the UIDs found; ``touched`` grows."""
    done: set[str] = set()
    batch = set(first)
    while batch:
        done |= batch
        touched |= read(batch)
        batch = {name for name, entry in table.items()
                 if name not in done and touched.intersection(uids_of(entry))}


def pack(content: Any) -> str:
    """JSON, compressed, in URL-safe base64: a sync token's body."""
    raw = json.dumps(content, separators=(",", ":"), sort_keys=True)
    return base64.urlsafe_b64encode(zlib.compress(raw.encode("utf-8"), 6)).decode("ascii")


def unpack(text: str) -> Any | None:
    """What ``pack`` packed, or None for anything unreadable (zlib's checksum
    catches damage; the caller checks the shape)."""
    try:
        return json.loads(zlib.decompress(base64.urlsafe_b64decode(text)))
    except Exception:  # noqa: BLE001 - an unreadable token just means a full scan
        return None
