"""What Google Calendar and Gmail accounts share: the login, the API service
built on first use, the retry policy, the connector's small state file and
``followup auth``."""

from __future__ import annotations

from typing import Any, ClassVar

from daemon.connector import Context

from . import state as statefile
from .auth import GoogleLogin
from .retry import RetryPolicy
from .transport import build_service


class GoogleAccount:
    """Mixed into ``GoogleCalendar`` and ``GmailMailbox`` (before the
    connector base class); ``API`` names the service, ``STATE`` the kind
    of state file."""

    API: ClassVar[tuple[str, str]]  # (api, version) of the discovery document
    STATE: ClassVar[str]
    name: str

    def _connect_setup(self, context: Context, config: dict[str, Any], scopes: tuple[str, ...],
                       credentials: Any, endpoint: str | None, retry: RetryPolicy | None) -> None:
        self.login = GoogleLogin(self.name, config, context, scopes)
        self._credentials = credentials
        self._endpoint = endpoint
        self.retry = retry or RetryPolicy()
        self._service: Any = None
        self._login_used: Any = None  # the credentials the service was built with
        self._state_path = statefile.state_path(context.state_dir, self.name, self.STATE)

    @property
    def service(self) -> Any:
        if self._service is None:
            credentials = self._credentials or self.login.credentials()
            self._login_used = credentials
            self._service = build_service(*self.API, credentials, self._endpoint)
            self._collections: dict[tuple[str, ...], Any] = {}
        return self._service

    def _api(self, *path: str) -> Any:
        """The service's collection at ``path``, e.g. ``("users", "drafts")``,
        made once per service. googleapiclient builds a collection's methods
        afresh on every ``service.events()``; asking anew for each request
        grew the process by about 7 MB over 600 requests, and kept growing."""
        service = self.service
        found = self._collections.get(path)
        if found is None:
            found = service
            for name in path:
                found = getattr(found, name)()
            self._collections[path] = found
        return found

    def _call(self, request: Any, what: str, **kwargs: Any) -> Any:
        return self.retry.call(request, what, self.name, **kwargs)

    def close(self) -> None:
        self._service = None

    def _save(self, data: dict[str, Any]) -> None:
        statefile.save(self._state_path, data)

    def authorize(self) -> str:
        """``followup auth NAME``: log in, check the access, store the login."""
        credentials = self.login.run_flow()
        self._credentials, self._service = credentials, None
        summary = self.check()
        where = self.login.store(credentials)
        return f"{self.name}: connected to Google, login kept in {where} ({summary})"
