"""HTTP for the Google connectors: one attempt per request, nothing hidden.

``httplib2``, the library's default transport, silently sends a request a
second time when the connection drops before the answer arrives. For a
create that could write twice, so the services here run on a small
transport that makes exactly one attempt and lets ``retry`` decide what to
do about a failure.
"""

from __future__ import annotations

import http.client
import ssl
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

if TYPE_CHECKING:
    import httplib2

DEFAULT_TIMEOUT = 60.0


def _tls_context() -> ssl.SSLContext:
    try:
        import certifi

        return ssl.create_default_context(cafile=certifi.where())
    except ImportError:  # certifi comes with httplib2, but be lenient
        return ssl.create_default_context()


class SingleAttemptHttp:
    """The part of ``httplib2.Http``'s interface that ``googleapiclient``
    and ``google_auth_httplib2`` use, making exactly one attempt per call
    on a fresh connection."""

    def __init__(self, timeout: float = DEFAULT_TIMEOUT):
        self.timeout = timeout
        self._tls: ssl.SSLContext | None = None

    def request(self, uri: str, method: str = "GET", body: Any = None,
                headers: dict[str, str] | None = None, redirections: int = 0,
                connection_type: Any = None, **_: Any) -> tuple[httplib2.Response, bytes]:
        import httplib2  # here, not at the top: checking a config must not load it

        parts = urlsplit(uri)
        if parts.scheme == "https":
            if self._tls is None:
                self._tls = _tls_context()
            conn: http.client.HTTPConnection = http.client.HTTPSConnection(
                parts.hostname, parts.port or 443, timeout=self.timeout, context=self._tls)
        elif parts.scheme == "http":
            conn = http.client.HTTPConnection(parts.hostname, parts.port or 80,
                                              timeout=self.timeout)
        else:
            raise ValueError(f"unsupported URL scheme in {parts.scheme!r}")
        target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        try:
            conn.request(method, target, body=body, headers=dict(headers or {}))
            answer = conn.getresponse()
            content = answer.read()
        finally:
            conn.close()
        return httplib2.Response(answer), content

    def close(self) -> None:
        """Nothing to release: every request has its own connection."""


def build_service(api: str, version: str, credentials: Any, endpoint: str | None = None,
                  timeout: float = DEFAULT_TIMEOUT) -> Any:
    """A ``googleapiclient`` service from the discovery document shipped with
    the library (no network needed to build it), authorised with
    ``credentials``, on the single-attempt transport. ``endpoint`` replaces
    the API's base URL (root URL plus service path), e.g. for a test server."""
    from google_auth_httplib2 import AuthorizedHttp
    from googleapiclient.discovery import build

    authed = AuthorizedHttp(credentials, http=SingleAttemptHttp(timeout))
    options = {"api_endpoint": endpoint} if endpoint else None
    return build(api, version, http=authed, static_discovery=True, cache_discovery=False,
                 client_options=options)
