"""Provider-neutral values that cross the line between the core and connectors.

Every datetime here is timezone-aware. Connectors deliver what they read in
these shapes; the core never sees a provider's own objects.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime


@dataclass(frozen=True)
class Attendee:
    """An organizer or attendee of a calendar event."""

    email: str | None  # lower case, without "mailto:"; None when unknown
    name: str = ""
    partstat: str = ""  # NEEDS-ACTION, ACCEPTED, DECLINED, TENTATIVE, DELEGATED
    cutype: str = "INDIVIDUAL"  # INDIVIDUAL, GROUP, ROOM, RESOURCE, UNKNOWN
    role: str = ""  # CHAIR, REQ-PARTICIPANT, OPT-PARTICIPANT, NON-PARTICIPANT


@dataclass(frozen=True)
class CalendarEvent:
    """One occurrence of an event as read from a calendar.

    Recurring events arrive expanded: one ``CalendarEvent`` per occurrence in
    the scan window, each with ``recurrence_id`` set to the occurrence's
    original start as a UTC instant. Floating times are already placed in the
    user's time zone. For all-day events ``all_day`` is true, ``start`` is
    local midnight of the first day and ``end`` local midnight after the last
    day (the core decides what time an all-day interview ends).
    """

    uid: str
    start: datetime
    end: datetime
    title: str = ""
    description: str = ""
    location: str = ""
    all_day: bool = False
    recurrence_id: datetime | None = None
    status: str = "CONFIRMED"  # CONFIRMED, TENTATIVE or CANCELLED
    organizer: Attendee | None = None
    attendees: tuple[Attendee, ...] = ()
    source: str = ""  # where it was read: file name, href or provider id
    warnings: tuple[str, ...] = ()  # non-fatal problems found while reading it
    categories: tuple[str, ...] = ()  # CATEGORIES / Outlook categories, as written


@dataclass(frozen=True)
class Problem:
    """Something that could not be read, reported once and skipped."""

    source: str  # file, href or calendar the problem is in
    message: str
    uid: str | None = None
    severity: str = "error"  # "error": skipped; "warning": used with a guess

    def __str__(self) -> str:
        where = self.source + (f" (UID {self.uid})" if self.uid else "")
        return f"{where}: {self.message}"


@dataclass
class ScanResult:
    """What ``Calendar.scan`` returns.

    ``full`` true: ``events`` holds every occurrence in the window and
    anything not in it is gone. ``full`` false (incremental): ``events`` holds
    all occurrences of every UID that changed since ``sync_token`` was issued,
    and ``removed_uids`` the UIDs that disappeared; other UIDs are unchanged.
    ``sync_token`` is opaque to the core and handed back on the next scan.
    ``total`` is the number of distinct UIDs the calendar holds in the window
    after this scan (None: unknown, or unchanged since the last scan). The
    core compares it with the previous scan's to refuse to act on a calendar
    that suddenly reads as empty. ``skipped_uids`` (incremental scans) are
    UIDs that changed but were left unread because they cannot match the
    scan's ``interest``: the core forgets what it knew of them.
    """

    events: list[CalendarEvent] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    sync_token: str | None = None
    full: bool = True
    removed_uids: set[str] = field(default_factory=set)
    total: int | None = None
    skipped_uids: set[str] = field(default_factory=set)


@dataclass(frozen=True)
class FollowupEvent:
    """A follow-up event the daemon writes into a calendar.

    It never has attendees, so writing it notifies nobody. Connectors store
    ``key`` with it (``X-FOLLOWUP-KEY`` or the provider's private property)
    and derive the item's id from it, so creating it twice is impossible.
    """

    key: str
    title: str
    description: str
    start: datetime
    end: datetime
    reminder_minutes: int | None = 10


@dataclass(frozen=True)
class Recipient:
    name: str
    email: str | None


@dataclass(frozen=True)
class Draft:
    """A draft email, fully built by the core.

    ``raw`` is the complete RFC 5322 message (with ``Message-ID`` and the
    ``X-Followup-Key`` header); connectors that need fields instead of bytes
    use ``to``, ``subject``, ``text`` and ``html``.
    """

    key: str
    message_id: str  # with angle brackets
    raw: bytes
    to: tuple[Recipient, ...]
    subject: str
    text: str
    html: str | None = None


@dataclass(frozen=True)
class StoredItem:
    """A follow-up event or draft as it exists at the provider.

    ``ref`` is the provider's reference (file name, href, id); ``etag``
    changes whenever anybody changes the item, so the core can tell a user
    edit from its own write. ``start``, ``end`` and ``title`` are set for
    calendar events. ``link`` is a web address that opens the item, where
    the provider offers one (Gmail, Outlook on the web), else "".
    """

    key: str
    ref: str
    etag: str
    start: datetime | None = None
    end: datetime | None = None
    title: str = ""
    link: str = ""


@dataclass(frozen=True)
class Reply:
    """A message judged to be the company's answer (``daemon.judge.answers``)."""

    sender: str  # lower-case address
    date: datetime
    subject: str = ""
    ref: str = ""
    reason: str = ""  # why it counts, in a few words


@dataclass(frozen=True)
class ReplySearch:
    """What the core looks for in a mailbox: messages whose From, Sender or
    Reply-To address is one of ``senders`` or at one of its domains; whose
    From, Sender or Reply-To display name or Subject holds one of
    ``words`` (ignoring case); or whose In-Reply-To or References holds
    one of ``message_ids``. A connector may deliver more than this, never
    less; ``daemon.judge.answers`` decides what is an answer."""

    senders: tuple[str, ...] = ()  # lower-case addresses and domains
    words: tuple[str, ...] = ()  # company, interviewer and position names
    message_ids: tuple[str, ...] = ()  # with angle brackets

    def __bool__(self) -> bool:
        return bool(self.senders or self.words or self.message_ids)


@dataclass(frozen=True)
class Received:
    """A received message as its header fields, never its body.

    ``headers`` holds (lower-case name, value) pairs for the names in
    ``daemon.headers.ANSWER_HEADERS`` that the message has, in its order,
    values unfolded and with encoded words decoded. ``ref`` is the
    Message-ID where there is one, else the provider's id; ``date`` is
    when it was received (or its Date).
    """

    ref: str
    date: datetime
    headers: tuple[tuple[str, str], ...] = ()

    def get(self, name: str) -> str | None:
        """The first value of header ``name`` (any case), or None."""
        wanted = name.lower()
        return next((value for key, value in self.headers if key == wanted), None)
