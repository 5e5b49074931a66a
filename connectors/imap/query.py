"""SEARCH criteria and the headers read back, for drafts and replies.

Addresses and domains come from calendar events, which anybody who can
invite the user can write. Criteria are therefore built here as one ASCII
string with every value quoted; a value that cannot be quoted safely is
never sent, and the search is widened instead (the exact check on this
side decides what counts).
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from email import policy
from email.message import Message
from email.parser import BytesHeaderParser

from daemon.headers import (
    KEY_HEADER,
    domain_matches,
    is_auto_reply,
    message_date,
    normalize_message_id,
    raw_header,
    sender_addresses,
)

_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")

#: the header fields read of a possible reply; bodies are never fetched
REPLY_FIELDS = ("FROM", "DATE", "SUBJECT", "MESSAGE-ID", "AUTO-SUBMITTED", "X-AUTOREPLY",
                "X-AUTORESPOND", "PRECEDENCE")
REPLY_FETCH = [b"BODY.PEEK[HEADER.FIELDS (" + " ".join(REPLY_FIELDS).encode() + b")]",
               b"INTERNALDATE"]
#: a whole message, without setting \Seen
FULL = b"BODY.PEEK[]"


def etag(raw: bytes) -> str:
    """A draft's etag: the hash of its full bytes, so any edit changes it."""
    return hashlib.sha256(raw).hexdigest()


def quote(value: str) -> bytes | None:
    """``value`` as an IMAP quoted string, or None if it holds anything but
    printable ASCII (a CR or LF would end the command)."""
    if not value or any(not " " <= ch <= "~" for ch in value):
        return None
    return b'"' + value.replace("\\", "\\\\").replace('"', '\\"').encode("ascii") + b'"'


def imap_date(day: date) -> bytes:
    """``day`` as an IMAP date, e.g. ``5-Mar-2030``."""
    return f"{day.day}-{_MONTHS[day.month - 1]}-{day.year}".encode("ascii")


def _ascii_domain(domain: str) -> str | None:
    domain = domain.strip().lower().lstrip("@.").rstrip(".")
    if not domain:
        return None
    if not domain.isascii():
        try:
            domain = domain.encode("idna").decode("ascii")
        except UnicodeError:
            return None
    return domain


def wanted_domains(domains: Sequence[str]) -> set[str]:
    """The domains as compared on this side: lower case, no dots around."""
    found = {d.strip().lower().lstrip("@.").rstrip(".") for d in domains if d}
    found.discard("")
    return found


def sender_terms(addresses: Sequence[str], domains: Sequence[str]) -> list[str] | None:
    """What to put after FROM: each domain, and each address not already
    covered by one of the domains. None when some sender cannot be put into
    a search (then every sender is read and checked here)."""
    domain_terms: list[str] = []
    for domain in domains:
        if not domain or not domain.strip(" @."):
            continue
        term = _ascii_domain(domain)
        if term is None or quote(term) is None:
            return None
        if term not in domain_terms:
            domain_terms.append(term)
    covered = set(domain_terms)
    terms = list(domain_terms)
    for address in addresses:
        address = (address or "").strip().lower()
        if not address:
            continue
        if domain_matches(address, covered):
            continue
        if quote(address) is not None:
            term = address
        else:  # e.g. a non-ASCII local part: search its domain, check the address here
            term = _ascii_domain(address.rpartition("@")[2]) or ""
            if quote(term) is None:
                return None
        if term not in terms:
            terms.append(term)
    return terms


def replies_criteria(addresses: Sequence[str], domains: Sequence[str], since: datetime) -> bytes:
    """``SINCE <day before since> (FROM a OR FROM b ...)`` as one string.

    SINCE compares dates only (in the server's time zone), so the search
    starts a day early and the exact time is checked on this side.
    """
    day = since.astimezone(timezone.utc).date() - timedelta(days=1)
    parts = [b"SINCE " + imap_date(day)]
    terms = sender_terms(addresses, domains)
    if terms:
        for i, term in enumerate(terms):
            if i < len(terms) - 1:
                parts.append(b"OR")
            parts.append(b"FROM " + quote(term))  # type: ignore[operator]
    return b" ".join(parts)


def draft_criteria(key: str, message_id: str | None) -> bytes:
    """Live (not \\Deleted) messages with this Message-ID or follow-up key.

    A key that cannot be quoted is searched as ``X-Followup-Key ""``, which
    matches every message carrying the header; the exact check follows.
    """
    key_term = b"HEADER " + KEY_HEADER.encode() + b" " + (quote(key) or b'""')
    mid = quote(message_id.strip()) if message_id else None
    if mid is None:
        return b"UNDELETED " + key_term
    return b"UNDELETED OR HEADER Message-ID " + mid + b" " + key_term


def parse_header(raw: bytes) -> Message:
    """The header block of ``raw`` parsed with ``policy.default``."""
    head, sep, _ = raw.partition(b"\r\n\r\n")
    if not sep:
        head, _, _ = raw.partition(b"\n\n")
    return BytesHeaderParser(policy=policy.default).parsebytes(head + b"\r\n\r\n")


def is_draft_of(raw: bytes, key: str, message_id: str | None) -> bool:
    """True if the message ``raw`` is the daemon's draft for ``key``: its
    Message-ID is ``message_id`` or its X-Followup-Key is ``key``."""
    try:
        msg = parse_header(raw)
    except Exception:  # noqa: BLE001 - a message too broken to be ours
        return False
    if message_id and normalize_message_id(raw_header(msg, "Message-ID")) == normalize_message_id(message_id):
        return True
    if raw_header(msg, KEY_HEADER) == key:
        return True
    try:  # an encoded key (non-ASCII) compares decoded
        value = msg.get(KEY_HEADER)
        return value is not None and str(value).strip() == key
    except Exception:  # noqa: BLE001 - an undecodable header is not our key
        return False


@dataclass(frozen=True)
class Received:
    """What is known of a possible reply from its header fields."""

    senders: tuple[str, ...]
    date: datetime
    subject: str
    message_id: str | None
    automatic: bool

    def sender_in(self, addresses: set[str], domains: set[str]) -> str | None:
        """The first sender that is one of ``addresses`` or at ``domains``."""
        return next((s for s in self.senders if s in addresses or domain_matches(s, domains)), None)


def received(fetched: dict) -> Received | None:
    """A ``Received`` from one message's FETCH of ``REPLY_FETCH``, or None
    when the answer holds no header block."""
    head = next((value for name, value in fetched.items()
                 if isinstance(name, bytes) and name.upper().startswith(b"BODY[HEADER")), None)
    if not isinstance(head, bytes):
        return None
    internal = fetched.get(b"INTERNALDATE")
    fallback = internal.timestamp() if isinstance(internal, datetime) else 0.0
    msg = parse_header(head)
    try:
        subject = str(msg.get("Subject", "") or "")
    except Exception:  # noqa: BLE001 - keep the raw text of a malformed subject
        subject = raw_header(msg, "Subject") or ""
    return Received(senders=tuple(sender_addresses(msg)), date=message_date(msg, fallback),
                    subject=subject.strip(), message_id=raw_header(msg, "Message-ID"),
                    automatic=is_auto_reply(msg))
