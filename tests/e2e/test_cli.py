"""The command line: output shapes, messages for bad input, the demo."""

from __future__ import annotations

import email
import email.policy
import json
import os
import subprocess
import sys
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from daemon.app import cli

from .world import ME, ics_event

NY = ZoneInfo("America/New_York")
START = datetime(2026, 11, 16, 14, 0, tzinfo=NY)
CORPUS = Path(__file__).resolve().parents[2].parent / "shared" / "corpus" / "ics-wild"


def test_plan_json_has_the_documented_shape(world, capsys):
    world.add("a", ics_event("a@x", "Onsite interview — Initech, Product Manager", START,
                             organizer=("Sam Lee", "sam@initech.example"),
                             attendees=[("Sam Lee", "sam@initech.example", "ACCEPTED"), ("Me", ME, "ACCEPTED")],
                             description="We will get back to you by December 4."))
    world.add("b", ics_event("b@x", "Interview prep", START))
    data = world.plan(START - timedelta(days=1), capsys)
    assert set(data) >= {"generated_at", "timezone", "interviews", "ignored"}
    assert data["timezone"] == "America/New_York"
    assert data["generated_at"].endswith("-05:00")
    (iv,) = data["interviews"]
    assert set(iv) >= {"uid", "recurrence_id", "calendar", "title", "start", "end", "company", "position",
                       "interviewers", "process", "decision_by", "matched", "actions"}
    assert iv["company"] == "Initech" and iv["position"] == "Product Manager"
    assert iv["decision_by"] == "2026-12-04" and iv["recurrence_id"] is None
    assert iv["interviewers"] == [{"name": "Sam Lee", "email": "sam@initech.example"}]
    kinds = {a["kind"]: a for a in iv["actions"]}
    assert set(kinds) == {"thank_you_email", "handwritten_note", "follow_up_call", "status_check_email"}
    assert kinds["follow_up_call"]["due"] == "2026-12-07T10:00:00-05:00"  # first business day after Dec 4
    assert kinds["thank_you_email"]["due"] == "2026-11-16T16:00:00-05:00"
    assert all(a["state"] in {"planned", "due", "done", "cancelled", "expired", "skipped"} for a in iv["actions"])
    assert iv["why"] == "'onsite interview' in the title" and iv["language"] == "en"
    assert data["ignored"] == [{"uid": "b@x", "title": "Interview prep", "cause": "other",
                                "reason": "'prep' in the title gives it another meaning"}]


def test_plan_changes_nothing_in_the_calendar_or_mailbox(world, capsys):
    world.add("a", ics_event("a@x", "Interview at Acme", START, organizer=("J", "j@acme.example")))
    world.plan(START + timedelta(days=20), capsys)
    assert world.own_events() == [] and world.drafts_list() == []


def test_a_bad_config_lists_every_problem_without_a_traceback(tmp_path, capsys):
    bad = tmp_path / "config.toml"
    bad.write_text('[me]\ntimezone = "Europe/Berln"\nemail = "x"\n[scan]\ninterval = "often"\n')
    assert cli.main(["--config", str(bad), "plan"]) == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err
    assert "me.timezone" in err and "scan.interval" in err and "calendars" in err


def test_a_missing_config_names_the_file(tmp_path, capsys):
    assert cli.main(["--config", str(tmp_path / "nope.toml"), "status"]) == 2
    assert "nope.toml" in capsys.readouterr().err


def test_bad_now_is_a_clear_message(world, capsys):
    assert cli.main(["--config", str(world.config), "plan", "--now", "yesterday"]) == 2
    assert "--now" in capsys.readouterr().err


@pytest.mark.parametrize("moment", ["0001-01-01T00:00", "9999-12-31T23:00"])
def test_now_far_outside_the_calendar_is_a_clear_message(world, capsys, moment):
    assert cli.main(["--config", str(world.config), "plan", "--now", moment]) == 2
    err = capsys.readouterr().err
    assert "--now" in err and "1971" in err and "Traceback" not in err


def test_plan_into_a_pipe_that_closes_early_ends_quietly(world):
    # "followup plan --json | head": the reader goes away
    world.add("a", ics_event("a@x", "Interview at Acme", START, organizer=("J", "j@acme.example")))
    script = (f"{sys.executable} -m daemon.app.cli --config {world.config} plan --json "
              f"--now {START.isoformat()} | head -c 5")
    done = subprocess.run(["bash", "-o", "pipefail", "-c", script], capture_output=True, text=True,
                          cwd=Path(__file__).resolve().parents[2], timeout=120)
    assert done.stdout == '{\n  "' and "Traceback" not in done.stderr and "Error" not in done.stderr


def test_an_escape_in_an_attendees_address_never_reaches_the_terminal(world, capsys):
    world.add("e", ics_event("e@x", "Interview at Acme", START, organizer=("J", "j@acme.example"),
                             attendees=[("Eve", "eve\x1b[2J@acme.example", "ACCEPTED")]))
    assert world.once(START + timedelta(hours=3)) in (0, 1)
    capsys.readouterr()
    world.run("plan", "--now", (START + timedelta(hours=3)).isoformat())
    world.run("status")
    out = capsys.readouterr().out
    assert "\x1b" not in out


def test_hostile_event_text_stays_text(world, capsys):
    title = "Interview {0.__class__} ${HOME} {{7*7}} =?utf-8?q?x?= \u2028Bcc: evil@x.example - Acme"
    world.add("h", ics_event("h@x", title.replace("\u2028", "\\n"), START,
                             organizer=("Eve\\nBcc: x", "eve@acme.example"),
                             attendees=[("Eve", "eve@acme.example", "ACCEPTED")]))
    assert world.once(START + timedelta(hours=3)) == 0
    (draft,) = world.drafts_list()
    msg = email.message_from_bytes(draft.read_bytes(), policy=email.policy.strict)
    assert sorted(msg.keys()) == sorted(["From", "To", "Subject", "Date", "Message-ID", "MIME-Version",
                                         "X-Followup-Key", "Content-Type", "Content-Transfer-Encoding"])
    assert msg["To"].addresses[0].addr_spec == "eve@acme.example"
    capsys.readouterr()
    world.run("plan")
    out = capsys.readouterr().out
    assert "{0.__class__}" in out and "\x1b" not in out


def test_status_and_check(world, capsys):
    world.add("a", ics_event("a@x", "Interview at Acme", START, organizer=("J", "j@acme.example")))
    world.once(START + timedelta(hours=3))
    capsys.readouterr()
    assert world.run("status") == 0
    out = capsys.readouterr().out
    assert "personal: ok, last pass" in out and "follow-up call" in out
    assert "followup run is not running" in out
    assert world.run("check") == 0
    out = capsys.readouterr().out
    assert "personal: ok" in out and "mail: ok" in out


def test_demo_runs_from_the_installed_command(tmp_path):
    result = subprocess.run([sys.executable, "-m", "daemon.app.cli", "demo", "--dir", str(tmp_path / "d")],
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert "Follow-up events" in result.stdout and "Draft emails" in result.stdout
    assert list((tmp_path / "d" / "calendar").glob("followup-*.ics"))
    assert list((tmp_path / "d" / "Mail" / "Drafts" / "cur").iterdir())
    # the happy path first: thank-yous written, a call placed, a status check
    # withdrawn by a reply; nothing expired
    first = result.stdout.split("\n\n  ", 2)[1]
    assert "thank-you email to jane.doe@acme.example: due" in first
    assert "follow-up call: due" in first and "replied on" in first
    assert "expired" not in result.stdout


@pytest.mark.skipif(not CORPUS.is_dir(), reason="the shared ics-wild corpus is not beside this checkout")
@pytest.mark.parametrize("folder", ["icalendar", "recurring-ical-events"])
def test_the_wild_corpus_plans_without_a_crash(tmp_path, capsys, folder):
    from .world import World

    w = World(tmp_path)
    w.config.write_text(w.config.read_text().replace(
        'path = "calendar"', f'path = "{CORPUS / folder}"\nwrite_to = "calendar"'))
    capsys.readouterr()
    assert w.run("plan", "--now", "2019-03-01T12:00") == 0
    out = capsys.readouterr()
    assert "Traceback" not in out.err + out.out


@pytest.mark.parametrize("name", ["secondly_forever", "never_matches", "minutely_600"])
def test_a_hostile_series_never_stops_the_plan(world, capsys, name):
    fixtures = Path(__file__).parents[1] / "fixtures" / "ics"
    world.add(name, (fixtures / f"recurrence_{name}.ics").read_bytes())
    data = world.plan(datetime(2026, 12, 2, tzinfo=NY), capsys)
    assert [iv["uid"] for iv in data["interviews"]] == ["single@initech.example"]
    said = json.dumps(data)
    assert f"{name}@hostile.example" in said
    assert len(said) < 20_000  # one line for the series, not one per occurrence


def test_verbose_logs_never_carry_control_characters(world, capsys):
    """Regression: -v logged titles and file names raw (an ESC byte reached the terminal)."""
    world.add("evil\x1b[2Jname", b"not a calendar\x1b]0;owned\x07")
    world.add("broken", b"BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:x\r\nBEGIN:VEVENT\r\nUID:b@x\r\n"
                        b"SUMMARY:Phone screen \x1b[31mAcme\\nINFO forged line\r\nEND:VEVENT\r\n"
                        b"END:VCALENDAR\r\n")
    done = subprocess.run([sys.executable, "-m", "daemon.app.cli", "--config", str(world.config), "-v", "run",
                           "--once", "--now", (START + timedelta(hours=3)).isoformat()],
                          capture_output=True, text=True, timeout=120)
    err = done.stderr
    assert "evil" in err and "Phone screen" in err  # the file and the title are named
    assert "\x1b" not in err and "\x07" not in err and "\r" not in err
    assert not any(line.startswith("INFO forged") for line in err.splitlines())


@pytest.mark.parametrize("state_path, said", [
    ("a\\u0000b", "state.path: contains a NUL character"),
    ("config.toml/state.sqlite3", "state.sqlite3"),
    ("/proc/followup/state.sqlite3", "state.sqlite3"),
])
def test_an_unusable_state_path_is_one_message(world, capsys, state_path, said):
    world.config.write_text(world.config.read_text().replace('path = "state.sqlite3"', f'path = "{state_path}"'))
    for command in (["plan"], ["run", "--once"], ["status"]):
        capsys.readouterr()
        code = cli.main(["--config", str(world.config), *command])
        said_all = capsys.readouterr()
        text = said_all.err if code else said_all.out  # status: "no state yet", nothing broken
        assert said in text and len(text.strip().splitlines()) <= 2, (command, text)


def test_a_nul_in_a_connector_option_names_the_key(world, capsys):
    world.config.write_text(world.config.read_text().replace('path = "calendar"', 'path = "cal\\u0000endar"'))
    assert cli.main(["--config", str(world.config), "check"]) == 2
    assert "calendars[1].path: contains a NUL character" in capsys.readouterr().err


def test_a_fifo_as_the_config_file_is_one_message(tmp_path, capsys):
    fifo = tmp_path / "config.toml"
    os.mkfifo(fifo)
    done = subprocess.run([sys.executable, "-m", "daemon.app.cli", "--config", str(fifo), "plan"],
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 2
    assert "not a regular file" in done.stderr and "Traceback" not in done.stderr
