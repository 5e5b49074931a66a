"""The config keys of an IMAP mailbox and their checks."""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from typing import Any

from daemon.connector import Option
from daemon.errors import ConfigError

TLS_MODES = ("ssl", "starttls", "none")
DEFAULT_PORTS = {"ssl": 993, "starttls": 143, "none": 143}

OPTIONS: dict[str, Option] = {
    "host": Option(str, required=True, help="Name of the IMAP server, e.g. \"imap.example.com\""),
    "port": Option(int, help="Port of the IMAP server; 993 for tls = \"ssl\", else 143"),
    "username": Option(str, required=True, help="The login name on the IMAP server"),
    "tls": Option(
        str, default="ssl",
        help="\"ssl\" (TLS from the start, the default), \"starttls\" (upgrade a plain "
             "connection) or \"none\" (no encryption; only for a server on this machine). "
             "Certificates and host names are always verified."),
    "password_command": Option(
        str, help="A command that prints the password (instead of the system keyring)"),
    "drafts": Option(
        str, help="Folder for the drafts; by default the server's Drafts folder"),
    "reply_folders": Option(
        (list, str),
        help="Folders searched for replies; by default INBOX and the archive folder"),
}


@dataclass(frozen=True)
class ImapSettings:
    """The checked options of one IMAP mailbox."""

    host: str
    port: int
    username: str
    tls: str
    drafts: str | None
    reply_folders: tuple[str, ...] | None


def is_loopback(host: str) -> bool:
    """True for ``localhost`` and loopback addresses (127.0.0.0/8, ::1)."""
    name = host.strip().strip("[]").lower()
    if name in ("localhost", "localhost.localdomain"):
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False


def _text(config: dict[str, Any], key: str) -> str | None:
    value = config.get(key)
    if value is None:
        return None
    if not isinstance(value, str) or not value.strip():
        raise ValueError(f"'{key}' must be a non-empty string")
    return value.strip()


def parse(name: str, config: dict[str, Any]) -> ImapSettings:
    """Check ``config``; ``ConfigError`` lists every problem found."""
    problems: list[str] = []
    where = f"mailbox {name!r}"

    def take(key: str) -> str | None:
        try:
            return _text(config, key)
        except ValueError as exc:
            problems.append(f"{where}: {exc}")
            return None

    host = take("host")
    username = take("username")
    drafts = take("drafts")
    take("password_command")
    if config.get("host") is None:
        problems.append(f"{where}: 'host' is required (the name of the IMAP server)")
    if config.get("username") is None:
        problems.append(f"{where}: 'username' is required (the login name)")

    tls = config.get("tls") or "ssl"
    if tls not in TLS_MODES:
        problems.append(f"{where}: 'tls' must be \"ssl\", \"starttls\" or \"none\", not {tls!r}")
        tls = "ssl"
    if tls == "none" and host is not None and not is_loopback(host):
        problems.append(
            f"{where}: tls = \"none\" would send the password unencrypted; it is only "
            f"allowed for a server on this machine (localhost, 127.0.0.1, ::1), not {host!r}. "
            "Use tls = \"ssl\" or \"starttls\"")

    port = config.get("port")
    if port is None:
        port = DEFAULT_PORTS[tls]
    elif isinstance(port, bool) or not isinstance(port, int) or not 0 < port < 65536:
        problems.append(f"{where}: 'port' must be a whole number from 1 to 65535, not {port!r}")
        port = DEFAULT_PORTS[tls]

    folders = config.get("reply_folders")
    reply_folders: tuple[str, ...] | None = None
    if isinstance(folders, str):
        folders = [folders]
    if folders is not None:
        if (not isinstance(folders, list) or not folders
                or not all(isinstance(f, str) and f.strip() for f in folders)):
            problems.append(f"{where}: 'reply_folders' must be a list of folder names")
        else:
            reply_folders = tuple(dict.fromkeys(f.strip() for f in folders))

    if problems:
        raise ConfigError(problems)
    assert host is not None and username is not None
    return ImapSettings(host=host, port=port, username=username, tls=tls, drafts=drafts,
                        reply_folders=reply_folders)
