"""Passwords and tokens: kept in the system keyring, never in the config.

On a headless machine without a keyring, an account can name a
``password_command`` instead (run without a shell; its first output line is
the password). Secrets are never logged.
"""

from __future__ import annotations

import getpass
import shlex
import subprocess

from daemon.errors import AuthError

SERVICE = "interview-followup"
COMMAND_TIMEOUT = 30


def _keyring():
    import keyring  # imported on first use: loading backends costs start-up time
    import keyring.errors

    return keyring, keyring.errors


def from_command(command: str, account: str) -> str:
    """The first line the command prints; ``AuthError`` when it fails."""
    try:
        argv = shlex.split(command)
    except ValueError as exc:
        raise AuthError(f"{account}: password_command cannot be split into words: {exc}") from None
    if not argv:
        raise AuthError(f"{account}: password_command is empty")
    try:
        done = subprocess.run(argv, capture_output=True, text=True, timeout=COMMAND_TIMEOUT,
                              stdin=subprocess.DEVNULL)
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise AuthError(f"{account}: password_command {argv[0]!r} could not run: {exc}") from None
    if done.returncode != 0:
        raise AuthError(f"{account}: password_command {argv[0]!r} failed with exit code {done.returncode}")
    line = done.stdout.splitlines()[0] if done.stdout else ""
    if not line:
        raise AuthError(f"{account}: password_command {argv[0]!r} printed nothing")
    return line


def get(account: str, password_command: str | None = None) -> str:
    """The password of ``account``: from its command, else from the keyring."""
    if password_command:
        return from_command(password_command, account)
    keyring, errors = _keyring()
    try:
        value = keyring.get_password(SERVICE, account)
    except errors.KeyringError as exc:
        raise AuthError(
            f"{account}: no usable keyring on this machine ({exc}); set password_command "
            "in this account's config instead") from None
    if value is None:
        raise AuthError(f"{account}: no password stored; run 'followup auth {account}' "
                        "(or set password_command)")
    return value


def store(account: str, value: str) -> None:
    keyring, errors = _keyring()
    try:
        keyring.set_password(SERVICE, account, value)
    except errors.KeyringError as exc:
        raise AuthError(
            f"{account}: cannot store the password, no usable keyring on this machine ({exc}); "
            "set password_command in this account's config instead") from None


def ask(account: str) -> str:
    return getpass.getpass(f"Password for {account}: ")



class PasswordAccount:
    """Mixin for connectors that log in with a password (CalDAV, IMAP).

    The connector calls ``self.password()`` when it connects; ``followup
    auth NAME`` calls ``authorize``, which asks for the password, proves it
    with ``check()`` and only then stores it in the keyring.
    """

    _typed: str | None = None

    def password(self) -> str:
        if self._typed is not None:
            return self._typed
        return get(self.name, self.config.get("password_command"))

    def authorize(self) -> str:
        if self.config.get("password_command"):
            return f"{self.name}: uses password_command, nothing to store ({self.check()})"
        self._typed = ask(self.name)
        summary = self.check()  # raises AuthError before anything is stored
        store(self.name, self._typed)
        return f"{self.name}: password stored in the keyring ({summary})"
