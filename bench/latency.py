"""From the moment a draft is due to the moment it is in the mailbox.

A real ``followup run`` process (real clock) watches a local calendar
holding an interview that ended so that its thank-you falls due a few
seconds after the start; this process polls the Drafts Maildir and notes
when the draft file appears.
"""

from __future__ import annotations

import math
import os
import signal
import subprocess
import tempfile
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

from .ics import interview
from .measure import ROOT, child_env, followup_command
from .rows import Row, missing
from .world import config, local_accounts, write_toml

FIGURE = "due time to draft visible, `followup run` on a Maildir"
GOAL = "< 2"
LIMIT = 2.0
LEAD = 6  # seconds from start to the due time: enough for the process to start
QUICK_LEAD = 4
POLL = 0.002


def _drafts(folder: Path) -> list[str]:
    found = []
    for sub in ("new", "cur"):
        try:
            found += [e.name for e in os.scandir(folder / sub) if not e.name.startswith(".")]
        except FileNotFoundError:
            pass
    return found


def run(quick: bool) -> list[Row]:
    with tempfile.TemporaryDirectory(prefix="followup-bench-") as tmp:
        root = Path(tmp)
        calendar, mailbox = local_accounts(root)
        due = math.ceil(time.time()) + (QUICK_LEAD if quick else LEAD)
        end = datetime.fromtimestamp(due, timezone.utc) - timedelta(hours=1)  # thank-you: end + 1 h
        (root / "calendar" / "iv.ics").write_bytes(
            interview("iv@bench", "Acme", end - timedelta(hours=1)))
        cfg = write_toml(config(root / "state.sqlite3", [calendar], [mailbox]), root / "config.toml")
        drafts = root / "Mail" / "Drafts"
        started = time.time()
        with open(root / "run.log", "wb") as log:
            process = subprocess.Popen([*followup_command(), "--config", str(cfg), "run"],
                                       stdout=log, stderr=subprocess.STDOUT, cwd=ROOT,
                                       env=child_env())
        seen = None
        try:
            while time.time() < due + 30 and process.poll() is None:
                if _drafts(drafts):
                    seen = time.time()
                    break
                time.sleep(POLL)
        finally:
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
                try:
                    process.wait(timeout=15)
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait()
        state = (root / "state.sqlite3").exists()
        if seen is None:
            tail = (root / "run.log").read_text(errors="replace").strip().splitlines()[-2:]
            return [missing(FIGURE, "s", GOAL, f"no draft within 30 s of its due time "
                            f"(exit {process.returncode}, state {'made' if state else 'missing'}): "
                            f"{' | '.join(tail)[-300:]}")]
        count = len(_drafts(drafts))
    delay = round(seen - due, 3)
    note = (f"the process was started {due - started:.1f} s before the due time and stopped "
            f"when the first draft appeared ({count} by then)")
    return [Row(FIGURE, delay, "s", GOAL, 0 <= delay < LIMIT, note)]
