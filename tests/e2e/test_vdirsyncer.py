"""The README's promise for a vdir synced by vdirsyncer, with the real
vdirsyncer (PyPI) syncing the folder with a real Radicale, both ways.

vdirsyncer names a downloaded item after its UID when the UID holds only
letters, digits and ``_.-+``, and at random otherwise
(``vdirsyncer.utils.generate_href``). Follow-ups must be recognised by
their marker whatever their file name, and carry UIDs that keep their name.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest

from tests.servers.common import require_or_skip

from .test_run import START, acme
from .world import World

pytestmark = pytest.mark.slow  # the real vdirsyncer, a process per sync


def _vdirsyncer() -> str | None:
    beside = Path(sys.executable).parent / "vdirsyncer"
    return str(beside) if beside.exists() else shutil.which("vdirsyncer")


class Sync:
    """vdirsyncer between the world's calendar folder and a Radicale calendar."""

    def __init__(self, root: Path, folder: Path):
        from tests.servers.radicale import Radicale

        self.server = Radicale.shared()
        user, password = self.server.new_user()
        self.url = self.server.make_calendar(user, "Personal")
        self.user, self.password = user, password
        self.status = root / "vdirsyncer-status"
        self.config = root / "vdirsyncer.conf"
        self.config.write_text(f"""
[general]
status_path = "{self.status}/"

[pair calendar]
a = "laptop"
b = "server"
collections = null
conflict_resolution = "b wins"

[storage laptop]
type = "filesystem"
path = "{folder}/"
fileext = ".ics"

[storage server]
type = "caldav"
url = "{self.url}"
username = "{user}"
password = "{password}"
""")

    def run(self, *args: str) -> subprocess.CompletedProcess:
        return subprocess.run([_vdirsyncer(), "-c", str(self.config), *args], capture_output=True,
                              text=True, timeout=120, stdin=subprocess.DEVNULL)

    def sync(self) -> None:
        for step in ("discover", "sync"):
            done = self.run(step)
            assert done.returncode == 0, done.stdout + done.stderr
            assert "error" not in (done.stdout + done.stderr).lower(), done.stdout + done.stderr

    def server_items(self) -> dict[str, bytes]:
        with self.server.client(self.user, self.url) as client:
            import caldav

            calendar = caldav.Calendar(client=client, url=self.url)
            return {str(o.url).rsplit("/", 1)[1]: o.data.encode() for o in calendar.objects(load_objects=True)}


@pytest.fixture
def synced(tmp_path):
    if _vdirsyncer() is None:
        require_or_skip("vdirsyncer", "pip install vdirsyncer (the 'test' extra)")
    pytest.importorskip("caldav")
    world = World(tmp_path)
    return world, Sync(tmp_path, world.cal)


def own_files(world: World) -> list[Path]:
    return sorted(p for p in world.cal.iterdir() if b"X-FOLLOWUP-KEY" in p.read_bytes())


def rebuild(world: World, sync: Sync, lose_state: bool) -> None:
    """A new machine: the folder comes back from the server; maybe without the state."""
    shutil.rmtree(world.cal)
    world.cal.mkdir()
    shutil.rmtree(sync.status, ignore_errors=True)
    if lose_state:
        for path in world.root.glob("state.sqlite3*"):
            path.unlink()
    sync.sync()


def test_a_folder_rebuilt_by_vdirsyncer_keeps_its_follow_ups_once(synced):
    world, sync = synced
    acme(world)
    assert world.once(START + timedelta(hours=2, minutes=5)) == 0
    (call,) = own_files(world)
    uid = next(line for line in call.read_text().splitlines() if line.startswith("UID:"))[4:]
    assert call.name == f"{uid}.ics"  # a UID vdirsyncer keeps as the file name
    sync.sync()
    assert len([d for d in sync.server_items().values() if b"X-FOLLOWUP-KEY" in d]) == 1

    rebuild(world, sync, lose_state=True)
    assert [p.name for p in own_files(world)] == [call.name]
    assert world.once(START + timedelta(hours=3)) == 0
    assert [p.name for p in own_files(world)] == [call.name]  # taken back, not written again
    sync.sync()
    assert len([d for d in sync.server_items().values() if b"X-FOLLOWUP-KEY" in d]) == 1


def test_a_follow_up_renamed_at_random_by_vdirsyncer_is_still_recognised(synced):
    """Regression: items of earlier versions (UID with an '@') come back
    under random names; they were taken for the user's, written again with
    the same UID, and vdirsyncer then refused to sync the calendar."""
    world, sync = synced
    acme(world)
    assert world.once(START + timedelta(hours=2, minutes=5)) == 0
    (call,) = own_files(world)
    old_uid = call.stem + "@interview-followup"  # as earlier versions wrote it
    call.write_bytes(call.read_bytes().replace(f"UID:{call.stem}\r\n".encode(), f"UID:{old_uid}\r\n".encode()))
    sync.sync()
    for lose_state in (False, True):
        rebuild(world, sync, lose_state=lose_state)
        (renamed,) = own_files(world)
        assert renamed.name != call.name  # vdirsyncer chose the name
        assert world.once(START + timedelta(hours=4)) == 0
        assert own_files(world) == [renamed]
        sync.sync()
        assert len([d for d in sync.server_items().values() if b"X-FOLLOWUP-KEY" in d]) == 1


def test_a_call_moved_on_the_phone_stays_where_the_user_put_it_after_state_loss(synced):
    world, sync = synced
    acme(world)
    assert world.once(START + timedelta(hours=2, minutes=5)) == 0
    sync.sync()
    (href, data), = [(h, d) for h, d in sync.server_items().items() if b"X-FOLLOWUP-KEY" in d]
    moved = data.replace(b"DTSTART:20261123T150000Z", b"DTSTART:20261124T170000Z").replace(
        b"DTEND:20261123T151500Z", b"DTEND:20261124T171500Z")
    assert moved != data
    with sync.server.client(sync.user, sync.url) as client:
        assert client.put(sync.url + href, moved, {"Content-Type": "text/calendar"}).status in (200, 201, 204)
    sync.sync()  # the phone's change comes down
    for path in world.root.glob("state.sqlite3*"):
        path.unlink()
    assert world.once(START + timedelta(hours=3)) == 0
    (call,) = own_files(world)
    assert b"DTSTART:20261124T170000Z" in call.read_bytes()  # not moved back
    sync.sync()
    assert b"DTSTART:20261124T170000Z" in sync.server_items()[href]
