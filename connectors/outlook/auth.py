"""Signing in to a Microsoft account with MSAL and keeping the token cache.

``followup auth NAME`` runs the device-code flow (it prints a URL and a
code; the browser can be on another machine, so it works headless). The
MSAL ``SerializableTokenCache`` is then kept in the system keyring
(service ``interview-followup``, the account name) or, on a machine
without a keyring, in the ``token_file`` the config names; it is written
back only when MSAL changed it. Access and refresh tokens are never
logged or put into error messages.

References: MSAL for Python, ``PublicClientApplication.initiate_device_flow``
and ``acquire_token_by_device_flow``
(https://learn.microsoft.com/python/api/msal/msal.application.publicclientapplication),
and token cache serialization with ``has_state_changed``
(https://learn.microsoft.com/python/api/msal/msal.token_cache.serializabletokencache).
"""

from __future__ import annotations

import base64
import os
import re
import stat
import sys
import tempfile
import threading
import zlib
from collections.abc import Callable
from pathlib import Path
from typing import Any

from daemon.errors import AuthError, ConfigError, TransientError

SERVICE = "interview-followup"
# Delegated permissions; MSAL adds openid, profile and offline_access itself.
SCOPES = ["Calendars.ReadWrite", "Mail.ReadWrite"]
AUTHORITY_HOST = "https://login.microsoftonline.com"
#: a tenant: common, consumers, organizations, a tenant id or a domain
TENANT = r"[A-Za-z0-9][A-Za-z0-9.-]{0,253}"
_TENANT = re.compile(f"^{TENANT}$")
_PACKED = "z1."

# One MSAL application per (client id, authority, account) and process:
# building one costs a discovery request.
_apps: dict[tuple[str, str, str], Any] = {}
_apps_lock = threading.Lock()


def reconnect(account: str, why: str) -> AuthError:
    return AuthError(f"{account}: {why}; reconnect needed: run followup auth {account}")


def _pack(text: str) -> str:
    """The cache compressed for the keyring (some cap a secret's size)."""
    return _PACKED + base64.b64encode(zlib.compress(text.encode("utf-8"), 9)).decode("ascii")


def _unpack(value: str) -> str:
    if value.startswith(_PACKED):
        return zlib.decompress(base64.b64decode(value[len(_PACKED):])).decode("utf-8")
    return value


class KeyringStore:
    """The serialized token cache in the system keyring."""

    def __init__(self, account: str):
        self.account = account

    def _keyring(self):
        import keyring
        import keyring.errors

        return keyring, keyring.errors

    def _refuse(self, exc: Exception) -> AuthError:
        return AuthError(
            f"{self.account}: no usable keyring on this machine ({type(exc).__name__}); "
            "set token_file = \"...\" in this account's config to keep the sign-in in a file "
            "readable only by you")

    def load(self) -> str | None:
        keyring, errors = self._keyring()
        try:
            value = keyring.get_password(SERVICE, self.account)
        except errors.KeyringError as exc:
            raise self._refuse(exc) from None
        if value is None:
            return None
        try:
            return _unpack(value)
        except (ValueError, zlib.error, UnicodeDecodeError):
            return None  # unreadable: as if not signed in

    def save(self, text: str) -> None:
        keyring, errors = self._keyring()
        try:
            keyring.set_password(SERVICE, self.account, _pack(text))
        except errors.KeyringError as exc:
            raise self._refuse(exc) from None

    def where(self) -> str:
        return "the keyring"


class FileStore:
    """The serialized token cache in a file of its own: 0600 in a 0700
    folder, checked every time it is opened."""

    def __init__(self, account: str, path: Path):
        self.account = account
        self.path = path

    def check(self) -> None:
        """Create the folder (0700) if needed; refuse a folder or file that
        others can read or write."""
        folder = self.path.parent
        try:
            folder.mkdir(mode=0o700, parents=True, exist_ok=True)
            info = folder.stat()
        except OSError as exc:
            raise AuthError(f"{self.account}: cannot use token_file folder {folder}: "
                            f"{exc.strerror or exc}") from None
        if stat.S_IMODE(info.st_mode) & 0o077:
            raise AuthError(f"{self.account}: token_file folder {folder} is open to other users "
                            f"(mode {stat.S_IMODE(info.st_mode):o}); run chmod 700 {folder}")
        try:
            info = self.path.lstat()
        except FileNotFoundError:
            return
        except OSError as exc:
            raise AuthError(f"{self.account}: cannot read token_file {self.path}: "
                            f"{exc.strerror or exc}") from None
        if not stat.S_ISREG(info.st_mode):
            raise AuthError(f"{self.account}: token_file {self.path} is not a regular file")
        if stat.S_IMODE(info.st_mode) & 0o077:
            raise AuthError(f"{self.account}: token_file {self.path} is readable by other users "
                            f"(mode {stat.S_IMODE(info.st_mode):o}); run chmod 600 {self.path}")

    def load(self) -> str | None:
        self.check()
        try:
            return self.path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return None
        except (OSError, UnicodeDecodeError) as exc:
            raise AuthError(f"{self.account}: cannot read token_file {self.path}: {exc}") from None

    def save(self, text: str) -> None:
        self.check()
        try:
            fd, temp = tempfile.mkstemp(dir=self.path.parent, prefix=".token-")
            try:
                os.fchmod(fd, 0o600)
                with os.fdopen(fd, "w", encoding="utf-8") as out:
                    out.write(text)
                    out.flush()
                    os.fsync(out.fileno())
                os.replace(temp, self.path)
            except BaseException:
                Path(temp).unlink(missing_ok=True)
                raise
        except OSError as exc:
            raise AuthError(f"{self.account}: cannot write token_file {self.path}: "
                            f"{exc.strerror or exc}") from None

    def where(self) -> str:
        return str(self.path)


class MsalTokens:
    """Access tokens for one Microsoft account, refreshed silently.

    Calling the object returns a current access token. ``http_client`` is
    handed to MSAL (tests answer its requests offline).
    """

    granted: frozenset[str] = frozenset()  # scopes of the last token

    def __init__(self, account: str, client_id: str, tenant: str = "common", *,
                 store: KeyringStore | FileStore | None = None,
                 http_client: Any = None, authority_host: str = AUTHORITY_HOST):
        if not isinstance(client_id, str) or not client_id.strip():
            raise ConfigError(f"{account}: client_id is required (the application id of "
                              "your app registration)")
        if not _TENANT.match(tenant or ""):
            raise ConfigError(f"{account}: tenant must be common, consumers, organizations, "
                              f"a tenant id or a domain, not {tenant!r}")
        self.account = account
        self.client_id = client_id.strip()
        self.authority = f"{authority_host.rstrip('/')}/{tenant}"
        self.store = store or KeyringStore(account)
        self.http_client = http_client
        self._lock = threading.Lock()

    def _app(self):
        """The process's MSAL application for this account, its cache loaded."""
        key = (self.client_id, self.authority, self.account)
        with _apps_lock:
            app = _apps.get(key)
            if app is None:
                import msal

                cache = msal.SerializableTokenCache()
                state = self.store.load()
                if state:
                    try:
                        cache.deserialize(state)
                    except ValueError:
                        pass  # damaged: the user signs in again
                try:
                    app = msal.PublicClientApplication(
                        self.client_id, authority=self.authority, token_cache=cache,
                        http_client=self.http_client)
                except ValueError as exc:
                    raise AuthError(f"{self.account}: sign-in service rejected the "
                                    f"configuration ({exc})") from None
                except Exception as exc:  # network failure during discovery
                    raise TransientError(f"{self.account}: sign-in service unreachable "
                                         f"({type(exc).__name__})") from None
                _apps[key] = app
            return app

    def _save(self, app) -> None:
        cache = app.token_cache
        if cache.has_state_changed:
            self.store.save(cache.serialize())

    def __call__(self) -> str:
        with self._lock:
            app = self._app()
            try:
                accounts = app.get_accounts()
                result = (app.acquire_token_silent_with_error(SCOPES, account=accounts[0])
                          if accounts else None)
            except Exception as exc:  # network or service failure while refreshing
                raise TransientError(f"{self.account}: sign-in service unreachable "
                                     f"({type(exc).__name__})") from None
            if not accounts:
                raise reconnect(self.account, "not signed in to Microsoft")
            if not result or "access_token" not in result:
                why = (result or {}).get("error") or "no usable token"
                raise reconnect(self.account, f"the Microsoft sign-in expired or was revoked ({why})")
            self._save(app)
            self.granted = frozenset((result.get("scope") or "").split()) or self.granted
            return result["access_token"]

    def missing_scopes(self) -> list[str]:
        """The needed permissions the last token did not carry ([] when the
        token named none: then Graph itself answers 403)."""
        granted = {scope.rsplit("/", 1)[-1].lower() for scope in self.granted}
        return [s for s in SCOPES if granted and s.lower() not in granted]

    def device_login(self, show: Callable[[str], None] | None = None) -> str:
        """Run the device-code flow: show the URL and code, wait for the
        user, store the cache. Returns the signed-in user name."""
        show = show or (lambda text: print(text, file=sys.stdout, flush=True))
        with self._lock:
            app = self._app()
            try:
                flow = app.initiate_device_flow(scopes=SCOPES)
                if "user_code" not in flow:
                    raise AuthError(f"{self.account}: the sign-in service refused the device "
                                    f"login ({flow.get('error') or 'no code'})")
                show(flow["message"])
                result = app.acquire_token_by_device_flow(flow)
            except AuthError:
                raise
            except Exception as exc:
                raise TransientError(f"{self.account}: sign-in service unreachable "
                                     f"({type(exc).__name__})") from None
            if "access_token" not in result:
                raise AuthError(f"{self.account}: sign-in did not complete "
                                f"({result.get('error') or 'unknown error'})")
            self._save(app)
            claims = result.get("id_token_claims") or {}
            return str(claims.get("preferred_username") or claims.get("name") or "signed in")


def tokens_for(name: str, config: dict, base_dir: Path, http_client: Any = None) -> MsalTokens:
    """The token source an Outlook connector's config describes."""
    account = config.get("account") or name
    token_file = config.get("token_file")
    store: KeyringStore | FileStore
    if isinstance(token_file, str) and token_file.strip():
        path = Path(os.path.expanduser(token_file.strip()))
        store = FileStore(account, path if path.is_absolute() else Path(base_dir) / path)
    else:
        store = KeyringStore(account)
    return MsalTokens(account, config.get("client_id") or "", config.get("tenant") or "common",
                      store=store, http_client=http_client)
