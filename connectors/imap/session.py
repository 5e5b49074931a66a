"""One IMAP connection per mailbox, kept open and reused.

The connection is opened on first use and kept for the life of the
connector. When the server has dropped it (an idle timeout, a restart),
the operation is run once more on a new connection. Every failure leaves
this module as one of the errors in ``daemon.errors``.
"""

from __future__ import annotations

import imaplib
import logging
import re
import socket
import ssl
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, TypeVar

if TYPE_CHECKING:
    from imapclient import IMAPClient

from daemon.errors import AuthError, ConnectorError, FollowupError, TransientError

log = logging.getLogger("followup")

T = TypeVar("T")

#: seconds to wait for the server to connect or answer
TIMEOUT = 60.0

# Response codes (RFC 5530) after which trying again later can succeed.
_TRANSIENT_CODES = {"UNAVAILABLE", "INUSE", "LIMIT", "SERVERBUG"}
# TLS failures that mean the port does not speak TLS: a setting to fix.
_TLS_SETUP_REASONS = {"WRONG_VERSION_NUMBER", "UNSUPPORTED_PROTOCOL", "TLSV1_ALERT_PROTOCOL_VERSION",
                      "RECORD_LAYER_FAILURE", "HTTP_REQUEST"}


def server_text(exc: BaseException) -> str:
    """The server's words in an imaplib/imapclient error, without the
    ``b'...'`` wrapper the libraries sometimes leave around them."""
    text = str(exc).strip()
    match = re.fullmatch(r"""(.*?)b(['"])(.*)\2""", text, re.S)
    if match:
        text = match[1] + match[3]
    return " ".join(text.split())[:300]


def response_code(text: str) -> str | None:
    """The response code in ``text`` (``[AUTHENTICATIONFAILED] ...``), upper case."""
    match = re.search(r"\[([A-Za-z-]+)", text)
    return match[1].upper() if match else None


def describe(exc: BaseException) -> str:
    """A short reason for a lost or refused connection."""
    if isinstance(exc, (socket.timeout, TimeoutError)):
        return f"no answer within {TIMEOUT:g} seconds"
    if isinstance(exc, ConnectionRefusedError):
        return "connection refused"
    if isinstance(exc, socket.gaierror):
        return f"cannot look up the host name ({exc.strerror or exc})"
    if isinstance(exc, imaplib.IMAP4.abort):
        return f"the server closed the connection ({server_text(exc) or 'no reason given'})"
    if isinstance(exc, OSError) and exc.strerror:
        return exc.strerror[0].lower() + exc.strerror[1:]
    return server_text(exc) or type(exc).__name__


class Session:
    """The connection of one mailbox account.

    ``password`` is called each time a connection is opened (it may run a
    command or read the keyring); ``auth_hint`` ends the message of a
    refused login (how to fix the password).
    """

    def __init__(self, account: str, host: str, port: int, tls: str, username: str,
                 password: Callable[[], str], auth_hint: str):
        self.account = account
        self.host = host
        self.port = port
        self.tls = tls
        self.username = username
        self._password = password
        self._auth_hint = auth_hint
        self._client: IMAPClient | None = None
        #: (folder, read-only) currently selected, and that folder's UIDVALIDITY
        self._selected: tuple[str, bool] | None = None
        self._uidvalidity: int | None = None

    @property
    def where(self) -> str:
        return f"{self.host}:{self.port}"

    # -- running operations ----------------------------------------------------

    def run(self, doing: str, operation: Callable[[IMAPClient], T]) -> T:
        """Run ``operation`` on the logged-in connection and return its result.

        ``doing`` names the operation in messages ("creating a draft"). An
        operation that loses an established connection is run once more
        on a new one, so operations must be safe to repeat from the start.
        """
        for attempt in (1, 2):
            established = False  # logged in before the failure: worth one more try
            try:
                client = self._client or self._connect()
                established = True
                return operation(client)
            except FollowupError:
                raise
            except ssl.SSLCertVerificationError as exc:
                self.drop()
                raise ConnectorError(
                    f"{self.account}: the certificate of {self.host} could not be verified "
                    f"({exc.verify_message or exc.reason}); nothing was done") from None
            except ssl.SSLError as exc:
                self.drop()
                if not established and exc.reason in _TLS_SETUP_REASONS:
                    raise ConnectorError(
                        f"{self.account}: {self.where} does not speak TLS as configured "
                        f"({exc.reason}); check 'port' and 'tls'") from None
                if established and attempt == 1:
                    continue
                raise TransientError(f"{self.account}: {doing}: {self.where}: TLS failed "
                                     f"({exc.reason or exc})") from None
            except (OSError, imaplib.IMAP4.abort) as exc:
                self.drop()
                if established and attempt == 1:
                    log.info("%s: connection to %s lost (%s); reconnecting",
                             self.account, self.where, describe(exc))
                    continue
                raise TransientError(
                    f"{self.account}: {doing}: {self.where} unreachable: {describe(exc)}") from None
            except imaplib.IMAP4.error as exc:
                raise self.failure(doing, exc) from None
            except Exception as exc:  # noqa: BLE001 - a reply the library could not parse
                self.drop()
                log.debug("%s: unexpected error while %s", self.account, doing, exc_info=True)
                raise ConnectorError(
                    f"{self.account}: {doing}: unexpected answer from {self.where} "
                    f"({type(exc).__name__}: {exc})") from None
        raise AssertionError("unreachable")  # pragma: no cover

    def failure(self, doing: str, exc: imaplib.IMAP4.error) -> ConnectorError:
        """The typed error for a ``NO`` or ``BAD`` answer to a command."""
        text = server_text(exc)
        if response_code(text) in _TRANSIENT_CODES:
            return TransientError(f"{self.account}: {doing}: {self.where} is busy: {text}")
        return ConnectorError(f"{self.account}: {doing}: {self.where} answered: {text}")

    # -- the connection --------------------------------------------------------

    def _connect(self) -> IMAPClient:
        from imapclient import IMAPClient  # here: checking a config must not load it

        password = self._password()  # before connecting: a missing password needs no network
        context = ssl.create_default_context()  # verifies certificates and host names
        try:
            client = IMAPClient(self.host, port=self.port, ssl=self.tls == "ssl",
                                ssl_context=context if self.tls == "ssl" else None,
                                timeout=TIMEOUT)
        except imaplib.IMAP4.abort:
            raise
        except imaplib.IMAP4.error as exc:  # greeted with BYE: too many connections, maintenance
            raise TransientError(
                f"{self.account}: {self.where} turned the connection away: {server_text(exc)}") from None
        try:
            if self.tls == "starttls":
                if not client.has_capability("STARTTLS"):
                    raise ConnectorError(
                        f"{self.account}: {self.where} does not offer STARTTLS; use tls = \"ssl\" "
                        "(usually on port 993)")
                client.starttls(context)
            if client.has_capability("LOGINDISABLED"):
                raise ConnectorError(
                    f"{self.account}: {self.where} refuses passwords on an unencrypted "
                    "connection; use tls = \"ssl\" or \"starttls\"")
            client.normalise_times = False  # aware datetimes for INTERNALDATE
            self._login(client, password)
        except BaseException:
            _shutdown(client)
            raise
        log.debug("%s: logged in to %s as %s", self.account, self.where, self.username)
        self._client = client
        self._selected = None
        self._uidvalidity = None
        return client

    def _login(self, client: IMAPClient, password: str) -> None:
        from imapclient.exceptions import LoginError

        try:
            if password.isascii():
                client.login(self.username, password)
            elif client.has_capability("AUTH=PLAIN"):
                client.plain_login(self.username, password)
            else:
                raise AuthError(
                    f"{self.account}: the password has characters other than ASCII, which "
                    f"{self.host} cannot take (it offers no AUTH=PLAIN)")
        except LoginError as exc:
            text = server_text(exc)
            if response_code(text) in _TRANSIENT_CODES:
                raise TransientError(
                    f"{self.account}: {self.host} cannot log in {self.username!r} right now: {text}"
                ) from None
            raise AuthError(
                f"{self.account}: {self.host} refused the login of {self.username!r} "
                f"({text or 'no reason given'}); {self._auth_hint}") from None

    def drop(self) -> None:
        """Forget the connection without a word to the server (it is gone)."""
        client, self._client = self._client, None
        self._selected = None
        self._uidvalidity = None
        if client is not None:
            _shutdown(client)

    def close(self) -> None:
        """Log out and close the connection, if one is open."""
        client, self._client = self._client, None
        self._selected = None
        if client is None:
            return
        try:
            client.logout()
        except Exception:  # noqa: BLE001 - already gone: nothing left to close
            _shutdown(client)

    # -- folders ---------------------------------------------------------------

    def select(self, client: IMAPClient, folder: str, readonly: bool = False,
               fresh: bool = False) -> FolderState:
        """Make ``folder`` the selected folder and return its state.

        When it is selected already (and ``fresh`` is false) only a NOOP is
        sent, which makes the server show what changed since: a SEARCH
        alone would not see new messages. ``readonly`` selects with
        EXAMINE, so nothing can change the folder's messages or flags.
        ``fresh`` always selects again, for an exact state.
        """
        if not fresh and self._selected is not None and self._selected[0] == folder and (
                readonly or not self._selected[1]):
            client.noop()
            return FolderState(self._uidvalidity, None, None)
        self._selected = None
        response = client.select_folder(folder, readonly=readonly)
        self._selected = (folder, readonly)
        self._uidvalidity = _number(response.get(b"UIDVALIDITY"))
        return FolderState(self._uidvalidity, _number(response.get(b"UIDNEXT")),
                           _number(response.get(b"EXISTS")))

    def selected(self) -> str | None:
        """The folder currently selected, or None."""
        return self._selected[0] if self._selected else None


@dataclass(frozen=True)
class FolderState:
    """What SELECT/EXAMINE tells of a folder (None: not known). Equal
    states mean the same messages: a new message raises UIDNEXT, a removed
    one lowers EXISTS."""

    uidvalidity: int | None
    uidnext: int | None
    exists: int | None

    @property
    def complete(self) -> bool:
        return None not in (self.uidvalidity, self.uidnext, self.exists)


def _number(value) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _shutdown(client: IMAPClient) -> None:
    try:
        client.shutdown()
    except Exception:  # noqa: BLE001 - closing a broken socket may fail too
        pass
