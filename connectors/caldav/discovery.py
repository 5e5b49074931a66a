"""Finding the calendars of a CalDAV account: the principal and its
calendar collections (through the ``caldav`` library, which follows RFC 6764
for a bare domain), the calendar a config names by URL or display name, and
the one follow-ups go to, created when missing. What was found is kept until
a calendar vanishes (``forget``)."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from urllib.parse import unquote, urljoin, urlsplit

from daemon.errors import ConnectorError

from .dav import Server

log = logging.getLogger("followup.caldav")


@dataclass
class Collection:
    """A calendar collection on the server."""

    url: str  # absolute, ending in "/"
    name: str | None = None  # display name, when known

    @property
    def path(self) -> str:
        return urlsplit(self.url).path

    @property
    def label(self) -> str:
        return f"'{self.name}'" if self.name else self.url


class Discovery:
    """The calendars of one account, found once and kept."""

    def __init__(self, name: str, url: str, username: str, server: Server, calendar_ref: str,
                 write_to_ref: str | None):
        self.name, self.url, self.username, self.server = name, url, username, server
        self.calendar_ref, self.write_to_ref = calendar_ref, write_to_ref
        self._principal = None
        self._found: list[Collection] | None = None
        self.source_col: Collection | None = None
        self.target_col: Collection | None = None

    def forget(self) -> None:
        """Drop what discovery found (a calendar vanished or was renamed)."""
        self._principal = None
        self._found = None
        self.source_col = None
        self.target_col = None

    def calendars(self) -> list[Collection]:
        """The account's calendars, asked for once and then kept."""
        if self._found is None:
            client = self.server.client()
            with self.server.errors("find the calendars of", self.url):
                principal = client.principal()
                found = []
                for cal in client.get_calendars(principal):
                    url = as_folder(str(cal.url))
                    found.append(Collection(url, cal.get_display_name() or last_segment(url)))
            self._principal = principal
            self._found = found
        return self._found

    def find(self, value: str, missing_ok: bool) -> Collection | None:
        """The calendar ``value`` names (URL or display name)."""
        if is_url(value):
            return Collection(as_folder(urljoin(self.base_url(), value)))
        calendars = self.calendars()
        tests = (lambda c: c.name == value,
                 lambda c: (c.name or "").casefold() == value.casefold(),
                 lambda c: unquote(last_segment(c.url)) == value)
        for test in tests:
            hits = [c for c in calendars if test(c)]
            if len(hits) == 1:
                return hits[0]
            if hits:
                urls = ", ".join(c.url for c in hits)
                raise ConnectorError(f"{self.name}: several calendars are named {value!r} "
                                     f"({urls}); give the URL of the one you mean instead")
        if missing_ok:
            return None
        raise ConnectorError(self._not_found(value, calendars))

    def _not_found(self, value: str, calendars: list[Collection] | None,
                   url: str | None = None) -> str:
        """The message for a calendar that is not there, listing those that are."""
        account = f"user {self.username!r} at {self.url}"
        if url is None:
            head = f"{self.name}: no calendar {value!r} for {account}"
        else:
            head = f"{self.name}: the calendar {value!r} ({url}) of {account} does not exist"
        if calendars is None:
            return head
        if not calendars:
            return f"{head}; the account has no calendars"
        names = ", ".join(f"{c.label} ({c.url})" for c in calendars)
        return f"{head}; the calendars there are: {names}"

    def missing(self, col: Collection, value: str) -> ConnectorError:
        """The error for a calendar that answered 404; discovery is redone
        to list the calendars that do exist."""
        self.forget()
        try:
            calendars = self.calendars()
        except ConnectorError:
            calendars = None
        return ConnectorError(self._not_found(value, calendars, col.url))

    def source(self) -> Collection:
        if self.source_col is None:
            self.source_col = self.find(self.calendar_ref, missing_ok=False)
        return self.source_col

    def target(self, create: bool) -> Collection | None:
        """The calendar follow-ups go to; None when it does not exist yet and
        ``create`` is false."""
        if self.target_col is None:
            if self.write_to_ref is None:
                col = self.source()
            else:
                col = self.find(self.write_to_ref, missing_ok=True)
                if col is None:
                    if not create:
                        return None
                    col = self._make_calendar(self.write_to_ref)
            self.target_col = col
        return self.target_col

    def _make_calendar(self, name: str) -> Collection:
        self.calendars()
        with self.server.errors("create the calendar", name):
            made = self._principal.make_calendar(
                name=name, supported_calendar_component_set=["VEVENT"])
        col = Collection(as_folder(str(made.url)), name)
        self._found = None  # the list changed
        log.info("%s: created the calendar %r for follow-ups", self.name, name)
        return col

    def base_url(self) -> str:
        """The URL relative calendar paths are read against: the configured
        one, or the one a bare domain led to (RFC 6764)."""
        return self.url if "://" in self.url else str(self.server.client().url)

    def known_hosts(self) -> set[str]:
        urls = [self.url, *(c.url for c in (self.source_col, self.target_col,
                                            *(self._found or ())) if c)]
        if self.server.connected:
            urls.append(str(self.server.client().url))
        return {urlsplit(url).netloc for url in urls} - {""}


def is_url(value: str) -> bool:
    return value.startswith(("http://", "https://", "/"))


def as_folder(url: str) -> str:
    return url if url.endswith("/") else url + "/"


def last_segment(url: str) -> str:
    return urlsplit(url).path.rstrip("/").rpartition("/")[2]
