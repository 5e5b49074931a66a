"""The configuration as typed values (filled by ``daemon.app.config.load``).

Defaults here are the product's defaults; ``config.example.toml`` documents
each of them and a test checks that the two agree.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from datetime import time, timedelta
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class Me:
    name: str = ""
    email: str = ""
    aliases: tuple[str, ...] = ()
    timezone: str = "UTC"  # IANA name
    country: str = "US"  # ISO 3166 code for public holidays; "" for none
    subdivision: str = ""  # state / province code, "" for none
    signature: str = ""
    # how drafts greet people: "auto" (first name in English, full name in
    # the other languages), "first_name" ("Dear Priya,") or "full_name"
    address_by: str = "auto"

    @property
    def addresses(self) -> frozenset[str]:
        return frozenset(a.lower() for a in (self.email, *self.aliases) if a)


@dataclass(frozen=True)
class Notifications:
    enabled: bool = True  # a desktop notification when drafts or calls are written


@dataclass(frozen=True)
class Scan:
    interval: timedelta = timedelta(minutes=5)
    lookback: timedelta = timedelta(days=30)
    lookahead: timedelta = timedelta(days=60)


@dataclass(frozen=True)
class ThankYouPolicy:
    enabled: bool = True
    delay: timedelta = timedelta(hours=1)  # after the interview's end
    expire_after: timedelta = timedelta(days=3)  # past due: not created any more


@dataclass(frozen=True)
class HandwrittenNotePolicy:
    enabled: bool = False
    business_day: int = 1
    at: time = time(10, 0)
    duration: timedelta = timedelta(minutes=15)


@dataclass(frozen=True)
class FollowUpCallPolicy:
    enabled: bool = True
    business_day: int = 5
    at: time = time(10, 0)
    duration: timedelta = timedelta(minutes=15)


@dataclass(frozen=True)
class StatusCheckPolicy:
    enabled: bool = True
    days_after_call: int = 7
    at: time = time(9, 0)


@dataclass(frozen=True)
class Policy:
    thank_you: ThankYouPolicy = ThankYouPolicy()
    handwritten_note: HandwrittenNotePolicy = HandwrittenNotePolicy()
    follow_up_call: FollowUpCallPolicy = FollowUpCallPolicy()
    status_check: StatusCheckPolicy = StatusCheckPolicy()


@dataclass(frozen=True)
class Detection:
    """What detection reads. ``languages`` None: every language file.
    ``keywords`` None: the languages' interview and round words, weighed
    with the rest of the evidence; a tuple replaces them with the user's
    own words, each enough on its own. ``extra_keywords`` name an
    interview on their own; ``exclude`` rules out a title holding one."""

    keywords: tuple[str, ...] | None = None
    extra_keywords: tuple[str, ...] = ()
    exclude: tuple[str, ...] = ()
    languages: tuple[str, ...] | None = None

    @staticmethod
    def build(keywords=None, extra_keywords=(), exclude=None, extra_exclude=(),
              languages=None) -> "Detection":
        return Detection(
            keywords=None if keywords is None else tuple(k.lower() for k in keywords),
            extra_keywords=tuple(k.lower() for k in extra_keywords),
            exclude=tuple(e.lower() for e in (*(exclude or ()), *extra_exclude)),
            languages=None if languages is None else tuple(languages),
        )


@dataclass(frozen=True)
class AccountConfig:
    """A ``[[calendars]]`` or ``[[mailboxes]]`` entry.

    ``options`` holds the connector's own keys, already checked against the
    connector's ``options`` table. ``mailbox`` and ``language`` (of the
    follow-ups of its interviews; "auto": each interview's own) are for
    calendars only.
    """

    name: str
    type: str
    options: dict[str, Any] = field(default_factory=dict)
    mailbox: str | None = None
    language: str = "auto"

    @property
    def identity(self) -> str:
        """What the account is, apart from its name: a rename keeps it."""
        text = json.dumps([self.type, self.options], sort_keys=True, default=str)
        return hashlib.sha256(text.encode()).hexdigest()


@dataclass(frozen=True)
class Settings:
    me: Me = Me()
    state_path: Path = Path("state.sqlite3")
    templates_dir: Path | None = None
    templates_language: str = "auto"  # "auto": the interview's language
    scan: Scan = Scan()
    notifications: Notifications = Notifications()
    policy: Policy = Policy()
    detection: Detection = Detection()
    calendars: tuple[AccountConfig, ...] = ()
    mailboxes: tuple[AccountConfig, ...] = ()
    source: Path | None = None  # the config file this came from

    def mailbox_for(self, calendar: AccountConfig) -> AccountConfig | None:
        wanted = calendar.mailbox
        for m in self.mailboxes:
            if wanted is None or m.name == wanted:
                return m
        return None
