"""Harness for the CalDAV connector on a real Radicale server.

Each test gets its own Radicale user with an empty calendar "Work" (on Xandikos, one calendar of its own name). Source
events are PUT by the user ``organizer`` (as an organizer's server delivers
an invitation); the user's own edits come from a second ``caldav`` client
logged in as the user (a phone's calendar app), so etags really change on
the server. The connector finds its password through ``password_command``.
"""

from __future__ import annotations

import itertools
import shlex
from datetime import timedelta
from pathlib import Path
from urllib.parse import urljoin

import pytest

from daemon.connector import Context

from .harness import CalendarHarness

_counter = itertools.count(1)
PROPFIND_ETAGS = ('<?xml version="1.0" encoding="utf-8"?><D:propfind xmlns:D="DAV:">'
                  "<D:prop><D:getetag/><D:resourcetype/></D:prop></D:propfind>")


def _context(tmp_path: Path) -> Context:
    state = tmp_path / "state"
    state.mkdir(exist_ok=True)
    return Context(base_dir=tmp_path, state_dir=state,
                   user_addresses=frozenset({"alex@example.org"}))


class RadicaleCalendarHarness(CalendarHarness):
    """``connectors.caldav.CalDAVCalendar`` on a calendar of a Radicale user."""

    name = "radicale"

    @classmethod
    def require(cls) -> None:
        pytest.importorskip("caldav")
        from tests.servers.radicale import Radicale

        Radicale.shared()

    def __init__(self, tmp_path: Path):
        super().__init__(tmp_path)
        from tests.servers.radicale import ORGANIZER

        self.server = self.server_class().shared()
        self.user, self.password = self.server.new_user()
        self.calendar_name = self.name_for("Work")
        self.calendar_url = self.server.make_calendar(self.user, self.calendar_name)
        self.organizer = self.server.client(ORGANIZER if ORGANIZER in self.server.passwords else self.user)
        self.phone = self.server.client(self.user)
        self._made: list = []

    @staticmethod
    def server_class():
        from tests.servers.radicale import Radicale

        return Radicale

    def name_for(self, name: str) -> str:
        """The name of a calendar this test makes (each user has its own)."""
        return name

    def close(self) -> None:
        for calendar in self._made:
            calendar.close()
        self.organizer.close()
        self.phone.close()

    def config(self, **changes) -> dict:
        config = {"url": self.server.url, "username": self.user, "calendar": self.calendar_name,
                  "password_command": f"echo {shlex.quote(self.password)}"}
        config.update(changes)
        return config

    def make(self, **changes):
        from connectors.caldav import CalDAVCalendar

        calendar = CalDAVCalendar("contract", self.config(**changes), _context(self.tmp_path))
        self._made.append(calendar)
        return calendar

    # -- the organizer's side -------------------------------------------------

    def add_source_event(self, ics: bytes) -> str:
        handle = f"event-{next(_counter)}.ics"
        self._put_source(handle, ics)
        return handle

    def change_source_event(self, handle: str, ics: bytes) -> None:
        self._put_source(handle, ics)

    def _put_source(self, handle: str, ics: bytes) -> None:
        response = self.organizer.request(urljoin(self.calendar_url, handle), "PUT", ics,
                                          {"Content-Type": "text/calendar; charset=utf-8"})
        assert response.status in (201, 204), f"PUT {handle}: HTTP {response.status}"

    def remove_source_event(self, handle: str) -> None:
        response = self.organizer.request(urljoin(self.calendar_url, handle), "DELETE")
        assert response.status in (200, 204), f"DELETE {handle}: HTTP {response.status}"

    # -- what is on the server, seen from the user's phone ----------------------

    def _objects(self) -> dict[str, tuple[str, bytes, bool]]:
        """name -> (etag, bytes, is a follow-up) of every object in the
        calendar: a PROPFIND for the names, then a GET of each."""
        from icalendar import Calendar

        response = self.phone.request(self.calendar_url, "PROPFIND", PROPFIND_ETAGS, {"Depth": "1"})
        assert response.status == 207
        names = [href.text.strip().rsplit("/", 1)[1] for href in response.tree.iter("{DAV:}href")
                 if not href.text.strip().endswith("/")]
        out = {}
        for name in sorted(names):
            got = self.phone.request(urljoin(self.calendar_url, name), "GET")
            assert got.status == 200
            data = got.raw.encode("utf-8")
            own = any("X-FOLLOWUP-KEY" in e for e in Calendar.from_ical(data).walk("VEVENT"))
            out[name] = (got.headers["ETag"], data, own)
        return out

    def source_snapshot(self) -> dict[str, bytes]:
        return {name: data for name, (_, data, own) in self._objects().items() if not own}

    def own_count(self) -> int:
        return sum(1 for _, _, own in self._objects().values() if own)

    def _own_with_key(self, key: str):
        from icalendar import Calendar

        for name, (etag, data, own) in self._objects().items():
            if not own:
                continue
            cal = Calendar.from_ical(data)
            for event in cal.walk("VEVENT"):
                if str(event.get("X-FOLLOWUP-KEY", "")) == key:
                    return name, etag, cal, event
        raise AssertionError(f"no follow-up with key {key!r} in {self.calendar_url}")

    def user_edit_own(self, key: str) -> None:
        name, etag, cal, event = self._own_with_key(key)
        for prop in ("DTSTART", "DTEND"):
            if prop in event:
                moved = event.decoded(prop) + timedelta(hours=1)
                del event[prop]
                event.add(prop, moved)
        response = self.phone.request(urljoin(self.calendar_url, name), "PUT", cal.to_ical(),
                                      {"Content-Type": "text/calendar; charset=utf-8",
                                       "If-Match": etag})
        assert response.status in (200, 201, 204), f"PUT {name}: HTTP {response.status}"

    def user_delete_own(self, key: str) -> None:
        name, etag, _, _ = self._own_with_key(key)
        response = self.phone.request(urljoin(self.calendar_url, name), "DELETE", "",
                                      {"If-Match": etag})
        assert response.status in (200, 204), f"DELETE {name}: HTTP {response.status}"


class XandikosCalendarHarness(RadicaleCalendarHarness):
    """The same connector on a second CalDAV server, Xandikos: one principal
    for all tests, so every calendar gets a name of its own."""

    name = "xandikos"

    @classmethod
    def require(cls) -> None:
        pytest.importorskip("caldav")
        from tests.servers.xandikos import Xandikos

        Xandikos.shared()

    @staticmethod
    def server_class():
        from tests.servers.xandikos import Xandikos

        return Xandikos

    def name_for(self, name: str) -> str:
        return self.server.unique_name(name)
