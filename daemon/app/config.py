"""Reads ``config.toml`` into ``daemon.settings.Settings``.

Every problem in the file is collected and reported at once as one
``ConfigError``; each line names the file and the key, e.g.
``config.toml: me.timezone: unknown time zone 'Europe/Berln'``. Entries of
``[[calendars]]`` and ``[[mailboxes]]`` are counted from 1 in the order they
appear (``calendars[1]`` is the first). ``config.example.toml`` documents
every key.
"""

from __future__ import annotations

import copy
import difflib
import os
import re
import sys
import tomllib
from collections.abc import Callable
from datetime import time, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from daemon import registry
from daemon.app.durations import parse_duration, parse_time_of_day
from daemon.connector import Option
from daemon.errors import ConfigError
from daemon.files import read_regular
from daemon.kinds import Kind
from daemon.options import show as _show
from daemon.settings import (
    AccountConfig,
    Detection,
    FollowUpCallPolicy,
    HandwrittenNotePolicy,
    Me,
    Notifications,
    Policy,
    Scan,
    Settings,
    StatusCheckPolicy,
    ThankYouPolicy,
)

APP = "followup"


# ---------------------------------------------------------------- locations

def default_path() -> Path:
    """Where the configuration lives unless told otherwise."""
    if sys.platform == "darwin":
        return Path.home() / "Library" / "Application Support" / APP / "config.toml"
    return _xdg("XDG_CONFIG_HOME", ".config") / APP / "config.toml"


def default_state_path() -> Path:
    """Where the state database lives unless ``[state] path`` says otherwise."""
    if sys.platform == "darwin":
        return Path.home() / "Library" / "Application Support" / APP / "state.sqlite3"
    return _xdg("XDG_STATE_HOME", ".local/state") / APP / "state.sqlite3"


def _xdg(variable: str, fallback: str) -> Path:
    value = os.environ.get(variable, "")
    # The XDG spec says relative values are invalid and to be ignored.
    return Path(value) if value and os.path.isabs(value) else Path.home() / fallback


# ------------------------------------------------------------------ loading

def load(path: Path, holidays: bool = True) -> Settings:
    """Read and check the file at ``path``; raise ``ConfigError`` listing
    every problem if it is unusable. ``holidays=False`` skips checking the
    country's holiday calendar (half a second), for read-only commands."""
    path = Path(path).expanduser()
    try:
        text = read_regular(path).decode("utf-8-sig")
    except FileNotFoundError:
        raise ConfigError(
            f"{path}: no configuration file here (start from config.example.toml)"
        ) from None
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read: {exc.strerror or exc}") from None
    except UnicodeDecodeError as exc:
        raise ConfigError(
            f"{path.name}: not UTF-8 text (bad byte at offset {exc.start})"
        ) from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path.name}: {_syntax_error(str(exc))}") from None
    return from_dict(data, source=path, base_dir=path.parent, holidays=holidays)


def _syntax_error(message: str) -> str:
    """``"Invalid value (at line 3, column 9)"`` -> ``"line 3, column 9: invalid value"``."""
    match = re.fullmatch(r"(.*) \(at line (\d+), column (\d+)\)", message, re.S)
    if match:
        return f"line {match[2]}, column {match[3]}: TOML syntax error: {match[1]}"
    match = re.fullmatch(r"(.*) \(at end of document\)", message, re.S)
    if match:
        return f"at the end of the file: TOML syntax error: {match[1]}"
    return f"TOML syntax error: {message}"


def from_dict(data: dict, source: Path, base_dir: Path, holidays: bool = True) -> Settings:
    """Check already-parsed TOML ``data``; ``source`` names the file in
    messages, ``base_dir`` anchors relative paths."""
    reader = _ConfigReader(Path(source), Path(base_dir))
    reader.holidays = holidays
    return reader.read(data)


# ------------------------------------------------------------------ schema

class _Invalid(ValueError):
    """A value is unusable; the message completes ``<file>: <key>: ``."""


Convert = Callable[[Any], Any]


def _string(value: Any) -> str:
    if not isinstance(value, str):
        raise _Invalid(f"must be a string, got {_show(value)}")
    return value


def _boolean(value: Any) -> bool:
    if not isinstance(value, bool):
        raise _Invalid(f"must be true or false, got {_show(value)}")
    return value


def _strings(value: Any) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise _Invalid(f"must be a list of strings, got {_show(value)}")
    if any(not v.strip() for v in value):
        raise _Invalid("must not contain empty strings")
    return tuple(value)


def _whole(low: int, high: int) -> Convert:
    def convert(value: Any) -> int:
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
            raise _Invalid(f"must be a whole number from {low} to {high}, got {_show(value)}")
        return value
    return convert


def _duration(positive: bool = False) -> Convert:
    """A duration string; longer than zero if ``positive``."""
    def convert(value: Any) -> timedelta:
        if not isinstance(value, str):
            raise _Invalid(f'must be a duration string like "15m" or "1h30m", got {_show(value)}')
        try:
            td = parse_duration(value)
        except ValueError as exc:
            raise _Invalid(str(exc)) from None
        if positive and not td:
            raise _Invalid(f"must be longer than zero, got {_show(value)}")
        return td
    return convert


def _time_of_day(value: Any) -> time:
    if isinstance(value, time):  # TOML local time, e.g. time = 10:00:00
        if value.tzinfo is not None:
            raise _Invalid(f"must be a local time of day without an offset, got {_show(value)}")
        return value
    if not isinstance(value, str):
        raise _Invalid(f'must be a time of day like "10:00", got {_show(value)}')
    try:
        return parse_time_of_day(value)
    except ValueError as exc:
        raise _Invalid(str(exc)) from None


_POSITIVE = _duration(positive=True)
_BUSINESS_DAY = _whole(1, 30)

#: Section -> key -> converter, for the sections that map straight onto one
#: settings dataclass (the TOML key ``time`` is the field ``at``).
SECTIONS: dict[str, tuple[type, dict[str, Convert]]] = {
    "scan": (Scan, {"interval": _POSITIVE, "lookback": _duration(), "lookahead": _duration()}),
    "notifications": (Notifications, {"enabled": _boolean}),
    "policy.thank_you": (ThankYouPolicy, {
        "enabled": _boolean, "delay": _duration(), "expire_after": _POSITIVE,
    }),
    "policy.handwritten_note": (HandwrittenNotePolicy, {
        "enabled": _boolean, "business_day": _BUSINESS_DAY, "time": _time_of_day,
        "duration": _POSITIVE,
    }),
    "policy.follow_up_call": (FollowUpCallPolicy, {
        "enabled": _boolean, "business_day": _BUSINESS_DAY, "time": _time_of_day,
        "duration": _POSITIVE,
    }),
    "policy.status_check": (StatusCheckPolicy, {
        "enabled": _boolean, "days_after_call": _whole(1, 90), "time": _time_of_day,
    }),
}
_FIELD_NAMES = {"time": "at"}

ME_KEYS = ("name", "email", "aliases", "timezone", "country", "subdivision", "signature", "address_by")
DETECTION_KEYS = ("keywords", "extra_keywords", "exclude", "extra_exclude", "languages")
ACCOUNT_KEYS = {"calendars": ("name", "type", "mailbox", "language"), "mailboxes": ("name", "type")}
OPTIONAL_ACCOUNT_KEYS = ("mailbox", "language")

#: Every key the file may hold, by section (``[[calendars]]``/``[[mailboxes]]``
#: also take their connector's own keys).
KEYS: dict[str, tuple[str, ...]] = {
    "me": ME_KEYS,
    "state": ("path",),
    "templates": ("path", "language"),
    **{name: tuple(keys) for name, (_, keys) in SECTIONS.items()},
    "detection": DETECTION_KEYS,
    **ACCOUNT_KEYS,
}
_TOP = ("me", "state", "templates", "scan", "notifications", "policy", "detection", "calendars", "mailboxes")
_POLICIES = tuple(kind.template for kind in Kind)  # a [policy.*] section per kind

_EMAIL = re.compile(r"[^@\s<>\"',;]+@[^@\s<>\"',;]+\.[^@\s<>\"',;.]+")


def _suggest(word: str, choices) -> str:
    """`` (did you mean 'x'?)`` for a near miss among ``choices``, else ``""``."""
    choices = list(choices)
    # A settings field name used as a key (``at``) means its TOML key (``time``).
    renamed = [toml for toml, field in _FIELD_NAMES.items() if field == word and toml in choices]
    close = renamed or difflib.get_close_matches(word, choices, n=1, cutoff=0.6)
    return f" (did you mean {close[0]!r}?)" if close else ""


def _kind_name(kind: type | tuple[type, ...]) -> str:
    names = {str: "a string", bool: "true or false", int: "a whole number",
             float: "a number", list: "a list", dict: "a table"}
    kinds = kind if isinstance(kind, tuple) else (kind,)
    return " or ".join(names.get(k, k.__name__) for k in kinds)


def _is_kind(value: Any, kind: type | tuple[type, ...]) -> bool:
    kinds = kind if isinstance(kind, tuple) else (kind,)
    if isinstance(value, bool):
        return bool in kinds
    if isinstance(value, int) and float in kinds:
        return True
    return isinstance(value, kinds)


# ------------------------------------------------------------------ reader

class _ConfigReader:
    """Reads one parsed file, collecting problems instead of stopping."""

    def __init__(self, source: Path, base_dir: Path):
        self.source = source
        self.base_dir = base_dir
        self.label = source.name or str(source)
        self.problems: list[str] = []
        self.holidays = True
        self.templates_language = "auto"

    def problem(self, where: str, message: str) -> None:
        self.problems.append(f"{self.label}: {where}: {message}")

    # -- generic helpers

    def table(self, parent: dict, key: str, where: str) -> dict:
        value = parent.get(key, {})
        if not isinstance(value, dict):
            self.problem(where, f"must be a table ([{where}]), got {_show(value)}")
            return {}
        return value

    def unknown(self, table: dict, allowed, where: str) -> None:
        for key in table:
            if key not in allowed:
                self.problem(f"{where}.{key}" if where else key,
                             "unknown key" + _suggest(key, allowed))

    def values(self, table: dict, converters: dict[str, Convert], where: str) -> dict:
        """Convert the keys present in ``table``; skip (and report) bad ones."""
        self.unknown(table, converters, where)
        out = {}
        for key, convert in converters.items():
            if key in table:
                try:
                    out[key] = convert(table[key])
                except _Invalid as exc:
                    self.problem(f"{where}.{key}", str(exc))
        return out

    def path(self, value: Any, where: str) -> Path | None:
        try:
            text = _string(value)
        except _Invalid as exc:
            self.problem(where, str(exc))
            return None
        if not text.strip():
            self.problem(where, "must not be empty")
            return None
        path = Path(text).expanduser()
        return path if path.is_absolute() else self.base_dir / path

    def without_nul(self, value: Any, where: str) -> Any:
        """``value`` with every NUL character reported and taken out: no
        file name or text can hold one, and the checks below go on."""
        if isinstance(value, str):
            if "\x00" in value:
                self.problem(where or "(top)", "contains a NUL character (\\u0000)")
                return value.replace("\x00", "")
            return value
        if isinstance(value, dict):
            return {k: self.without_nul(v, f"{where}.{k}" if where else k) for k, v in value.items()}
        if isinstance(value, list):
            return [self.without_nul(v, f"{where}[{i}]") for i, v in enumerate(value, 1)]
        return value

    # -- sections

    def read(self, data: dict) -> Settings:
        data = self.without_nul(data, "")
        self.unknown(data, _TOP, "")
        me = self.me(self.table(data, "me", "me"))
        state_path = self.state(self.table(data, "state", "state"))
        templates_dir = self.templates(self.table(data, "templates", "templates"))
        scan = self.section(data, "scan")
        notifications = self.section(data, "notifications")
        policy = self.policy(self.table(data, "policy", "policy"))
        detection = self.detection(self.table(data, "detection", "detection"))
        calendars = self.accounts(data, "calendars", registry.calendar_class)
        mailboxes = self.accounts(data, "mailboxes", registry.mailbox_class)
        if data.get("calendars", []) == []:
            self.problem("calendars", "no calendars configured: add a [[calendars]] section")
        self.check_mailbox_links(calendars, mailboxes)
        if self.problems:
            raise ConfigError(self.problems)
        return Settings(
            me=me, state_path=state_path, templates_dir=templates_dir,
            templates_language=self.templates_language, scan=scan, notifications=notifications,
            policy=policy, detection=detection,
            calendars=tuple(account for _, account in calendars),
            mailboxes=tuple(account for _, account in mailboxes), source=self.source,
        )

    def section(self, parent: dict, name: str, where: str | None = None):
        cls, converters = SECTIONS[name]
        where = where or name
        key = where.rpartition(".")[2]
        values = self.values(self.table(parent, key, where), converters, where)
        return cls(**{_FIELD_NAMES.get(k, k): v for k, v in values.items()})

    def me(self, table: dict) -> Me:
        values = self.values(table, {
            "name": _string, "email": _string, "aliases": _strings, "timezone": _string,
            "country": _string, "subdivision": _string, "signature": _string,
            "address_by": _string,
        }, "me")
        if values.get("address_by", "auto") not in ("auto", "first_name", "full_name"):
            self.problem("me.address_by",
                         f'must be "auto", "first_name" or "full_name", got {_show(values.pop("address_by"))}')
        if "email" not in table:
            self.problem("me.email", "required key missing (your own email address)")
        elif "email" in values and not _EMAIL.fullmatch(values["email"].strip()):
            self.problem("me.email", f"does not look like an email address: {_show(values['email'])}")
        for alias in values.get("aliases", ()):
            if not _EMAIL.fullmatch(alias.strip()):
                self.problem("me.aliases", f"does not look like an email address: {_show(alias)}")
        if "timezone" in values:
            self.check_timezone(values["timezone"])
        if self.holidays:
            self.check_holidays(values.get("country", Me.country), values.get("subdivision", ""))
        return Me(**values)

    def check_timezone(self, name: str) -> None:
        try:
            ZoneInfo(name)
        except (ZoneInfoNotFoundError, ValueError, OSError):
            hint = _suggest(name, _zone_names()) or (
                " (use an IANA name like 'Europe/Berlin' or 'America/New_York')")
            self.problem("me.timezone", f"unknown time zone {name!r}{hint}")

    def check_holidays(self, country: str, subdivision: str) -> None:
        if not country:
            if subdivision:
                self.problem("me.subdivision", "needs me.country to be set")
            return
        import holidays

        supported = holidays.list_supported_countries()
        if country not in supported:
            hint = (f" (did you mean {country.upper()!r}?)" if country.upper() in supported
                    else ' (use an ISO 3166 code like "US" or "DE", or "" for none)')
            self.problem("me.country", f"no public holidays known for {country!r}{hint}")
            return
        try:
            holidays.country_holidays(country, subdiv=subdivision or None)
        except (NotImplementedError, KeyError, ValueError) as exc:
            where = "me.subdivision" if subdivision else "me.country"
            subdivs = supported.get(country) or []
            known = f" (known: {', '.join(subdivs)})" if subdivs else ""
            self.problem(where, f"{subdivision or country!r} is not usable for public "
                         f"holidays: {exc}{known}")

    def state(self, table: dict) -> Path:
        self.unknown(table, ("path",), "state")
        if "path" not in table:
            return default_state_path()
        path = self.path(table["path"], "state.path")
        if path is not None and path.is_dir():
            self.problem("state.path", f"{path} is a folder; name a file in it, like "
                         f"{path / 'state.sqlite3'}")
        return path or default_state_path()

    def language(self, value: object, where: str) -> bool:
        """Whether ``value`` names a language of the drafts (or "auto")."""
        from daemon.drafts.templates import LANGUAGES

        if value in ("auto", *LANGUAGES):
            return True
        self.problem(where, f'must be "auto" or one of {", ".join(LANGUAGES)}, got {_show(value)}')
        return False

    def templates(self, table: dict) -> Path | None:
        self.unknown(table, ("path", "language"), "templates")
        if "language" in table and self.language(table["language"], "templates.language"):
            self.templates_language = table["language"]
        if "path" not in table:
            return None
        path = self.path(table["path"], "templates.path")
        if path is not None and not path.is_dir():
            self.problem("templates.path", f"no such folder: {path}")
        return path

    def policy(self, table: dict) -> Policy:
        self.unknown(table, _POLICIES, "policy")
        return Policy(**{
            name: self.section(table, f"policy.{name}") for name in _POLICIES
        })

    def detection(self, table: dict) -> Detection:
        values = self.values(table, dict.fromkeys(DETECTION_KEYS, _strings), "detection")
        if "languages" in values:
            from daemon.lang import codes

            known = codes()
            wrong = [code for code in values["languages"] if code not in known]
            if wrong:
                self.problem("detection.languages", f"no language file for {', '.join(map(repr, wrong))} "
                             f"(known: {', '.join(known)})")
                values.pop("languages")
        result = Detection.build(**values)
        if result.keywords is not None and not result.keywords and not result.extra_keywords:
            self.problem("detection.keywords", "no keywords left: no event would ever be "
                         "taken for an interview")
        return result

    # -- accounts

    def accounts(self, data: dict, kind: str,
                 find_class: Callable[[str], type]) -> list[tuple[str, AccountConfig]]:
        """The good entries of ``[[kind]]``, each with its place for messages."""
        entries = data.get(kind, [])
        if not isinstance(entries, list) or not all(isinstance(e, dict) for e in entries):
            self.problem(kind, f"must be a list of tables: write each one under [[{kind}]]")
            return []
        accounts, first_use = [], {}
        for number, entry in enumerate(entries, start=1):
            where = f"{kind}[{number}]"
            account = self.account(entry, kind, where, find_class)
            if account is None:
                continue
            if account.name in first_use:
                self.problem(f"{where}.name", f"{account.name!r} is already used by "
                             f"{first_use[account.name]}")
            else:
                first_use[account.name] = where
            accounts.append((where, account))
        return accounts

    def account(self, entry: dict, kind: str, where: str,
                find_class: Callable[[str], type]) -> AccountConfig | None:
        fields = {}
        for key in ACCOUNT_KEYS[kind]:
            if key not in entry:
                if key not in OPTIONAL_ACCOUNT_KEYS:
                    self.problem(f"{where}.{key}", "required key missing")
                continue
            if key == "language":
                if self.language(entry[key], f"{where}.language"):
                    fields[key] = entry[key]
                continue
            try:
                fields[key] = _string(entry[key])
            except _Invalid as exc:
                self.problem(f"{where}.{key}", str(exc))
                continue
            if not fields[key].strip():
                self.problem(f"{where}.{key}", "must not be empty")
                del fields[key]
        options = self.connector_options(entry, kind, where, fields.get("type"), find_class)
        if "name" not in fields or "type" not in fields:
            return None
        # With a broken type the options stay unchecked (and the load fails),
        # but the entry still takes part in the name and mailbox checks.
        return AccountConfig(name=fields["name"], type=fields["type"], options=options or {},
                             mailbox=fields.get("mailbox"), language=fields.get("language", "auto"))

    def connector_options(self, entry: dict, kind: str, where: str, type_name: str | None,
                          find_class: Callable[[str], type]) -> dict | None:
        own = ACCOUNT_KEYS[kind]
        if type_name is None:
            return None
        try:
            connector = find_class(type_name)
            table: dict[str, Option] = connector.options
        except ConfigError as exc:
            for line in exc.problems:
                self.problem(f"{where}.type", line)
            return None
        except AttributeError as exc:
            self.problem(f"{where}.type", f"connector for {type_name!r} is broken: {exc}")
            return None
        options = {}
        for key, value in entry.items():
            if key in own:
                continue
            option = table.get(key)
            if option is None:
                self.problem(f"{where}.{key}", f"unknown key for type {type_name!r}"
                             + _suggest(key, [*own, *table]))
            elif not _is_kind(value, option.kind):
                self.problem(f"{where}.{key}",
                             f"must be {_kind_name(option.kind)}, got {_show(value)}")
            elif option.check is not None and (why := option.check(value)):
                self.problem(f"{where}.{key}", why)
            else:
                options[key] = value
        for key, option in table.items():
            if key not in entry:
                if option.required:
                    help_text = f" ({option.help})" if option.help else ""
                    self.problem(f"{where}.{key}", f"required key missing{help_text}")
                else:
                    # Defaults may be lists: every account gets its own copy.
                    options[key] = copy.deepcopy(option.default)
        if len(options) == len(table):  # all there and well typed: the connector's own checks
            for line in connector.validate(str(entry.get("name", "")), options):
                self.problem(where, line)
        return options

    def check_mailbox_links(self, calendars, mailboxes) -> None:
        names = [m.name for _, m in mailboxes]
        for where, calendar in calendars:
            if calendar.mailbox is not None and calendar.mailbox not in names:
                hint = _suggest(calendar.mailbox, names) or (
                    f" (mailboxes: {', '.join(names)})" if names else " (no [[mailboxes]] configured)")
                self.problem(f"{where}.mailbox", f"no mailbox named {calendar.mailbox!r}{hint}")


def _zone_names() -> set[str]:
    try:
        return available_timezones()
    except OSError:  # no tz database to list: just no suggestion
        return set()
