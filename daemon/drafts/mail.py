"""Building the draft messages the daemon leaves in the user's mailbox.

Names and subjects come from calendar events, which anybody who can invite
the user can write. Every such value goes through :func:`clean_header` before
it reaches the ``email`` package: some Python versions can be tricked into
emitting an extra header from a crafted value (CVE-2024-6923), so the message
is never built from raw event text.

The same inputs always give the same bytes: the date is the caller's, the
Message-ID and the MIME boundary are derived from the key and the content.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from collections.abc import Sequence
from datetime import datetime
from email import policy
from email.header import Header
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime

from daemon.model import Draft, Recipient

MAX_HEADER_CHARS = 200
MAX_NAME_CHARS = 100  # display names: one mailbox always fits a 998-char line
FALLBACK_DOMAIN = "interview-followup.invalid"

# Headers set as header objects are folded by the library as usual; the
# address headers and non-ASCII text headers are pre-formatted here and must
# be kept as they are, hence ``refold_source="none"``.
_POLICY = policy.SMTP.clone(refold_source="none")
# Formats one mailbox without ever splitting a display name: a name folded
# into several encoded words decodes differently in different readers (the
# Python parser adds a space between them, RFC 2047 readers do not), and the
# library's folder can drop a space where it splits. A long non-ASCII name
# therefore becomes one encoded word longer than RFC 2047's 75 characters,
# which mail readers accept.
_ONE_LINE = policy.SMTP.clone(max_line_length=998)

_LINE_BREAKS = {"\u0085", "\u2028", "\u2029"}
_ADDRESS_FORBIDDEN = set(' <>,;"()[]\\:')
_LOCAL_PART = re.compile(r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~.-]+")
_DOMAIN = re.compile(r"(?=.{1,253}\Z)[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)*")


def _is_control(ch: str) -> bool:
    """True for C0, DEL, C1, line/paragraph separators and lone surrogates."""
    return ch in _LINE_BREAKS or unicodedata.category(ch) in ("Cc", "Cs")


def clean_header(value: str) -> str:
    """Make untrusted text safe to use as a header value.

    Control characters (C0, DEL, C1), CR, LF, U+0085, U+2028 and U+2029
    become spaces, every ``=?`` (an encoded-word opener) is removed until
    none is left, runs of whitespace collapse to one space, and the result
    is stripped and cut to ``MAX_HEADER_CHARS`` characters.
    """
    text = "".join(" " if _is_control(ch) else ch for ch in str(value))
    while True:
        before = text
        while "=?" in text:
            text = text.replace("=?", "")
        text = " ".join(text.split())[:MAX_HEADER_CHARS].strip()
        if text == before:
            return text


def clean_address(addr: str) -> str | None:
    """Return ``addr`` if it looks like one plain ``local@domain`` address.

    Surrounding whitespace is ignored and the domain is lower-cased (an
    internationalised domain is converted to its ASCII form). Anything else
    (spaces, several ``@``, control characters, ``<>,;"``, ``=?``, a
    non-ASCII local part) gives None.
    """
    if not isinstance(addr, str):
        return None
    addr = addr.strip(" \t")
    if not addr or len(addr) > 254 or any(_is_control(ch) or ch in _ADDRESS_FORBIDDEN for ch in addr):
        return None
    if addr.count("@") != 1 or "=?" in addr:
        return None
    local, domain = addr.split("@")
    if len(local) > 64 or not _LOCAL_PART.fullmatch(local):
        return None
    if local.startswith(".") or local.endswith(".") or ".." in local:
        return None
    domain = _ascii_domain(domain)
    if domain is None:
        return None
    return f"{local}@{domain}"


def _ascii_domain(domain: str) -> str | None:
    """Lower-case ``domain`` in its ASCII form, or None if it is not a host name."""
    domain = domain.strip().rstrip(".").lower()
    if not domain.isascii():
        try:
            domain = domain.encode("idna").decode("ascii")
        except UnicodeError:
            return None
    return domain if _DOMAIN.fullmatch(domain) else None


def message_id(key: str, domain: str) -> str:
    """Return the deterministic Message-ID for ``key``, with angle brackets."""
    digest = hashlib.sha256(key.encode("utf-8", "surrogatepass")).hexdigest()[:32]
    host = _ascii_domain(domain) if isinstance(domain, str) and domain.strip() else None
    return f"<followup.{digest}@{host or FALLBACK_DOMAIN}>"


def _address(recipient: Recipient) -> Address | None:
    """An ``Address`` for ``recipient`` with a cleaned name, or None."""
    addr = clean_address(recipient.email or "")
    if addr is None:
        return None
    local, domain = addr.split("@")
    name = clean_header(recipient.name or "")[:MAX_NAME_CHARS].strip()
    return Address(display_name=name, username=local, domain=domain)


def _address_header(name: str, addresses: Sequence[Address]) -> str:
    """The value of address header ``name``: each mailbox encoded on one
    line by the library, the mailboxes joined (one per line when long)."""
    mailboxes = []
    for address in addresses:
        folded = _ONE_LINE.header_factory(name, [address]).fold(policy=_ONE_LINE)
        mailboxes.append(folded[len(name) + 2:].rstrip("\r\n"))
    value = ", ".join(mailboxes)
    if len(name) + 2 + len(value) > _POLICY.max_line_length:
        value = ",\r\n ".join(mailboxes)
    return value


def _set_text_header(msg: EmailMessage, name: str, value: str) -> None:
    """Set an unstructured header from a cleaned value.

    ASCII values are folded by the library at their spaces. Other values are
    encoded whole, as encoded words split between characters: the library's
    own folder can drop the space between two encoded words.
    """
    if value.isascii():
        msg[name] = value
    else:
        msg.set_raw(name, Header(value, charset="utf-8", header_name=name).encode(linesep="\r\n"))


def _boundary(key: str, text: str, html: str) -> str:
    """A MIME boundary derived from the key and content, absent from both."""
    seed = hashlib.sha256("\0".join((key, text, html)).encode("utf-8", "surrogatepass")).hexdigest()
    n = 0
    while True:
        boundary = f"=_followup_{seed[:32]}_{n}"
        if boundary not in text and boundary not in html:
            return boundary
        n += 1


def _text_cte(text: str) -> str:
    """``7bit`` for short-lined ASCII text, otherwise ``quoted-printable``."""
    short = all(len(line) <= 76 for line in text.splitlines())
    return "7bit" if text.isascii() and short else "quoted-printable"


def build_draft(
    key: str,
    sender: Recipient,
    to: Sequence[Recipient],
    subject: str,
    text: str,
    *,
    domain: str,
    date: datetime,
    html: str | None = None,
) -> Draft:
    """Build the complete draft message for ``key``.

    Headers are From, To (left out when no recipient has a usable address),
    Subject, Date, Message-ID, MIME-Version and X-Followup-Key, plus the
    Content-* headers. The body is ``text``; ``html``, when given, is added
    as an alternative part. Names, subject and key are passed through
    :func:`clean_header` (display names are also cut to ``MAX_NAME_CHARS``);
    recipients without a usable address, and repeated addresses, are
    dropped. The returned ``Draft`` carries the cleaned subject and the
    recipients actually in the To header. The message uses a clone of
    ``email.policy.SMTP`` (CRLF line ends) that keeps pre-folded headers.

    Raises ``ValueError`` when ``sender`` has no usable address.
    """
    sender_address = _address(sender)
    if sender_address is None:
        raise ValueError("the sender has no usable email address")

    recipients: list[Recipient] = []
    addresses: list[Address] = []
    seen: set[str] = set()
    for r in to:
        address = _address(r)
        if address is None or address.addr_spec.lower() in seen:
            continue
        seen.add(address.addr_spec.lower())
        addresses.append(address)
        recipients.append(Recipient(name=address.display_name, email=address.addr_spec))

    clean_subject = clean_header(subject)
    mid = message_id(key, domain)

    msg = EmailMessage(policy=_POLICY)
    msg.set_raw("From", _address_header("From", [sender_address]))
    if addresses:
        msg.set_raw("To", _address_header("To", addresses))
    _set_text_header(msg, "Subject", clean_subject)
    msg["Date"] = format_datetime(date)
    msg["Message-ID"] = mid
    msg["MIME-Version"] = "1.0"
    _set_text_header(msg, "X-Followup-Key", clean_header(key))
    msg.set_content(text, subtype="plain", charset="utf-8", cte=_text_cte(text))
    if html is not None:
        msg.add_alternative(html, subtype="html", charset="utf-8", cte=_text_cte(html))
        msg.set_boundary(_boundary(key, text, html))
        for part in msg.iter_parts():
            del part["MIME-Version"]

    return Draft(
        key=key,
        message_id=mid,
        raw=msg.as_bytes(),
        to=tuple(recipients),
        subject=clean_subject,
        text=text,
        html=html,
    )
