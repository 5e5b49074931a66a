"""Logging in to Google with the user's own OAuth client.

``followup auth NAME`` runs the installed-app flow on a local port (the URL
is printed, never opened: the daemon usually runs headless) and stores the
resulting authorized-user JSON, which holds the refresh token, in the system
keyring (service ``interview-followup``, the account's name). Without a
working keyring the account must opt in to a token file with
``token_file = "..."``: the file is created 0600 in a 0700 folder and its
permissions are checked at every start. Tokens never appear in messages.

Flow: https://googleapis.dev/python/google-auth-oauthlib/latest/reference/google_auth_oauthlib.flow.html
(``InstalledAppFlow.run_local_server``); the stored JSON is what
``google.oauth2.credentials.Credentials.to_json()`` writes and
``from_authorized_user_info`` reads.
"""

from __future__ import annotations

import json
import os
import socket
import stat
from pathlib import Path
from typing import Any

from daemon.connector import Context, Option
from daemon.errors import AuthError, ConfigError, ConnectorError
from daemon.options import text
from daemon.secrets import SERVICE

CALENDAR_READ_SCOPES = (
    "https://www.googleapis.com/auth/calendar.events.readonly",
    "https://www.googleapis.com/auth/calendar.calendarlist.readonly",
)
CALENDAR_APP_SCOPE = "https://www.googleapis.com/auth/calendar.app.created"
CALENDAR_EVENTS_SCOPE = "https://www.googleapis.com/auth/calendar.events"
GMAIL_SCOPES = (
    "https://www.googleapis.com/auth/gmail.compose",
    "https://www.googleapis.com/auth/gmail.metadata",
)

AUTH_OPTIONS: dict[str, Option] = {
    "client_secrets": Option(str, help=(
        "Path of the client_secret.json of your own OAuth client (Google Cloud "
        "console, type Desktop app). Needed for 'followup auth NAME'."), check=text("a file path")),
    "token_file": Option(str, help=(
        "Keep the login in this file instead of the system keyring (for machines "
        "without one). Created 0600 in a 0700 folder; refused if others can read it."),
        check=text("a file path")),
}

TUNNEL_HINT = (
    "Open this URL in a browser and allow access:\n\n{url}\n\n"
    "On a machine without a browser, first run on your own computer\n"
    "    ssh -L {port}:localhost:{port} USER@THIS-MACHINE\n"
    "then open the URL there; Google sends you back to localhost:{port}.")


class GoogleLogin:
    """Finds, checks and stores the login of one account."""

    def __init__(self, account: str, config: dict[str, Any], context: Context,
                 scopes: tuple[str, ...]):
        self.account = account
        self.scopes = scopes
        self.client_secrets, self.token_file = (
            context.resolve(config[key]) if config.get(key) else None
            for key in ("client_secrets", "token_file"))

    # -- reading ------------------------------------------------------------------

    def credentials(self) -> Any:
        """``google.oauth2.credentials.Credentials`` from the stored login."""
        from google.oauth2.credentials import Credentials

        text = self._read_file() if self.token_file else self._read_keyring()
        try:
            info = json.loads(text)
            return Credentials.from_authorized_user_info(info, list(self.scopes))
        except (ValueError, TypeError, KeyError):
            raise AuthError(f"{self.account}: the stored Google login is unreadable; "
                            f"run followup auth {self.account}") from None

    def _read_keyring(self) -> str:
        keyring, errors = _keyring()
        try:
            text = keyring.get_password(SERVICE, self.account)
        except errors.KeyringError:
            raise AuthError(_no_keyring(self.account)) from None
        if not text:
            raise AuthError(f"{self.account}: not connected to Google yet; run "
                            f"followup auth {self.account}")
        return text

    def _read_file(self) -> str:
        path = self.token_file
        assert path is not None
        try:
            info = os.stat(path)
        except FileNotFoundError:
            raise AuthError(f"{self.account}: not connected to Google yet ({path} does not "
                            f"exist); run followup auth {self.account}") from None
        except OSError as exc:
            raise AuthError(f"{self.account}: cannot read {path}: {exc.strerror}") from None
        check_private(path, info)
        try:
            return path.read_text(encoding="utf-8")
        except OSError as exc:
            raise AuthError(f"{self.account}: cannot read {path}: {exc.strerror}") from None

    # -- storing ------------------------------------------------------------------

    def store(self, credentials: Any) -> str:
        """Store the login; return where it went (for the confirmation)."""
        text = credentials.to_json()
        if self.token_file:
            write_private(self.token_file, text)
            return str(self.token_file)
        keyring, errors = _keyring()
        try:
            keyring.set_password(SERVICE, self.account, text)
        except errors.KeyringError:
            raise AuthError(_no_keyring(self.account)) from None
        return "the system keyring"

    def run_flow(self, port: int | None = None) -> Any:
        """The interactive login: prints the URL and the tunnel hint, waits
        for Google's redirect to a local port, returns the credentials."""
        if self.client_secrets is None:
            raise ConfigError(f"{self.account}: client_secrets is required to log in (the "
                              "client_secret.json of your own OAuth client)")
        from google_auth_oauthlib.flow import InstalledAppFlow

        try:
            flow = InstalledAppFlow.from_client_secrets_file(str(self.client_secrets),
                                                             list(self.scopes))
        except (OSError, ValueError) as exc:
            raise ConfigError(f"{self.account}: client_secrets {self.client_secrets} is not "
                              f"a usable OAuth client file ({exc.__class__.__name__})") from None
        # A port chosen here (instead of port=0) can be named in the ssh hint.
        port = port or _free_port()
        message = TUNNEL_HINT.replace("{port}", str(port))
        try:
            return flow.run_local_server(host="localhost", port=port, open_browser=False,
                                         authorization_prompt_message=message,
                                         access_type="offline", prompt="consent")
        except Exception as exc:  # the flow raises oauthlib/requests errors of many kinds
            raise AuthError(f"{self.account}: the Google login did not complete "
                            f"({exc.__class__.__name__})") from None


def require_scopes(account: str, credentials: Any, needed: tuple[str, ...]) -> None:
    """``followup check``: the login must grant every scope the account
    needs. Google's consent screen lets people untick permissions, which
    otherwise shows up only as a 403 on the first write."""
    granted = getattr(credentials, "granted_scopes", None) or getattr(credentials, "scopes", None)
    if not granted:
        return  # not known until the token was refreshed: the API answers then
    missing = [scope.rsplit("/", 1)[-1] for scope in needed if scope not in set(granted)]
    if missing:
        raise AuthError(f"{account}: the Google login does not allow {', '.join(missing)}; run "
                        f"followup auth {account} again and allow every permission it asks for")


def _keyring():
    import keyring
    import keyring.errors

    return keyring, keyring.errors


def _no_keyring(account: str) -> str:
    return (f"{account}: no usable keyring on this machine to keep the Google login; "
            "add token_file = \"PATH\" to this account's config to keep it in a private "
            "file instead")


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("localhost", 0))
        return probe.getsockname()[1]


def check_private(path: Path, info: os.stat_result | None = None) -> None:
    """Refuse a token file (or its folder) that others can read or write."""
    info = info or os.stat(path)
    if not stat.S_ISREG(info.st_mode):
        raise AuthError(f"token_file {path} is not a regular file")
    if info.st_mode & 0o077:
        raise AuthError(f"token_file {path} can be read by other users (mode "
                        f"{stat.S_IMODE(info.st_mode):o}); run chmod 600 {path}")
    folder = os.stat(path.parent)
    if folder.st_mode & 0o077:
        raise AuthError(f"the folder of token_file {path} is open to other users (mode "
                        f"{stat.S_IMODE(folder.st_mode):o}); run chmod 700 {path.parent}")
    if hasattr(os, "getuid") and info.st_uid != os.getuid():
        raise AuthError(f"token_file {path} belongs to another user")


def write_private(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` as 0600 in a 0700 folder (created if missing)."""
    try:
        if not path.parent.exists():
            path.parent.mkdir(mode=0o700, parents=True)
        folder = os.stat(path.parent)
        if folder.st_mode & 0o077:
            raise AuthError(f"the folder of token_file {path} is open to other users (mode "
                            f"{stat.S_IMODE(folder.st_mode):o}); run chmod 700 {path.parent}")
        temp = path.with_name(f".{path.name}.tmp")
        fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
        os.chmod(temp, 0o600)
        os.replace(temp, path)
    except OSError as exc:
        raise ConnectorError(f"cannot write token_file {path}: {exc.strerror or exc}") from None
