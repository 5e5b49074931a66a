"""A throw-away Xandikos CalDAV server: the second real CalDAV server of
the contract suite, beside Radicale (``tests/servers/radicale.py``).

``Xandikos.shared()`` starts one ``xandikos serve`` per test session on a
free port of 127.0.0.1 with its collections in a temporary folder. Xandikos
has one principal (``/user/``) and leaves logins to a proxy in front of
it, so every "user" is that principal and any password is accepted; each
test makes calendars of its own, with names of their own.
"""

from __future__ import annotations

import http.client
import itertools
import shutil
import sys
from pathlib import Path

from .common import CalDAVServerProcess

START_TIMEOUT = 20.0
PRINCIPAL = "user"


def _command() -> list[str] | None:
    beside = Path(sys.executable).parent / "xandikos"
    if beside.exists():
        return [str(beside)]
    found = shutil.which("xandikos")
    return [found] if found else None


class Xandikos(CalDAVServerProcess):
    """One Xandikos process on 127.0.0.1 with throw-away storage."""

    name = "Xandikos"
    start_timeout = START_TIMEOUT

    _names = itertools.count(1)

    def __init__(self, root: Path):
        super().__init__(root)
        self.passwords = {PRINCIPAL: "any"}

    @classmethod
    def missing(cls) -> str | None:
        return None if _command() else "pip install xandikos (the 'test' extra)"

    def command(self) -> list[str]:
        return [*_command(), "serve", "-d", str(self.root / "data"), "--defaults", "--no-detect-systemd",
                "-l", "127.0.0.1", "-p", str(self.port), "--state-dir", str(self.root / "state")]

    def probe(self, conn: http.client.HTTPConnection) -> bool:
        conn.request("PROPFIND", f"/{PRINCIPAL}/", headers={"Depth": "0"})
        return conn.getresponse().status == 207

    def new_user(self) -> tuple[str, str]:
        return PRINCIPAL, self.passwords[PRINCIPAL]

    def unique_name(self, name: str) -> str:
        """A calendar name no other test uses (one principal for all)."""
        return f"{name} {next(self._names)}"

    def calendar_home(self, user: str) -> str:
        return f"/{PRINCIPAL}/calendars/"  # the one principal, whoever asks
