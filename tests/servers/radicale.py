"""A throw-away Radicale CalDAV server for the tests, and a counting proxy.

``Radicale.shared()`` starts one Radicale per test session (``python -m
radicale`` from this interpreter) on a free port of 127.0.0.1, with its
storage in a temporary folder and plain-text htpasswd logins, so a wrong
password really fails. Every test makes its own user (``new_user``) and
calendars, so tests never see each other's data. The user ``organizer`` may
write into every user's calendars: it plays the people whose invitations
land in the user's calendar.

``CountingProxy`` sits between a connector and the server, counts the
requests that pass and can play a server that is gone or failing.
"""

from __future__ import annotations

import http.client
import itertools
import secrets
import socket
import sys
import threading
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from .common import CalDAVServerProcess, free_port

ORGANIZER = "organizer"
START_TIMEOUT = 20.0

_RIGHTS = """\
[root]
user: .+
collection:
permissions: R

[principal]
user: .+
collection: {user}
permissions: RW

[own-calendars]
user: .+
collection: {user}/[^/]+
permissions: rw

[organizer-delivers]
user: organizer
collection: [^/]+/[^/]+
permissions: rw
"""


class Radicale(CalDAVServerProcess):
    """One Radicale process on 127.0.0.1 with throw-away storage."""

    name = "Radicale"
    start_timeout = START_TIMEOUT

    _users = itertools.count(1)

    def __init__(self, root: Path):
        super().__init__(root)
        self.users_file = root / "users"
        self.passwords: dict[str, str] = {}
        self.add_user(ORGANIZER)

    # -- the one server of the session ----------------------------------------

    @classmethod
    def missing(cls) -> str | None:
        try:
            import radicale  # noqa: F401 - only to know it is installed
        except ImportError:
            return "pip install radicale (the 'test' extra)"
        return None

    # -- process ---------------------------------------------------------------

    def prepare(self) -> None:
        (self.root / "rights").write_text(_RIGHTS)
        (self.root / "config").write_text(self._config())

    def command(self) -> list[str]:
        return [sys.executable, "-m", "radicale", "-C", str(self.root / "config")]

    def _config(self) -> str:
        return f"""\
[server]
hosts = 127.0.0.1:{self.port}

[auth]
type = htpasswd
htpasswd_filename = {self.users_file}
htpasswd_encryption = plain
delay = 0

[rights]
type = from_file
file = {self.root / "rights"}

[storage]
filesystem_folder = {self.root / "collections"}

[web]
type = none

[logging]
level = warning
mask_passwords = True
"""

    # -- users and calendars ---------------------------------------------------

    def add_user(self, name: str, password: str | None = None) -> str:
        """Add a login (the server reads the file at every login); returns
        its password."""
        password = password or secrets.token_hex(8)
        self.passwords[name] = password
        self.users_file.write_text("".join(f"{u}:{p}\n" for u, p in self.passwords.items()))
        return password

    def new_user(self) -> tuple[str, str]:
        """A fresh user of this session: (name, password)."""
        name = f"user{next(self._users)}"
        return name, self.add_user(name)

    def calendar_home(self, user: str) -> str:
        return f"/{user}/"


# -- a proxy that counts ----------------------------------------------------------

_HOP_BY_HOP = {"connection", "keep-alive", "proxy-connection", "transfer-encoding", "te",
               "trailer", "upgrade", "content-length"}


@dataclass
class _Canned:
    """An answer the proxy gives instead of the server's (``status`` None:
    the request reaches the server, its answer is lost)."""

    status: int | None
    headers: dict[str, str]
    body: bytes
    method: str | None
    match: bytes | None
    times: int


class CountingProxy:
    """HTTP/1.1 forwarder from a loopback port to ``upstream_port``.

    ``requests`` holds ``(method, path)`` of every request since the last
    ``reset()``. ``stop()`` closes the port and every open connection (the
    server is gone), ``start()`` opens the same port again. ``answer()``
    makes the proxy reply itself, e.g. with a 503, for the next requests;
    ``lose_answer()`` passes a request on and then drops the connection.
    """

    def __init__(self, upstream_port: int):
        self.upstream_port = upstream_port
        self.port = free_port()
        self.requests: list[tuple[str, str]] = []
        self._canned: list[_Canned] = []
        self._lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self._sockets: set[socket.socket] = set()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/"

    def start(self) -> CountingProxy:
        server = ThreadingHTTPServer(("127.0.0.1", self.port), _ProxyHandler)
        server.daemon_threads = True
        server.proxy = self  # type: ignore[attr-defined]
        self._server = server
        self._thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is None:
            return
        self._server.shutdown()
        self._server.server_close()
        with self._lock:
            for sock in list(self._sockets):
                try:
                    sock.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
            self._sockets.clear()
        self._thread.join(5)
        self._server = None

    def reset(self) -> None:
        with self._lock:
            self.requests.clear()

    def count(self, method: str | None = None) -> int:
        with self._lock:
            return sum(1 for m, _ in self.requests if method is None or m == method)

    def answer(self, status: int, headers: dict[str, str] | None = None, body: bytes = b"",
               method: str | None = None, match: bytes | None = None, times: int = 1) -> None:
        """Reply ``status`` to the next ``times`` requests (of ``method``,
        whose body contains ``match``)."""
        with self._lock:
            self._canned.append(_Canned(status, dict(headers or {}), body, method, match, times))

    def lose_answer(self, method: str, times: int = 1) -> None:
        """Pass the next ``times`` requests of ``method`` on to the server,
        then close the connection instead of answering."""
        with self._lock:
            self._canned.append(_Canned(None, {}, b"", method, None, times))

    def _take_canned(self, method: str, body: bytes) -> _Canned | None:
        with self._lock:
            for canned in self._canned:
                if canned.method in (None, method) and (canned.match is None
                                                         or canned.match in body):
                    canned.times -= 1
                    if canned.times <= 0:
                        self._canned.remove(canned)
                    return canned
        return None


class _ProxyHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def setup(self) -> None:
        super().setup()
        # headers and body go out in two writes: without this, each answer
        # waits for the client's delayed ACK (40 ms on Linux)
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        with self.server.proxy._lock:
            self.server.proxy._sockets.add(self.connection)

    def finish(self) -> None:
        with self.server.proxy._lock:
            self.server.proxy._sockets.discard(self.connection)
        try:
            super().finish()
        except OSError:
            pass

    def log_message(self, format, *args) -> None:
        pass

    def _body(self) -> bytes:
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            chunks = []
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    self.rfile.readline()
                    return b"".join(chunks)
                chunks.append(self.rfile.read(size))
                self.rfile.readline()
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def _forward(self) -> None:
        proxy: CountingProxy = self.server.proxy
        body = self._body()
        with proxy._lock:
            proxy.requests.append((self.command, self.path))
        canned = proxy._take_canned(self.command, body)
        if canned is not None and canned.status is not None:
            status, headers, data = canned.status, list(canned.headers.items()), canned.body
        else:
            upstream = http.client.HTTPConnection("127.0.0.1", proxy.upstream_port, timeout=30)
            try:
                headers = {k: v for k, v in self.headers.items() if k.lower() not in _HOP_BY_HOP}
                upstream.request(self.command, self.path, body=body, headers=headers)
                response = upstream.getresponse()
                status, headers, data = response.status, response.getheaders(), response.read()
            finally:
                upstream.close()
            if canned is not None:  # the server did it; the client never hears
                self.close_connection = True
                self.connection.shutdown(socket.SHUT_RDWR)
                return
        self.send_response(status)
        for name, value in headers:
            if name.lower() not in _HOP_BY_HOP and name.lower() not in ("date", "server"):
                self.send_header(name, value)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)

    do_GET = do_HEAD = do_PUT = do_POST = do_DELETE = do_OPTIONS = _forward
    do_PROPFIND = do_PROPPATCH = do_REPORT = do_MKCALENDAR = do_MKCOL = _forward
    do_MOVE = do_COPY = _forward
