"""The state database and the executor's recovery after a crash, on the
real local calendar and Maildir connectors."""

from __future__ import annotations

import sqlite3
from dataclasses import replace
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from connectors.local.calendar import LocalCalendar
from connectors.local.maildir import MaildirMailbox
from daemon.app.executor import Executor
from daemon.connector import Context
from daemon.errors import ConfigError
from daemon.model import Attendee, CalendarEvent, FollowupEvent
from daemon.plan.keys import content_hash
from daemon.plan.planner import Record
from daemon.store.state import SCHEMA_VERSION, State, event_from_json, event_to_json

NOW = datetime(2026, 11, 20, 12, tzinfo=timezone.utc)


def record(key="k1", kind="follow_up_call", target="cal", **kw):
    base = dict(key=key, kind=kind, calendar="cal", target=target, interview="cal\x1fu\x1f", process="p",
                due=NOW, state="planned")
    base.update(kw)
    return Record(**base)


def test_records_round_trip(tmp_path):
    st = State(tmp_path / "s.db")
    rec = record(user_changed=True, ref="r", etag="e", reason="x\ny")
    st.put(rec, NOW)
    st.close()
    st = State(tmp_path / "s.db")
    assert st.records() == {"k1": rec}
    assert not st.created


def test_state_uses_wal_and_full_sync(tmp_path):
    st = State(tmp_path / "s.db")
    assert st.db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert st.db.execute("PRAGMA synchronous").fetchone()[0] == 2  # FULL
    assert st.db.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION


def test_a_newer_schema_is_refused_with_a_message(tmp_path):
    db = sqlite3.connect(tmp_path / "s.db")
    db.execute("PRAGMA user_version=99")
    db.close()
    with pytest.raises(ConfigError, match="newer version"):
        State(tmp_path / "s.db")


def test_an_unusable_state_path_is_a_config_error(tmp_path):
    (tmp_path / "file").write_text("x")
    with pytest.raises(ConfigError, match="state database"):
        State(tmp_path / "file" / "s.db")


def test_events_round_trip():
    ev = CalendarEvent(uid="u", start=NOW, end=NOW + timedelta(hours=1), title="Ïnterview",
                       recurrence_id=NOW, organizer=Attendee("a@x", "A"),
                       attendees=(Attendee("b@x", "B", "DECLINED", "ROOM"),), warnings=("w",))
    assert event_from_json(event_to_json(ev)) == ev


def test_scan_cache_keeps_events_before_the_window(tmp_path):
    st = State(tmp_path / "s.db")
    old = CalendarEvent(uid="old", start=NOW - timedelta(days=40), end=NOW - timedelta(days=40))
    new = CalendarEvent(uid="new", start=NOW, end=NOW)
    st.store_scan("cal", [old, new], full=True, removed_uids=(), window_start=NOW - timedelta(days=60),
                  token="t1", total=2, now=NOW)
    st.store_scan("cal", [], full=True, removed_uids=(), window_start=NOW - timedelta(days=30),
                  token="t2", total=0, now=NOW)
    assert [e.uid for e in st.cached_events("cal")] == ["old"]
    st.store_scan("cal", [], full=False, removed_uids={"old"}, window_start=NOW, token="t3", total=None, now=NOW)
    assert st.cached_events("cal") == [] and st.sync_info("cal") == ("t3", 0)


@pytest.fixture
def parts(tmp_path: Path):
    (tmp_path / "cal").mkdir()
    ctx = Context(base_dir=tmp_path, state_dir=tmp_path)
    cal = LocalCalendar("cal", {"path": "cal"}, ctx)
    box = MaildirMailbox("mail", {"drafts": "Drafts"}, ctx)
    st = State(tmp_path / "s.db")
    failures = []
    ex = Executor(st, {"cal": cal}, {"mail": box}, NOW, lambda name, exc: failures.append((name, exc)))
    return cal, box, st, ex


def followup(key="k1", hour=10):
    start = datetime(2026, 11, 23, hour, tzinfo=timezone.utc)
    return FollowupEvent(key=key, title="Follow-up call", description="d", start=start,
                         end=start + timedelta(minutes=15))


def test_pending_create_that_reached_the_calendar_becomes_done(parts):
    cal, _, st, ex = parts
    item = cal.create_event(followup())
    st.put(record(state="pending", pending_op="create"), NOW)
    ex.reconcile(st.records().values())
    rec = st.records()["k1"]
    assert (rec.state, rec.ref, rec.etag) == ("done", item.ref, item.etag)
    assert len(cal.list_own()) == 1


def test_pending_create_that_never_arrived_is_planned_again(parts):
    _, _, st, ex = parts
    st.put(record(state="pending", pending_op="create"), NOW)
    ex.reconcile(st.records().values())
    assert st.records()["k1"].state == "planned"


def test_pending_update_is_resolved_by_what_the_calendar_shows(parts):
    cal, _, st, ex = parts
    old = cal.create_event(followup())
    new_event = followup(hour=15)
    new_hash = content_hash(new_event.title, new_event.start, new_event.end)
    # the update happened, then the process died
    new = cal.update_event(old, new_event)
    st.put(record(state="pending", pending_op="update", ref=old.ref, etag=old.etag, content_hash=new_hash), NOW)
    ex.reconcile(st.records().values())
    assert st.records()["k1"].state == "done" and st.records()["k1"].etag == new.etag
    # the update never happened: done with no hash, so the planner asks again
    st.put(record(state="pending", pending_op="update", ref=new.ref, etag=new.etag, content_hash="other"), NOW)
    ex.reconcile(st.records().values())
    assert st.records()["k1"].content_hash is None and not st.records()["k1"].user_changed


def test_pending_delete_resolved(parts):
    cal, _, st, ex = parts
    item = cal.create_event(followup())
    st.put(record(state="pending", pending_op="delete", ref=item.ref, etag=item.etag, reason="cancelled"), NOW)
    ex.reconcile(st.records().values())
    assert st.records()["k1"].state == "done"  # still there: the planner decides again
    cal.delete_event(item)
    st.put(record(state="pending", pending_op="delete", ref=item.ref, etag=item.etag), NOW)
    ex.reconcile(st.records().values())
    assert st.records()["k1"].state == "cancelled" and st.records()["k1"].ref is None


def test_an_update_of_an_item_the_user_edited_leaves_it_alone(parts):
    from daemon.plan.planner import Action

    cal, _, st, ex = parts
    item = cal.create_event(followup())
    done = record(state="done", ref=item.ref, etag=item.etag)
    st.put(done, NOW)
    cal.update_event(item, followup(hour=18))  # stands in for the user's edit
    ex.apply([Action("update_event", replace(done, content_hash="x"), previous=done, event=followup(hour=11))])
    rec = st.records()["k1"]
    assert rec.user_changed and rec.state == "done" and "changed by you" in rec.reason
    assert cal.find_own("k1").start.hour == 18


def test_a_version_2_database_keeps_its_sync_tokens(tmp_path):
    db = sqlite3.connect(tmp_path / "s.db")
    db.executescript("""
        CREATE TABLE sync (account TEXT PRIMARY KEY, token TEXT, total INTEGER, scanned_at TEXT);
        INSERT INTO sync VALUES ('cal', 'tok-1', 7, '2026-11-01T00:00:00+00:00');
        INSERT INTO sync VALUES ('other', NULL, 0, '2026-11-01T00:00:00+00:00');
        PRAGMA user_version=2;
    """)
    db.close()
    st = State(tmp_path / "s.db")
    assert st.sync_info("cal") == ("tok-1", 7) and st.sync_info("other") == (None, 0)
    st.forget_token("cal")
    assert st.sync_info("cal") == (None, 7)


def test_an_unchanged_token_is_not_written_again(tmp_path):
    st = State(tmp_path / "s.db")

    def scan(token):
        st.store_scan("cal", [], full=False, removed_uids=(), window_start=NOW, token=token,
                      total=1, now=NOW)

    scan("big-token")
    scan("big-token")
    assert st.db.execute("SELECT changes()").fetchone()[0] == 0  # the upsert changed nothing
    scan("new-token")
    assert st.sync_info("cal") == ("new-token", 1)
    scan(None)
    assert st.sync_info("cal") == (None, 1)


def test_a_version_1_database_is_migrated(tmp_path):
    db = sqlite3.connect(tmp_path / "s.db")
    db.executescript("""
        CREATE TABLE accounts (name TEXT PRIMARY KEY, status TEXT NOT NULL,
                               message TEXT NOT NULL DEFAULT '', since TEXT NOT NULL);
        INSERT INTO accounts VALUES ('cal', 'ok', '', '2026-11-01T00:00:00+00:00');
        PRAGMA user_version=1;
    """)
    db.close()
    st = State(tmp_path / "s.db")
    assert st.accounts()["cal"][:2] == ("ok", "")
    st.set_account("cal", "ok", "", NOW)
    assert st.accounts()["cal"][3] == NOW
    assert st.db.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION


def test_a_create_whose_place_is_taken_for_good_is_not_tried_every_pass(parts, tmp_path):
    """A follow-up whose place the provider will never give (an event
    deleted in Google's web UI, a file holding something else) ends as
    skipped with the reason, instead of failing at every pass."""
    from daemon.collection import own_file_name
    from daemon.plan.planner import Action

    cal, box, st, ex = parts
    (cal.write_to / own_file_name("k1")).write_bytes(b"BEGIN:VCALENDAR\r\nEND:VCALENDAR\r\n")
    done = ex.apply([Action("create_event", record(state="done"), event=followup())])
    assert done.failed == []
    rec = st.records()["k1"]
    assert rec.state == "skipped" and rec.user_changed and "left alone" in rec.reason
