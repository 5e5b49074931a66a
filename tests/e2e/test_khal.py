"""The README's promise for a vdir kept by khal, with the real khal (PyPI):
an interview khal writes is found, and the follow-ups written into the
folder show in khal's agenda, with nothing for khal to complain about."""

from __future__ import annotations

import shutil
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest

from tests.servers.common import require_or_skip

from .test_run import START
from .world import World


def _khal() -> str | None:
    beside = Path(sys.executable).parent / "khal"
    return str(beside) if beside.exists() else shutil.which("khal")


@pytest.fixture
def khal(tmp_path):
    if _khal() is None:
        require_or_skip("khal", "pip install khal (the 'test' extra)")
    world = World(tmp_path)
    config = tmp_path / "khal.conf"
    config.write_text(f"""
[calendars]
[[personal]]
path = {world.cal}
type = calendar

[locale]
timeformat = %H:%M
dateformat = %Y-%m-%d
longdateformat = %Y-%m-%d
datetimeformat = %Y-%m-%d %H:%M
longdatetimeformat = %Y-%m-%d %H:%M
default_timezone = America/New_York
local_timezone = America/New_York

[default]
default_calendar = personal

[sqlite]
path = {tmp_path / "khal.db"}
""")

    def run(*args: str) -> subprocess.CompletedProcess:
        done = subprocess.run([_khal(), "-c", str(config), *args], capture_output=True, text=True,
                              timeout=120, stdin=subprocess.DEVNULL)
        assert done.returncode == 0, done.stdout + done.stderr
        return done

    return world, run


def test_an_interview_made_in_khal_gets_follow_ups_khal_shows(khal):
    world, run = khal
    run("new", "-a", "personal", "2026-11-16", "14:00", "15:00",
        "Phone screen with Initech (Product Manager)")
    (made,) = list(world.cal.glob("*.ics"))
    assert world.once(START + timedelta(hours=2, minutes=5)) == 0
    (call,) = [p for p in world.cal.glob("*.ics") if p != made]
    assert call.name.startswith("followup-")
    done = run("list", "2026-11-16", "14d")
    assert "Phone screen with Initech" in done.stdout
    assert "2026-11-23" in done.stdout and "10:00-10:15" in done.stdout  # the call, business day 5
    assert "warning" not in done.stderr.lower() and "error" not in done.stderr.lower()
