"""Retry policy and the translation of Google's failures into ``daemon.errors``.

The library's own retries stay off (``execute(num_retries=0)``, and the
transport makes one attempt): this module decides alone.

- Reads are retried on 429, 5xx, network errors and timeouts, and on the
  403 reasons ``rateLimitExceeded``/``userRateLimitExceeded``, with
  exponential backoff and full jitter, honouring ``Retry-After``. When the
  attempts are used up, ``TransientError(retry_after=...)`` is raised.
- Writes are retried only when the request certainly had no effect (429, the
  rate-limit 403s, a refused connection). A 5xx, a timeout or a dropped
  connection after sending is ``Ambiguous``: the caller looks the item up
  before it writes again.
- ``quotaExceeded``/``dailyLimitExceeded`` give ``TransientError`` with a
  long ``retry_after``; 401, ``invalid_grant`` and ``invalid_scope`` give
  ``AuthError``.

Error shapes and reasons: https://developers.google.com/calendar/api/guides/errors
and https://developers.google.com/workspace/gmail/api/guides/handle-errors
(``{"error": {"code", "message", "errors": [{"reason"}], "status"}}``).
"""

from __future__ import annotations

import http.client
import json
import socket
from typing import Any

from daemon import retry as daemon_retry
from daemon.errors import Ambiguous, AuthError, ConnectorError, TransientError
from daemon.retry import retry_after_seconds

RATE_REASONS = frozenset({"rateLimitExceeded", "userRateLimitExceeded"})
QUOTA_REASONS = frozenset({"quotaExceeded", "dailyLimitExceeded"})
SCOPE_REASONS = frozenset({"insufficientPermissions", "ACCESS_TOKEN_SCOPE_INSUFFICIENT"})
QUOTA_WAIT = 3600.0  # daily quotas recover slowly: do not hammer
RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})


class ApiStatus(ConnectorError):
    """A status the caller said it handles itself (404, 409, 410, 412...)."""

    def __init__(self, message: str, status: int, reason: str):
        super().__init__(message)
        self.status = status
        self.reason = reason


def reconnect_error(account: str) -> AuthError:
    return AuthError(f"{account}: Google no longer accepts the stored login (revoked or "
                     f"expired); reconnect needed: run followup auth {account}")


def _reason(content: bytes | str | None) -> tuple[str, str]:
    """(reason, message) from a Google error body; empty strings if absent."""
    try:
        error = json.loads(content or b"{}").get("error", {})
    except (ValueError, AttributeError):
        return "", ""
    if not isinstance(error, dict):
        return str(error), ""
    reasons = [e.get("reason", "") for e in error.get("errors", []) if isinstance(e, dict)]
    reason = next((r for r in reasons if r), "") or str(error.get("status", ""))
    return reason, str(error.get("message", ""))[:200]


def retry_after(headers: Any) -> float | None:
    """Seconds from a ``Retry-After`` header (seconds or an HTTP date)."""
    try:
        return retry_after_seconds(headers.get("retry-after") or headers.get("Retry-After"))
    except AttributeError:
        return None


_NETWORK_ERRORS: tuple[type[BaseException], ...] = (
    OSError, http.client.HTTPException, socket.timeout)


class RetryPolicy(daemon_retry.RetryPolicy):
    """The shared policy (``daemon.retry``) with Google's failures classified."""

    def call(self, request: Any, what: str, account: str, *, write: bool = False,
             expect: tuple[int, ...] = ()) -> Any:
        """``request.execute()`` under this policy. ``what`` names the
        request in messages ("list events of primary"); statuses in
        ``expect`` are raised as ``ApiStatus`` for the caller to handle."""
        return self.run(lambda: _attempt(request, what, account, write, expect, self.cap))


def _attempt(request: Any, what: str, account: str, write: bool, expect: tuple[int, ...],
             cap: float) -> Any:
    """One ``execute()``; a failure worth repeating is raised as ``Again``."""
    from google.auth.exceptions import RefreshError, TransportError
    from googleapiclient.errors import HttpError

    wait: float | None = None
    try:
        return request.execute(num_retries=0)
    except HttpError as exc:
        status = exc.resp.status
        reason, message = _reason(exc.content)
        if status in expect:
            raise ApiStatus(f"{what}: {status} {reason}", status, reason) from None
        problem = f"{status} {reason or message}".strip()
        if status == 401:
            raise reconnect_error(account) from None
        if status == 403 and reason in QUOTA_REASONS:
            raise TransientError(f"{account}: {what}: Google API quota used up "
                                 f"({reason})", retry_after=QUOTA_WAIT) from None
        if status == 403 and reason in SCOPE_REASONS:
            raise AuthError(f"{account}: {what}: the login lacks a permission this "
                            f"needs; run followup auth {account}") from None
        rejected = status == 429 or (status == 403 and reason in RATE_REASONS)
        if not rejected and status not in RETRY_STATUSES:
            raise ConnectorError(f"{account}: {what} failed: {status} "
                                 f"{reason or message}".rstrip()) from None
        if write and not rejected:
            raise Ambiguous(f"{account}: {what}: Google answered {status}; "
                            "the write may or may not have happened") from None
        wait = retry_after(exc.resp)
    except RefreshError as exc:
        # RFC 6749 section 5.2: these need a new login, not a retry
        # (invalid_scope: the token lacks a scope this version asks for)
        if any(code in str(exc) for code in ("invalid_grant", "invalid_client",
                                             "invalid_scope", "unauthorized_client")):
            raise reconnect_error(account) from None
        problem = "the login could not be refreshed"  # e.g. the token server's 5xx
    except TransportError:
        problem = "the login server did not answer"  # nothing was sent yet
    except ConnectionRefusedError:
        problem = "connection refused"  # nothing was sent: safe to repeat
    except _NETWORK_ERRORS as exc:
        problem = type(exc).__name__
        if write:
            raise Ambiguous(f"{account}: {what}: the connection failed ({problem}); "
                            "the write may or may not have happened") from None
    raise daemon_retry.Again(TransientError(
        f"{account}: {what}: Google is not answering ({problem}); will try again later",
        retry_after=wait if wait is not None else cap), wait)
