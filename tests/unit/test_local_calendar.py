"""The local calendar connector: a vdir folder or one .ics file."""

from __future__ import annotations

import errno
import hashlib
import os
import stat
from datetime import datetime, timedelta, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

import connectors.local.calendar as local
from connectors.local.calendar import LocalCalendar
from daemon.collection import own_file_name
from daemon.connector import Context, Option
from daemon.errors import ConfigError, Conflict, ConnectorError
from daemon.interest import Interest
from daemon.model import FollowupEvent

UTC = timezone.utc
BERLIN = ZoneInfo("Europe/Berlin")
WINDOW = (datetime(2030, 3, 1, tzinfo=UTC), datetime(2030, 4, 1, tzinfo=UTC))


def ics(uid: str, day: int = 11, title: str = "Interview", extra: str = "") -> bytes:
    return (
        "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//test//EN\r\nBEGIN:VEVENT\r\n"
        f"UID:{uid}\r\nDTSTAMP:20300101T000000Z\r\nDTSTART:203003{day:02d}T100000Z\r\n"
        f"DTEND:203003{day:02d}T110000Z\r\nSUMMARY:{title}\r\n{extra}END:VEVENT\r\n"
        "END:VCALENDAR\r\n").encode()


def followup(key: str = "follow-up-call:a@acme.example", **changes) -> FollowupEvent:
    values = dict(key=key, title="Call ACME", description="Ask for news.",
                  start=datetime(2030, 3, 18, 10, 0, tzinfo=BERLIN),
                  end=datetime(2030, 3, 18, 10, 15, tzinfo=BERLIN))
    values.update(changes)
    return FollowupEvent(**values)


def context(tmp_path: Path) -> Context:
    return Context(base_dir=tmp_path, state_dir=tmp_path / "state")


@pytest.fixture
def folder(tmp_path):
    path = tmp_path / "calendar"
    path.mkdir()
    return path


@pytest.fixture
def cal(tmp_path, folder):
    return LocalCalendar("local", {"path": str(folder)}, context(tmp_path))


def scan(cal, token=None, window=WINDOW):
    return cal.scan(*window, BERLIN, sync_token=token)


def touch(path: Path, data: bytes) -> None:
    """Write and make sure the mtime moves on even on coarse file systems."""
    before = path.stat().st_mtime_ns if path.exists() else None
    path.write_bytes(data)
    if before is not None and path.stat().st_mtime_ns <= before:
        os.utime(path, ns=(before + 10**9, before + 10**9))


def snapshot(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.glob("*.ics"))
            if not p.name.startswith("followup-")}


# -- configuration ------------------------------------------------------------


def test_options_are_declared():
    assert set(LocalCalendar.options) == {"path", "write_to"}
    assert all(isinstance(o, Option) for o in LocalCalendar.options.values())
    assert LocalCalendar.options["path"].required
    assert not LocalCalendar.options["write_to"].required


def test_relative_and_home_paths(tmp_path, monkeypatch):
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    cal = LocalCalendar("c", {"path": "cal", "write_to": "~/out"}, context(tmp_path))
    assert cal.path == tmp_path / "cal"
    assert cal.write_to == tmp_path / "home" / "out"


def test_write_to_defaults_to_the_folder(cal, folder):
    assert cal.write_to == folder


def test_single_file_needs_write_to(tmp_path):
    (tmp_path / "one.ics").write_bytes(ics("a@x"))
    with pytest.raises(ConfigError, match="write_to"):
        LocalCalendar("c", {"path": "one.ics"}, context(tmp_path))
    with pytest.raises(ConfigError, match="write_to"):
        LocalCalendar("c", {"path": "not-yet-there.ics"}, context(tmp_path))


def test_single_file(tmp_path):
    (tmp_path / "one.ics").write_bytes(ics("a@x"))
    cal = LocalCalendar("c", {"path": "one.ics", "write_to": "out"}, context(tmp_path))
    result = scan(cal)
    assert [e.uid for e in result.events] == ["a@x"] and result.total == 1
    assert result.events[0].source == str(tmp_path / "one.ics")
    item = cal.create_event(followup())
    assert (tmp_path / "out" / item.ref).exists()
    assert [e.uid for e in scan(cal).events] == ["a@x"]
    assert cal.check().startswith("1 .ics file, follow-ups go to")


def test_missing_folder_is_a_connector_error(tmp_path):
    cal = LocalCalendar("c", {"path": "gone"}, context(tmp_path))
    with pytest.raises(ConnectorError, match=str(tmp_path / "gone")):
        scan(cal)
    with pytest.raises(ConnectorError, match="does not exist"):
        cal.check()


def test_check(cal, folder):
    (folder / "a.ics").write_bytes(ics("a@x"))
    (folder / "b.ics").write_bytes(ics("b@x"))
    (folder / "notes.txt").write_text("not a calendar")
    cal.create_event(followup())
    assert cal.check() == f"2 .ics files, follow-ups go to {folder}"


# -- scanning -----------------------------------------------------------------


def test_scan_reads_every_ics_file(cal, folder):
    (folder / "a.ics").write_bytes(ics("a@x", 11))
    (folder / "b.ICS").write_bytes(ics("b@x", 12))
    (folder / ".hidden.ics").write_bytes(ics("hidden@x"))
    (folder / "readme.txt").write_bytes(ics("txt@x"))
    (folder / "sub.ics").mkdir()
    result = scan(cal)
    assert result.full and result.total == 2
    assert sorted(e.uid for e in result.events) == ["a@x", "b@x"]
    assert not result.problems


def test_unreadable_files_are_problems_naming_them(cal, folder, monkeypatch):
    (folder / "good.ics").write_bytes(ics("good@x"))
    (folder / "latin1.ics").write_bytes(ics("l@x", title="Caf\xe9").replace(b"Caf",
                                                                            b"Caf\xe9"))
    (folder / "photo.ics").write_bytes(b"\xff\xd8\xff\xe0 JFIF")
    (folder / "notes.ics").write_bytes(b"shopping list: milk, eggs\n")
    (folder / "locked.ics").write_bytes(ics("locked@x"))
    real = local.read_regular

    def read_bytes(path):
        if path.endswith("locked.ics"):
            raise PermissionError(errno.EACCES, "Permission denied", path)
        return real(path)

    monkeypatch.setattr(local, "read_regular", read_bytes)
    result = scan(cal)
    assert [e.uid for e in result.events] == ["good@x"]
    named = {Path(p.source).name: p for p in result.problems}
    assert set(named) == {"latin1.ics", "photo.ics", "notes.ics", "locked.ics"}
    assert "Permission denied" in named["locked.ics"].message
    assert "UTF-8" in named["latin1.ics"].message
    assert all(p.severity == "error" for p in result.problems)


def test_dangling_symlink_is_skipped(cal, folder):
    (folder / "a.ics").write_bytes(ics("a@x"))
    os.symlink(folder / "nowhere.ics", folder / "link.ics")
    assert [e.uid for e in scan(cal).events] == ["a@x"]


def test_own_files_are_not_scanned(cal, folder):
    (folder / "a.ics").write_bytes(ics("a@x"))
    cal.create_event(followup())
    result = scan(cal)
    assert [e.uid for e in result.events] == ["a@x"]
    assert not result.problems


# -- incremental scans --------------------------------------------------------


def test_unchanged_folder_costs_no_parsing(cal, folder, monkeypatch):
    for n in range(5):
        (folder / f"e{n}.ics").write_bytes(ics(f"e{n}@x", 10 + n))
    first = scan(cal)
    assert first.full and first.total == 5 and first.sync_token

    def no_parsing(*args, **kwargs):
        raise AssertionError("an unchanged folder was parsed")

    monkeypatch.setattr(local, "parse_ics", no_parsing)
    monkeypatch.setattr(local, "read_regular", no_parsing)
    # the listing's digest in the token says nothing changed: its file table
    # (100,000 entries for a big calendar) is not even decoded
    monkeypatch.setattr(local, "_decode_token", no_parsing)
    fresh = LocalCalendar("local", {"path": str(folder)}, cal.context)
    for connector in (cal, fresh):
        second = scan(connector, first.sync_token)
        assert not second.full and second.events == [] and second.removed_uids == set()
        assert second.sync_token == first.sync_token


def test_incremental_changes(cal, folder, monkeypatch):
    (folder / "keep.ics").write_bytes(ics("keep@x", 10))
    (folder / "change.ics").write_bytes(ics("change@x", 11))
    (folder / "drop.ics").write_bytes(ics("drop@x", 12))
    (folder / "swap.ics").write_bytes(ics("old-uid@x", 13))
    (folder / "leave.ics").write_bytes(ics("leaves-window@x", 14))
    first = scan(cal)

    touch(folder / "change.ics", ics("change@x", 11, title="Final round"))
    (folder / "drop.ics").unlink()
    touch(folder / "swap.ics", ics("new-uid@x", 13))
    touch(folder / "leave.ics", ics("leaves-window@x", 14).replace(b"203003", b"203005"))
    (folder / "new.ics").write_bytes(ics("new@x", 15))

    parsed = []
    real = local.parse_ics
    monkeypatch.setattr(local, "parse_ics",
                        lambda data, source, *a: parsed.append(Path(source).name) or
                        real(data, source, *a))
    second = scan(cal, first.sync_token)
    assert not second.full
    assert sorted(parsed) == ["change.ics", "leave.ics", "new.ics", "swap.ics"]
    got = {e.uid: e for e in second.events}
    assert set(got) == {"change@x", "new-uid@x", "new@x"}
    assert got["change@x"].title == "Final round"
    assert second.removed_uids == {"drop@x", "old-uid@x", "leaves-window@x"}

    # and the new token carries on from there
    parsed.clear()
    third = scan(cal, second.sync_token)
    assert parsed == [] and not third.full and third.events == []


def test_a_file_that_turns_unreadable_does_not_remove_its_events(cal, folder):
    (folder / "a.ics").write_bytes(ics("a@x", 11))
    (folder / "b.ics").write_bytes(ics("b@x", 12) + ics("b2@x", 13))
    first = scan(cal)
    touch(folder / "a.ics", b"\xff\xfe garbage from a half-finished sync")
    touch(folder / "b.ics", ics("b@x", 12).replace(b"DTSTART:", b"DTSTART:x") + ics("b2@x", 14))
    second = scan(cal, first.sync_token)
    assert second.removed_uids == set()
    assert [e.uid for e in second.events] == ["b2@x"]
    assert {Path(p.source).name for p in second.problems} == {"a.ics", "b.ics"}
    touch(folder / "a.ics", ics("other@x", 11))
    touch(folder / "b.ics", ics("b2@x", 14))
    third = scan(cal, second.sync_token)
    assert third.removed_uids == {"a@x", "b@x"}


def test_uid_split_over_two_files_is_delivered_whole(cal, folder):
    (folder / "master.ics").write_bytes(ics("split@x", 11, extra="RRULE:FREQ=DAILY;COUNT=3\r\n"))
    (folder / "other.ics").write_bytes(ics("split@x", 20, title="Extra copy"))
    first = scan(cal)
    touch(folder / "other.ics", ics("split@x", 21, title="Extra copy"))
    second = scan(cal, first.sync_token)
    assert len([e for e in second.events if e.uid == "split@x"]) == 4
    assert second.removed_uids == set()


def test_other_window_or_bad_token_means_full_scan(cal, folder):
    (folder / "a.ics").write_bytes(ics("a@x"))
    first = scan(cal)
    moved = (WINDOW[0] + timedelta(days=1), WINDOW[1] + timedelta(days=1))
    assert scan(cal, first.sync_token, window=moved).full
    for token in ("garbage", "local1.not-base64!", local._TOKEN_PREFIX + "eJwDAAAAAAE="):
        result = scan(cal, token)
        assert result.full and [e.uid for e in result.events] == ["a@x"]
    assert not scan(cal, first.sync_token).full
    elsewhere = folder.parent / "elsewhere"
    elsewhere.mkdir()
    (elsewhere / "a.ics").write_bytes(ics("a@x"))
    other = LocalCalendar("o", {"path": str(elsewhere)}, cal.context)
    assert scan(other, first.sync_token).full  # a token of another folder


INTEREST = Interest.from_keywords(["interview"])


def test_files_that_cannot_match_the_interest_are_not_parsed(cal, folder, monkeypatch):
    (folder / "iv.ics").write_bytes(ics("iv@x", title="Interview with ACME"))
    (folder / "dentist.ics").write_bytes(ics("d@x", title="Dentist"))
    parsed = []
    real = local.parse_ics
    monkeypatch.setattr(local, "parse_ics", lambda *a, **kw: parsed.append(a[1]) or real(*a, **kw))
    first = cal.scan(*WINDOW, BERLIN, interest=INTEREST)
    assert [e.uid for e in first.events] == ["iv@x"] and first.total == 2
    assert [Path(p).name for p in parsed] == ["iv.ics"]
    # retitled either way: the UID that changed is named, parsed or not
    touch(folder / "iv.ics", ics("iv@x", title="Lunch with ACME"))
    touch(folder / "dentist.ics", ics("d@x", title="Interview at the dentist's"))
    second = cal.scan(*WINDOW, BERLIN, sync_token=first.sync_token, interest=INTEREST)
    assert not second.full and second.skipped_uids == {"iv@x"}
    assert [e.uid for e in second.events] == ["d@x"] and second.removed_uids == set()
    (folder / "iv.ics").unlink()
    third = cal.scan(*WINDOW, BERLIN, sync_token=second.sync_token, interest=INTEREST)
    assert third.removed_uids == {"iv@x"} and third.total == 1


def test_a_skipped_file_that_held_another_uid_forgets_it(cal, folder):
    (folder / "a.ics").write_bytes(ics("old@x", title="Interview"))
    first = cal.scan(*WINDOW, BERLIN, interest=INTEREST)
    touch(folder / "a.ics", ics("new@x", title="Dentist"))
    second = cal.scan(*WINDOW, BERLIN, sync_token=first.sync_token, interest=INTEREST)
    assert second.skipped_uids == {"old@x", "new@x"} and second.removed_uids == {"old@x"}


def test_new_keywords_mean_a_full_scan(cal, folder):
    (folder / "a.ics").write_bytes(ics("a@x", title="Panel talk"))
    first = cal.scan(*WINDOW, BERLIN, interest=INTEREST)
    assert first.events == []
    wider = Interest.from_keywords(["interview", "panel"])
    again = cal.scan(*WINDOW, BERLIN, sync_token=first.sync_token, interest=wider)
    assert again.full and [e.uid for e in again.events] == ["a@x"]
    assert not cal.scan(*WINDOW, BERLIN, sync_token=again.sync_token, interest=wider).full


def test_token_is_compact(cal, folder):
    for n in range(200):
        (folder / f"event-{n:04d}.ics").write_bytes(ics(f"event-{n:04d}@calendar.example"))
    token = scan(cal).sync_token
    assert len(token) < 200 * 40


# -- the daemon's own events --------------------------------------------------


def test_create_writes_one_file_named_by_key(cal, folder):
    event = followup()
    item = cal.create_event(event)
    name = f"followup-{hashlib.sha256(event.key.encode()).hexdigest()[:32]}.ics"
    assert item.ref == name == own_file_name(event.key)
    data = (folder / name).read_bytes()
    assert item.etag == hashlib.sha256(data).hexdigest()
    assert f"UID:{name[:-4]}\r\n".encode() in data  # a UID vdirsyncer keeps as the file name
    assert (item.key, item.start, item.end, item.title) == (
        event.key, event.start, event.end, event.title)
    assert not [p for p in folder.iterdir() if p.name.startswith(".")]  # no temp files


def test_create_is_idempotent_and_does_not_rewrite(cal, folder):
    item = cal.create_event(followup())
    path = folder / item.ref
    os.utime(path, ns=(1, 1))
    again = cal.create_event(followup(title="Something else"))
    assert again == item and path.stat().st_mtime_ns == 1


def test_create_refuses_a_file_whose_key_was_edited(cal, folder):
    item = cal.create_event(followup())
    path = folder / item.ref
    path.write_bytes(path.read_bytes().replace(b"X-FOLLOWUP-KEY", b"X-SOMETHING-ELSE"))
    with pytest.raises(Conflict):
        cal.create_event(followup())
    assert cal.find_own(item.key) is None


def test_create_race_loser_returns_the_winner(cal, folder, monkeypatch):
    winner = LocalCalendar("other", {"path": str(folder)}, cal.context)
    real_read = LocalCalendar._read_own
    calls = []

    def read_own(self, name):
        calls.append(name)
        if len(calls) == 1:  # the other writer gets in between look and write
            winner.create_event(followup(title="Winner"))
            return None
        return real_read(self, name)

    monkeypatch.setattr(LocalCalendar, "_read_own", read_own)
    item = cal.create_event(followup(title="Loser"))
    assert item.title == "Winner"
    assert len(list(folder.glob("followup-*.ics"))) == 1


def test_create_without_hard_links(cal, folder, monkeypatch):
    def no_links(src, dst):
        raise OSError(errno.EPERM, "Operation not permitted")

    monkeypatch.setattr(os, "link", no_links)
    item = cal.create_event(followup())
    assert cal.find_own(item.key) == item
    assert cal.create_event(followup()) == item
    assert not [p for p in folder.iterdir() if p.name.startswith(".")]


def test_write_to_is_created_private(tmp_path, folder):
    cal = LocalCalendar("c", {"path": str(folder), "write_to": "new/followups"},
                        context(tmp_path))
    assert cal.list_own() == [] and cal.find_own("k") is None
    cal.create_event(followup())
    mode = stat.S_IMODE((tmp_path / "new" / "followups").stat().st_mode)
    assert mode == 0o700


def test_update(cal, folder):
    item = cal.create_event(followup())
    moved = followup(title="Call ACME (moved)", start=datetime(2030, 3, 19, 9, 0, tzinfo=UTC),
                     end=datetime(2030, 3, 19, 9, 30, tzinfo=UTC), reminder_minutes=None)
    updated = cal.update_event(item, moved)
    assert updated.ref == item.ref and updated.etag != item.etag
    assert (updated.title, updated.start, updated.end) == (moved.title, moved.start, moved.end)
    assert cal.find_own(item.key) == updated
    with pytest.raises(Conflict):
        cal.update_event(item, followup(title="stale"))
    with pytest.raises(ConnectorError):
        cal.update_event(updated, followup(key="another key"))


def test_update_of_a_deleted_file_is_a_conflict(cal, folder):
    item = cal.create_event(followup())
    (folder / item.ref).unlink()
    with pytest.raises(Conflict):
        cal.update_event(item, followup())
    assert cal.find_own(item.key) is None


def test_delete(cal, folder):
    item = cal.create_event(followup())
    path = folder / item.ref
    path.write_bytes(path.read_bytes() + b"\r\n")  # a user edit
    with pytest.raises(Conflict):
        cal.delete_event(item)
    assert path.exists()
    current = cal.find_own(item.key)
    cal.delete_event(current)
    assert not path.exists()
    cal.delete_event(current)  # already gone: nothing happens


def test_refs_must_be_followup_names(cal, folder):
    (folder / "a.ics").write_bytes(ics("a@x"))
    item = cal.create_event(followup())
    bad = item.__class__(**{**item.__dict__, "ref": "a.ics"})
    with pytest.raises(ConnectorError):
        cal.delete_event(bad)
    with pytest.raises(ConnectorError):
        cal.update_event(bad, followup())
    assert (folder / "a.ics").exists()


def test_list_own_reads_back_user_moves(cal, folder):
    a = cal.create_event(followup())
    b = cal.create_event(followup(key="status-check:a@acme.example", title="Status"))
    path = folder / a.ref
    path.write_bytes(path.read_bytes()
                     .replace(b"DTSTART:20300318T090000Z", b"DTSTART;TZID=Europe/Berlin:"
                                                           b"20300318T150000")
                     .replace(b"DTEND:20300318T091500Z", b"DTEND;TZID=Europe/Berlin:"
                                                         b"20300318T153000"))
    (folder / "followup-0123456789abcdef0123456789abcdef.ics").write_bytes(
        ics("stranger@x"))  # looks like ours but carries no key
    listed = {item.key: item for item in cal.list_own()}
    assert set(listed) == {a.key, b.key}
    assert listed[a.key].start == datetime(2030, 3, 18, 15, 0, tzinfo=BERLIN)
    assert listed[a.key].end - listed[a.key].start == timedelta(minutes=30)
    assert listed[a.key].etag != a.etag and listed[b.key] == b


def test_sources_are_never_modified(cal, folder):
    (folder / "a.ics").write_bytes(ics("a@x"))
    (folder / "b.ics").write_bytes(ics("b@x", extra="RRULE:FREQ=DAILY;COUNT=3\r\n"))
    (folder / "broken.ics").write_bytes(b"BEGIN:VCALENDAR\r\nBEGIN:VEVENT\r\nUID:z\r\n")
    before = snapshot(folder)
    first = scan(cal)
    item = cal.create_event(followup())
    item = cal.update_event(item, followup(title="Moved"))
    scan(cal, first.sync_token)
    cal.list_own()
    cal.delete_event(item)
    cal.check()
    assert snapshot(folder) == before


def test_a_file_unreadable_at_one_scan_is_read_again_at_the_next(cal, folder, monkeypatch):
    """Regression: fixing a file's permissions changes neither its mtime nor
    its size nor its inode, and the file was never read again."""
    (folder / "good.ics").write_bytes(ics("good@x", 11))
    (folder / "locked.ics").write_bytes(ics("locked@x", 12))
    real = local.read_regular
    locked = [True]

    def read_bytes(path):
        if path.endswith("locked.ics") and locked[0]:
            raise PermissionError(errno.EACCES, "Permission denied", path)
        return real(path)

    monkeypatch.setattr(local, "read_regular", read_bytes)
    first = scan(cal)
    assert [e.uid for e in first.events] == ["good@x"] and len(first.problems) == 1
    again = scan(cal, first.sync_token)  # still locked: reported again, nothing removed
    assert again.events == [] and again.removed_uids == set() and len(again.problems) == 1
    locked[0] = False  # chmod 644: same mtime, size and inode
    fixed = scan(cal, again.sync_token)
    assert [e.uid for e in fixed.events] == ["locked@x"] and not fixed.problems
    assert scan(cal, fixed.sync_token).events == []  # and then it is as any other file


def finishes(work, seconds: float = 20.0):
    """Run ``work`` in a thread; what it returned or raised, or fail when it blocks."""
    import threading

    out: list = []

    def run():
        try:
            out.append(work())
        except Exception as exc:  # noqa: BLE001
            out.append(exc)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    thread.join(seconds)
    assert out, "blocked"
    return out[0]


def test_a_fifo_in_place_of_a_file_is_a_problem_not_a_hang(cal, folder):
    """Regression: a file swapped for a FIFO between stat and open blocked the pass forever."""
    fifo = folder / "swapped.ics"
    os.mkfifo(fifo)
    reader = local._SourceReader(*WINDOW, BERLIN, None)
    result = finishes(lambda: reader.read(local._File(str(fifo), 1, 2, 3)))
    assert result == set()
    (problem,) = reader.problems
    assert problem.source == str(fifo) and "not a regular file" in problem.message
    own = folder / own_file_name("k")
    os.mkfifo(own)
    assert isinstance(finishes(lambda: cal.find_own("k")), ConnectorError)
