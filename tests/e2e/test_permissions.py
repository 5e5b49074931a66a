"""Files the user's account may not read or write: a calendar file, the
Drafts Maildir, the state database. Permissions do not bind root, so when
the suite runs as root (as CI does) each case runs in a forked child that
has become ``nobody``, in a folder of its own under the system's temporary
folder; elsewhere it runs as it is. (The tree and its virtual environment
must be readable by others, as a clone under /tmp or /work is.)"""

from __future__ import annotations

import contextlib
import io
import os
import pickle
import shutil
import tempfile
from datetime import timedelta
from pathlib import Path

import pytest

from .test_run import START, acme
from .world import ME, World, ics_event

NOBODY = 65534

pytestmark = pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork")


def unprivileged(case):
    """``case(world)`` in a world of its own, as a user permissions bind;
    returns what it returns (it must be picklable)."""
    def run():
        root = Path(tempfile.mkdtemp(prefix="followup-perm-"))
        try:
            return case(World(root / "w"))
        finally:
            for path in root.rglob("*"):  # what the case locked, made removable
                with contextlib.suppress(OSError):
                    path.chmod(0o700)
            shutil.rmtree(root, ignore_errors=True)

    if os.geteuid() != 0:
        return run()
    # Once as root first, whose result says nothing: it imports every module
    # the case needs, which ``nobody`` may not be able to read (Python's own
    # library can live in root's home).
    run()
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: never returns into pytest
        code = 0
        try:
            os.close(read)
            os.setgroups([])
            os.setgid(NOBODY)
            os.setuid(NOBODY)
            os.environ["HOME"] = tempfile.gettempdir()
            outcome = ("ok", run())
        except BaseException as exc:  # noqa: BLE001 - reported to the parent
            import traceback

            outcome = ("error", "".join(traceback.format_exception(exc)))
        try:
            with os.fdopen(write, "wb") as out:
                pickle.dump(outcome, out)
        except BaseException:  # noqa: BLE001
            code = 1
        os._exit(code)
    os.close(write)
    with os.fdopen(read, "rb") as data:
        raw = data.read()
    os.waitpid(pid, 0)
    kind, value = pickle.loads(raw)
    if kind == "error":
        pytest.fail(f"the unprivileged run failed:\n{value}")
    return value


def quietly(call):
    """(exit code, stdout, stderr) of a command run in-process."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = call()
    return code, out.getvalue(), err.getvalue()


def _unreadable_calendar_file(world: World):
    acme(world)
    other = world.add("initech", ics_event(
        "initech-1@example.org", "Interview - Initech (Product Manager)", START,
        organizer=("Sam Lee", "sam@initech.example"),
        attendees=[("Sam Lee", "sam@initech.example", "ACCEPTED"), ("Me", ME, "ACCEPTED")]))
    other.chmod(0)
    first = quietly(lambda: world.once(START + timedelta(hours=2, minutes=5)))
    status = quietly(lambda: world.run("status"))
    other.chmod(0o600)
    second = quietly(lambda: world.once(START + timedelta(hours=2, minutes=10)))
    return first, status, second, [p.name for p in world.drafts_list()]


def test_an_unreadable_calendar_file_is_named_and_read_once_it_can_be():
    first, status, second, drafts = unprivileged(_unreadable_calendar_file)
    code, out, err = first
    assert code == 0 and "Traceback" not in out + err
    assert "1 unreadable items\n  could not read " in out and "initech.ics: cannot be read" in out
    assert "Could not be read (1)" in status[1] and "initech.ics" in status[1]
    assert second[0] == 0 and "unreadable" not in second[1]
    assert len(drafts) == 2  # Acme's thank-you at once, Initech's when its file could be read


def _drafts_not_writable(world: World):
    acme(world)
    for sub in ("cur", "new", "tmp"):
        (world.drafts / sub).chmod(0o500)
    first = quietly(lambda: world.once(START + timedelta(hours=2, minutes=5)))
    status = quietly(lambda: world.run("status"))
    calls = [p.name for p in world.own_events()]
    for sub in ("cur", "new", "tmp"):
        (world.drafts / sub).chmod(0o700)
    second = quietly(lambda: world.once(START + timedelta(hours=2, minutes=10)))
    return first, status, calls, second, [p.name for p in world.drafts_list()]


def test_a_drafts_folder_that_cannot_be_written_is_reported_and_the_rest_goes_on():
    first, status, calls, second, drafts = unprivileged(_drafts_not_writable)
    assert "Traceback" not in first[1] + first[2] + status[1] + status[2]
    assert "could not write the thank-you email" in status[1]
    assert calls  # the follow-up call went into the calendar all the same
    assert second[0] == 0 and len(drafts) == 1  # written once the folder could take it


def _state_read_only(world: World):
    acme(world)
    assert quietly(lambda: world.once(START))[0] == 0
    db = world.root / "state.sqlite3"
    for path in (db, *db.parent.glob("state.sqlite3-*")):
        path.chmod(0o400)
    world.root.chmod(0o500)
    try:
        run = quietly(lambda: world.once(START + timedelta(hours=2, minutes=5)))
    finally:
        world.root.chmod(0o700)
    return run, [p.name for p in world.drafts_list()]


def test_a_state_database_that_cannot_be_written_is_one_message_and_nothing_is_written():
    (code, out, err), drafts = unprivileged(_state_read_only)
    assert code != 0
    assert "state.sqlite3" in err and "Traceback" not in out + err
    assert drafts == []  # no draft without its intent on disk
