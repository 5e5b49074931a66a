"""Every connector's options are checked where they are declared: a value
that would stop the connector from being built stops the config from
loading, with the key named, so ``followup check`` and ``run`` agree."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from daemon import registry
from daemon.app.config import load
from daemon.connector import Context
from daemon.errors import ConfigError

GOOD = {
    ("calendars", "local"): {"path": "cal"},
    ("calendars", "caldav"): {"url": "https://dav.example.org/", "username": "alex", "calendar": "Work"},
    ("calendars", "google"): {},
    ("calendars", "outlook"): {"client_id": "cid"},
    ("mailboxes", "maildir"): {"drafts": "Drafts"},
    ("mailboxes", "imap"): {"host": "imap.example.org", "username": "alex"},
    ("mailboxes", "gmail"): {},
    ("mailboxes", "outlook"): {"client_id": "cid"},
}

BAD = [
    ("calendars", "local", "path", " ", "must not be empty"),
    ("calendars", "local", "write_to", "", "must not be empty"),
    ("calendars", "caldav", "url", "ftp://dav.example.org/", "must start with https://"),
    ("calendars", "caldav", "url", "https://alex:secret@dav.example.org/", "must not contain the password"),
    ("calendars", "caldav", "calendar", "", "must not be empty"),
    ("calendars", "google", "calendars", [], "must be a calendar name or id or a list of them"),
    ("calendars", "google", "calendars", ["primary", " "],
     "must be a calendar name or id or a list of them, none empty"),
    ("calendars", "google", "write_to", "", "must not be empty"),
    ("calendars", "google", "token_file", " ", "must not be empty (a file path)"),
    ("calendars", "outlook", "tenant", "contoso com", "must be common, consumers, organizations"),
    ("calendars", "outlook", "client_id", "", "must not be empty"),
    ("calendars", "outlook", "write_to", " ", "must not be empty"),
    ("mailboxes", "maildir", "drafts", "", "must not be empty"),
    ("mailboxes", "maildir", "inbox", ["INBOX", ""], "must be a Maildir path or a list of them, none empty"),
    ("mailboxes", "gmail", "reply_lookback_days", 0, "must be a whole number, at least 1, got 0"),
    ("mailboxes", "outlook", "reply_scan_limit", -5, "must be a whole number, at least 1, got -5"),
    ("mailboxes", "outlook", "tenant", "../evil", "must be common, consumers, organizations"),
]


def _config(tmp_path: Path, kind: str, type_name: str, options: dict) -> Path:
    def toml(value):
        if isinstance(value, str):
            return json.dumps(value)  # a TOML basic string for these plain values
        if isinstance(value, list):
            return "[" + ", ".join(toml(v) for v in value) + "]"
        return str(value).lower() if isinstance(value, bool) else str(value)

    entry = "\n".join(f"{k} = {toml(v)}" for k, v in {"name": "acc", "type": type_name, **options}.items())
    extra = "" if kind == "calendars" else '[[calendars]]\nname = "c"\ntype = "local"\npath = "cal"\n'
    path = tmp_path / "config.toml"
    path.write_text(f'[me]\nemail = "alex@example.org"\ntimezone = "UTC"\n{extra}[[{kind}]]\n{entry}\n')
    return path


@pytest.mark.parametrize("kind, type_name, key, value, why", BAD, ids=[f"{b[1]}.{b[2]}={b[3]!r}" for b in BAD])
def test_a_bad_option_stops_the_load_and_the_connector_alike(tmp_path, kind, type_name, key, value, why):
    options = {**GOOD[(kind, type_name)], key: value}
    with pytest.raises(ConfigError) as loading:
        load(_config(tmp_path, kind, type_name, options))
    assert any(f"{kind}[1].{key}: {why}" in line for line in loading.value.problems), loading.value.problems
    find = registry.calendar_class if kind == "calendars" else registry.mailbox_class
    with pytest.raises(ConfigError) as building:
        find(type_name)("acc", options, Context(tmp_path, tmp_path))
    assert f"'acc': {key} {why}" in str(building.value)


@pytest.mark.parametrize("kind, type_name", list(GOOD), ids=[f"{k}-{t}" for k, t in GOOD])
def test_the_good_options_load(tmp_path, kind, type_name):
    (tmp_path / "cal").mkdir()
    load(_config(tmp_path, kind, type_name, GOOD[(kind, type_name)]))
