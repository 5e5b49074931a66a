"""The sync token the CalDAV connector hands the core between scans.

It is opaque to the core and carries what an incremental scan needs:

- ``window``: the calendar URL, the scan window and the time zone it was
  read for; a token for another window means a full scan;
- ``mode``: ``"sync"`` (RFC 6578 sync-collection) or ``"etag"`` (servers
  without it: ctag and etags are compared);
- ``marker``: the server's sync token (``sync``) or the calendar's ctag
  (``etag``; None when the server has none);
- ``table``: href -> [etag, [UIDs in the window]]. In ``sync`` mode only the
  objects with an event in the window are listed (the server names every
  other change); in ``etag`` mode every object is.

Hrefs are stored relative to the calendar's path. The whole is compact
JSON, zlib-compressed and base64url-encoded after the prefix ``caldav1.``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from daemon.collection import pack, unpack

PREFIX = "caldav1."
MODES = ("sync", "etag")


@dataclass
class SyncState:
    window: list[str]
    mode: str
    marker: str | None
    table: dict[str, list] = field(default_factory=dict)  # href -> [etag, [uids]]

    def uids(self) -> set[str]:
        """Every UID in the window."""
        return {uid for entry in self.table.values() for uid in entry[1]}


def encode(state: SyncState) -> str:
    return PREFIX + pack({"w": state.window, "m": state.mode, "k": state.marker, "t": state.table})


def decode(token: str, window: list[str]) -> SyncState | None:
    """The state in a token issued for ``window``; None (a full scan) for
    any other or unreadable token."""
    if not token.startswith(PREFIX):
        return None
    content = unpack(token[len(PREFIX):])
    try:
        if content["w"] != window or content["m"] not in MODES:
            return None
        marker = content["k"]
        table = content["t"]
        if marker is not None and not isinstance(marker, str):
            return None
        if not isinstance(table, dict):
            return None
        for href, entry in table.items():
            if (not isinstance(href, str) or not isinstance(entry, list) or len(entry) != 2
                    or not isinstance(entry[0], (str, type(None)))
                    or not isinstance(entry[1], list)
                    or not all(isinstance(uid, str) for uid in entry[1])):
                return None
        return SyncState(window=window, mode=content["m"], marker=marker, table=table)
    except (KeyError, TypeError):  # not the shape written: a full scan
        return None
