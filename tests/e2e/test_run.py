"""Whole passes through the ``followup`` command on a local calendar folder
and Maildir: what lands where, and what the daemon leaves alone."""

from __future__ import annotations

import email
import email.policy
import os
import sqlite3
import stat
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from daemon.errors import TransientError

from .world import ME, ics_event

NY = ZoneInfo("America/New_York")
START = datetime(2026, 11, 16, 14, 0, tzinfo=NY)  # a Monday
JANE = ("Jane Doe", "jane@acme.example")


def acme(world, start=START, status="", description="", uid="acme-1@example.org", name="acme"):
    return world.add(name, ics_event(
        uid, "Phone Screen - Acme Corp (Backend Engineer)", start, organizer=JANE,
        attendees=[(*JANE, "ACCEPTED"), ("Alex Morgan", ME, "ACCEPTED")],
        description=description, status=status))


def reply(world, name, sender, when, headers=""):
    world.deliver(name, (
        f"From: {sender}\r\nTo: {ME}\r\nSubject: Re: interview\r\n"
        f"Date: {when.strftime('%a, %d %b %Y %H:%M:%S %z')}\r\n{headers}\r\nThanks!\r\n").encode())


def states(world) -> dict[str, str]:
    db = sqlite3.connect(world.root / "state.sqlite3")
    try:
        return {kind: state for kind, state in db.execute("SELECT kind, state FROM actions")}
    finally:
        db.close()


def test_follow_ups_land_in_the_calendar_and_drafts(world):
    acme(world)
    before = world.snapshot()
    assert world.once(START + timedelta(minutes=90)) == 0
    (call,) = world.own_events()
    assert b"X-FOLLOWUP-KEY" in call.read_bytes() and b"DTSTART:20261123T150000Z" in call.read_bytes()
    assert world.drafts_list() == []  # the thank-you is due at 16:00
    assert world.once(START + timedelta(hours=2, minutes=5)) == 0
    (draft,) = world.drafts_list()
    assert draft.name.endswith(":2,D")
    msg = email.message_from_bytes(draft.read_bytes(), policy=email.policy.strict)
    assert msg["To"] == "Jane Doe <jane@acme.example>" and msg["X-Followup-Key"]
    assert "[specific topic you discussed]" in msg.get_content()
    assert world.snapshot() == before  # source events and other mail untouched


def test_running_twice_at_the_same_moment_changes_nothing(world):
    acme(world)
    now = START + timedelta(days=1)
    world.once(now)
    files = {p: p.read_bytes() for p in [*world.own_events(), *world.drafts_list()]}
    db = sqlite3.connect(world.root / "state.sqlite3")
    rows = list(db.execute("SELECT key, state, ref, etag, updated_at FROM actions ORDER BY key"))
    db.close()
    world.once(now)
    assert {p: p.read_bytes() for p in [*world.own_events(), *world.drafts_list()]} == files
    db = sqlite3.connect(world.root / "state.sqlite3")
    assert list(db.execute("SELECT key, state, ref, etag, updated_at FROM actions ORDER BY key")) == rows
    db.close()


def test_a_call_event_the_user_moved_stays_where_the_user_put_it(world):
    acme(world)
    world.once(START + timedelta(hours=2))
    (call,) = world.own_events()
    moved = call.read_bytes().replace(b"DTSTART:20261123T150000Z", b"DTSTART:20261124T170000Z")
    call.write_bytes(moved)
    # the interview is rescheduled: the daemon would move its own call, but not the user's
    acme(world, start=START + timedelta(days=1))
    world.once(START + timedelta(days=1, hours=4))
    assert call.read_bytes() == moved
    assert "changed by you" in open_status(world)


def test_plan_and_status_show_the_call_where_the_user_put_it_and_the_company_as_written(world, capsys):
    acme(world)
    world.once(START + timedelta(hours=2))
    (call,) = world.own_events()
    call.write_bytes(call.read_bytes().replace(b"DTSTART:20261123T150000Z", b"DTSTART:20261124T170000Z")
                     .replace(b"DTEND:20261123T151500Z", b"DTEND:20261124T171500Z"))
    acme(world, start=START + timedelta(days=1))  # rescheduled: the move is noticed
    world.once(START + timedelta(days=1, hours=4))
    capsys.readouterr()
    world.run("plan", "--now", (START + timedelta(days=1, hours=5)).isoformat())
    plan = capsys.readouterr().out
    assert "follow-up call: done, Tue 2026-11-24 12:00" in plan  # 17:00 UTC, where the user put it
    world.run("status")
    status = capsys.readouterr().out
    assert "Acme Corp / Backend Engineer" in status and "acme corp / backend engineer" not in status
    assert not [line for line in status.splitlines() if line.rstrip() != line]


def open_status(world) -> str:
    db = sqlite3.connect(world.root / "state.sqlite3")
    try:
        return " ".join(r for (r,) in db.execute("SELECT reason FROM actions"))
    finally:
        db.close()


def test_rescheduled_interview_moves_the_daemons_own_call(world):
    acme(world)
    world.once(START + timedelta(hours=2))
    acme(world, description="We will make a decision within two weeks.")
    world.once(START + timedelta(hours=3))
    (call,) = world.own_events()
    assert b"DTSTART:20261201T150000Z" in call.read_bytes()  # first business day after 11-30


def test_what_the_user_deleted_is_never_recreated(world):
    acme(world)
    world.once(START + timedelta(hours=3))
    for path in [*world.own_events(), *world.drafts_list()]:
        path.unlink()
    for days in (0, 1, 8, 20):
        world.once(START + timedelta(hours=3, days=days))
    assert world.own_events() == []
    assert [p for p in world.drafts_list() if b"Subject: Thank you for the interview" in p.read_bytes()] == []


def test_a_reply_cancels_the_status_check(world):
    acme(world)
    world.once(START + timedelta(hours=3))
    reply(world, "r1", "Jane Doe <jane@acme.example>", START + timedelta(days=2))
    world.once(START + timedelta(days=15))  # past the status check's due time (11-30 09:00)
    assert len(world.drafts_list()) == 1  # only the thank-you
    assert states(world)["status_check_email"] == "cancelled"


def test_anyone_at_the_company_domain_counts(world):
    acme(world)
    world.once(START + timedelta(hours=3))
    reply(world, "r1", "HR <people@mail.acme.example>", START + timedelta(days=2))
    world.once(START + timedelta(days=15))
    assert states(world)["status_check_email"] == "cancelled"


@pytest.mark.parametrize("header", [
    "Auto-Submitted: auto-replied\r\n", "X-Autoreply: yes\r\n", "X-Autorespond: yes\r\n",
    "Precedence: auto_reply\r\n",
])
def test_an_auto_reply_does_not_count(world, header):
    acme(world)
    world.once(START + timedelta(hours=3))
    reply(world, "r1", "jane@acme.example", START + timedelta(days=2), header)
    world.once(START + timedelta(days=15))
    assert states(world)["status_check_email"] == "done"
    assert len(world.drafts_list()) == 2


def test_a_reply_after_the_status_check_was_drafted_deletes_the_unchanged_draft(world):
    acme(world)
    world.once(START + timedelta(hours=3))
    world.once(START + timedelta(days=14, hours=20))  # 11-30 10:00: status check drafted
    status = [p for p in world.drafts_list() if b"Checking in" in p.read_bytes()]
    assert len(status) == 1
    reply(world, "r1", "jane@acme.example", START + timedelta(days=15))
    world.once(START + timedelta(days=15, hours=1))
    assert not status[0].exists()
    assert states(world)["status_check_email"] == "cancelled"


def test_a_status_check_draft_the_user_edited_is_kept_after_a_reply(world):
    acme(world)
    world.once(START + timedelta(hours=3))
    world.once(START + timedelta(days=14, hours=20))
    (status,) = [p for p in world.drafts_list() if b"Checking in" in p.read_bytes()]
    status.write_bytes(status.read_bytes() + b"P.S. my own words\r\n")
    reply(world, "r1", "jane@acme.example", START + timedelta(days=15))
    world.once(START + timedelta(days=15, hours=1))
    assert status.exists() and status.read_bytes().endswith(b"my own words\r\n")


@pytest.mark.parametrize("extra", [
    "",  # no keyword left anywhere: the file is not even parsed
    "DESCRIPTION:my phone has a cracked screen",  # parsed, but no keyword matches
])
def test_an_interview_retitled_into_something_else_is_no_longer_followed_up(world, capsys, extra):
    # Regression: the incremental scan replaced only the UIDs that still
    # matched, so the old title stayed cached and the status check went on.
    acme(world)
    world.once(START + timedelta(hours=3))
    world.add("acme", ics_event("acme-1@example.org", "Lunch with Jane", START, organizer=JANE,
                                attendees=[(*JANE, "ACCEPTED"), ("Alex Morgan", ME, "ACCEPTED")],
                                extra=extra))
    # the same day, so the scan is incremental (a new day's window is read whole)
    assert world.plan(START + timedelta(hours=4), capsys)["interviews"] == []
    later = START + timedelta(days=25)  # the status check would be due
    plan = world.plan(later, capsys)
    assert plan["interviews"] == []
    status_check = [o for o in plan["other_followups"] if o["kind"] == "status_check_email"]
    assert status_check[0]["reason"].startswith("on hold")
    world.once(later)
    assert len(world.drafts_list()) == 1  # the thank-you only: no status check
    assert len(world.own_events()) == 1  # the call written before is left alone


def test_a_cancelled_interview_removes_the_unchanged_call_event(world):
    acme(world)
    world.once(START + timedelta(hours=3))
    assert len(world.own_events()) == 1
    acme(world, status="CANCELLED")
    world.once(START + timedelta(hours=4))
    assert world.own_events() == []
    assert states(world)["follow_up_call"] == "cancelled"
    assert len(world.drafts_list()) == 1  # the thank-you draft stays


def test_a_later_round_moves_the_call_to_the_later_round(world):
    acme(world)
    world.once(START + timedelta(hours=3))
    (first_call,) = world.own_events()
    world.add("acme2", ics_event("acme-2@example.org", "Onsite - Acme Corp (Backend Engineer)",
                                 START + timedelta(days=3), organizer=JANE,
                                 attendees=[(*JANE, "ACCEPTED"), ("Alex", ME, "ACCEPTED")]))
    world.once(START + timedelta(days=3, hours=3))
    (second_call,) = world.own_events()
    assert second_call != first_call and not first_call.exists()
    assert b"DTSTART:20261126" not in second_call.read_bytes()  # Thanksgiving skipped
    assert b"DTSTART:20261127T150000Z" in second_call.read_bytes()


def test_a_calendar_that_suddenly_reads_empty_stops_that_account(world, capsys):
    for i in range(4):
        acme(world, start=START + timedelta(days=i), uid=f"a{i}@x", name=f"a{i}")
    world.once(START + timedelta(days=4))
    events = world.own_events()
    assert events
    for p in world.cal.glob("a*.ics"):
        p.unlink()
    capsys.readouterr()
    assert world.once(START + timedelta(days=4, hours=1)) == 1
    assert "reads as empty" in capsys.readouterr().err
    assert world.own_events() == events  # nothing withdrawn


def test_a_lost_state_database_adopts_what_exists(world):
    acme(world)
    world.once(START + timedelta(hours=3))
    files = sorted(p.name for p in [*world.own_events(), *world.drafts_list()])
    for p in world.root.glob("state.sqlite3*"):
        p.unlink()
    world.once(START + timedelta(hours=3))
    assert sorted(p.name for p in [*world.own_events(), *world.drafts_list()]) == files


def test_a_write_that_happened_before_a_dropped_connection_is_not_repeated(world, monkeypatch):
    from connectors.local.calendar import LocalCalendar

    real = LocalCalendar.create_event

    def dropped_after_write(self, event):
        real(self, event)
        raise TransientError("connection reset")

    acme(world)
    monkeypatch.setattr(LocalCalendar, "create_event", dropped_after_write)
    assert world.once(START + timedelta(hours=3)) == 1
    monkeypatch.setattr(LocalCalendar, "create_event", real)
    assert states(world)["follow_up_call"] == "pending"
    assert world.once(START + timedelta(hours=3)) == 0
    assert len(world.own_events()) == 1
    assert states(world)["follow_up_call"] == "done"


def test_one_broken_account_does_not_stop_the_others(world):
    acme(world)
    world.config.write_text(world.config.read_text() + """
[[calendars]]
name = "gone"
type = "local"
path = "no-such-folder"
mailbox = "mail"
""")
    assert world.once(START + timedelta(hours=3)) == 1
    assert len(world.own_events()) == 1 and len(world.drafts_list()) == 1


def test_an_unchanged_calendar_is_not_parsed_again(world, monkeypatch):
    import connectors.local.calendar as local

    acme(world)
    world.add("other", ics_event("o@x", "Dentist", START))
    world.once(START + timedelta(hours=3))
    calls = []
    real = local.parse_ics
    monkeypatch.setattr(local, "parse_ics", lambda *a, **kw: calls.append(a[1]) or real(*a, **kw))
    world.once(START + timedelta(hours=3, minutes=30))
    assert calls == []
    world.add("other", ics_event("o@x", "Dentist (moved)", START + timedelta(days=1)))
    world.once(START + timedelta(hours=4))  # same UTC day: the same window
    assert calls == []  # changed, but no keyword in it: not parsed at all
    acme(world, description="Bring the portfolio")
    world.once(START + timedelta(hours=4, minutes=10))
    assert [c.rsplit("/", 1)[-1] for c in calls] == ["acme.ics"]


def test_one_reply_search_per_mailbox_covers_every_company(world, monkeypatch):
    from connectors.local.maildir import MaildirMailbox

    acme(world)
    world.add("initech", ics_event("i@x", "Interview - Initech", START, organizer=("Sam", "sam@initech.example")))
    searches = []
    real = MaildirMailbox.find_replies
    monkeypatch.setattr(MaildirMailbox, "find_replies",
                        lambda self, *args: searches.append(args) or real(self, *args))
    reply(world, "r1", "Sam <sam@initech.example>", START + timedelta(days=2))
    world.once(START + timedelta(days=15))
    assert len(searches) == 1
    assert set(searches[0][0].senders) >= {"jane@acme.example", "sam@initech.example",
                                           "acme.example", "initech.example"}
    db = sqlite3.connect(world.root / "state.sqlite3")
    status = dict(db.execute("SELECT process, state FROM actions WHERE kind='status_check_email'"))
    db.close()
    assert sorted(status.values()) == ["cancelled", "done"]  # only Initech replied


def test_a_calendar_file_whose_name_is_not_utf8_is_read_and_stored(world, capsys):
    # the name comes back from the file system as surrogates; storing the
    # event that names its source stopped every pass (UnicodeEncodeError)
    name = os.fsdecode(b"interview-\xff.ics")
    (world.cal / name).write_bytes(ics_event("odd@x", "Interview at Acme", START,
                                             organizer=("Jane", "jane@acme.example")))
    assert world.once(START + timedelta(hours=3)) == 0
    assert world.once(START + timedelta(hours=4)) == 0  # read back from the cache
    data = world.plan(START + timedelta(hours=4), capsys)
    assert [i["uid"] for i in data["interviews"]] == ["odd@x"]


def rename_in_config(world, pairs):
    text = world.config.read_text()
    for old, new, *count in pairs:  # count: only the first ones
        text = text.replace(f'name = "{old}"', f'name = "{new}"', *count)
    world.config.write_text(text)


@pytest.mark.parametrize("mailbox_name, renames, calendars, targets", [
    ("mail", [("personal", "work"), ("mail", "gmail")], {"work"}, {"work", "gmail"}),
    # a calendar and a mailbox of one name, and only the calendar renamed
    ("personal", [("personal", "work", 1)], {"work"}, {"work", "personal"}),
])
def test_renaming_the_calendar_and_mailbox_writes_nothing_twice(world, capsys, mailbox_name, renames,
                                                                calendars, targets):
    """Regression: a rename wrote every follow-up again, then each pass failed with a KeyError."""
    world.config.write_text(world.config.read_text().replace('name = "mail"', f'name = "{mailbox_name}"'))
    acme(world)
    assert world.once(START + timedelta(hours=2, minutes=5)) == 0
    assert len(world.own_events()) == 1 and len(world.drafts_list()) == 1
    rename_in_config(world, renames)
    for hours in (3, 30, 24 * 16):  # through the call and the status check
        assert world.once(START + timedelta(hours=hours)) == 0
    assert len(world.own_events()) == 1
    kinds = {d.name: email.message_from_bytes(d.read_bytes())["Subject"] for d in world.drafts_list()}
    assert len(kinds) == 2  # the thank-you, and the status check once it came due
    db = sqlite3.connect(world.root / "state.sqlite3")
    try:
        assert {row[0] for row in db.execute("SELECT calendar FROM actions")} == calendars
        assert {row[0] for row in db.execute("SELECT target FROM actions")} == targets
    finally:
        db.close()
    capsys.readouterr()
    assert world.run("status") == 0
    out = capsys.readouterr().out
    assert "no longer in the config" not in out and "KeyError" not in out


def test_an_account_gone_from_the_config_is_one_clear_message(world, capsys):
    acme(world)
    assert world.once(START + timedelta(hours=2, minutes=5)) == 0
    text = world.config.read_text().replace('path = "calendar"', 'path = "other-calendar"')
    world.config.write_text(text.replace('name = "personal"', 'name = "work"'))
    (world.root / "other-calendar").mkdir()
    assert world.once(START + timedelta(hours=30)) == 0
    capsys.readouterr()
    world.run("status")
    out = capsys.readouterr().out
    assert "personal" in out and "no longer in the config" in out
    assert len(world.own_events()) == 1 and len(world.drafts_list()) == 1  # left as they are


def test_a_symlink_at_the_lock_file_is_never_followed(world, capsys):
    """Regression: run and even status truncated the file a symlink at the lock path pointed to."""
    acme(world)
    precious = world.root / "precious.txt"
    precious.write_text("my notes\n")
    (world.root / "state.sqlite3.lock").symlink_to(precious)
    assert world.once(START + timedelta(hours=3)) == 1
    assert "is a symbolic link" in capsys.readouterr().err
    world.run("status")
    assert precious.read_text() == "my notes\n"


def test_the_state_database_and_its_journal_are_private(world):
    acme(world)
    assert world.once(START + timedelta(hours=3)) == 0
    files = [p for p in world.root.iterdir() if p.name.startswith("state.sqlite3")]
    assert {p.name for p in files} >= {"state.sqlite3", "state.sqlite3.lock"}
    for path in files:
        assert stat.S_IMODE(path.stat().st_mode) == 0o600, path.name


def test_an_old_state_database_open_to_others_is_made_private(world):
    acme(world)
    assert world.once(START + timedelta(hours=3)) == 0
    os.chmod(world.root / "state.sqlite3", 0o644)
    assert world.once(START + timedelta(hours=4)) == 0
    assert stat.S_IMODE((world.root / "state.sqlite3").stat().st_mode) == 0o600


def test_a_preview_far_ahead_never_changes_what_status_reports(world, capsys):
    """Regression: 'plan --now' years ahead tripped the empty-calendar brake and stored its error."""
    for n in range(3):
        acme(world, start=START + timedelta(days=n), uid=f"acme-{n}@example.org", name=f"acme{n}")
    assert world.once(START - timedelta(days=1)) == 0
    capsys.readouterr()
    world.run("status")
    before = capsys.readouterr().out
    far = START + timedelta(days=3 * 365)
    assert world.run("plan", "--now", far.isoformat()) == 0
    assert "now reads as empty" in capsys.readouterr().out  # the preview says so
    world.run("status")
    assert capsys.readouterr().out == before


def damage(path):
    data = bytearray(path.read_bytes())
    data[100:4096] = b"\xde\xad\xbe\xef" * ((4096 - 100) // 4)  # the schema page
    path.write_bytes(bytes(data))


@pytest.mark.parametrize("trouble, said", [
    ("garbage", "it is damaged: move it aside"),
    ("page", "it is damaged: move it aside"),
    ("locked", "another program holds it"),
])
def test_an_unusable_state_database_is_one_message_in_every_command(world, capsys, monkeypatch, trouble, said):
    """Regression: a locked or page-corrupted database gave tracebacks in run, status and plan."""
    from daemon.store import state

    monkeypatch.setattr(state, "BUSY_TIMEOUT_MS", 50)
    acme(world)
    assert world.once(START + timedelta(hours=3)) == 0
    path = world.root / "state.sqlite3"
    holder = None
    if trouble == "garbage":
        path.write_bytes(b"this is not a database at all" * 200)
    elif trouble == "page":
        damage(path)
    else:
        holder = sqlite3.connect(path, isolation_level=None)
        holder.execute("BEGIN EXCLUSIVE")
    try:
        for command in (["run", "--once", "--now", (START + timedelta(hours=4)).isoformat()],
                        ["plan"], ["status"]):
            capsys.readouterr()
            assert world.run(*command) == 1, command
            err = capsys.readouterr().err
            assert said in err and str(path) in err, (command, err)
            assert len(err.strip().splitlines()) == 1, err
    finally:
        if holder is not None:
            holder.rollback()



def test_a_full_disk_is_named_as_such(tmp_path):
    from daemon.errors import StateError
    from daemon.plan.records import Record
    from daemon.store.state import State

    db = State(tmp_path / "state.sqlite3")
    db.db.execute("PRAGMA journal_mode=DELETE")
    pages = db.db.execute("PRAGMA page_count").fetchone()[0]
    db.db.execute(f"PRAGMA max_page_count={pages}")  # what a full disk does to a write
    with pytest.raises(StateError, match="the disk is full: free some space"):
        for n in range(1000):
            db.put(Record(key=f"k{n}", kind="thank_you_email", calendar="c", target="m", interview="i",
                          process="p", due=START, state="planned", reason="x" * 200), START)
    db.close()


def status_of(world, capsys) -> str:
    capsys.readouterr()
    world.run("status")
    return capsys.readouterr().out


def test_a_draft_that_cannot_be_written_shows_in_status(world, capsys):
    """Regression: only a log line, while status said "ok"."""
    acme(world)
    drafts_cur = world.drafts / "cur"
    drafts_cur.rmdir()
    drafts_cur.write_text("not a folder")  # as good as a Drafts folder that cannot be written
    assert world.once(START + timedelta(hours=2, minutes=5)) == 1
    out = status_of(world, capsys)
    assert "mail: failing" in out or "mail: error" in out
    assert "could not write the thank-you email due 2026-11-16 16:00" in out
    drafts_cur.unlink()
    drafts_cur.mkdir()
    assert world.once(START + timedelta(hours=2, minutes=10)) == 0
    assert "could not write" not in status_of(world, capsys) and len(world.drafts_list()) == 1


def test_an_unreadable_inbox_shows_in_status_while_the_status_check_waits(world, capsys, monkeypatch):
    """Regression: an unreadable inbox held the status check forever, silently."""
    import connectors.local.maildir as maildir

    acme(world)
    assert world.once(START + timedelta(hours=2, minutes=5)) == 0
    real = os.scandir

    def scandir(path):
        if str(world.inbox) in str(path):  # chmod 000 INBOX/cur, as root cannot be refused
            raise PermissionError(13, "Permission denied", str(path))
        return real(path)

    monkeypatch.setattr(maildir.os, "scandir", scandir)
    assert world.once(START + timedelta(days=17)) == 1
    out = status_of(world, capsys)
    (line,) = [x for x in out.splitlines() if x.strip().startswith("mail:")]
    assert "error" in line and "cannot search for replies: Permission denied" in line
    assert len(world.drafts_list()) == 1  # no status check while an answer may be there


def test_status_shows_each_hiring_process_at_a_glance(world, capsys):
    acme(world)
    assert world.once(START + timedelta(hours=2, minutes=5)) == 0
    status = status_of(world, capsys)
    (line,) = [x for x in status.splitlines() if x.startswith("  Acme Corp / Backend Engineer:")]
    # (status compares with the real clock: these 2026 follow-ups are all past now)
    assert line.startswith("  Acme Corp / Backend Engineer: 1 round · last: ")
    assert "the company answered" not in line
    reply(world, "answer", "Jane Doe <jane@acme.example>", START + timedelta(days=2))
    assert world.once(START + timedelta(days=3)) == 0
    (line,) = [x for x in status_of(world, capsys).splitlines()
               if x.startswith("  Acme Corp / Backend Engineer:")]
    assert "the company answered" in line


def test_after_state_loss_a_moved_call_is_taken_back_as_the_users(world):
    """Adoption is what keeps this: without it the call is recorded as the
    daemon's, and the next move of the interview moves the user's call too."""
    acme(world)
    assert world.once(START + timedelta(hours=2)) == 0
    (call,) = world.own_events()
    moved = call.read_bytes().replace(b"DTSTART:20261123T150000Z", b"DTSTART:20261124T170000Z").replace(
        b"DTEND:20261123T151500Z", b"DTEND:20261124T171500Z")
    call.write_bytes(moved)
    for path in world.root.glob("state.sqlite3*"):
        path.unlink()
    assert world.once(START + timedelta(hours=3)) == 0
    acme(world, start=START + timedelta(days=1))  # then the interview is rescheduled
    assert world.once(START + timedelta(days=1, hours=3)) == 0
    assert call.read_bytes() == moved


def test_what_cannot_be_read_is_named_in_status_and_logged_once(world, capsys, caplog):
    import logging

    caplog.set_level(logging.WARNING, "followup")
    acme(world)
    (world.cal / "broken.ics").write_bytes(b"BEGIN:VCALENDAR\r\nBEGIN:VEVENT\r\nUID:broken@x\r\n"
                                          b"SUMMARY:Interview\r\nDTSTART:not a date\r\nEND:VEVENT\r\n"
                                          b"END:VCALENDAR\r\n")
    world.once(START + timedelta(hours=2, minutes=5))
    world.once(START + timedelta(hours=2, minutes=10))
    out = capsys.readouterr().out
    assert "1 unreadable items\n  could not read " in out and "broken.ics" in out  # run --once names it
    assert sum("could not read" in r.getMessage() for r in caplog.records) == 1  # the log says it once
    world.run("status")  # the second pass did not read the unchanged file again: still listed
    status = capsys.readouterr().out
    assert "Could not be read (1)" in status and "broken.ics" in status
    (world.cal / "broken.ics").unlink()  # gone: its UID is removed, and so is its entry
    world.once(START + timedelta(hours=2, minutes=15))
    world.run("status")
    assert "Could not be read" not in capsys.readouterr().out
