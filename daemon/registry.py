"""Finds connector classes by the ``type`` name used in the config.

Modules are imported only when a configured account uses them, so a user
of local calendars never loads a provider SDK. A type is "module:Class".
"""

from __future__ import annotations

import importlib

from daemon.connector import Calendar, Mailbox
from daemon.errors import ConfigError

CALENDAR_TYPES: dict[str, str] = {
    "local": "connectors.local.calendar:LocalCalendar",
    "caldav": "connectors.caldav:CalDAVCalendar",
    "google": "connectors.google:GoogleCalendar",
    "outlook": "connectors.outlook:OutlookCalendar",
}

MAILBOX_TYPES: dict[str, str] = {
    "maildir": "connectors.local.maildir:MaildirMailbox",
    "imap": "connectors.imap:ImapMailbox",
    "gmail": "connectors.google:GmailMailbox",
    "outlook": "connectors.outlook:OutlookMailbox",
}


def _load(table: dict[str, str], type_name: str, what: str) -> type:
    try:
        target = table[type_name]
    except KeyError:
        known = ", ".join(sorted(table))
        raise ConfigError(f"unknown {what} type {type_name!r} (known: {known})") from None
    module_name, _, class_name = target.partition(":")
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        raise ConfigError(
            f"{what} type {type_name!r} needs a module that is not installed: {exc.name}"
        ) from exc
    return getattr(module, class_name)


def calendar_class(type_name: str) -> type[Calendar]:
    return _load(CALENDAR_TYPES, type_name, "calendar")


def mailbox_class(type_name: str) -> type[Mailbox]:
    return _load(MAILBOX_TYPES, type_name, "mailbox")
