"""Calendars and mailboxes on every kind of backend, with a request counter.

Each backend plays its server (the contract-test harnesses in
``tests/contract`` put events and mail there as other people would) and
counts, on the server's side, what the connector asked for since the last
``reset()``: HTTP requests at a counting proxy (CalDAV), IMAP commands at a
proxy (IMAP), the request logs of the fake Google and Graph servers, and
file opens, directory listings and parses for the local folders.

``start()`` raises ``Unavailable`` with a one-line reason when the server
cannot run here.
"""

from __future__ import annotations

from collections import Counter
from datetime import datetime
from pathlib import Path

from . import fileaudit


class Unavailable(Exception):
    """The backend cannot run on this machine."""


def _require(harness_cls) -> None:
    """``harness_cls.require()``, its pytest skip turned into ``Unavailable``."""
    try:
        harness_cls.require()
    except Exception as exc:  # noqa: BLE001 - any reason it cannot start
        raise Unavailable(str(exc).strip().splitlines()[0] if str(exc).strip() else repr(exc)) from None
    except BaseException as exc:  # pytest.skip / pytest.fail raise outcome exceptions
        if isinstance(exc, (KeyboardInterrupt, SystemExit)):
            raise
        raise Unavailable(str(getattr(exc, "msg", exc)).strip().splitlines()[0]) from None


def _detail(counter: Counter) -> str:
    return ", ".join(f"{name} x{n}" for name, n in sorted(counter.items())) or "none"


class Backend:
    """Common part: a label, start/close, a counter."""

    label = "?"
    unit = "requests"

    def start(self, root: Path) -> None:
        """Set up on a fresh world folder ``root``."""

    def connector(self):
        """The connector to use in place of the config's local one, or
        None to keep that one."""

    def reset(self) -> None:
        raise NotImplementedError

    def counted(self) -> Counter:
        """What was asked for since ``reset()``, by kind."""
        raise NotImplementedError

    def value(self, counter: Counter) -> int:
        """The figure's number in a counter: every request."""
        return sum(counter.values())

    def close(self) -> None:
        pass

    detail = staticmethod(_detail)


# -- calendars ---------------------------------------------------------------------


class CalendarBackend(Backend):
    def add(self, ics: bytes) -> str:
        raise NotImplementedError

    def change(self, handle: str, ics: bytes) -> None:
        raise NotImplementedError


class LocalCalendarBackend(CalendarBackend):
    """The config's own ``local`` vdir; counts parses, opens and listings."""

    label = "local"
    unit = "parses"

    def start(self, root: Path) -> None:
        import connectors.local.calendar as module

        self.folder = root / "calendar"
        self.module = module
        self.parse = module.parse_ics
        self.files = fileaudit.watch(self.folder)
        self.parses = 0

        def counting(*args, **kwargs):
            self.parses += 1
            return self.parse(*args, **kwargs)

        module.parse_ics = counting
        self.n = 0

    def add(self, ics: bytes) -> str:
        self.n += 1
        name = f"event-{self.n}.ics"
        (self.folder / name).write_bytes(ics)
        return name

    def change(self, handle: str, ics: bytes) -> None:
        from tests.contract.local_harness import _write_changed

        _write_changed(self.folder / handle, ics)

    def reset(self) -> None:
        self.files.clear()
        self.parses = 0

    def counted(self) -> Counter:
        return Counter({**self.files, "parse": self.parses})

    def value(self, counter: Counter) -> int:
        return counter["parse"]

    def close(self) -> None:
        self.module.parse_ics = self.parse
        fileaudit.unwatch(self.files)


class CalDAVBackend(CalendarBackend):
    """A calendar on the shared Radicale, read through a ``CountingProxy``."""

    label = "CalDAV (Radicale)"

    def start(self, root: Path) -> None:
        from tests.contract.caldav_harness import RadicaleCalendarHarness
        from tests.servers.radicale import CountingProxy

        _require(RadicaleCalendarHarness)
        (root / "radicale").mkdir(exist_ok=True)
        self.harness = RadicaleCalendarHarness(root / "radicale")
        self.proxy = CountingProxy(self.harness.server.port).start()

    def connector(self):
        from connectors.caldav import CalDAVCalendar
        from tests.contract.caldav_harness import _context

        return CalDAVCalendar("cal", self.harness.config(url=self.proxy.url),
                              _context(self.harness.tmp_path))

    def add(self, ics: bytes) -> str:
        return self.harness.add_source_event(ics)

    def change(self, handle: str, ics: bytes) -> None:
        self.harness.change_source_event(handle, ics)

    def reset(self) -> None:
        self.proxy.reset()

    def counted(self) -> Counter:
        with self.proxy._lock:
            return Counter(method for method, _ in self.proxy.requests)

    def close(self) -> None:
        self.proxy.stop()
        self.harness.close()


class _OnHarness:
    """A backend played by a contract-test harness (``harness_class`` names
    it as "module:Class", ``folder`` the subfolder it gets): the
    harness's connector, events and mail; what was asked for is read from
    the fake server's request log."""

    harness_class: str
    folder = ""

    def start(self, root: Path) -> None:
        import importlib

        module, _, name = self.harness_class.partition(":")
        cls = getattr(importlib.import_module(module), name)
        _require(cls)
        where = root / self.folder if self.folder else root
        where.mkdir(exist_ok=True)
        self.harness = cls(where)
        self.mark = 0

    def connector(self):
        return self.harness.make()

    def add(self, ics: bytes) -> str:
        return self.harness.add_source_event(ics)

    def change(self, handle: str, ics: bytes) -> None:
        self.harness.change_source_event(handle, ics)

    def deliver(self, raw: bytes, when: datetime) -> None:
        self.harness.deliver(raw, when)

    def close(self) -> None:
        self.harness.close()

    def _log(self) -> list:
        raise NotImplementedError

    def _kind(self, entry) -> str:
        raise NotImplementedError

    def reset(self) -> None:
        self.mark = len(self._log())

    def counted(self) -> Counter:
        return Counter(self._kind(entry) for entry in self._log()[self.mark:])


class _OnFakeGoogle(_OnHarness):
    def _log(self) -> list:
        return self.harness.fake.log

    def _kind(self, entry) -> str:
        return entry[0]  # the API method


class _OnFakeGraph(_OnHarness):
    def _log(self) -> list:
        return self.harness.fake().requests(self.harness.box)

    def _kind(self, entry) -> str:
        return f"{entry.method} {_graph_path(entry.path)}"


class GoogleCalendarBackend(_OnFakeGoogle, CalendarBackend):
    """Google Calendar on the fake server (``tests/fakes/google.py``)."""

    label = "Google (fake)"
    harness_class = "tests.contract.google_harness:GoogleCalendarHarness"
    folder = "google"


class OutlookCalendarBackend(_OnFakeGraph, CalendarBackend):
    """An Outlook calendar on the fake Graph (``tests/fakes/graph.py``)."""

    label = "Outlook (fake Graph)"
    harness_class = "tests.contract.outlook_harness:GraphCalendarHarness"


def _graph_path(path: str) -> str:
    """A Graph path with its ids left out, e.g. ``me/calendars/{id}/events``."""
    parts = path.split("/")
    return "/".join("{id}" if len(p) > 20 or p.startswith(("cal-", "fld-", "msg-", "evt-")) else p
                    for p in parts)


CALENDARS = [LocalCalendarBackend, CalDAVBackend, GoogleCalendarBackend, OutlookCalendarBackend]


# -- mailboxes ---------------------------------------------------------------------


class MailboxBackend(Backend):
    def deliver(self, raw: bytes, when: datetime) -> None:
        raise NotImplementedError


class MaildirBackend(MailboxBackend):
    """The config's own ``maildir``; counts opens and listings below Mail/."""

    label = "Maildir"
    unit = "file opens"

    def start(self, root: Path) -> None:
        self.root = root / "Mail"
        self.files = fileaudit.watch(self.root)
        self.n = 0

    def deliver(self, raw: bytes, when: datetime) -> None:
        import os

        self.n += 1
        path = self.root / "INBOX" / "new" / f"{int(when.timestamp())}.M{self.n}P1.bench"
        path.write_bytes(raw)
        os.utime(path, (when.timestamp(), when.timestamp()))

    def reset(self) -> None:
        self.files.clear()

    def counted(self) -> Counter:
        return Counter(self.files)

    def value(self, counter: Counter) -> int:
        return counter["open"]

    def close(self) -> None:
        fileaudit.unwatch(self.files)


class ImapBackend(MailboxBackend):
    """A user on the shared Dovecot, reached through an ``ImapProxy``."""

    label = "IMAP (Dovecot)"
    unit = "commands"

    def start(self, root: Path) -> None:
        from tests.contract.imap_harness import DovecotMailboxHarness
        from tests.servers.dovecot import ImapProxy

        _require(DovecotMailboxHarness)
        self.harness = DovecotMailboxHarness(root)
        self.proxy = ImapProxy(self.harness.server.port).start()

    def connector(self):
        from connectors.imap import ImapMailbox
        from daemon.connector import Context

        state = self.harness.tmp_path / "imap-state"
        state.mkdir(exist_ok=True)
        context = Context(base_dir=self.harness.tmp_path, state_dir=state,
                          user_addresses=frozenset({"alex@example.org"}))
        return ImapMailbox("mail", {**self.harness.config(), "port": self.proxy.port}, context)

    def deliver(self, raw: bytes, when: datetime) -> None:
        self.harness.deliver(raw, when)

    def reset(self) -> None:
        self.proxy.reset()

    def counted(self) -> Counter:
        return Counter(self.proxy.commands)

    def close(self) -> None:
        self.proxy.stop()
        self.harness.close()


class GmailBackend(_OnFakeGoogle, MailboxBackend):
    """Gmail on the fake Google server."""

    label = "Gmail (fake)"
    harness_class = "tests.contract.google_harness:GmailHarness"
    folder = "gmail"


class OutlookMailBackend(_OnFakeGraph, MailboxBackend):
    """An Outlook mailbox on the fake Graph."""

    label = "Outlook mail (fake Graph)"
    harness_class = "tests.contract.outlook_harness:GraphMailHarness"


MAILBOXES = [MaildirBackend, ImapBackend, GmailBackend, OutlookMailBackend]
