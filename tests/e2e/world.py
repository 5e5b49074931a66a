"""A local calendar folder and Maildir with a config, driven through the
``followup`` command's entry point in-process."""

from __future__ import annotations

import json
import threading
from datetime import datetime, timedelta, timezone
from pathlib import Path

from daemon.app import cli
from daemon.app.runner import Clock

TZ_NAME = "America/New_York"
ME = "me@example.org"


def ics_event(uid: str, title: str, start: datetime, minutes: int = 60, *, attendees=(), organizer=None,
              description: str = "", status: str = "", extra: str = "") -> bytes:
    def utc(dt):
        return dt.astimezone(timezone.utc).strftime("%Y%m%dT%H%M%SZ")

    lines = ["BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//test//EN", "BEGIN:VEVENT", f"UID:{uid}",
             "DTSTAMP:20260101T000000Z", f"DTSTART:{utc(start)}",
             f"DTEND:{utc(start + timedelta(minutes=minutes))}", f"SUMMARY:{title}"]
    if description:
        lines.append("DESCRIPTION:" + description.replace("\n", "\\n").replace(",", "\\,"))
    if organizer:
        lines.append(f"ORGANIZER;CN={organizer[0]}:mailto:{organizer[1]}")
    for name, email, partstat in attendees:
        lines.append(f"ATTENDEE;CN={name};PARTSTAT={partstat}:mailto:{email}")
    if status:
        lines.append(f"STATUS:{status}")
    if extra:
        lines.append(extra)
    lines += ["END:VEVENT", "END:VCALENDAR", ""]
    return "\r\n".join(lines).encode()


def config_text(extra: str = "") -> str:
    """The config of a ``World``: a local calendar folder and a Maildir,
    relative to the config file; ``extra`` adds sections."""
    return f"""
[me]
name = "Alex Morgan"
email = "{ME}"
timezone = "{TZ_NAME}"
country = "US"

[state]
path = "state.sqlite3"
{extra}
[[calendars]]
name = "personal"
type = "local"
path = "calendar"

[[mailboxes]]
name = "mail"
type = "maildir"
drafts = "Mail/Drafts"
inbox = "Mail/INBOX"
"""


class World:
    """The user's calendar folder, mail folders and config."""

    def __init__(self, root: Path, extra_config: str = ""):
        self.root = root
        self.cal = root / "calendar"
        self.cal.mkdir(parents=True)
        self.drafts = root / "Mail" / "Drafts"
        self.inbox = root / "Mail" / "INBOX"
        for box in (self.drafts, self.inbox):
            for sub in ("cur", "new", "tmp"):
                (box / sub).mkdir(parents=True)
        self.config = root / "config.toml"
        self.config.write_text(config_text(extra_config))

    def add(self, name: str, data: bytes) -> Path:
        path = self.cal / f"{name}.ics"
        path.write_bytes(data)
        return path

    def deliver(self, name: str, raw: bytes) -> None:
        (self.inbox / "cur" / f"{name}:2,S").write_bytes(raw)

    def run(self, *args: str, capsys=None) -> int:
        return cli.main(["--config", str(self.config), *args])

    def plan(self, now: datetime, capsys) -> dict:
        capsys.readouterr()
        assert cli.main(["--config", str(self.config), "plan", "--json", "--now", now.isoformat()]) == 0
        return json.loads(capsys.readouterr().out)

    def once(self, now: datetime) -> int:
        return cli.main(["--config", str(self.config), "run", "--once", "--now", now.isoformat()])

    def own_events(self) -> list[Path]:
        return sorted(self.cal.glob("followup-*.ics"))

    def drafts_list(self) -> list[Path]:
        return sorted(p for sub in ("cur", "new") for p in (self.drafts / sub).iterdir())

    def snapshot(self) -> dict[str, bytes]:
        """Every byte the user owns: source events and mail other than our own."""
        files = {p.relative_to(self.root).as_posix(): p.read_bytes()
                 for p in self.root.rglob("*") if p.is_file()}
        return {k: v for k, v in files.items()
                if not k.startswith("calendar/followup-") and not k.startswith("Mail/Drafts/")
                and not k.startswith("state.sqlite3")}


class FakeClock(Clock):
    """Time moves only when the loop waits; ``jumps`` simulate a suspend."""

    def __init__(self, start: datetime, until: datetime, runner_stop: threading.Event):
        self.t = start.astimezone(timezone.utc)
        self.until = until
        self.stop = runner_stop
        self.jumps: dict[datetime, timedelta] = {}
        self.waits: list[float] = []

    def now(self) -> datetime:
        return self.t

    def wait(self, seconds: float, event) -> None:
        self.waits.append(seconds)
        self.t += timedelta(seconds=seconds)
        for at, jump in list(self.jumps.items()):
            if self.t >= at:
                self.t += jump
                del self.jumps[at]
        if self.t >= self.until:
            self.stop.set()
