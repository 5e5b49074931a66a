"""Finding the Drafts folder and the folders replies arrive in.

Servers name their folders differently (``Drafts``, ``INBOX.Drafts``,
``[Gmail]/Drafts``, ``Entwürfe``) but most mark them with SPECIAL-USE
attributes (RFC 6154), which are tried first.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from imapclient import IMAPClient

from daemon.errors import ConnectorError

DRAFTS_FLAG = b"\\Drafts"
SENT_FLAG = b"\\Sent"
ALL_FLAG = b"\\All"
ARCHIVE_FLAG = b"\\Archive"
_UNUSABLE = {b"\\NOSELECT", b"\\NONEXISTENT"}

#: names of a Drafts folder in common servers and languages, most common first
DRAFT_NAMES = (
    "Drafts", "Draft", "Entwürfe", "Brouillons", "Borradores", "Bozze", "Rascunhos",
    "Concepten", "Utkast", "Kladder", "Luonnokset", "Szkice", "Koncepty", "Черновики",
)
#: names of a Sent folder in common servers and languages
SENT_NAMES = (
    "Sent", "Sent Items", "Sent Messages", "Sent Mail", "Gesendet", "Gesendete Elemente",
    "Envoyés", "Éléments envoyés", "Enviados", "Inviati", "Posta inviata", "Verzonden",
    "Skickat", "Wysłane",
)
#: parents under which a folder with one of those names is also taken
_DRAFT_PARENTS = ("inbox", "[gmail]", "[google mail]")

#: how many folder names an error message lists
_SHOWN = 25


@dataclass(frozen=True)
class Folder:
    """A folder as LIST reports it."""

    name: str
    flags: frozenset[bytes]
    delimiter: str | None

    @property
    def selectable(self) -> bool:
        return not {f.upper() for f in self.flags} & _UNUSABLE

    @property
    def leaf(self) -> str:
        return self.name.rsplit(self.delimiter, 1)[-1] if self.delimiter else self.name

    @property
    def parent(self) -> str:
        if not self.delimiter or self.delimiter not in self.name:
            return ""
        return self.name.rsplit(self.delimiter, 1)[0]


def list_folders(client: IMAPClient) -> list[Folder]:
    """Every folder of the account (one LIST command)."""
    folders = []
    for flags, delimiter, name in client.list_folders():
        if isinstance(delimiter, bytes):
            delimiter = delimiter.decode("ascii", "replace")
        folders.append(Folder(name=str(name), flags=frozenset(flags), delimiter=delimiter or None))
    return folders


def _same(a: str, b: str) -> bool:
    """Folder names are case-sensitive, except INBOX (RFC 3501)."""
    return a == b or (a.upper() == "INBOX" and b.upper() == "INBOX")


def names(folders: Iterable[Folder]) -> str:
    """The folder names for a message, cut after a few."""
    shown = [f.name for f in folders if f.selectable]
    text = ", ".join(repr(n) for n in shown[:_SHOWN])
    return text + (f" and {len(shown) - _SHOWN} more" if len(shown) > _SHOWN else "")


def find(folders: Sequence[Folder], name: str) -> Folder | None:
    """The selectable folder called ``name``."""
    return next((f for f in folders if _same(f.name, name) and f.selectable), None)


def with_flag(folders: Sequence[Folder], flag: bytes) -> Folder | None:
    """The first selectable folder carrying the SPECIAL-USE ``flag``."""
    wanted = flag.upper()
    return next((f for f in folders if f.selectable and wanted in {x.upper() for x in f.flags}), None)


def drafts_folder(folders: Sequence[Folder], configured: str | None, account: str) -> str:
    """The folder drafts go into: the configured one, else the one marked
    ``\\Drafts``, else one with a usual name. ``ConnectorError`` listing the
    folders that exist when there is none."""
    if configured:
        found = find(folders, configured)
        if found is None:
            raise ConnectorError(
                f"{account}: the drafts folder {configured!r} does not exist; the folders are: "
                f"{names(folders)}")
        return found.name
    marked = with_flag(folders, DRAFTS_FLAG)
    if marked is not None:
        return marked.name
    named = _by_usual_name(folders, DRAFT_NAMES)
    if named is not None:
        return named
    raise ConnectorError(
        f"{account}: no Drafts folder found (none is marked \\Drafts and none has a usual name); "
        f"set 'drafts' to one of: {names(folders)}")


def reply_folders(folders: Sequence[Folder], configured: Sequence[str] | None,
                  account: str) -> list[str]:
    """The folders searched for replies: the configured ones, else INBOX and
    the folder marked ``\\All`` (or else ``\\Archive``) when there is one."""
    if configured:
        found, missing = [], []
        for name in configured:
            folder = find(folders, name)
            if folder is None:
                missing.append(name)
            else:
                found.append(folder.name)
        if missing:
            raise ConnectorError(
                f"{account}: reply folder(s) {', '.join(repr(m) for m in missing)} do not exist; "
                f"the folders are: {names(folders)}")
        return found
    result = ["INBOX"]
    extra = with_flag(folders, ALL_FLAG) or with_flag(folders, ARCHIVE_FLAG)
    if extra is not None and not _same(extra.name, "INBOX"):
        result.append(extra.name)
    return result


def sent_folder(folders: Sequence[Folder]) -> str | None:
    """The folder sent mail is kept in: the one marked ``\\Sent``, else one
    with a usual name; None when there is none."""
    marked = with_flag(folders, SENT_FLAG)
    return marked.name if marked is not None else _by_usual_name(folders, SENT_NAMES)


def _by_usual_name(folders: Sequence[Folder], usual: Sequence[str]) -> str | None:
    """The selectable folder with the first of the ``usual`` names, at the
    top or under INBOX or [Gmail] (the shortest path of equals)."""
    ranked = []
    for folder in folders:
        if not folder.selectable:
            continue
        leaf = folder.leaf.casefold()
        for rank, candidate in enumerate(usual):
            if leaf == candidate.casefold() and (
                    not folder.parent or folder.parent.casefold() in _DRAFT_PARENTS):
                ranked.append((rank, len(folder.name), folder.name))
    return min(ranked)[2] if ranked else None
