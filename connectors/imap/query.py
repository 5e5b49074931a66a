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
from datetime import date, datetime, timedelta, timezone
from email import policy
from email.message import Message
from email.parser import BytesHeaderParser

from daemon.headers import ANSWER_HEADERS, KEY_HEADER, domain_matches, normalize_message_id, raw_header, received_of
from daemon.model import Received, ReplySearch

_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")

#: the header fields read of a possible reply; bodies are never fetched
REPLY_FETCH = [b"BODY.PEEK[HEADER.FIELDS (" + " ".join(ANSWER_HEADERS).upper().encode() + b")]",
               b"INTERNALDATE"]
#: a Message-ID prefix shorter than this is searched for each id instead
_SHARED_ID_PREFIX = 9
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


def _any_of(terms: list[bytes]) -> list[bytes]:
    """``OR a OR b c`` for terms a, b, c (IMAP's OR takes two keys)."""
    parts: list[bytes] = []
    for i, term in enumerate(terms):
        if i < len(terms) - 1:
            parts.append(b"OR")
        parts.append(term)
    return parts


def _id_terms(message_ids: Sequence[str]) -> list[str] | None:
    """What to look for in In-Reply-To and References: the prefix all ids
    share (followup's are ``<followup.<hash>@host>``) when it is long
    enough, else each id. None when one cannot be quoted."""
    ids = [m.strip() for m in message_ids if m and m.strip()]
    if not ids:
        return []
    shared = ids[0]
    for other in ids[1:]:
        while not other.startswith(shared):
            shared = shared[:-1]
    # up to the first dot: the same search whichever drafts exist, so the
    # search cache holds from one poll to the next
    shared = shared[:shared.find(".") + 1] if "." in shared else shared
    terms = [shared] if len(shared) >= _SHARED_ID_PREFIX else ids
    return terms if all(quote(t) is not None for t in terms) else None


def replies_criteria(search: ReplySearch, since: datetime) -> bytes:
    """``SINCE <day before since> (OR ...)`` as one string: From, Sender or
    Reply-To at a sender; a word in From, Reply-To or Subject; an id in
    In-Reply-To or References. A term that cannot be put into a search
    widens it to every message since the day (the core judges them all).

    SINCE compares dates only (in the server's time zone), so the search
    starts a day early and the exact time is checked on this side.
    """
    day = since.astimezone(timezone.utc).date() - timedelta(days=1)
    since_part = b"SINCE " + imap_date(day)
    senders = sender_terms([s for s in search.senders if "@" in s],
                           [s for s in search.senders if "@" not in s])
    ids = _id_terms(search.message_ids)
    words = [w.strip() for w in search.words if w and w.strip()]
    if senders is None or ids is None or any(quote(w) is None for w in words):
        return since_part
    terms: list[bytes] = []
    for term in senders:
        q = quote(term)
        terms += [b"FROM " + q, b"HEADER SENDER " + q, b"HEADER REPLY-TO " + q]  # type: ignore[operator]
    for word in words:
        q = quote(word)
        terms += [b"FROM " + q, b"HEADER REPLY-TO " + q, b"SUBJECT " + q]  # type: ignore[operator]
    for term in ids:
        q = quote(term)
        terms += [b"HEADER IN-REPLY-TO " + q, b"HEADER REFERENCES " + q]  # type: ignore[operator]
    if not terms:
        return since_part
    return b" ".join([since_part, *_any_of(terms)])


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


def message_id_of(raw: bytes) -> str:
    """The normalized Message-ID of the message ``raw`` ("" when none)."""
    try:
        return normalize_message_id(raw_header(parse_header(raw), "Message-ID"))
    except Exception:  # noqa: BLE001 - a message too broken to have one
        return ""


def is_draft_of(raw: bytes, key: str, message_id: str | None) -> bool:
    """True if the message ``raw`` is the daemon's draft for ``key``: it
    carries the marker X-Followup-Key with ``key``. A message that only
    shares the draft's Message-ID is somebody else's (``message_id`` only
    narrows the server's SEARCH)."""
    try:
        msg = parse_header(raw)
    except Exception:  # noqa: BLE001 - a message too broken to be ours
        return False
    if raw_header(msg, KEY_HEADER) == key:
        return True
    try:  # an encoded key (non-ASCII) compares decoded
        value = msg.get(KEY_HEADER)
        return value is not None and str(value).strip() == key
    except Exception:  # noqa: BLE001 - an undecodable header is not our key
        return False


def received(fetched: dict, ref: str) -> Received | None:
    """A ``Received`` from one message's FETCH of ``REPLY_FETCH``, or None
    when the answer holds no header block."""
    head = next((value for name, value in fetched.items()
                 if isinstance(name, bytes) and name.upper().startswith(b"BODY[HEADER")), None)
    if not isinstance(head, bytes):
        return None
    internal = fetched.get(b"INTERNALDATE")
    fallback = internal.timestamp() if isinstance(internal, datetime) else 0.0
    return received_of(parse_header(head), ref, fallback)
