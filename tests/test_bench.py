"""``python -m bench --quick`` runs end to end and writes well-formed rows.

Nothing here looks at times: only that every figure is there, in the JSON
shape the benchmark promises, with a value (or, when a server cannot run
here, no value and a note saying why).
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
KEYS = {"figure", "value", "unit", "goal", "met", "note"}
#: how a row says why it has no value: a server that cannot start here, or
#: the shared corpus file that is not next to the repository
ALLOWED_GAPS = ("not measured:", "skipped:")
#: figures that may honestly come out below zero: resident memory can shrink
#: between two checkpoints when the allocator hands pages back
SIGNED = ("idle `followup run` RSS growth",)

pytestmark = pytest.mark.slow  # runs the whole benchmark once


@pytest.fixture(scope="module")
def rows(tmp_path_factory) -> list[dict]:
    out = tmp_path_factory.mktemp("bench") / "bench.json"
    done = subprocess.run([sys.executable, "-m", "bench", "--quick", "--json", str(out)],
                          cwd=ROOT, capture_output=True, text=True, timeout=300, check=False)
    assert done.returncode == 0, done.stderr[-2000:]
    assert "figure" in done.stdout  # the table was printed
    return json.loads(out.read_text())


def test_every_row_has_the_promised_shape(rows):
    assert isinstance(rows, list) and rows
    for row in rows:
        assert set(row) == KEYS, row
        assert isinstance(row["figure"], str) and row["figure"]
        assert isinstance(row["unit"], str) and isinstance(row["goal"], str)
        assert row["value"] is None or isinstance(row["value"], (int, float))
        assert row["met"] in (True, False, None)
        assert isinstance(row["note"], str)
    figures = [row["figure"] for row in rows]
    assert len(figures) == len(set(figures))


def test_every_figure_has_a_value(rows):
    for row in rows:
        if row["value"] is None:
            # only a missing server or corpus file may leave a figure empty, with the reason
            assert row["note"].startswith(ALLOWED_GAPS), row
        elif not row["figure"].startswith(SIGNED):
            assert row["value"] >= 0, row
        if row["met"] is not None:
            assert row["value"] is not None, row


def test_every_group_is_there(rows):
    text = "\n".join(row["figure"] for row in rows)
    for part in ("requests per idle poll, calendar: local", "requests per idle poll, calendar: CalDAV",
                 "requests per idle poll, calendar: Google", "requests per idle poll, calendar: Outlook",
                 "requests per idle poll, mailbox: Maildir", "requests per idle poll, mailbox: IMAP",
                 "requests per idle poll, mailbox: Gmail", "requests per idle poll, mailbox: Outlook",
                 "requests after one event changes", "requests after one message arrives",
                 "issue42.ics", "plan, CPU time per event", "plan, peak memory", "second plan",
                 "idle `followup run` RSS", "start-up `followup --help`",
                 "start-up `followup status`", "heavy modules loaded by `followup --help`",
                 "due time to draft visible"):
        assert part in text, part


@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="needs Linux's /proc")
def test_a_childs_peak_memory_is_its_own():
    # ru_maxrss survives exec: a child started by a big process would report
    # its parent's size as its own peak (the 10,000-event plan read 100 MB)
    script = (
        "import subprocess, sys\n"
        "hold = bytearray(200 * 1024 * 1024)\n"
        "hold[::4096] = b'x' * len(hold[::4096])\n"
        "code = 'from bench.measure import peak_rss_mb; print(peak_rss_mb())'\n"
        "print(subprocess.run([sys.executable, '-c', code], capture_output=True, text=True,\n"
        "                     check=True).stdout)\n")
    done = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True,
                          text=True, timeout=60, check=True)
    assert float(done.stdout) < 100, done.stdout
