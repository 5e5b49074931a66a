"""HTTP to Microsoft Graph: tokens, throttling, retries and error mapping.

Every request of the Outlook connectors goes through :class:`GraphClient`,
which turns each failure into one of the types in ``daemon.errors``:

- 401 -> ``AuthError``; 404 -> :class:`NotFound`; 412 -> ``Conflict``;
- 410 or an error code ``syncStateNotFound`` -> ``SyncTokenExpired``;
- 429 and 503 are retried after ``Retry-After`` seconds, or after an
  exponential backoff with full jitter when the header is missing; other
  5xx, timeouts and dropped connections are retried too, all bounded, and
  end as ``TransientError``;
- a request that may have been applied although no answer came back
  (a create whose connection dropped) is never sent again from here: it
  raises :class:`Ambiguous` and the caller looks the item up first.

Throttling follows the Microsoft Graph throttling guidance
(https://learn.microsoft.com/graph/throttling): on 429 wait the number of
seconds in ``Retry-After``; without it back off exponentially. Outlook
also limits concurrent requests per mailbox to 4, so requests for one
mailbox share a semaphore of 4 slots.
"""

from __future__ import annotations

import json
import random
import threading
import time
from collections.abc import Callable
from dataclasses import replace
from typing import TYPE_CHECKING, Any
from urllib.parse import urljoin

if TYPE_CHECKING:
    import requests

from daemon.errors import Ambiguous, AuthError, Conflict, ConnectorError, NotFound, SyncTokenExpired, TransientError
from daemon.retry import Again, RetryPolicy, retry_after_seconds

DEFAULT_BASE_URL = "https://graph.microsoft.com/v1.0"
MAX_CONCURRENT_PER_MAILBOX = 4
TIMEOUT = (10, 60)  # connect, read (seconds)
RETRIES = 5  # attempts after the first
BACKOFF_BASE = 1.0
BACKOFF_CAP = 60.0
MAX_RETRY_AFTER = 300.0  # a longer wait is handed to the core as TransientError
SYNC_EXPIRED_CODES = {"syncstatenotfound", "syncstateinvalid", "resyncrequired"}

_semaphores: dict[str, threading.BoundedSemaphore] = {}
_semaphores_lock = threading.Lock()


def mailbox_semaphore(mailbox: str) -> threading.BoundedSemaphore:
    """The semaphore shared by every client of ``mailbox`` in this process."""
    with _semaphores_lock:
        sem = _semaphores.get(mailbox)
        if sem is None:
            sem = _semaphores[mailbox] = threading.BoundedSemaphore(MAX_CONCURRENT_PER_MAILBOX)
        return sem


class Response:
    """The parts of an HTTP answer the connectors use."""

    def __init__(self, status: int, body: Any, headers: dict[str, str]):
        self.status = status
        self.body = body
        self.headers = headers

    def json(self) -> dict:
        return self.body if isinstance(self.body, dict) else {}


def odata_string(value: str) -> str:
    """``value`` as an OData string literal: single quotes doubled."""
    return "'" + value.replace("'", "''") + "'"


class GraphClient:
    """Authenticated JSON requests to one mailbox at ``base_url``.

    ``token`` returns a current access token (it refreshes it when needed
    and raises ``AuthError`` when it cannot); ``sleep`` is injectable so
    tests do not wait. Tokens never appear in messages or logs.
    """

    def __init__(self, base_url: str, token: Callable[[], str], mailbox: str, *,
                 session: requests.Session | None = None,
                 sleep: Callable[[float], None] = time.sleep,
                 rand: Callable[[], float] = random.random,
                 prefer: tuple[str, ...] = (),
                 retries: int = RETRIES, name: str = "outlook"):
        self.base_url = base_url.rstrip("/") + "/"
        self.token = token
        self.mailbox = mailbox
        if session is None:
            import requests  # here: checking a config must not load it

            session = requests.Session()
        self.session = session
        self.sleep = sleep
        # the n-th retry waits up to 2**(n-1) s (at most 60), a Retry-After of
        # more than 300 s is the core's to wait for
        self.policy = RetryPolicy(attempts=retries + 1, base=BACKOFF_BASE / 2, cap=BACKOFF_CAP,
                                  longest=MAX_RETRY_AFTER, sleep=sleep, random=rand)
        self.prefer = prefer
        self.name = name  # the account, for messages
        self.semaphore = mailbox_semaphore(mailbox)

    def close(self) -> None:
        self.session.close()

    def url(self, path: str) -> str:
        """An absolute URL; ``path`` may already be one (a nextLink)."""
        if path.startswith(("http://", "https://")):
            return path
        return urljoin(self.base_url, path.lstrip("/"))

    def request(self, method: str, path: str, *, params: dict | None = None,
                body: Any = None, headers: dict[str, str] | None = None,
                repeat: bool = True) -> Response:
        """Make one request, retrying what is safe to retry.

        ``repeat=False`` marks a request that must not be repeated blindly
        (a create): if it may have reached the server but no answer came
        back, :class:`Ambiguous` is raised instead of a retry. 429 is always
        retried: Graph rejected it before doing anything.
        """
        url = self.url(path)
        what = f"{method} {url.split('?', 1)[0]}"
        return self.policy.run(lambda: self._attempt(method, url, what, params, body, headers, repeat))

    def _attempt(self, method, url, what, params, body, headers, repeat: bool) -> Response:
        """One request; a failure worth repeating is raised as ``Again``."""
        import requests

        try:
            response = self._transmit(method, url, params, body, headers)
        except (requests.ConnectionError, requests.Timeout) as exc:
            if not repeat:
                raise Ambiguous(f"{what}: no answer from Microsoft Graph "
                                f"({type(exc).__name__})") from None
            raise Again(TransientError(
                f"{what}: Microsoft Graph cannot be reached ({type(exc).__name__})")) from None
        except requests.RequestException as exc:
            raise ConnectorError(f"{what}: request failed ({type(exc).__name__})") from None
        status = response.status_code
        if status < 400:
            return Response(status, _body(response), dict(response.headers))
        error, wait = self._failure(what, response)
        if isinstance(error, Ambiguous) and repeat:
            error = TransientError(str(error), error.retry_after)
        if not isinstance(error, TransientError) or isinstance(error, Ambiguous):
            raise error
        raise Again(error, wait)

    def _transmit(self, method, url, params, body, headers) -> requests.Response:
        sent = {"Authorization": f"Bearer {self.token()}", "Accept": "application/json"}
        if self.prefer:
            sent["Prefer"] = ", ".join(self.prefer)
        if body is not None:
            sent["Content-Type"] = "application/json"
        sent.update(headers or {})
        data = json.dumps(body).encode("utf-8") if body is not None else None
        with self.semaphore:
            return self.session.request(method, url, params=params, data=data,
                                        headers=sent, timeout=TIMEOUT)

    def _failure(self, what: str, response: requests.Response
                 ) -> tuple[ConnectorError, float | None]:
        """The error for a failed answer and how long to wait before a retry."""
        status = response.status_code
        code, message = _error_detail(response)
        detail = f"{what}: HTTP {status}" + (f" {code}" if code else "") + (
            f": {message}" if message else "")
        if status == 401:
            return AuthError(f"{self.name}: {detail}; reconnect needed: "
                             f"run followup auth {self.name}"), None
        if status == 410 or code.lower() in SYNC_EXPIRED_CODES:
            return SyncTokenExpired(detail), None
        if status == 404:
            return NotFound(detail), None
        if status == 412:
            return Conflict(f"{what}: the item was changed since it was read"), None
        if status == 429:
            wait = _retry_after(response)
            return TransientError(detail, retry_after=wait), wait
        if status == 503:
            wait = _retry_after(response)
            return Ambiguous(detail, retry_after=wait), wait
        if status >= 500:
            return Ambiguous(detail), None
        if status == 403:
            return AuthError(f"{detail}; the account lacks a permission "
                             "(Calendars.ReadWrite, Mail.ReadWrite)"), None
        return ConnectorError(detail), None

    # -- helpers ----------------------------------------------------------------

    def get(self, path: str, **params) -> dict:
        return self.request("GET", path, params=params or None).json()

    def pages(self, path: str, params: dict | None = None, limit: int | None = None):
        """Every item of a collection, following ``@odata.nextLink``
        (at most ``limit`` items)."""
        count = 0
        data = self.request("GET", path, params=params).json()
        while True:
            for item in data.get("value") or []:
                if limit is not None and count >= limit:
                    return
                count += 1
                yield item
            link = data.get("@odata.nextLink")
            if not link:
                return
            data = self.request("GET", link).json()


def etag_header(change_key: str) -> dict[str, str]:
    """``If-Match`` for an Outlook item's ``changeKey`` (its ``@odata.etag``
    is ``W/"<changeKey>"``)."""
    return {"If-Match": f'W/"{change_key}"'}


def _body(response: requests.Response) -> Any:
    if not response.content:
        return None
    try:
        return response.json()
    except ValueError:
        return None


def _error_detail(response: requests.Response) -> tuple[str, str]:
    """``(code, message)`` of a Graph error body ``{"error": {...}}``."""
    try:
        error = response.json().get("error") or {}
    except (ValueError, AttributeError):
        return "", ""
    if not isinstance(error, dict):
        return "", ""
    return str(error.get("code") or ""), str(error.get("message") or "")[:200]


def _retry_after(response: requests.Response) -> float | None:
    """``Retry-After`` in seconds (delta-seconds or an HTTP date), or None."""
    return retry_after_seconds(response.headers.get("Retry-After"))


def create_once(client: GraphClient, post: Callable[[], Response],
                lookup: Callable[[], Any], what: str, attempts: int = 4) -> Any:
    """Create an item whose create must not be repeated blindly.

    ``post`` posts the create with ``repeat=False``; when it ends without
    a clear answer (:class:`Ambiguous`), ``lookup`` (by the daemon's key)
    decides: an item that exists was created, only a missing one is sent
    again. Returns ``post()``'s response or ``lookup()``'s item.
    """
    def attempt() -> Any:
        try:
            return post()
        except Ambiguous as exc:
            found = lookup()
            if found is not None:
                return found
            raise Again(TransientError(f"{what}: {exc}", exc.retry_after), exc.retry_after) from None

    return replace(client.policy, attempts=attempts).run(attempt)
