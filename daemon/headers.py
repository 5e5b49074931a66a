"""Reading mail headers the same way in every mailbox connector: who sent
a message, when, whether it is an automatic answer. Never raises on
malformed headers."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import datetime, timezone
from typing import TYPE_CHECKING

# The email package is imported where it is used: the mailbox connectors
# import this module, and checking a config loads them without reading mail.
if TYPE_CHECKING:
    from email.message import Message

KEY_HEADER = "X-Followup-Key"
_FOLD = re.compile(r"\r?\n(?=[ \t])")


def raw_header(msg: Message, name: str) -> str | None:
    """The unfolded, stripped raw value of the first ``name`` header, or None.

    Reads the stored text without the policy's parsing, which cannot fail.
    """
    wanted = name.lower()
    for field, value in msg.raw_items():
        if field.lower() == wanted:
            return _FOLD.sub("", str(value)).strip()
    return None


def normalize_message_id(value: str | None) -> str:
    """A Message-ID without surrounding space and angle brackets."""
    return (value or "").strip().strip("<>").strip()


def sender_addresses(msg: Message) -> list[str]:
    """The lower-case addresses in the ``From`` header."""
    try:
        header = msg["From"]
        found = [a.addr_spec for a in header.addresses] if header is not None else []
    except Exception:  # a malformed header the policy cannot parse
        from email.utils import getaddresses

        raw = raw_header(msg, "From")
        found = [addr for _, addr in getaddresses([raw])] if raw else []
    return [a.strip().lower() for a in found if a and "@" in a]


def message_date(msg: Message, mtime: float) -> datetime:
    """The ``Date`` header as an aware datetime (naive dates are UTC); the
    file's mtime when the header is missing or unparseable."""
    raw = raw_header(msg, "Date")
    if raw:
        from email.utils import parsedate_to_datetime

        try:
            date = parsedate_to_datetime(raw)
        except Exception:
            date = None
        if date is not None:
            return date if date.tzinfo is not None else date.replace(tzinfo=timezone.utc)
    return datetime.fromtimestamp(mtime, timezone.utc)


def auto_reply(value_of: Callable[[str], str | None]) -> bool:
    """True for vacation notices and other automatic answers, judged by
    headers: ``Auto-Submitted`` other than ``no``, ``X-Autoreply``,
    ``X-Autorespond``, ``Precedence: auto_reply``. ``value_of(name)`` gives
    a header's value or None, whatever form the provider delivers."""
    auto = value_of("Auto-Submitted")
    if auto is not None and auto.split(";", 1)[0].strip().lower() != "no":
        return True
    if value_of("X-Autoreply") is not None or value_of("X-Autorespond") is not None:
        return True
    precedence = value_of("Precedence")
    return precedence is not None and precedence.strip().lower() == "auto_reply"


def is_auto_reply(msg: Message) -> bool:
    """``auto_reply`` for a parsed message."""
    return auto_reply(lambda name: raw_header(msg, name))


def domain_matches(address: str, domains: set[str]) -> bool:
    """True if the address's domain is one of ``domains`` or below one."""
    domain = address.rpartition("@")[2].rstrip(".")
    return any(domain == d or domain.endswith("." + d) for d in domains)
