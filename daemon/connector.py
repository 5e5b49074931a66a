"""The connector contract: everything the core asks of a calendar or mailbox.

A connector package (``connectors/<type>``) provides subclasses of
``Calendar`` and/or ``Mailbox`` and is named in ``daemon.registry`` by the
``type`` string users write in their config. The core only ever talks to
these two interfaces; ``tests/contract`` holds the one suite that every
connector passes.

Rules every implementation follows:

- Only the daemon's own items are ever changed or deleted: events carrying a
  follow-up key, drafts carrying the ``X-Followup-Key`` header. Source events
  and other mail are never modified.
- Creating is idempotent by key: ``create_event``/``create_draft`` for a key
  that already exists return the existing item instead of making a second
  one. This is what makes a retry after a crash safe.
- Updating and deleting name the ``etag`` the core last saw; if the item has
  changed since, ``Conflict`` is raised and nothing is touched.
- Failures are raised as the types in ``daemon.errors``. Every method may
  raise ``TransientError`` (network, throttling, 5xx: the core tries again
  later; ``Ambiguous`` for a write that got no answer), ``AuthError`` (the
  login is missing or refused: the account stops until the user acts) and
  ``ConnectorError`` (anything else: reported, the other accounts go on).
  The methods below name what they raise beyond these. An ``OSError``
  a local connector lets through is handled as a ``ConnectorError``, but
  messages are better when the connector names the file itself.
- Options are declared in ``options`` with their checks (``Option.check``,
  ``daemon.options``); ``validate`` adds checks across keys. Both run when
  the config is loaded, so ``__init__`` never meets a bad value, and again
  in ``Connector.__init__`` for a connector built from a dict.

Where a connector goes, what it must pass and how the core uses it:
``DESIGN.md``. ``tests/contract/memory.py`` implements both interfaces in
memory, in the fewest lines, as a model; the contract suite is
``tests/contract`` (add a harness to ``tests/contract/registry.py``).
"""

from __future__ import annotations

import os
from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, tzinfo
from pathlib import Path
from typing import Any, ClassVar

from daemon.interest import Interest
from daemon.model import Draft, FollowupEvent, Received, ReplySearch, ScanResult, StoredItem


@dataclass(frozen=True)
class Option:
    """One config key a connector accepts, for validation and docs.

    ``check`` (see ``daemon.options``) says why a value of the right type is
    still wrong; it runs when the config is loaded and again when the
    connector is built, so ``followup check`` and ``run`` agree.
    """

    kind: type | tuple[type, ...]  # accepted Python type(s) after TOML parsing
    required: bool = False
    default: Any = None
    help: str = ""
    check: Callable[[Any], str | None] | None = None


@dataclass
class Context:
    """What the core gives every connector when it builds one.

    ``base_dir`` resolves relative paths in the config; ``state_dir`` is where
    a connector may keep files of its own; ``secret`` returns a stored secret
    (password, token) for this account or None; ``user_addresses`` are the
    user's own email addresses (lower case).
    """

    base_dir: Path
    state_dir: Path
    user_addresses: frozenset[str] = frozenset()
    secret: Callable[[str], str | None] = field(default=lambda name: None)

    def resolve(self, value: str) -> Path:
        """A path from the config: ``~`` expanded, relative to ``base_dir``."""
        path = Path(os.path.expanduser(value.strip()))
        return path if path.is_absolute() else Path(self.base_dir) / path


class Connector(ABC):
    """Common part of calendars and mailboxes."""

    #: config keys accepted besides ``name`` and ``type``
    options: ClassVar[dict[str, Option]] = {}

    #: how messages name an account of this kind ("calendar", "mailbox")
    role: ClassVar[str] = "account"

    def __init__(self, name: str, config: dict[str, Any], context: Context):
        """Raises ``ConfigError`` listing every option whose check fails
        (a config loaded by the core has passed them already)."""
        from daemon.errors import ConfigError
        from daemon.options import problems

        found = problems(type(self).options, config)
        if found:
            raise ConfigError([f"{self.role} {name!r}: {key} {why}" for key, why in found])
        self.name = name
        self.config = config
        self.context = context

    @classmethod
    def validate(cls, name: str, options: dict[str, Any]) -> list[str]:
        """Problems with ``options`` beyond their types (one line each),
        checked when the config is loaded, so they are listed with the rest."""
        return []

    def check(self) -> str:
        """Reach the provider and return a one-line description of what was
        found (e.g. "12 events, writes to Interview follow-ups"). Raises the
        usual errors when it cannot."""
        return "ok"

    def close(self) -> None:
        """Release connections. Called once when the core is done."""

    def authorize(self) -> str:
        """``followup auth NAME``: log in interactively, store the credential
        (keyring), and return a one-line confirmation. Accounts that need no
        login keep this default."""
        from daemon.errors import ConnectorError

        raise ConnectorError(f"{self.name}: this kind of account needs no login")


class Calendar(Connector):
    """A calendar that is scanned for interviews and receives follow-ups."""

    role = "calendar"

    @abstractmethod
    def scan(self, start: datetime, end: datetime, tz: tzinfo,
             sync_token: str | None = None, interest: Interest | None = None) -> ScanResult:
        """Read the events that overlap [start, end).

        Recurring events are expanded to occurrences; floating times are
        placed in ``tz``. The daemon's own follow-up events are left out.
        Unreadable files or events become ``ScanResult.problems`` and the
        rest is still returned. With a ``sync_token`` from the previous scan
        the connector may return only what changed (``full=False``); it
        raises ``SyncTokenExpired`` when the provider rejects the token.

        ``interest`` says which events the core can use at all. A connector
        may leave out data for which ``interest.may_match`` is false instead
        of parsing it; in an incremental scan it then names the UIDs of such
        data that changed in ``ScanResult.skipped_uids``. A connector that
        leaves data out ties its sync token to ``interest.token()``.
        """

    @abstractmethod
    def list_own(self) -> list[StoredItem]:
        """Every follow-up event the daemon wrote into this calendar."""

    @abstractmethod
    def find_own(self, key: str) -> StoredItem | None:
        """The follow-up event with this key, or None if it does not exist."""

    @abstractmethod
    def create_event(self, event: FollowupEvent) -> StoredItem:
        """Write a follow-up event. If one with ``event.key`` exists already,
        return it unchanged (no second copy). Raises ``Conflict`` when its
        place is taken for good (an item not ours holds its name or UID):
        the core then never asks again."""

    def update_event(self, item: StoredItem, event: FollowupEvent) -> StoredItem:
        """Replace the follow-up event ``item`` with ``event``. Raises
        ``Conflict`` if its etag is no longer ``item.etag``, and
        ``ConnectorError`` if ``event.key`` is not ``item.key`` (a key names
        one follow-up for good). Connectors implement ``replace_event``."""
        if event.key != item.key:
            from daemon.errors import ConnectorError

            raise ConnectorError(f"{self.name}: a follow-up's key cannot change on update "
                                 f"({item.key!r} -> {event.key!r})")
        return self.replace_event(item, event)

    @abstractmethod
    def replace_event(self, item: StoredItem, event: FollowupEvent) -> StoredItem:
        """The connector's part of ``update_event``, the key already checked."""

    @abstractmethod
    def delete_event(self, item: StoredItem) -> None:
        """Delete the follow-up event ``item``. Raises ``Conflict`` if its etag
        is no longer ``item.etag``; does nothing if it is already gone."""


class Mailbox(Connector):
    """A mailbox that receives drafts and is searched for replies."""

    role = "mailbox"

    @abstractmethod
    def create_draft(self, draft: Draft) -> StoredItem:
        """Put ``draft`` into the Drafts folder, marked as a draft, never
        sent. If the daemon's draft for ``draft.key`` exists already, return
        it (no second copy). Only the marker (``X-Followup-Key``) makes a
        message the daemon's: a message without it that holds the draft's
        Message-ID is left alone, with ``Conflict`` where the connector can
        tell. A provider with a web view sets ``StoredItem.link`` to the
        address that opens the draft there (here and in ``find_draft``)."""

    @abstractmethod
    def find_draft(self, key: str, message_id: str) -> StoredItem | None:
        """The daemon's draft for this key (carrying the marker), or None."""

    def find_sent(self, key: str, message_id: str) -> bool | None:
        """Whether the user already sent the draft with this key or
        Message-ID (it is among the sent messages): True, False, or None
        when this mailbox cannot tell. Asked before a draft that has no
        record yet is written, so that a lost state database never brings
        back a draft that went out."""
        return None

    @abstractmethod
    def delete_draft(self, item: StoredItem) -> None:
        """Delete the draft ``item`` if it is unchanged. Raises ``Conflict``
        if its etag differs; does nothing if it is already gone. Raises
        ``Unsupported`` when the provider cannot remove one message alone
        (the draft is then left for the user, and the core says so)."""

    @abstractmethod
    def find_replies(self, search: ReplySearch, since: datetime) -> list[Received]:
        """Received messages dated at or after ``since`` that ``search``
        asks for, as their header fields: every one of them (a connector
        may deliver more, never less), each once, never a body, never a
        draft or sent message. Which of them are answers is the core's
        judgement (``daemon.judge.answers``), the same for every mailbox."""
