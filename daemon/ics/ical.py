"""Reading iCalendar data into ``CalendarEvent`` values, whatever its state.

Real calendar files are often damaged: several VCALENDARs in one file, lone
CR line endings, events without DTSTART, broken properties and RRULEs,
Outlook time zone names, Google's X-WR-TIMEZONE. ``parse_ics`` never raises:
what it cannot read becomes a ``Problem`` and everything else is returned.

The happy path is one parse and one ``recurring_ical_events`` query for the
whole file. Only when that fails does the reader fall back to reading the
file piece by piece (each VEVENT on its own, with the file's VTIMEZONEs) and
expanding each UID on its own, so one bad event costs only itself.

Decisions the rest of the daemon relies on:

- ``start``, ``end`` and ``recurrence_id`` are aware datetimes in UTC, so
  that comparing and subtracting them is exact (Python compares and subtracts
  two datetimes of the same ``ZoneInfo`` by wall clock, which goes wrong in
  the repeated hour of a DST change); use ``.astimezone(tz)`` for local
  dates and times. Floating times and times with an unknown TZID are read in
  ``tz`` (the latter with a warning). All-day events span the local
  midnights (in ``tz``) of their first day and of the day after their last.
- Hour/minute/second lengths are exact: an occurrence ends at its start in
  UTC plus the exact length of its component (DTEND - DTSTART measured in
  UTC, or the DURATION's time part). Day and week parts of a DURATION are
  calendar days, as RFC 5545 says.
- An event whose end lies before its start keeps its start and is given the
  default length: one hour, or one day when it is all-day (with a warning).
  A timed event without DTEND and DURATION lasts zero seconds (RFC 5545), so
  ``start == end`` is possible.
- STATUS:CANCELLED is reported as status "CANCELLED", for single events and
  for overridden instances of a series alike; EXDATEs simply remove the
  instance.
- Components carrying ``X-FOLLOWUP-KEY`` are the daemon's own and are left
  out.
"""

from __future__ import annotations

import hashlib
import re
import warnings
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, timezone, tzinfo
from urllib.parse import unquote

import icalendar
import recurring_ical_events
import x_wr_timezone
from icalendar.timezone import tzp

from daemon.ics.icalsplit import parse_event_block, split, uid_in
from daemon.ics.recurrence import Limits
from daemon.model import Attendee, CalendarEvent, Problem

UTC = timezone.utc
FOLLOWUP_KEY = "X-FOLLOWUP-KEY"

#: length given to an event whose end cannot be used (end before start)
DEFAULT_LENGTH = timedelta(hours=1)
#: extra span queried around the window, so that floating times and exact
#: lengths (which may differ from the library's wall-clock ones) never drop an
#: occurrence at the edges; the precise overlap test is done afterwards
_MARGIN = timedelta(days=1)

_STATUSES = {"CONFIRMED": "CONFIRMED", "TENTATIVE": "TENTATIVE",
             "CANCELLED": "CANCELLED", "CANCELED": "CANCELLED"}
_BEGIN_VEVENT = re.compile(r"^BEGIN:VEVENT[ \t\r]*$", re.MULTILINE | re.IGNORECASE)
_LOOKS_LIKE_ICAL = re.compile(r"^BEGIN:V", re.MULTILINE | re.IGNORECASE)
_TEXT_ESCAPE = re.compile(r"\\([\\,;:nN])")
_EMAIL = re.compile(r"^[^@\s<>\"',;:]+@[^@\s<>\"',;:]+$")


def parse_ics(data: bytes, source: str, start: datetime, end: datetime,
              tz: tzinfo) -> tuple[list[CalendarEvent], list[Problem]]:
    """Read every event occurrence in ``data`` that overlaps [start, end).

    ``start`` and ``end`` are aware datetimes, ``tz`` the user's time zone
    (floating times are placed in it), ``source`` names the data in events
    and problems. Returns the occurrences sorted by start and the problems
    found: an unreadable event is one ``Problem`` (severity "error"); an
    event read with a guess is returned and also reported as a "warning".
    Never raises for bad data; a naive ``start`` or ``end`` is a programming
    error and raises ``ValueError``.
    """
    if start.utcoffset() is None or end.utcoffset() is None:
        raise ValueError("parse_ics needs an aware start and end")
    reader = _EventReader(source, start, end, tz)
    with warnings.catch_warnings():
        # icalendar warns about guessed time zones; the guesses are fine
        warnings.simplefilter("ignore")
        try:
            reader.read(data)
        except Exception as exc:  # last line of defence: report, keep what was read
            reader.problems.append(Problem(source, f"could not be read: {_reason(exc)}"))
    reader.events.sort(key=lambda e: (e.start, e.uid))
    return reader.events, reader.problems


def own_key(component) -> str | None:
    """The follow-up key (``X-FOLLOWUP-KEY``) of a component, or None when it
    is not one of the daemon's own follow-ups."""
    value = component.get(FOLLOWUP_KEY)
    if isinstance(value, list):
        value = value[0] if value else None
    if value is None:
        return None
    if isinstance(value, icalendar.vText):
        text = str(value)
    else:  # written without VALUE=TEXT: the raw value is still escaped
        text = _TEXT_ESCAPE.sub(lambda m: "\n" if m.group(1) in "nN" else m.group(1),
                                str(value))
    text = text.strip()
    return text or None


# -- reading ------------------------------------------------------------------


@dataclass
class _Series:
    """All components of one UID, and what the checks found about them."""

    uid: str
    title: str
    components: list = field(default_factory=list)
    master: object = None  # the component with RRULE/RDATE or without RECURRENCE-ID
    overrides: dict = field(default_factory=dict)  # recurrence key -> component
    notes: list[str] = field(default_factory=list)  # warning texts
    failed: bool = False
    made_up: bool = False  # the UID was made up here: problems show none

    @property
    def shown_uid(self) -> str | None:
        return None if self.made_up else self.uid

    @property
    def recurring(self) -> bool:
        if self.overrides:
            return True
        return self.master is not None and (
            "RRULE" in self.master or "RDATE" in self.master)


class _EventReader:
    """One ``parse_ics`` call: collects events and problems."""

    def __init__(self, source: str, start: datetime, end: datetime, tz: tzinfo):
        self.source = source
        self.start = start
        self.end = end
        self.tz = tz
        self.tz_name = getattr(tz, "key", None) or str(tz)
        self.events: list[CalendarEvent] = []
        self.problems: list[Problem] = []
        self._seen: set = set()  # (uid, recurrence_id, start) already returned
        self._problem_uids: set = set()  # UIDs already reported as unreadable
        self._about: dict[int, tuple] = {}  # id(component) -> see _facts
        self.limits = Limits(start - _MARGIN, end + _MARGIN)

    # -- file level -----------------------------------------------------------

    def read(self, data: bytes) -> None:
        text = self._decode(data)
        if text is None:
            return
        if not _LOOKS_LIKE_ICAL.search(text):
            self.problems.append(Problem(
                self.source, "is not iCalendar data (no BEGIN:VCALENDAR line)"))
            return
        if "\r" in text and text.count("\r") - text.count("\r\n") > text.count("\n"):
            # mostly lone CR line endings (old Mac files): make every line end in LF
            text = text.replace("\r\n", "\n").replace("\r", "\n")
        calendars = self._parse_whole(text)
        if isinstance(calendars, str):
            self.problems.append(Problem(
                self.source, f"is damaged ({calendars}); the events in it were read one by one",
                severity="warning"))
            calendars = self._parse_pieces(text)
        for calendar in calendars:
            self._read_calendar(calendar)

    def _decode(self, data: bytes) -> str | None:
        if isinstance(data, str):
            return data
        try:
            return bytes(data).decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            self.problems.append(Problem(
                self.source, f"is not UTF-8 text (byte {exc.start}); the file was skipped"))
            return None

    def _parse_whole(self, text: str) -> list | str:
        """The whole file in one go, or the reason why it needs the careful way."""
        try:
            parsed = icalendar.Calendar.from_ical(text, multiple=True)
        except Exception as exc:
            return _reason(exc)
        calendars, loose, found = [], [], 0
        for component in parsed:
            if component.name == "VCALENDAR":
                calendars.append(component)
                found += len(component.walk("VEVENT"))
            else:  # events outside any VCALENDAR, even inside other components
                events = component.walk("VEVENT")
                loose.extend(events)
                found += len(events)
        if found != len(_BEGIN_VEVENT.findall(text)):
            # an event got lost (e.g. a VCALENDAR that never ends): go piecewise
            return "its BEGIN and END lines do not match"
        if loose:
            calendars.append(_calendar_of(loose))
        return calendars

    def _parse_pieces(self, text: str) -> list:
        """Split the text into VCALENDARs, VTIMEZONEs and VEVENTs by hand and
        parse each piece on its own; broken pieces become problems."""
        calendars = []
        for piece in split(text):
            for block in piece.timezones:
                try:  # parsing a VTIMEZONE registers it for the events below
                    icalendar.Timezone.from_ical("\n".join(block))
                except Exception:
                    pass  # events using it get an "unknown time zone" warning
            events = []
            for block, complete in piece.events:
                uid = uid_in(block)
                if not complete:
                    self._fail(uid, f"{_named(uid)} is cut off (END:VEVENT is missing)")
                    continue
                component = parse_event_block(block)
                if isinstance(component, Exception):
                    self._fail(uid, f"{_named(uid)} cannot be read: {_reason(component)}")
                    continue
                events.append(component)
            calendar = _calendar_of(events)
            if piece.x_wr_timezone:
                calendar.add("X-WR-TIMEZONE", piece.x_wr_timezone)
            calendars.append(calendar)
        return calendars

    # -- calendar level -------------------------------------------------------

    def _read_calendar(self, calendar) -> None:
        calendar = self._standardize(calendar)
        series: dict[str, _Series] = {}
        for component in calendar.walk("VEVENT"):
            try:
                self._check(component, series)
            except Exception as exc:
                uid = _plain(component.get("UID"))
                self._fail(uid or None, f"{_named(uid)} cannot be read: {_reason(exc)}")
        q_start = (self.start - _MARGIN).astimezone(self.tz)
        q_end = (self.end + _MARGIN).astimezone(self.tz)
        for one in series.values():
            if not one.failed and one.master is not None:
                why = self.limits.check(one.master)
                if why:
                    self._fail_series(one, f"{_event_name(one)} {why}")
        usable = [c for s in series.values() if not s.failed for c in s.components]
        if not usable:
            return
        try:
            occurrences = recurring_ical_events.of(_calendar_of(usable)).between(q_start, q_end)
        except Exception:
            # one series spoils the query: expand each UID on its own
            occurrences = []
            for one in series.values():
                if one.failed:
                    continue
                try:
                    occurrences.extend(recurring_ical_events.of(
                        _calendar_of(one.components)).between(q_start, q_end))
                except Exception as exc:
                    self._fail(one.uid, f"{_event_name(one)} cannot be expanded: {_reason(exc)}",
                               one.shown_uid)
        for occurrence in occurrences:
            uid = _plain(occurrence.get("UID"))
            one = series.get(uid)
            if one is None or uid in self._problem_uids:
                continue
            try:
                event = self._convert(occurrence, one)
            except Exception as exc:
                self._fail(uid, f"{_event_name(one)} cannot be read: {_reason(exc)}",
                           one.shown_uid)
                continue
            if event is not None:
                self._keep(event)

    def _standardize(self, calendar):
        """Apply X-WR-TIMEZONE (Google exports) the way RFC 5545 would say it."""
        value = calendar.get("X-WR-TIMEZONE")
        if isinstance(value, list):
            value = value[0] if value else None
        name = str(value).strip() if value is not None else ""
        if not name:
            return calendar
        zone = _zone(name)
        if zone is None:
            self.problems.append(Problem(
                self.source, f'unknown calendar time zone X-WR-TIMEZONE "{name}" was ignored; '
                f"floating times are read as {self.tz_name}", severity="warning"))
            return calendar
        return x_wr_timezone.to_standard(calendar, timezone=zone)

    # -- component level ------------------------------------------------------

    def _check(self, component, series: dict[str, _Series]) -> None:
        """Check one VEVENT, repair what can be guessed, file it by UID."""
        if own_key(component) is not None:
            return
        title = _text(component, "SUMMARY")
        uid = _plain(component.get("UID"))
        made_up = not uid
        if made_up:
            uid = self._made_up_uid(component, title)
            component["UID"] = uid
        one = series.get(uid)
        if one is None:
            one = series[uid] = _Series(uid, title, made_up=made_up)
        if one.failed:
            return
        name = f'event "{title}"' if title else "event without a title"

        for prop in ("DTSTART", "DTEND", "DURATION", "RECURRENCE-ID"):
            if isinstance(component.get(prop), list):
                component[prop] = component[prop][0]
                self._note(one, f"{name} has several {prop} values; the first one is used")

        start_prop = component.get("DTSTART")
        if start_prop is None:
            return self._fail_series(one, f"{name} has no start time (DTSTART is missing)")
        try:
            start = start_prop.dt
        except Exception:
            return self._fail_series(
                one, f"{name} has an unreadable start time (DTSTART:{start_prop})")
        if not isinstance(start, date):
            return self._fail_series(one, f"{name} has a start time without a date "
                                          f"(DTSTART:{start_prop.to_ical().decode()})")
        self._check_tzid(one, name, start_prop)

        broken = []
        for prop, kind in (("DTEND", date), ("DURATION", timedelta)):
            value = component.get(prop)
            if value is None:
                continue
            try:
                usable = isinstance(value.dt, kind)
            except Exception:
                usable = False
            if not usable:
                del component[prop]
                broken.append(f"{prop} ({value})")
        if broken:
            guess = "it was ignored"
            if "DTEND" not in component and "DURATION" not in component:
                self._set_default_length(component, start)
                guess = self._default_length_text(start)
            self._note(one, f"{name} has an unreadable {' and '.join(broken)}; {guess}")
        if "DTEND" in component and "DURATION" in component:
            del component["DURATION"]  # DTEND wins, as most clients do
        if "DTEND" in component:
            self._check_tzid(one, name, component["DTEND"])

        if self._ends_before_start(component, start):
            for prop in ("DTEND", "DURATION"):
                component.pop(prop, None)
            self._set_default_length(component, start)
            self._note(one, f"{name} ends before it starts; "
                            f"{self._default_length_text(start)}")

        recurrence = component.get("RECURRENCE-ID")
        if recurrence is not None:
            try:
                key = _recurrence_key(recurrence.dt)
            except Exception:
                return self._fail_series(
                    one, f"{name} has an unreadable RECURRENCE-ID ({recurrence})")
            one.overrides[key] = component
        elif one.master is None or _sequence(component) > _sequence(one.master):
            one.master = component  # the highest SEQUENCE wins, as in the library
        one.components.append(component)

    def _check_tzid(self, one: _Series, name: str, prop) -> None:
        value = prop.dt
        tzid = prop.params.get("TZID") if hasattr(prop, "params") else None
        if tzid and isinstance(value, datetime) and value.tzinfo is None:
            self._note(one, f'{name} uses the unknown time zone "{tzid}"; '
                            f"its times are read as {self.tz_name}")

    def _ends_before_start(self, component, start) -> bool:
        if "DTEND" in component:
            end = component["DTEND"].dt
            if isinstance(start, datetime) or isinstance(end, datetime):
                return _utc(end, self.tz) < _utc(start, self.tz)
            return end < start
        if "DURATION" in component:
            return component["DURATION"].dt < timedelta(0)
        return False

    @staticmethod
    def _set_default_length(component, start) -> None:
        length = DEFAULT_LENGTH if isinstance(start, datetime) else timedelta(days=1)
        component["DURATION"] = icalendar.vDuration(length)

    @staticmethod
    def _default_length_text(start) -> str:
        if isinstance(start, datetime):
            return "assumed to last 1 hour"
        return "assumed to last 1 day"

    def _made_up_uid(self, component, title: str) -> str:
        """A stable UID for an event that has none, so that it can be followed
        from one scan to the next."""
        raw = component.get("DTSTART")
        stamp = raw.to_ical().decode() if hasattr(raw, "to_ical") else str(raw)
        digest = hashlib.sha256(f"{self.source}\n{title}\n{stamp}".encode()).hexdigest()
        return f"no-uid-{digest[:24]}"

    def _note(self, one: _Series, text: str) -> None:
        if text not in one.notes:
            one.notes.append(text)
            self.problems.append(Problem(self.source, text, one.shown_uid, severity="warning"))

    def _fail_series(self, one: _Series, message: str) -> None:
        one.failed = True
        self._fail(one.uid, message, one.shown_uid)

    def _fail(self, uid: str | None, message: str, shown_uid: str | None = "") -> None:
        """Report an unreadable event once per UID (``shown_uid`` overrides
        the UID the problem names; "" means ``uid``)."""
        if uid is not None:
            if uid in self._problem_uids:
                return
            self._problem_uids.add(uid)
        self.problems.append(Problem(self.source, message, uid if shown_uid == "" else shown_uid))

    # -- occurrences ----------------------------------------------------------

    def _convert(self, occurrence, one: _Series) -> CalendarEvent | None:
        """One occurrence from the library as a ``CalendarEvent``, or None when
        it lies outside the window."""
        rid_prop = occurrence.get("RECURRENCE-ID")
        component = None
        rid_key = None
        if rid_prop is not None:
            rid_key = _recurrence_key(rid_prop.dt)
            component = one.overrides.get(rid_key)
        if component is None:
            component = one.master if one.master is not None else one.components[0]
        all_day, length, fields = self._facts(component)
        raw_start = occurrence["DTSTART"].dt
        if all_day:
            day = raw_start.date() if isinstance(raw_start, datetime) else raw_start
            start = _midnight(day, self.tz).astimezone(UTC)
            end = _midnight(day + timedelta(days=length), self.tz).astimezone(UTC)
        else:
            start = _utc(raw_start, self.tz)
            end = self._end(length, raw_start, start, occurrence)
        if not _overlaps(start, end, self.start, self.end):
            return None
        recurrence_id = None
        if one.recurring and rid_key is not None:
            recurrence_id = _utc(rid_prop.dt, self.tz)
        title, description, location, status, organizer, attendees, categories = fields
        return CalendarEvent(
            uid=one.uid,
            start=start,
            end=end,
            title=title,
            description=description,
            location=location,
            all_day=all_day,
            recurrence_id=recurrence_id,
            status=status,
            organizer=organizer,
            attendees=attendees,
            source=self.source,
            warnings=tuple(one.notes),
            categories=categories,
        )

    def _facts(self, component) -> tuple:
        """``(all_day, length, fields)`` of a component, worked out once for
        all its occurrences. The cache entry keeps the component alive, so
        that its ``id()`` cannot be reused by another one."""
        entry = self._about.get(id(component))
        if entry is None:
            all_day = not isinstance(component["DTSTART"].dt, datetime)
            length = self._days(component) if all_day else self._length_rule(component)
            entry = self._about[id(component)] = (
                component, all_day, length, self._fields(component))
        return entry[1:]

    @staticmethod
    def _days(component) -> int:
        """How many days an all-day component lasts (at least one)."""
        start = component["DTSTART"].dt
        days = 1
        if "DTEND" in component:
            end = component["DTEND"].dt
            if isinstance(end, datetime):
                days = (end.date() - start).days + (1 if end.time() != time() else 0)
            else:
                days = (end - start).days
        elif "DURATION" in component:
            length = component["DURATION"].dt
            days = length.days + (1 if length.seconds or length.microseconds else 0)
        return max(days, 1)

    def _end(self, rule: tuple, raw_start, start_utc: datetime, occurrence) -> datetime:
        """The exact end of a timed occurrence that starts at ``start_utc``."""
        kind, value = rule
        if kind == "exact":
            return start_utc + value
        if kind == "duration":
            days = timedelta(days=value.days)
            rest = value - days
            # days are calendar days: add them on the wall clock, the rest exactly
            if raw_start.tzinfo is None:
                raw_start = raw_start.replace(tzinfo=self.tz)
            return _utc(raw_start + days, self.tz) + rest
        # RDATE periods: each occurrence has its own end, given by the library
        return max(_utc(occurrence["DTEND"].dt, self.tz), start_utc)

    def _length_rule(self, component) -> tuple[str, object]:
        """How the end of a timed component's occurrences is found."""
        if _has_periods(component):
            return ("library", None)
        if "DTEND" in component:
            end = component["DTEND"].dt
            begin = component["DTSTART"].dt
            return ("exact", max(_utc(end, self.tz) - _utc(begin, self.tz), timedelta(0)))
        if "DURATION" in component:
            return ("duration", component["DURATION"].dt)
        return ("exact", timedelta(0))

    @staticmethod
    def _fields(component) -> tuple:
        """Text fields, status and people of a component."""
        status = _plain(component.get("STATUS")).upper()
        return (
            _text(component, "SUMMARY"),
            _text(component, "DESCRIPTION"),
            _text(component, "LOCATION"),
            _STATUSES.get(status, "CONFIRMED"),
            _person(component.get("ORGANIZER")),
            tuple(p for p in map(_person, _values(component.get("ATTENDEE"))) if p),
            _categories(component),
        )

    def _keep(self, event: CalendarEvent) -> None:
        key = (event.uid, event.recurrence_id, event.start)
        if key not in self._seen:  # the same event in two VCALENDARs of a file
            self._seen.add(key)
            self.events.append(event)


# -- splitting a damaged file -------------------------------------------------


# -- small helpers ------------------------------------------------------------


def _calendar_of(components) -> icalendar.Calendar:
    calendar = icalendar.Calendar()
    for component in components:
        calendar.add_component(component)
    return calendar


def _zone(name: str) -> tzinfo | None:
    """A time zone by IANA or Windows name, or None."""
    try:
        return tzp.timezone(name)
    except Exception:
        return None


def _utc(value, tz: tzinfo) -> datetime:
    """A date or datetime as a UTC instant; naive values are read in ``tz``."""
    if not isinstance(value, datetime):
        return _midnight(value, tz).astimezone(UTC)
    if value.tzinfo is None:
        value = value.replace(tzinfo=tz)
    return value.astimezone(UTC)


def _midnight(day: date, tz: tzinfo) -> datetime:
    return datetime.combine(day, time(), tzinfo=tz)


def _recurrence_key(value):
    """A hashable key for a RECURRENCE-ID that is the same for every spelling
    of the same instant."""
    if isinstance(value, datetime) and value.tzinfo is not None:
        return value.astimezone(UTC).replace(tzinfo=None)
    return value


def _overlaps(start: datetime, end: datetime, w_start: datetime, w_end: datetime) -> bool:
    if start == end:  # zero length: it is inside when it starts inside
        return w_start <= start < w_end
    return start < w_end and end > w_start


def _has_periods(component) -> bool:
    for value in _values(component.get("RDATE")):
        for item in getattr(value, "dts", ()):
            if isinstance(item.dt, tuple):
                return True
    return False


def _sequence(component) -> int:
    try:
        return int(component.get("SEQUENCE", -1))
    except (TypeError, ValueError):
        return -1


def _values(value) -> list:
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def _plain(value) -> str:
    """A property value as stripped text ("" when missing)."""
    if isinstance(value, list):
        value = value[0] if value else None
    return "" if value is None else str(value).strip()


def _categories(component) -> tuple[str, ...]:
    """Every category of every CATEGORIES line."""
    found: list[str] = []
    for value in _values(component.get("CATEGORIES")):
        cats = getattr(value, "cats", None)
        items = cats if isinstance(cats, list) else [value]
        found += [str(c).strip() for c in items if str(c).strip()]
    return tuple(found[:50])


def _text(component, name: str) -> str:
    value = component.get(name)
    if isinstance(value, list):
        value = value[0] if value else None
    return "" if value is None else str(value)


def _param(params, name: str) -> str:
    value = params.get(name, "")
    if isinstance(value, list):
        value = value[0] if value else ""
    return str(value).strip()


def _person(value) -> Attendee | None:
    """An ORGANIZER or ATTENDEE value as an ``Attendee``."""
    if isinstance(value, list):
        value = value[0] if value else None
    if value is None:
        return None
    params = getattr(value, "params", {}) or {}
    return Attendee(
        email=_address(str(value)) or _address(_param(params, "EMAIL")),
        name=_param(params, "CN"),
        partstat=_param(params, "PARTSTAT").upper(),
        cutype=_param(params, "CUTYPE").upper() or "INDIVIDUAL",
        role=_param(params, "ROLE").upper(),
    )


def _address(raw: str) -> str | None:
    """The lower-case e-mail address in a ``mailto:`` URI or plain address."""
    raw = raw.strip()
    if raw[:7].lower() == "mailto:":
        raw = unquote(raw[7:]).strip()
    raw = raw.strip("<>").lower()
    return raw if _EMAIL.match(raw) else None


def _named(uid: str | None) -> str:
    return f"event {uid}" if uid else "an event without UID"


def _event_name(one: _Series) -> str:
    if one.title:
        return f'event "{one.title}"'
    return "an event without title or UID" if one.made_up else f"event {one.uid}"


def _reason(exc: BaseException) -> str:
    text = str(exc).strip().replace("\n", " ")
    if isinstance(exc, KeyError):
        text = f"{text} is missing"
    if len(text) > 200:
        text = text[:197] + "..."
    return text or type(exc).__name__
