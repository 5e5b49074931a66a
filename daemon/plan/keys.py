"""Deterministic identities: the same follow-up always gets the same key."""

from __future__ import annotations

import hashlib
from datetime import datetime, timezone

SEP = "\x1f"


def instant(rid: datetime | None) -> str:
    """A recurrence id as a UTC instant string ('' for a single event)."""
    if rid is None:
        return ""
    return rid.astimezone(timezone.utc).strftime("%Y%m%dT%H%M%SZ")


def interview_id(calendar: str, uid: str, rid: datetime | None) -> str:
    return SEP.join((calendar, uid, instant(rid)))


def action_key(calendar: str, uid: str, rid: datetime | None, kind: str, recipient: str = "") -> str:
    """40 lower-case hex characters from the account, the event's UID, the
    recurrence instant, the follow-up kind and the recipient. Hex is a subset
    of every provider's id alphabet (Google's base32hex included)."""
    text = SEP.join(("v1", calendar, uid, instant(rid), kind, recipient.lower()))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:40]


def content_hash(title: str, start: datetime, end: datetime) -> str:
    """Hash of what a calendar shows of a follow-up event, to recognise our
    own write when reading it back."""
    text = SEP.join((title, instant(start), instant(end)))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:24]
