"""Talking to a CalDAV server: requests, their failures and multistatus answers.

Everything goes through one ``caldav.DAVClient`` per account: its session,
its login negotiation (Basic or Digest, whatever the server asks for) and
its discovery. The connector sends its few requests itself, through
``DAVClient.request``, because it needs exact headers (``If-Match``,
``If-None-Match``) and exact control over how many requests a scan costs.

Every failure leaves this module as one of the errors in ``daemon.errors``:
network trouble, 5xx and 429 as ``TransientError``, a refused login as
``AuthError``, a rejected sync token as ``SyncTokenExpired``. The password
is never part of a message.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from urllib.parse import urlsplit
from xml.sax.saxutils import escape

from daemon.errors import AuthError, Conflict, ConnectorError, SyncTokenExpired, TransientError
from daemon.retry import retry_after_seconds

DAV = "{DAV:}"
CALDAV = "{urn:ietf:params:xml:ns:caldav}"
CS = "{http://calendarserver.org/ns/}"

VALID_SYNC_TOKEN = DAV + "valid-sync-token"
SUPPORTED_REPORT = DAV + "supported-report"
UID_CONFLICTS = {CALDAV + "no-uid-conflict", CALDAV + "unique-scheduling-object-resource"}

#: seconds to wait for the server before the request counts as failed
TIMEOUT = 30

_XML_HEAD = '<?xml version="1.0" encoding="utf-8"?>'
_NAMESPACES = 'xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav" ' \
              'xmlns:CS="http://calendarserver.org/ns/"'
_STATUS = re.compile(r"^\S+\s+(\d{3})")


class Unsupported(ConnectorError):
    """The server does not offer a request (e.g. no sync-collection REPORT)."""


# -- request bodies -----------------------------------------------------------


def propfind(*props: str) -> str:
    """A PROPFIND body asking for ``props`` (e.g. ``"D:getetag"``)."""
    inner = "".join(f"<{p}/>" for p in props)
    return f"{_XML_HEAD}<D:propfind {_NAMESPACES}><D:prop>{inner}</D:prop></D:propfind>"


def sync_collection(token: str) -> str:
    """An RFC 6578 sync-collection REPORT body asking for changed etags."""
    return (f"{_XML_HEAD}<D:sync-collection {_NAMESPACES}>"
            f"<D:sync-token>{escape(token)}</D:sync-token><D:sync-level>1</D:sync-level>"
            "<D:prop><D:getetag/></D:prop></D:sync-collection>")


def calendar_query(start: str, end: str) -> str:
    """A calendar-query REPORT body for every event overlapping [start, end)
    (UTC ``YYYYMMDDTHHMMSSZ``), with etags and data."""
    return (f"{_XML_HEAD}<C:calendar-query {_NAMESPACES}>"
            "<D:prop><D:getetag/><C:calendar-data/></D:prop>"
            '<C:filter><C:comp-filter name="VCALENDAR"><C:comp-filter name="VEVENT">'
            f'<C:time-range start="{start}" end="{end}"/>'
            "</C:comp-filter></C:comp-filter></C:filter></C:calendar-query>")


def calendar_multiget(hrefs: list[str]) -> str:
    """A calendar-multiget REPORT body for ``hrefs``, with etags and data."""
    inner = "".join(f"<D:href>{escape(h)}</D:href>" for h in hrefs)
    return (f"{_XML_HEAD}<C:calendar-multiget {_NAMESPACES}>"
            f"<D:prop><D:getetag/><C:calendar-data/></D:prop>{inner}</C:calendar-multiget>")


# -- answers ------------------------------------------------------------------


@dataclass
class Entry:
    """One ``<response>`` of a multistatus answer."""

    href: str  # the path, as the server wrote it
    status: int  # the response's own status; 200 when it carries properties
    props: dict[str, str] = field(default_factory=dict)  # tag -> text, found ones only
    types: frozenset[str] = frozenset()  # child tags of DAV:resourcetype


@dataclass
class Multistatus:
    entries: list[Entry]
    sync_token: str | None = None


def status_code(text: str | None) -> int | None:
    match = _STATUS.match((text or "").strip())
    return int(match.group(1)) if match else None


def href_path(href: str) -> str:
    """The path of an href; servers may write full URLs."""
    return urlsplit(href.strip()).path if "://" in href else href.strip()


def read_multistatus(tree, what: str) -> Multistatus:
    """The entries of a parsed multistatus answer; ``ConnectorError`` when
    ``tree`` is not one."""
    if tree is None or not isinstance(getattr(tree, "tag", None), str) \
            or tree.tag != DAV + "multistatus":
        raise ConnectorError(f"{what}: the server's answer is not a WebDAV multistatus")
    entries = []
    for response in tree.iterfind(DAV + "response"):
        href = response.findtext(DAV + "href")
        if not href:
            continue
        own_status = status_code(response.findtext(DAV + "status"))
        props: dict[str, str] = {}
        types: set[str] = set()
        for propstat in response.iterfind(DAV + "propstat"):
            if status_code(propstat.findtext(DAV + "status")) not in (None, 200):
                continue  # a property the server does not have
            for prop in propstat.iterfind(DAV + "prop"):
                for element in prop:
                    if not isinstance(element.tag, str):
                        continue  # comments and processing instructions
                    if element.tag == DAV + "resourcetype":
                        types.update(c.tag for c in element if isinstance(c.tag, str))
                    props[element.tag] = (element.text or "").strip() \
                        if element.tag != CALDAV + "calendar-data" else (element.text or "")
        entries.append(Entry(href=href_path(href), status=own_status or 200, props=props,
                             types=frozenset(types)))
    token = tree.findtext(DAV + "sync-token")
    return Multistatus(entries, token.strip() if token else None)


def preconditions(tree) -> set[str]:
    """The precondition tags of a ``DAV:error`` answer (RFC 4918 16)."""
    if tree is None or getattr(tree, "tag", None) != DAV + "error":
        return set()
    return {child.tag for child in tree if isinstance(child.tag, str)}


# -- the connection -----------------------------------------------------------


class Server:
    """The ``caldav.DAVClient`` of one account, created on first use.

    ``password`` is called when the client is made; after a refused login
    the client is dropped, so the next attempt reads the password again
    (the user may have stored a new one meanwhile).
    """

    def __init__(self, account: str, url: str, username: str, password: Callable[[], str],
                 auth_hint: str):
        self.account = account
        self.url = url
        self.username = username
        self._password = password
        self.auth_hint = auth_hint
        self._client = None

    @property
    def host(self) -> str:
        return urlsplit(self.url).netloc or self.url

    @property
    def connected(self) -> bool:
        return self._client is not None

    def client(self):
        """The connected ``caldav.DAVClient``."""
        if self._client is None:
            password = self._password()  # AuthError when there is none
            with self.errors("connect to", self.url):
                import caldav  # imported on first use: it takes a while to load

                self._client = caldav.DAVClient(
                    url=self.url, username=self.username, password=password,
                    timeout=TIMEOUT, rate_limit_handle=False)
        return self._client

    def close(self) -> None:
        client, self._client = self._client, None
        if client is not None:
            try:
                client.close()
            except Exception:  # noqa: BLE001 - closing must never fail a shutdown
                pass

    def request(self, method: str, url: str, body: str | bytes = "",
                headers: dict[str, str] | None = None):
        """Send one request and return the ``DAVResponse``. 401/403, 429,
        5xx (but 501 Not Implemented) and network failures raise."""
        client = self.client()
        with self.errors(method, url):
            response = client.request(url, method, body, headers or {})
        if response.status >= 500 and response.status != 501:
            raise TransientError(
                f"{self.account}: the server at {self.host} failed ({method} {_short(url)}: "
                f"HTTP {response.status})", retry_after=retry_after_seconds(
                    response.headers.get("Retry-After") if response.headers is not None else None))
        return response

    @contextmanager
    def errors(self, doing: str, url: str) -> Iterator[None]:
        """Translate whatever the ``caldav`` library or the network raises
        while ``doing`` something with ``url`` into the daemon's errors."""
        from caldav.lib import error
        from caldav.lib.http_sync import requests as http

        where = f"{doing} {_short(url)}"
        try:
            yield
        except ConnectorError:
            raise
        except error.RateLimitError as exc:
            raise TransientError(
                f"{self.account}: the server at {self.host} asks to wait ({where}: "
                f"HTTP {exc.status or 429})", retry_after=exc.retry_after_seconds) from None
        except error.AuthorizationError as exc:
            found = set(exc.preconditions)
            if VALID_SYNC_TOKEN in found:
                raise SyncTokenExpired(f"{self.account}: the server no longer accepts the "
                                       "sync token") from None
            if SUPPORTED_REPORT in found:
                raise Unsupported(f"{self.account}: the server does not support {where}") from None
            if found & UID_CONFLICTS:
                raise Conflict(f"{self.account}: another item in the calendar already has "
                               f"this follow-up's UID ({where})") from None
            self.close()  # read the password again next time
            if exc.status == 403:
                raise AuthError(
                    f"{self.account}: the server at {self.host} does not allow user "
                    f"{self.username!r} to {where} (HTTP 403 Forbidden); check the URL and "
                    "the account's permissions (a read-only calendar cannot take "
                    "follow-ups: set write_to)") from None
            raise AuthError(
                f"{self.account}: the server at {self.url} rejected the login of user "
                f"{self.username!r} (HTTP 401): wrong password? {self.auth_hint}") from None
        except NotImplementedError:  # the server offers no login method the library knows
            self.close()
            raise AuthError(f"{self.account}: the server at {self.host} asks for a login "
                            "method other than Basic or Digest") from None
        except http.exceptions.SSLError as exc:
            raise ConnectorError(f"{self.account}: secure connection to {self.host} failed "
                                 f"({_reason(exc)})") from None
        except http.exceptions.Timeout:
            raise TransientError(f"{self.account}: no answer from {self.host} within "
                                 f"{TIMEOUT} seconds ({where})") from None
        except (http.exceptions.RequestException, OSError) as exc:
            raise TransientError(f"{self.account}: cannot reach {self.host} ({_reason(exc)})") \
                from None
        except error.DAVError as exc:
            if (exc.status or 0) >= 500:
                raise TransientError(f"{self.account}: the server at {self.host} failed "
                                     f"({where}: HTTP {exc.status})") from None
            raise ConnectorError(f"{self.account}: {where} failed: "
                                 f"{_reason(exc.reason or exc)}") from None
        except Exception as exc:  # noqa: BLE001 - anything else the library raises
            raise ConnectorError(f"{self.account}: {where} failed: "
                                 f"{type(exc).__name__}: {_reason(exc)}") from None


def _short(url: str) -> str:
    """A URL without scheme and host, for messages."""
    parts = urlsplit(url)
    return parts.path or url


_REASONS = (("refused", "connection refused"), ("reset", "connection reset"),
            ("aborted", "connection aborted"), ("timed out", "timed out"),
            ("Name or service not known", "host name not found"),
            ("nodename nor servname", "host name not found"),
            ("getaddrinfo", "host name not found"), ("certificate", "certificate not trusted"))


def _reason(exc: object) -> str:
    """A short reason for a network or library exception."""
    text = str(exc).replace("\n", " ").strip()
    for needle, reason in _REASONS:
        if needle.lower() in text.lower():
            return reason
    if len(text) > 160:
        text = text[:157] + "..."
    return text or type(exc).__name__
