"""Resident memory of an idle ``followup run``.

A child process runs the daemon's loop (``daemon.app.runner.Runner``) on a fake
clock for 100 scan cycles (about nine hours of fake time; the drafts and
calls of two interviews that ended just before are written in the first
cycles, after that there is nothing to do) and reports its resident memory
after cycle 10 and cycle 100, and the modules it loaded. ``--profile idle``
runs it under tracemalloc and prints what was allocated from cycle 10 on.
A second child, ``python -c``, imports exactly those modules and nothing
else: the bare cost of the libraries, measured in the same run. Twice:
with only local folders configured, and with every connector configured
(Radicale, Dovecot, and the fake Google and Graph servers, which run in
this process so that they do not count).
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
from datetime import datetime, timedelta, timezone
from pathlib import Path

from . import backends
from .ics import interview, meeting
from .measure import ROOT, ChildFailed, child_env, median, run_child
from .rows import Row, missing
from .world import config, local_accounts, write_toml

START = datetime(2030, 3, 4, 14, 0, tzinfo=timezone.utc)  # 09:00 in New York
CYCLES, CHECKPOINT = 100, 10
QUICK_CYCLES, QUICK_CHECKPOINT = 12, 4
RATIO_GOAL = 1.3
GROWTH_LIMIT_MB = 1.0
_BARE = """\
import importlib
for name in {names!r}:
    try:
        importlib.import_module(name)
    except BaseException:
        pass
for line in open("/proc/self/status"):
    if line.startswith("VmRSS:"):
        print(int(line.split()[1]) / 1024)
"""


def _events(tag: str, company: str) -> list[bytes]:
    """A day of meetings and two interviews that ended just before the run:
    their calls and thank-you drafts are written in the first cycles (every
    connector's write path, loaded once), so that from the checkpoint on the
    daemon is idle: scans and reply searches with nothing to write."""
    out = [meeting(f"{tag}-m{i}@bench", f"Team sync {i}", START + timedelta(hours=i % 8, days=i // 8))
           for i in range(12)]
    out.append(interview(f"{tag}-iv1@bench", company, START - timedelta(hours=3)))
    out.append(interview(f"{tag}-iv2@bench", company + "Two", START - timedelta(minutes=90)))
    return out


def bare_rss(modules: list[str], repeat: int = 3) -> float:
    """Median resident memory of ``python -c`` importing ``modules``."""
    code = _BARE.format(names=modules)
    values = []
    for _ in range(repeat):
        done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                              cwd=ROOT, env=child_env(), timeout=120, check=True)
        values.append(float(done.stdout.strip().splitlines()[-1]))
    return median(values)


class _All:
    """Every backend that can run here, wired into one configuration."""

    def __init__(self, root: Path):
        self.root = root
        self.started: list = []
        self.left_out: list[str] = []
        self.calendars: list[dict] = []
        self.mailboxes: list[dict] = []
        self.specs: dict[str, dict] = {}

    def _start(self, backend, where: Path):
        where.mkdir(parents=True, exist_ok=True)
        try:
            backend.start(where)
        except backends.Unavailable as exc:
            self.left_out.append(f"{backend.label} ({exc})")
            return None
        self.started.append(backend)
        return backend

    def build(self) -> None:
        """Start every backend and describe it in the configuration."""
        self._caldav_and_imap()
        self._google()
        self._outlook()

    def _caldav_and_imap(self) -> None:
        cal = self._start(backends.CalDAVBackend(), self.root / "caldav")
        box = self._start(backends.ImapBackend(), self.root / "imap")
        if cal:
            for data in _events("dav", "Davco"):
                cal.add(data)
            self.calendars.append({"name": "work", "type": "caldav",
                                   "mailbox": "imap" if box else "mail", **cal.harness.config()})
        if box:
            self.mailboxes.append({"name": "imap", "type": "imap", **box.harness.config()})

    def _google(self) -> None:
        from connectors.google.auth import (
            CALENDAR_APP_SCOPE,
            CALENDAR_READ_SCOPES,
            GMAIL_SCOPES,
        )

        google = self._start(backends.GoogleCalendarBackend(), self.root / "google")
        gmail = self._start(backends.GmailBackend(), self.root / "gmail")
        if not (google and gmail):
            return
        for data in _events("goo", "Goober"):
            google.add(data)
        self.calendars.append({"name": "google", "type": "google", "mailbox": "gmail"})
        self.mailboxes.append({"name": "gmail", "type": "gmail"})
        for name, fake, scopes, endpoint in (
                ("google", google.harness.fake, (*CALENDAR_READ_SCOPES, CALENDAR_APP_SCOPE),
                 google.harness.fake.calendar_endpoint),
                ("gmail", gmail.harness.fake, GMAIL_SCOPES, gmail.harness.fake.gmail_endpoint)):
            fake.grant("bench-refresh", scopes)
            self.specs[name] = {"kind": name, "endpoint": endpoint, "token_uri": fake.token_uri,
                                "refresh_token": "bench-refresh", "client_id": "bench.apps",
                                "client_secret": "bench-secret", "scopes": list(scopes)}

    def _outlook(self) -> None:
        outlook = self._start(backends.OutlookCalendarBackend(), self.root / "outlook")
        mail = self._start(backends.OutlookMailBackend(), self.root / "outlook-mail")
        if not (outlook and mail):
            return
        for data in _events("out", "Outbound"):
            outlook.add(data)
        url = outlook.harness.fake().url
        client = "00000000-0000-0000-0000-000000000000"
        self.calendars.append({"name": "outlook", "type": "outlook", "client_id": client,
                               "graph_url": url, "mailbox": "outlook-mail"})
        self.mailboxes.append({"name": "outlook-mail", "type": "outlook", "client_id": client,
                               "graph_url": url})
        self.specs["outlook"] = {"kind": "outlook-calendar", "token": outlook.harness.box.token,
                                 "graph_url": url}
        self.specs["outlook-mail"] = {"kind": "outlook-mail", "token": mail.harness.box.token,
                                      "graph_url": url}

    def close(self) -> None:
        for backend in self.started:
            try:
                backend.close()
            except Exception:  # noqa: BLE001 - a harness's own checks must not hide the figures
                pass


def _measure(label: str, root: Path, cycles: int, checkpoint: int, everything: bool,
             repeat: int, trace: str | None = None) -> list[Row]:
    ratio_name = f"idle `followup run` RSS after {cycles} cycles vs bare import, {label}"
    growth_name = f"idle `followup run` RSS growth, cycle {checkpoint} to {cycles}, {label}"
    ratio_goal, growth_goal = f"<= {RATIO_GOAL}", f"none (< {GROWTH_LIMIT_MB:g} MB)"
    calendar, mailbox = local_accounts(root)
    for i, data in enumerate(_events("loc", "Localco")):
        (root / "calendar" / f"e{i}.ics").write_bytes(data)
    world = _All(root)
    try:
        if everything:
            world.build()
        data = config(root / "state.sqlite3", [calendar, *world.calendars],
                      [mailbox, *world.mailboxes])
        path = write_toml(data, root / "config.toml")
        try:
            result = run_child("idle", {"config": str(path), "cycles": cycles, "checkpoint": checkpoint,
                                        "start": START.isoformat(), "specs": world.specs,
                                        "trace": trace})
        except ChildFailed as exc:
            return [missing(ratio_name, "x", ratio_goal, str(exc)),
                    missing(growth_name, "MB", growth_goal, str(exc))]
    finally:
        world.close()
    bare = bare_rss(result["modules"], repeat)
    first, last = result["marks"][str(checkpoint)], result["marks"][str(cycles)]
    ratio = round(last["rss"] / bare, 3)
    growth = round(last["rss"] - first["rss"], 2)
    accounts = f"{len(data['calendars'])} calendars, {len(data['mailboxes'])} mailboxes"
    note = (f"{accounts}; {last['rss']:.1f} MB after cycle {cycles} vs {bare:.1f} MB for "
            f"`python -c` importing the same {len(result['modules'])} modules; "
            f"{result['fake_hours']:.1f} h of fake time, {last['interviews']} interviews")
    if world.left_out:
        note += "; left out: " + ", ".join(world.left_out)
    if result["problems"]:
        note += "; account errors: " + "; ".join(result["problems"])
    blocks = last["blocks"] - first["blocks"]
    return [Row(ratio_name, ratio, "x", ratio_goal, ratio <= RATIO_GOAL, note),
            Row(growth_name, growth, "MB", growth_goal, growth < GROWTH_LIMIT_MB,
                f"{first['rss']:.1f} -> {last['rss']:.1f} MB; Python's allocated blocks "
                f"{first['blocks']:,} -> {last['blocks']:,} ({blocks:+,}); urllib3's "
                f"URL caches {first['url_cache']:,} -> {last['url_cache']:,} of 2,048 entries")]


def run(quick: bool) -> list[Row]:
    cycles, checkpoint = (QUICK_CYCLES, QUICK_CHECKPOINT) if quick else (CYCLES, CHECKPOINT)
    rows: list[Row] = []
    with tempfile.TemporaryDirectory(prefix="followup-bench-") as tmp:
        for label, everything in (("local connectors only", False), ("all connectors", True)):
            root = Path(tmp) / ("all" if everything else "local")
            root.mkdir()
            rows += _measure(label, root, cycles, checkpoint, everything, 1 if quick else 3)
    return rows


def trace(quick: bool, path: Path) -> None:
    """The run with every connector under tracemalloc: what was allocated
    between the checkpoint and the last cycle, by traceback, into ``path``
    (the figures of such a run are not comparable)."""
    cycles, checkpoint = (QUICK_CYCLES, QUICK_CHECKPOINT) if quick else (CYCLES, CHECKPOINT)
    root = path.parent / "all"
    root.mkdir()
    _measure("traced", root, cycles, checkpoint, True, 1, trace=str(path))
