"""The CalDAV + IMAP variant of the demo: a real Radicale and a real
Dovecot, driven through the ``followup`` command (check, run, plan)."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from daemon.app import cli

from .world import ME, ics_event

NY = ZoneInfo("America/New_York")
START = datetime(2026, 11, 16, 14, 0, tzinfo=NY)


def toml_value(value) -> str:
    if isinstance(value, str):
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
    return str(value)


@pytest.fixture
def servers(tmp_path):
    from tests.contract.caldav_harness import RadicaleCalendarHarness
    from tests.contract.imap_harness import DovecotMailboxHarness

    RadicaleCalendarHarness.require()
    DovecotMailboxHarness.require()
    cal, box = RadicaleCalendarHarness(tmp_path / "cal"), DovecotMailboxHarness(tmp_path / "box")
    yield cal, box
    cal.close()
    box.close()


def write_config(tmp_path, cal, box):
    def section(kind, name, type_, options):
        lines = [f"[[{kind}]]", f'name = "{name}"', f'type = "{type_}"']
        lines += [f"{k} = {toml_value(v)}" for k, v in options.items()]
        return "\n".join(lines)

    path = tmp_path / "config.toml"
    path.write_text("\n\n".join([
        f'[me]\nname = "Alex Morgan"\nemail = "{ME}"\ntimezone = "America/New_York"\n',
        f'[state]\npath = "{tmp_path / "state.sqlite3"}"\n',
        section("calendars", "work calendar", "caldav", cal.config()),
        section("mailboxes", "work mail", "imap", box.config()),
    ]) + "\n")
    return path


def test_caldav_and_imap_end_to_end(servers, tmp_path, capsys):
    cal, box = servers
    cal.add_source_event(ics_event("acme@x", "Phone Screen - Acme Corp (Engineer)", START,
                                   organizer=("Jane Doe", "jane@acme.example"),
                                   attendees=[("Jane Doe", "jane@acme.example", "ACCEPTED"),
                                              ("Alex", ME, "ACCEPTED")]))
    config = write_config(tmp_path, cal, box)
    before = cal.source_snapshot()

    assert cli.main(["--config", str(config), "check"]) == 0
    out = capsys.readouterr().out
    assert "work calendar: ok" in out and "work mail: ok" in out

    assert cli.main(["--config", str(config), "run", "--once", "--now", (START + timedelta(hours=3)).isoformat()]) == 0
    assert cli.main(["--config", str(config), "run", "--once", "--now", (START + timedelta(hours=3)).isoformat()]) == 0
    assert box.draft_count() == 1
    assert cal.own_count() == 1  # the call event
    assert cal.source_snapshot() == before

    # the company answers: the status check is never drafted
    box.deliver(b"From: Jane Doe <jane@acme.example>\r\nTo: " + ME.encode() +
                b"\r\nSubject: Re: thanks\r\nDate: Wed, 18 Nov 2026 10:00:00 -0500\r\n"
                b"Message-ID: <r1@acme.example>\r\n\r\nThank you!\r\n")
    assert cli.main(["--config", str(config), "run", "--once", "--now", (START + timedelta(days=20)).isoformat()]) == 0
    assert box.draft_count() == 1
    capsys.readouterr()
    assert cli.main(["--config", str(config), "plan", "--json", "--now", (START + timedelta(days=20)).isoformat()]) == 0
    assert '"reason": "jane@acme.example replied on 2026-11-18 (an interviewer)' in capsys.readouterr().out


def test_a_wrong_password_is_reported_and_the_other_account_keeps_working(servers, tmp_path, capsys):
    cal, box = servers
    cal.add_source_event(ics_event("acme@x", "Interview at Acme", START, organizer=("Jane", "jane@acme.example")))
    config = write_config(tmp_path, cal, box)
    config.write_text(config.read_text().replace(box.config()["password_command"], "echo wrong"))
    assert cli.main(["--config", str(config), "check"]) == 1
    out = capsys.readouterr().out
    assert "work calendar: ok" in out and "work mail: FAILED" in out
    assert cli.main(["--config", str(config), "run", "--once", "--now", (START + timedelta(hours=3)).isoformat()]) == 1
    assert "work mail: reconnect needed" in capsys.readouterr().err
    assert cal.own_count() == 1 and box.draft_count() == 0


def test_no_password_reaches_the_log(servers, tmp_path, capsys, caplog):
    import logging

    cal, box = servers
    cal.add_source_event(ics_event("acme@x", "Interview at Acme", START, organizer=("Jane", "jane@acme.example")))
    config = write_config(tmp_path, cal, box)
    with caplog.at_level(logging.DEBUG):
        assert cli.main(["--config", str(config), "-v", "run", "--once",
                         "--now", (START + timedelta(hours=3)).isoformat()]) == 0
        assert cli.main(["--config", str(config), "-v", "check"]) == 0
    out = capsys.readouterr()
    everything = caplog.text + out.out + out.err
    loggers = {r.name.split(".")[0] for r in caplog.records}
    assert {"imapclient", "caldav"} & loggers  # the libraries logged their traffic
    for secret in (cal.password, box.account.password):
        assert secret not in everything
