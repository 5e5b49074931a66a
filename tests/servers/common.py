"""Helpers shared by the tests that start a real server on a loopback port."""

from __future__ import annotations

import atexit
import http.client
import os
import shutil
import socket
import subprocess
import tempfile
import time
import uuid
from pathlib import Path
from urllib.parse import urljoin

import pytest


def free_port() -> int:
    """A TCP port on 127.0.0.1 that is free right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def require_or_skip(name: str, hint: str) -> None:
    """A server the tests need is not available: fail in CI (``CI=true``),
    where every server must run, and skip with a one-line ``hint`` elsewhere."""
    if os.environ.get("CI") == "true":
        pytest.fail(f"{name} is required in CI: {hint}", pytrace=False)
    pytest.skip(f"{name} not available: {hint}")


class HttpServerProcess:
    """A throw-away HTTP server process on a free loopback port, its files
    and log under ``root``. Subclasses say how to run it (``command``, after
    ``prepare`` wrote what it needs for ``self.port``) and how to tell it
    answers (``probe``)."""

    name = "server"
    start_timeout = 20.0
    _shared = None  # the session's server, per subclass
    _failure: str | None = None  # why it could not start

    @classmethod
    def missing(cls) -> str | None:
        """What to install when the server is not there, else None."""
        return None

    @classmethod
    def shared(cls):
        """The session's server, started on first use. When it cannot start,
        the test fails in CI and is skipped elsewhere."""
        if cls._shared is None and cls._failure is None:
            cls._failure = cls.missing()
            if cls._failure is None:
                root = Path(tempfile.mkdtemp(prefix=f"followup-{cls.name.lower()}-"))
                server = cls(root)
                try:
                    server.start()
                except RuntimeError as exc:
                    shutil.rmtree(root, ignore_errors=True)
                    cls._failure = str(exc)
                else:
                    cls._shared = server
                    atexit.register(server.close)
        if cls._shared is None:
            require_or_skip(cls.name, cls._failure or "it could not be started")
        return cls._shared

    def __init__(self, root: Path):
        self.root = root
        self.log_file = root / f"{self.name.lower()}.log"
        self.port = 0
        self.process: subprocess.Popen | None = None

    def prepare(self) -> None:
        """Write what the server needs before it starts on ``self.port``."""

    def command(self) -> list[str]:
        raise NotImplementedError

    def probe(self, conn: http.client.HTTPConnection) -> bool:
        """One request: True when the server is ready (OSError: not yet)."""
        conn.request("OPTIONS", "/")
        conn.getresponse().read()
        return True

    def start(self) -> None:
        """Start the server and wait until it answers; ``RuntimeError`` with
        a one-line reason when it does not."""
        for _ in range(3):  # the free port may be taken before the server binds it
            self.port = free_port()
            self.prepare()
            with open(self.log_file, "ab") as log:
                self.process = subprocess.Popen(self.command(), stdin=subprocess.DEVNULL, stdout=log,
                                                stderr=subprocess.STDOUT)
            if self._wait_ready():
                return
            self.stop()
        tail = self.log_file.read_text(errors="replace").strip().splitlines()[-1:] or ["no output"]
        raise RuntimeError(f"{self.name} did not start: {tail[0][:200]}")

    def _wait_ready(self) -> bool:
        deadline = time.monotonic() + self.start_timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                return False
            try:
                conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=2)
                try:
                    if self.probe(conn):
                        return True
                finally:
                    conn.close()
            except OSError:
                pass
            time.sleep(0.05)
        return False

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(5)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.process = None

    def close(self) -> None:
        self.stop()
        shutil.rmtree(self.root, ignore_errors=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/"


class CalDAVServerProcess(HttpServerProcess):
    """A CalDAV server process: ``passwords`` by user, and where each user's
    calendars live (``calendar_home``)."""

    passwords: dict[str, str]

    def calendar_home(self, user: str) -> str:
        """The path under which ``user``'s calendars are made."""
        raise NotImplementedError

    def client(self, user: str, url: str | None = None):
        """A ``caldav`` client logged in as ``user``: another program than
        the connector under test (a phone, the organizer's server)."""
        import caldav

        return caldav.DAVClient(url=url or self.url, username=user,
                                password=self.passwords[user], rate_limit_handle=False)

    def make_calendar(self, user: str, name: str) -> str:
        """MKCALENDAR a new, empty calendar of ``user`` named ``name``;
        returns its URL."""
        url = urljoin(self.url, f"{self.calendar_home(user)}{uuid.uuid4().hex[:12]}/")
        body = ('<?xml version="1.0" encoding="utf-8"?>'
                '<C:mkcalendar xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav">'
                f"<D:set><D:prop><D:displayname>{name}</D:displayname></D:prop></D:set>"
                "</C:mkcalendar>")
        with self.client(user) as client:
            status = client.request(url, "MKCALENDAR", body).status
        assert status == 201, f"MKCALENDAR {url}: HTTP {status}"
        return url
