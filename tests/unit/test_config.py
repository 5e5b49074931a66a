"""Reading and checking config.toml (``daemon.app.config``).

The connectors the registry normally names are replaced here by small fakes
defined in this module, so these tests only depend on the loader itself.
"""

from __future__ import annotations

import copy
import json
import re
import subprocess
import sys
import tomllib
from datetime import time, timedelta
from pathlib import Path

import pytest

from daemon import registry
from daemon.app import config
from daemon.app.config import default_path, default_state_path, from_dict, load
from daemon.connector import Calendar, Mailbox, Option
from daemon.errors import ConfigError
from daemon.settings import (
    AccountConfig,
    Detection,
    Me,
    Policy,
    Scan,
    Settings,
)

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "config.example.toml"


class FakeCalendar(Calendar):
    """Stands in for a calendar connector: only its options table matters."""

    options = {
        "path": Option(str, required=True, help="a folder of .ics files"),
        "write_to": Option(str),
        "color": Option(str, default="blue"),
        "tags": Option(list, default=["work"]),
        "limit": Option(int, default=10),
    }


class FakeMailbox(Mailbox):
    """Stands in for a mailbox connector."""

    options = {
        "drafts": Option(str, required=True),
        "inbox": Option((str, list), default=[]),
    }


@pytest.fixture(autouse=True)
def fake_connectors(monkeypatch):
    monkeypatch.setitem(registry.CALENDAR_TYPES, "fakecal", f"{__name__}:FakeCalendar")
    monkeypatch.setitem(registry.CALENDAR_TYPES, "brokencal", f"{__name__}:NoSuchClass")
    monkeypatch.setitem(registry.MAILBOX_TYPES, "fakemail", f"{__name__}:FakeMailbox")


MINIMAL = {
    "me": {"email": "alex@example.com"},
    "calendars": [{"name": "personal", "type": "fakecal", "path": "cal"}],
}


def build(tmp_path: Path, data: dict) -> Settings:
    return from_dict(data, source=tmp_path / "config.toml", base_dir=tmp_path)


def problems_of(tmp_path: Path, data: dict) -> list[str]:
    with pytest.raises(ConfigError) as info:
        build(tmp_path, data)
    return info.value.problems


def with_(**changes) -> dict:
    """MINIMAL with ``section__key=value`` changes (``__`` separates levels;
    a value of ``DROP`` removes the key)."""
    data = copy.deepcopy(MINIMAL)
    for dotted, value in changes.items():
        *parents, last = dotted.split("__")
        table = data
        for name in parents:
            table = table[int(name)] if isinstance(table, list) else table.setdefault(name, {})
        if value is DROP:
            del table[last]
        else:
            table[last] = value
    return data


DROP = object()


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "config.toml"
    path.write_text(text, encoding="utf-8")
    return path


# --------------------------------------------------------------- good files

def test_minimal_config_gives_the_settings_defaults(tmp_path, monkeypatch):
    monkeypatch.delenv("XDG_STATE_HOME", raising=False)
    settings = build(tmp_path, MINIMAL)
    defaults = Settings()
    assert settings.me == Me(email="alex@example.com")
    assert settings.scan == defaults.scan == Scan()
    assert settings.policy == defaults.policy == Policy()
    assert settings.detection == defaults.detection == Detection()
    assert settings.templates_dir is None
    assert settings.state_path == default_state_path()
    assert settings.mailboxes == ()
    assert settings.source == tmp_path / "config.toml"


def test_connector_defaults_are_filled_in(tmp_path):
    (calendar,) = build(tmp_path, MINIMAL).calendars
    assert calendar == AccountConfig(
        name="personal", type="fakecal", mailbox=None,
        options={"path": "cal", "write_to": None, "color": "blue", "tags": ["work"], "limit": 10},
    )


def test_connector_default_lists_are_not_shared(tmp_path):
    data = with_(calendars=[
        {"name": "a", "type": "fakecal", "path": "a"},
        {"name": "b", "type": "fakecal", "path": "b"},
    ])
    first, second = build(tmp_path, data).calendars
    first.options["tags"].append("x")
    assert second.options["tags"] == ["work"]
    assert FakeCalendar.options["tags"].default == ["work"]


def test_every_key_is_read(tmp_path):
    (tmp_path / "my-templates").mkdir()
    path = write(tmp_path, """
[me]
name = "Alex Example"
email = "alex@example.com"
aliases = ["a@work.example"]
timezone = "Europe/Berlin"
country = "DE"
subdivision = "BY"
signature = "Alex"

[state]
path = "data/state.db"

[templates]
path = "my-templates"

[scan]
interval = "10m"
lookback = "2w"
lookahead = "90d"

[policy.thank_you]
enabled = false
delay = "2h"
expire_after = "1d"

[policy.handwritten_note]
enabled = true
business_day = 2
time = "11:30"
duration = "30m"

[policy.follow_up_call]
enabled = false
business_day = 3
time = 14:00:00
duration = "20m"

[policy.status_check]
enabled = false
days_after_call = 10
time = "08:45"

[detection]
keywords = ["Interview"]
extra_keywords = ["Chat With"]
exclude = ["mock"]
extra_exclude = ["Lunch"]
languages = ["en", "de"]

[[calendars]]
name = "work"
type = "fakecal"
path = "/srv/cal"
color = "red"
mailbox = "home"

[[mailboxes]]
name = "home"
type = "fakemail"
drafts = "~/Mail/Drafts"
inbox = ["~/Mail/INBOX"]
""")
    s = load(path)
    assert s.me == Me(name="Alex Example", email="alex@example.com", aliases=("a@work.example",),
                      timezone="Europe/Berlin", country="DE", subdivision="BY", signature="Alex")
    assert s.state_path == tmp_path / "data" / "state.db"
    assert s.templates_dir == tmp_path / "my-templates"
    assert s.scan == Scan(timedelta(minutes=10), timedelta(weeks=2), timedelta(days=90))
    p = s.policy
    assert (p.thank_you.enabled, p.thank_you.delay, p.thank_you.expire_after) == (
        False, timedelta(hours=2), timedelta(days=1))
    assert (p.handwritten_note.enabled, p.handwritten_note.business_day,
            p.handwritten_note.at, p.handwritten_note.duration) == (
        True, 2, time(11, 30), timedelta(minutes=30))
    assert (p.follow_up_call.enabled, p.follow_up_call.business_day,
            p.follow_up_call.at, p.follow_up_call.duration) == (
        False, 3, time(14, 0), timedelta(minutes=20))
    assert (p.status_check.enabled, p.status_check.days_after_call, p.status_check.at) == (
        False, 10, time(8, 45))
    assert s.detection == Detection(keywords=("interview",), extra_keywords=("chat with",),
                                    exclude=("mock", "lunch"), languages=("en", "de"))
    (calendar,) = s.calendars
    assert calendar.mailbox == "home"
    assert calendar.options["path"] == "/srv/cal" and calendar.options["color"] == "red"
    (mailbox,) = s.mailboxes
    assert mailbox.options == {"drafts": "~/Mail/Drafts", "inbox": ["~/Mail/INBOX"]}
    assert s.mailbox_for(calendar) == mailbox
    assert s.source == path


def test_no_holidays_when_country_is_empty(tmp_path):
    assert build(tmp_path, with_(me__country="")).me.country == ""


def test_state_path_expands_home(tmp_path, monkeypatch):
    monkeypatch.setenv("HOME", str(tmp_path))
    s = build(tmp_path / "elsewhere", with_(state__path="~/s.sqlite3"))
    assert s.state_path == tmp_path / "s.sqlite3"


# ---------------------------------------------------------- each rule alone

RULES = [
    # me
    (with_(me__email=DROP), "me.email: required key missing"),
    (with_(me__email="alex at example"), 'me.email: does not look like an email address: "alex at example"'),
    (with_(me__name=5), "me.name: must be a string, got 5"),
    (with_(me__aliases="a@b.example"), 'me.aliases: must be a list of strings, got "a@b.example"'),
    (with_(me__aliases=["nope"]), 'me.aliases: does not look like an email address: "nope"'),
    (with_(me__timezone="Europe/Berln"), "me.timezone: unknown time zone 'Europe/Berln'"),
    (with_(me__timezone=""), "me.timezone: unknown time zone ''"),
    (with_(me__timezone="/etc/passwd"), "me.timezone: unknown time zone '/etc/passwd'"),
    (with_(me__country="XX"), "me.country: no public holidays known for 'XX'"),
    (with_(me__country="de"), "me.country: no public holidays known for 'de' (did you mean 'DE'?)"),
    (with_(me__country="US", me__subdivision="ZZ"), "me.subdivision: 'ZZ' is not usable"),
    (with_(me__country="", me__subdivision="CA"), "me.subdivision: needs me.country to be set"),
    (with_(me="alex"), 'me: must be a table ([me]), got "alex"'),
    # state and templates
    (with_(state__path=""), "state.path: must not be empty"),
    (with_(state__path=3), "state.path: must be a string, got 3"),
    (with_(state__path="."), "state.path: "),  # the config's own folder
    (with_(state__path="."), "is a folder; name a file in it"),
    (with_(templates__path="missing"), "templates.path: no such folder: "),
    (with_(templates__folder="x"), "templates.folder: unknown key"),
    # scan
    (with_(scan__interval="0s"), 'scan.interval: must be longer than zero, got "0s"'),
    (with_(scan__interval=300), 'scan.interval: must be a duration string like "15m" or "1h30m", got 300'),
    (with_(scan__lookback="5 minutes"), 'scan.lookback: "5 minutes" is not a duration (did you mean "5m"?)'),
    (with_(scan__lookahead="soon"), 'scan.lookahead: "soon" is not a duration'),
    # policies
    (with_(policy__thank_you__enabled="yes"), 'policy.thank_you.enabled: must be true or false, got "yes"'),
    (with_(policy__thank_you__expire_after="0m"), "policy.thank_you.expire_after: must be longer than zero"),
    (with_(policy__follow_up_call__business_day="five"),
     'policy.follow_up_call.business_day: must be a whole number from 1 to 30, got "five"'),
    (with_(policy__follow_up_call__business_day=0), "business_day: must be a whole number from 1 to 30, got 0"),
    (with_(policy__handwritten_note__business_day=31), "business_day: must be a whole number from 1 to 30, got 31"),
    (with_(policy__handwritten_note__business_day=True), "business_day: must be a whole number from 1 to 30, got true"),
    (with_(policy__follow_up_call__business_day=2.0), "business_day: must be a whole number from 1 to 30, got 2.0"),
    (with_(policy__status_check__days_after_call=0),
     "policy.status_check.days_after_call: must be a whole number from 1 to 90"),
    (with_(policy__follow_up_call__time="25:00"), 'policy.follow_up_call.time: "25:00" is not a time of day'),
    (with_(policy__status_check__time=9), 'policy.status_check.time: must be a time of day like "10:00", got 9'),
    (with_(policy__handwritten_note__duration="0s"), "policy.handwritten_note.duration: must be longer than zero"),
    (with_(policy__follow_up_call__at="10:00"), "policy.follow_up_call.at: unknown key (did you mean 'time'?)"),
    (with_(policy="often"), 'policy: must be a table ([policy]), got "often"'),
    (with_(policy__thank_you=1), "policy.thank_you: must be a table ([policy.thank_you]), got 1"),
    (with_(policy__thankyou={}), "policy.thankyou: unknown key (did you mean 'thank_you'?)"),
    # detection
    (with_(detection__keywords="interview"), 'detection.keywords: must be a list of strings, got "interview"'),
    (with_(detection__extra_exclude=["lunch", ""]), "detection.extra_exclude: must not contain empty strings"),
    (with_(detection__keywords=[]), "detection.keywords: no keywords left"),
    (with_(detection__extra_keyword=["chat"]), "detection.extra_keyword: unknown key (did you mean 'extra_keywords'?)"),
    # calendars
    (with_(calendars=DROP), "calendars: no calendars configured"),
    (with_(calendars=[]), "calendars: no calendars configured"),
    (with_(calendars={"name": "a", "type": "fakecal", "path": "x"}),
     "calendars: must be a list of tables: write each one under [[calendars]]"),
    (with_(calendars__0__path=DROP), "calendars[1].path: required key missing (a folder of .ics files)"),
    (with_(calendars__0__name=DROP), "calendars[1].name: required key missing"),
    (with_(calendars__0__name=""), "calendars[1].name: must not be empty"),
    (with_(calendars__0__type=DROP), "calendars[1].type: required key missing"),
    (with_(calendars__0__type="nope"), "calendars[1].type: unknown calendar type 'nope' (known: "),
    (with_(calendars__0__type="brokencal"), "calendars[1].type: connector for 'brokencal' is broken"),
    (with_(calendars__0__pth="x"), "calendars[1].pth: unknown key for type 'fakecal' (did you mean 'path'?)"),
    (with_(calendars__0__color=5), "calendars[1].color: must be a string, got 5"),
    (with_(calendars__0__limit=True), "calendars[1].limit: must be a whole number, got true"),
    (with_(calendars__0__mailbox=3), "calendars[1].mailbox: must be a string, got 3"),
    (with_(calendars__0__mailbox="work"),
     "calendars[1].mailbox: no mailbox named 'work' (no [[mailboxes]] configured)"),
    (with_(calendars__0__language="pt-BR"), 'calendars[1].language: must be "auto" or one of en, de, fr, es, nl, '),
    (with_(calendars__0__language=["pt"]), 'calendars[1].language: must be "auto" or one of '),
    (with_(templates__language="klingon"), 'templates.language: must be "auto" or one of '),
    (with_(calendars=[{"name": "a", "type": "fakecal", "path": "x"},
                      {"name": "a", "type": "fakecal", "path": "y"}]),
     "calendars[2].name: 'a' is already used by calendars[1]"),
    # mailboxes
    (with_(mailboxes=[{"name": "m", "type": "pigeon"}]), "mailboxes[1].type: unknown mailbox type 'pigeon'"),
    (with_(mailboxes=[{"name": "m", "type": "fakemail"}]), "mailboxes[1].drafts: required key missing"),
    (with_(mailboxes=[{"name": "m", "type": "fakemail", "drafts": "d", "inbox": 3}]),
     "mailboxes[1].inbox: must be a string or a list, got 3"),
    (with_(mailboxes=[{"name": "m", "type": "fakemail", "drafts": "d", "mailbox": "x"}]),
     "mailboxes[1].mailbox: unknown key for type 'fakemail'"),
    (with_(mailboxes=[{"name": "m", "type": "fakemail", "drafts": "d"},
                      {"name": "m", "type": "fakemail", "drafts": "e"}]),
     "mailboxes[2].name: 'm' is already used by mailboxes[1]"),
    (with_(mailboxes={"name": "m"}), "mailboxes: must be a list of tables"),
    # top level
    (with_(calender=[]), "calender: unknown key (did you mean 'calendars'?)"),
    (with_(smtp={}), "smtp: unknown key"),
]


@pytest.mark.parametrize("data, expected", RULES, ids=[r[1][:60] for r in RULES])
def test_each_rule(tmp_path, data, expected):
    found = problems_of(tmp_path, data)
    assert any(line.startswith("config.toml: ") and expected in line for line in found), found


def test_mailbox_link_suggests_a_close_name(tmp_path):
    data = with_(calendars__0__mailbox="personall",
                 mailboxes=[{"name": "personal", "type": "fakemail", "drafts": "d"}])
    assert problems_of(tmp_path, data) == [
        "config.toml: calendars[1].mailbox: no mailbox named 'personall' (did you mean 'personal'?)"
    ]


def test_existing_templates_folder_and_valid_mailbox_link_pass(tmp_path):
    (tmp_path / "t").mkdir()
    data = with_(templates__path="t", calendars__0__mailbox="m",
                 mailboxes=[{"name": "m", "type": "fakemail", "drafts": "d"}])
    assert build(tmp_path, data).templates_dir == tmp_path / "t"


def test_messages_are_exact(tmp_path):
    assert problems_of(tmp_path, with_(me__timezone="Europe/Berln")) == [
        "config.toml: me.timezone: unknown time zone 'Europe/Berln' (did you mean 'Europe/Berlin'?)"
    ]
    assert problems_of(tmp_path, with_(calendars__0__path=DROP)) == [
        "config.toml: calendars[1].path: required key missing (a folder of .ics files)"
    ]


# ------------------------------------------------------ all problems at once

def test_every_problem_is_reported_together(tmp_path):
    path = write(tmp_path, """
[me]
email = "alex@example"
timezone = "Europe/Berln"

[scan]
intervall = "5m"

[policy.follow_up_call]
business_day = "five"

[[calendars]]
name = "work"
type = "fakecal"

[[calendars]]
name = "work"
type = "nosuchtype"
path = "x"
mailbox = "gone"
""")
    with pytest.raises(ConfigError) as info:
        load(path)
    assert info.value.problems == [
        'config.toml: me.email: does not look like an email address: "alex@example"',
        "config.toml: me.timezone: unknown time zone 'Europe/Berln' (did you mean 'Europe/Berlin'?)",
        "config.toml: scan.intervall: unknown key (did you mean 'interval'?)",
        'config.toml: policy.follow_up_call.business_day: must be a whole number from 1 to 30, got "five"',
        "config.toml: calendars[1].path: required key missing (a folder of .ics files)",
        "config.toml: calendars[2].type: unknown calendar type 'nosuchtype' (known: brokencal, caldav, "
        "fakecal, google, local, outlook)",
        "config.toml: calendars[2].name: 'work' is already used by calendars[1]",
        "config.toml: calendars[2].mailbox: no mailbox named 'gone' (no [[mailboxes]] configured)",
    ]
    assert str(info.value) == "\n".join(info.value.problems)


# ------------------------------------------------------------- reading files

def test_toml_syntax_error_names_line_and_column(tmp_path):
    path = write(tmp_path, '[me]\nemail = "alex@example.com"\nname = Alex\n')
    with pytest.raises(ConfigError) as info:
        load(path)
    (line,) = info.value.problems
    assert line.startswith("config.toml: line 3, column 8: TOML syntax error: ")
    assert info.value.__cause__ is None and info.value.__suppress_context__


def test_toml_error_at_end_of_file(tmp_path):
    path = write(tmp_path, '[me]\nemail = "a@b.example"\nemail = "c@d.example"\n')
    with pytest.raises(ConfigError) as info:
        load(path)
    assert info.value.problems[0].startswith("config.toml: ")
    assert "TOML syntax error" in info.value.problems[0]


def test_missing_file(tmp_path):
    with pytest.raises(ConfigError, match="no configuration file here"):
        load(tmp_path / "nope.toml")


def test_file_that_is_not_utf8(tmp_path):
    path = tmp_path / "config.toml"
    path.write_bytes(b'[me]\nname = "\xff"\n')
    with pytest.raises(ConfigError, match="not UTF-8"):
        load(path)


def test_relative_paths_are_relative_to_the_config_file(tmp_path):
    folder = tmp_path / "conf"
    folder.mkdir()
    path = write(folder, '[me]\nemail = "a@b.example"\n[state]\npath = "s.db"\n'
                         '[[calendars]]\nname = "c"\ntype = "fakecal"\npath = "x"\n')
    assert load(path).state_path == folder / "s.db"


# ---------------------------------------------------------- default places

def test_default_path_linux(monkeypatch, tmp_path):
    monkeypatch.setattr(sys, "platform", "linux")
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.delenv("XDG_CONFIG_HOME", raising=False)
    assert default_path() == tmp_path / ".config" / "followup" / "config.toml"
    monkeypatch.setenv("XDG_CONFIG_HOME", "/xdg/config")
    assert default_path() == Path("/xdg/config/followup/config.toml")
    monkeypatch.setenv("XDG_CONFIG_HOME", "relative/is/ignored")
    assert default_path() == tmp_path / ".config" / "followup" / "config.toml"


def test_default_path_macos(monkeypatch, tmp_path):
    monkeypatch.setattr(sys, "platform", "darwin")
    monkeypatch.setenv("HOME", str(tmp_path))
    assert default_path() == tmp_path / "Library" / "Application Support" / "followup" / "config.toml"


def test_default_state_path(monkeypatch, tmp_path):
    monkeypatch.setattr(sys, "platform", "linux")
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.delenv("XDG_STATE_HOME", raising=False)
    assert default_state_path() == tmp_path / ".local" / "state" / "followup" / "state.sqlite3"
    monkeypatch.setenv("XDG_STATE_HOME", "/xdg/state")
    assert default_state_path() == Path("/xdg/state/followup/state.sqlite3")


# ------------------------------------------------------ config.example.toml

# Keys the example shows with a sample value, because they have no default.
NO_DEFAULT = {("templates", "path"), ("detection", "keywords"), ("detection", "languages")}


def commented_keys(text: str) -> list[tuple[str, str, object, int]]:
    """``(section, key, value, line)`` for every ``# key = value`` line.

    The section is the last ``[...]``/``[[...]]`` header above. A value that
    does not parse on its own line continues on the next commented lines
    (for multi-line arrays).
    """
    lines = text.splitlines()
    found, section, i = [], "", 0
    while i < len(lines):
        header = re.fullmatch(r"\[\[?\s*([\w.]+)\s*\]\]?\s*(#.*)?", lines[i].strip())
        if header:
            section = header[1]
        match = re.fullmatch(r"#\s?([A-Za-z_]\w*)\s*=\s*(.*)", lines[i])
        if match:
            value_text, j = match[2], i
            while True:
                try:
                    value = tomllib.loads(f"v = {value_text}")["v"]
                    break
                except tomllib.TOMLDecodeError:
                    j += 1
                    assert j < len(lines) and lines[j].startswith("#"), (
                        f"config.example.toml:{i + 1}: cannot read the value of {match[1]}")
                    value_text += "\n" + lines[j][1:]
            found.append((section, match[1], value, i + 1))
            i = j
        i += 1
    return found


def put(data: dict, section: str, key: str, value) -> dict:
    data = copy.deepcopy(data)
    table = data
    for name in section.split("."):
        table = table.setdefault(name, {})
    table[key] = value
    return data


def test_example_defaults_match_the_settings_defaults(tmp_path, monkeypatch):
    if sys.platform == "darwin":
        monkeypatch.setattr(sys, "platform", "linux")
    monkeypatch.delenv("XDG_STATE_HOME", raising=False)
    shown = commented_keys(EXAMPLE.read_text(encoding="utf-8"))
    baseline = build(tmp_path, MINIMAL)
    checked = set()
    for section, key, value, line in shown:
        if section in ("calendars", "mailboxes") or (section, key) in NO_DEFAULT:
            continue
        assert key in config.KEYS[section], f"line {line}: {section}.{key} is not a key"
        assert build(tmp_path, put(MINIMAL, section, key, value)) == baseline, (
            f"config.example.toml:{line}: {section}.{key} = {value!r} is not the default")
        checked.add((section, key))
    # Every setting that has a default shows it, except the two the example fills in.
    expected = {(s, k) for s, keys in config.KEYS.items() for k in keys
                if s not in ("calendars", "mailboxes")} - NO_DEFAULT
    assert expected - checked == {("me", "name"), ("me", "email")}


def test_example_documents_every_key(tmp_path):
    text = EXAMPLE.read_text(encoding="utf-8")
    data = tomllib.loads(text)
    present = {(s, k) for s, k, _, _ in commented_keys(text)}
    for section, table in data.items():
        tables = table if isinstance(table, list) else [table]
        for name, value in _flatten(section, tables):
            present.add(name)
    for section, keys in config.KEYS.items():
        for key in keys:
            assert (section, key) in present, f"{section}.{key} is not in config.example.toml"


def _flatten(section, tables):
    for table in tables:
        for key, value in table.items():
            if isinstance(value, dict):
                yield from _flatten(f"{section}.{key}", [value])
            else:
                yield (section, key), value


def test_example_loads_with_the_real_connectors(tmp_path):
    calendar = pytest.importorskip("connectors.local.calendar")
    maildir = pytest.importorskip("connectors.local.maildir")
    settings = load(EXAMPLE)
    assert settings.me.email == "alex@example.com"
    (cal,) = settings.calendars
    (mailbox,) = settings.mailboxes
    assert (cal.type, cal.options["path"]) == ("local", "~/calendars/personal")
    assert mailbox.options["drafts"] == "~/Mail/Drafts"
    assert mailbox.options["inbox"] == ["~/Mail/INBOX"]
    # The connectors' commented-out keys are keys they know.
    tables = {"calendars": calendar.LocalCalendar.options, "mailboxes": maildir.MaildirMailbox.options}
    for section, key, _, line in commented_keys(EXAMPLE.read_text(encoding="utf-8")):
        if section in tables:
            assert key in {*config.ACCOUNT_KEYS[section], *tables[section]}, f"line {line}: {key}"
    for section, options in tables.items():
        text = EXAMPLE.read_text(encoding="utf-8")
        for key in options:
            assert re.search(rf"^#?\s*{key}\s*=", text, re.M), f"{section}: {key} not documented"


def test_connector_checks_run_at_load_time_with_the_other_problems(tmp_path):
    path = tmp_path / "config.toml"
    path.write_text("""
[me]
email = "me@example.org"
timezone = "Mars/Olympus"
[[calendars]]
name = "c"
type = "local"
path = "."
[[mailboxes]]
name = "work"
type = "imap"
host = "imap.example.com"
username = "me"
tls = "none"
""")
    with pytest.raises(ConfigError) as info:
        load(path)
    assert any("me.timezone" in p for p in info.value.problems)
    assert any(p.startswith("config.toml: mailboxes[1]:") and "unencrypted" in p for p in info.value.problems)


def test_checking_a_config_of_every_type_loads_no_sdk(tmp_path):
    # A fresh interpreter: a CalDAV user must not pay for the Google SDK, and
    # `followup status` must not pay for any SDK, however many types are set.
    client = "00000000-0000-0000-0000-000000000000"
    data = {
        "me": {"name": "A", "email": "a@example.org", "timezone": "Europe/Berlin"},
        "calendars": [
            {"name": "l", "type": "local", "path": "cal"},
            {"name": "dav", "type": "caldav", "url": "https://dav.example.org/",
             "username": "alex", "calendar": "Personal"},
            {"name": "g", "type": "google"}, {"name": "o", "type": "outlook", "client_id": client}],
        "mailboxes": [
            {"name": "m", "type": "maildir", "drafts": "D", "inbox": ["I"]},
            {"name": "i", "type": "imap", "host": "imap.example.org", "username": "alex"},
            {"name": "gm", "type": "gmail"}, {"name": "om", "type": "outlook", "client_id": client}],
    }
    code = (
        "import json, sys\n"
        "from daemon.app.config import from_dict\n"
        f"s = from_dict(json.loads({json.dumps(json.dumps(data))}), source='c.toml', base_dir='.')\n"
        "assert len(s.calendars) == 4 and len(s.mailboxes) == 4\n"
        "print(' '.join(sorted(sys.modules)))\n")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          cwd=Path(__file__).parents[2], check=True)
    loaded = set(done.stdout.split())
    heavy = {"googleapiclient", "google.auth", "google_auth_oauthlib", "google_auth_httplib2",
             "httplib2", "msal", "imapclient", "requests", "keyring", "icalendar", "urllib3"}
    assert loaded & heavy == set()
    assert "connectors.caldav.calendar" in loaded  # the options were really checked
