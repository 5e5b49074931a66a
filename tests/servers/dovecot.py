"""A private Dovecot IMAP server for the tests, and a proxy in front of it.

``shared()`` starts one Dovecot for the whole test session (``dovecot -F``
as a child process) on a free loopback port, with throw-away Maildir
storage in a temporary folder, and stops it when the session ends. Each
test takes a user of its own (``add_user``, from users written ahead:
Dovecot 2.3 rereads its users file at most once a second), so tests never
see each other's mail. Every user has the folders Drafts, Sent and Archive, marked
with their SPECIAL-USE flags.

Dovecot 2.3 and 2.4 need different configuration syntax; the installed
version picks the template. Notes for running it as root: login processes
need a non-root user (``dovenull``) and the mail a non-root owner (the
package's ``dovecot`` user), which must be able to reach the storage
folder; and Dovecot delays every login from an address that recently
failed one (its "auth penalty"), which would make one wrong-password test
slow down all the others, so the penalty socket is removed at start.

``ImapProxy`` sits between a client and the server: it counts the commands
clients send, and can drop connections or refuse new ones (a server that
went away), or cut a connection right after the server executed a given
command but before the client hears the answer.
"""

from __future__ import annotations

import atexit
import grp
import itertools
import os
import pwd
import re
import secrets
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

from .common import free_port

HINT = "IMAP tests need Dovecot: apt-get install dovecot-imapd"
START_TIMEOUT = 15.0
#: users written at a time; each test takes one
USER_POOL = 200

_users = itertools.count(1)


class DovecotUnavailable(Exception):
    """Dovecot is not installed or did not start."""


def find_binary() -> str | None:
    """The ``dovecot`` executable, or None."""
    return shutil.which("dovecot") or next(
        (p for p in ("/usr/sbin/dovecot", "/usr/local/sbin/dovecot") if os.access(p, os.X_OK)), None)


def version(binary: str) -> tuple[int, int]:
    """``(major, minor)`` of the installed Dovecot, e.g. ``(2, 3)``."""
    try:
        out = subprocess.run([binary, "--version"], capture_output=True, text=True, timeout=10).stdout
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise DovecotUnavailable(f"{binary} --version failed: {exc}") from None
    match = re.match(r"\s*(\d+)\.(\d+)", out)
    if not match:
        raise DovecotUnavailable(f"cannot read the Dovecot version from {out.strip()!r}")
    return int(match[1]), int(match[2])


@dataclass(frozen=True)
class Account:
    """A mail user on the test server."""

    user: str
    password: str


_SPECIAL_FOLDERS = """\
namespace inbox {
  inbox = yes
  separator = /
  mailbox Drafts {
    special_use = \\Drafts
    auto = subscribe
  }
  mailbox Sent {
    special_use = \\Sent
    auto = subscribe
  }
  mailbox Archive {
    special_use = \\Archive
    auto = subscribe
  }
}
"""

_CONFIG_23 = """\
base_dir = {root}/run
state_dir = {root}/state
log_path = {root}/dovecot.log
listen = 127.0.0.1
protocols = imap
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain login
auth_failure_delay = 0
default_login_user = {login_user}
default_internal_user = {internal_user}
default_internal_group = {internal_group}
first_valid_uid = 1
first_valid_gid = 1
mail_uid = {mail_uid}
mail_gid = {mail_gid}
mail_location = maildir:~/Maildir
mail_fsync = never
mail_max_userip_connections = 100
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {root}/users
}}
userdb {{
  driver = passwd-file
  args = username_format=%u {root}/users
}}
service imap-login {{
{login_service}  inet_listener imap {{
    port = {port}
  }}
  inet_listener imaps {{
    port = 0
  }}
}}
{special}"""

# Follows the 2.4 documentation (settings renamed, named passdb/userdb
# blocks); so far the tests have run on 2.3 only.
_CONFIG_24 = """\
dovecot_config_version = {version}
dovecot_storage_version = {version}
base_dir = {root}/run
state_dir = {root}/state
log_path = {root}/dovecot.log
listen = 127.0.0.1
protocols = imap
ssl = no
auth_allow_cleartext = yes
auth_mechanisms = plain login
auth_failure_delay = 0
default_login_user = {login_user}
default_internal_user = {internal_user}
default_internal_group = {internal_group}
first_valid_uid = 1
first_valid_gid = 1
mail_uid = {mail_uid}
mail_gid = {mail_gid}
mail_driver = maildir
mail_path = %{{home}}/Maildir
mail_fsync = never
mail_max_userip_connections = 100
passdb passwd-file {{
  passwd_file_path = {root}/users
}}
userdb passwd-file {{
  passwd_file_path = {root}/users
}}
service imap-login {{
{login_service}  inet_listener imap {{
    port = {port}
  }}
  inet_listener imaps {{
    port = 0
  }}
}}
{special}"""


class DovecotServer:
    """One Dovecot on 127.0.0.1:``port`` with its files under ``root``."""

    def __init__(self, binary: str | None = None):
        self.binary = binary or find_binary()
        if self.binary is None:
            raise DovecotUnavailable("dovecot is not installed")
        self.version = version(self.binary)
        # Not under pytest's tmp_path: its parents are private to root, and
        # the mail user must be able to reach the storage.
        self.root = Path(tempfile.mkdtemp(prefix="followup-dovecot-"))
        self.root.chmod(0o755)
        self.port = free_port()
        self.host = "127.0.0.1"
        self.process: subprocess.Popen | None = None
        self._lock = threading.Lock()
        if os.geteuid() == 0:
            try:
                login, mail = pwd.getpwnam("dovenull"), pwd.getpwnam("dovecot")
            except KeyError:
                raise DovecotUnavailable("the users dovenull and dovecot are missing") from None
            self._login_user, self._mail = login.pw_name, mail
            self._login_service = ""
        else:  # a developer's own account runs everything, without chroot
            me = pwd.getpwuid(os.geteuid())
            self._login_user, self._mail = me.pw_name, me
            self._login_service = f"  user = {me.pw_name}\n  chroot =\n"
        mail_root = self.root / "mail"
        mail_root.mkdir()
        os.chown(mail_root, self._mail.pw_uid, self._mail.pw_gid)
        (self.root / "users").write_text("")
        self._pool: list[Account] = []
        self._add_users(USER_POOL)  # before start: Dovecot rereads the file lazily

    # -- configuration -----------------------------------------------------------

    @property
    def config_path(self) -> Path:
        return self.root / "dovecot.conf"

    @property
    def log_path(self) -> Path:
        return self.root / "dovecot.log"

    def _config(self) -> str:
        values = dict(root=self.root, port=self.port, login_user=self._login_user,
                      internal_user=self._mail.pw_name, internal_group=grp.getgrgid(self._mail.pw_gid).gr_name,
                      mail_uid=self._mail.pw_uid, mail_gid=self._mail.pw_gid,
                      login_service=self._login_service, special=_SPECIAL_FOLDERS)
        if self.version >= (2, 4):
            return _CONFIG_24.format(version=f"{self.version[0]}.{self.version[1]}.0", **values)
        return _CONFIG_23.format(**values)

    # -- running -----------------------------------------------------------------

    def start(self) -> None:
        """Start Dovecot and wait until it answers; ``DovecotUnavailable``
        with the end of its log when it does not."""
        if self.running:
            return
        self.config_path.write_text(self._config())
        with open(self.root / "dovecot.out", "ab") as out:
            self.process = subprocess.Popen(
                [self.binary, "-F", "-c", str(self.config_path)], stdin=subprocess.DEVNULL,
                stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
        deadline = time.monotonic() + START_TIMEOUT
        penalty = self.root / "run" / "anvil-auth-penalty"
        while not penalty.exists() and self.running and time.monotonic() < deadline:
            time.sleep(0.02)
        # Before any login: an auth process that cannot reach this socket
        # never delays logins after a failed one.
        penalty.unlink(missing_ok=True)
        while time.monotonic() < deadline:
            if not self.running:
                raise DovecotUnavailable(f"dovecot exited at start:\n{self.log_tail()}")
            if self._answers():
                return
            time.sleep(0.05)
        self.stop()
        raise DovecotUnavailable(f"dovecot did not answer within {START_TIMEOUT:g}s:\n{self.log_tail()}")

    def _answers(self) -> bool:
        try:
            with socket.create_connection((self.host, self.port), timeout=2) as sock:
                return sock.recv(4).startswith(b"* OK")
        except OSError:
            return False

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def stop(self) -> None:
        """Stop Dovecot and wait until it is gone. The whole process group
        is signalled: the master alone exits slowly and leaves the imap
        processes of connected clients running."""
        process, self.process = self.process, None
        if process is None:
            return
        group = process.pid  # started in a session of its own: its group has its id
        for signum in (signal.SIGTERM, signal.SIGKILL):
            try:
                os.killpg(group, signum)
            except ProcessLookupError:
                break
            deadline = time.monotonic() + 5
            while time.monotonic() < deadline and (process.poll() is None or _group_alive(group)):
                time.sleep(0.01)
            if process.poll() is not None and not _group_alive(group):
                break
        process.wait(timeout=10)

    def close(self) -> None:
        """Stop Dovecot and remove its files."""
        self.stop()
        shutil.rmtree(self.root, ignore_errors=True)

    def log_tail(self, lines: int = 20) -> str:
        text = ""
        for path in (self.root / "dovecot.out", self.log_path):
            if path.exists():
                text += path.read_text(errors="replace")
        return "\n".join(text.splitlines()[-lines:])

    # -- users -------------------------------------------------------------------

    def add_user(self) -> Account:
        """A user of its own with an empty mailbox (INBOX, Drafts, Sent, Archive)."""
        with self._lock:
            if not self._pool:
                self._add_users(USER_POOL)
                # Dovecot 2.3 looks at the users file at most once a second.
                time.sleep(1.1)
            return self._pool.pop(0)

    def _add_users(self, count: int) -> None:
        """Write ``count`` more users into the users file."""
        users = self.root / "users"
        lines = []
        for _ in range(count):
            account = Account(f"user{next(_users)}", secrets.token_hex(8))
            home = self.root / "mail" / account.user
            lines.append(f"{account.user}:{{PLAIN}}{account.password}:{self._mail.pw_uid}:"
                         f"{self._mail.pw_gid}::{home}::\n")
            self._pool.append(account)
        # Written whole and renamed: Dovecot never reads half a file.
        fresh = users.with_suffix(".new")
        fresh.write_text(users.read_text() + "".join(lines))
        fresh.replace(users)

    def connect(self, account: Account, port: int | None = None):
        """A logged-in ``IMAPClient`` for ``account`` (another mail client)."""
        from imapclient import IMAPClient

        client = IMAPClient(self.host, port=port or self.port, ssl=False, timeout=20)
        client.login(account.user, account.password)
        return client


_shared: DovecotServer | None = None
_failure: str | None = None


def unavailable(reason: str) -> None:
    """Skip the test (fail it in CI, ``CI=true``) because Dovecot cannot run."""
    if os.environ.get("CI") == "true":
        pytest.fail(f"{HINT} ({reason})", pytrace=False)
    pytest.skip(f"{HINT} ({reason})")


def shared() -> DovecotServer:
    """The session's Dovecot, started on first use and stopped at exit.

    Skips (fails in CI) when Dovecot is missing or cannot start; after one
    failed start the others skip at once."""
    global _shared, _failure
    if _shared is not None:
        if not _shared.running:
            _shared.start()  # a test stopped it and did not start it again
        return _shared
    if _failure is not None:
        unavailable(_failure)
    try:
        server = DovecotServer()
        try:
            server.start()
        except BaseException:
            server.close()
            raise
    except (DovecotUnavailable, OSError) as exc:
        _failure = str(exc)
        unavailable(_failure)
    atexit.register(server.close)
    _shared = server
    return server


# -- the proxy -------------------------------------------------------------------

_LITERAL = re.compile(rb"\{(\d+)\+?\}\r\n\Z")


class ImapProxy:
    """A TCP proxy on a free loopback port in front of ``target_port``.

    ``commands`` lists the name of every command clients sent through it
    (``LOGIN``, ``SELECT``, ``UID SEARCH``...), in order; ``lines`` their
    first lines.
    """

    def __init__(self, target_port: int, host: str = "127.0.0.1"):
        self.host = host
        self.target_port = target_port
        self.port = free_port()
        self.commands: list[str] = []
        #: the first line of each of those commands (credentials left out)
        self.lines: list[str] = []
        self._cut: str | None = None
        self._refuse_after_cut = False
        self._listener: socket.socket | None = None
        self._sockets: set[socket.socket] = set()
        self._lock = threading.Lock()

    # -- control -------------------------------------------------------------------

    def start(self) -> ImapProxy:
        """Accept connections (again) on ``port``."""
        listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind((self.host, self.port))
        listener.listen(16)
        self._listener = listener
        threading.Thread(target=self._accept, args=(listener,), daemon=True).start()
        return self

    def stop(self) -> None:
        """Close every connection and refuse new ones (the server is gone)."""
        listener, self._listener = self._listener, None
        if listener is not None:
            _close(listener)
        self.drop_connections()

    def drop_connections(self) -> None:
        """Cut every open connection, as a server restart or a NAT timeout would."""
        with self._lock:
            sockets, self._sockets = self._sockets, set()
        for sock in sockets:
            _close(sock)

    def cut_after(self, command: str, refuse: bool = False) -> None:
        """Once: when the server has answered ``command`` (e.g. "APPEND"),
        cut the connection instead of passing the answer on; with
        ``refuse``, refuse new connections from then on."""
        self._cut = command.upper()
        self._refuse_after_cut = refuse

    def reset(self) -> None:
        """Forget the commands counted so far."""
        self.commands.clear()
        self.lines.clear()

    def count(self, name: str | None = None) -> int:
        """How many commands (named ``name``) were sent."""
        return len(self.commands) if name is None else self.commands.count(name.upper())

    # -- plumbing ------------------------------------------------------------------

    def _accept(self, listener: socket.socket) -> None:
        while True:
            try:
                client, _ = listener.accept()
            except OSError:
                return
            try:
                server = socket.create_connection((self.host, self.target_port), timeout=5)
                server.settimeout(None)
            except OSError:
                _close(client)
                continue
            with self._lock:
                self._sockets |= {client, server}
            tags: dict[bytes, str] = {}
            threading.Thread(target=self._upstream, args=(client, server, tags), daemon=True).start()
            threading.Thread(target=self._downstream, args=(server, client, tags), daemon=True).start()

    def _upstream(self, client: socket.socket, server: socket.socket, tags: dict[bytes, str]) -> None:
        """Client to server: pass everything on, noting each command."""
        buffer = b""
        literal = 0  # bytes of a literal still to come
        in_command = False
        while True:
            try:
                data = client.recv(65536)
            except OSError:
                break
            if not data:
                break
            buffer += data
            while buffer:
                if literal:
                    taken = min(literal, len(buffer))
                    buffer, literal = buffer[taken:], literal - taken
                    continue
                end = buffer.find(b"\r\n")
                if end < 0:
                    break
                line, buffer = buffer[:end + 2], buffer[end + 2:]
                if not in_command:
                    self._note(line, tags)
                match = _LITERAL.search(line)
                in_command = bool(match)
                literal = int(match[1]) if match else 0
            try:  # noted first: the answer to cut may come back at once
                server.sendall(data)
            except OSError:
                break
        self._close_pair(client, server)

    def _note(self, line: bytes, tags: dict[bytes, str]) -> None:
        words = line.split()
        if len(words) < 2:
            return
        name = words[1].upper().decode("ascii", "replace")
        if name == "UID" and len(words) > 2:
            name += " " + words[2].upper().decode("ascii", "replace")
        tags[words[0]] = name
        self.commands.append(name)
        self.lines.append("LOGIN ***" if name in ("LOGIN", "AUTHENTICATE")
                          else line.rstrip(b"\r\n").decode("utf-8", "replace"))

    def _downstream(self, server: socket.socket, client: socket.socket, tags: dict[bytes, str]) -> None:
        """Server to client: pass every line on, unless it is the answer to
        the command armed with ``cut_after``."""
        buffer = b""
        while True:
            try:
                data = server.recv(65536)
            except OSError:
                break
            if not data:
                break
            buffer += data
            lines = buffer.split(b"\r\n")
            buffer = lines.pop()
            out = []
            for line in lines:
                tag = line.split(b" ", 1)[0]
                if self._cut is not None and tags.get(tag) == self._cut:
                    self._cut = None
                    if self._refuse_after_cut:
                        self.stop()
                    try:
                        client.sendall(b"".join(out))
                    except OSError:
                        pass
                    self._close_pair(client, server)
                    return
                out.append(line + b"\r\n")
            try:
                client.sendall(b"".join(out))
            except OSError:
                break
        self._close_pair(client, server)

    def _close_pair(self, a: socket.socket, b: socket.socket) -> None:
        with self._lock:
            self._sockets -= {a, b}
        _close(a)
        _close(b)


def _group_alive(group: int) -> bool:
    try:
        os.killpg(group, 0)
    except ProcessLookupError:
        return False
    return True


def _close(sock: socket.socket) -> None:
    try:
        sock.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass
    sock.close()
