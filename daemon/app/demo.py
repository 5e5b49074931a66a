"""``followup demo``: a sample calendar and mailbox, planned and run once.

Everything lives in one folder (temporary unless ``--dir`` is given); no
account is touched.
"""

from __future__ import annotations

import os
import tempfile
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from zoneinfo import ZoneInfo, available_timezones

from daemon.app import config, report
from daemon.app.engine import Engine
from daemon.kinds import Op

ME = "alex.morgan@example.org"


def local_zone() -> str:
    """The machine's IANA time zone name, or UTC when it cannot be told."""
    candidates = [os.environ.get("TZ", "").lstrip(":")]
    try:
        candidates.append(Path("/etc/timezone").read_text().strip())
    except OSError:
        pass
    try:
        target = os.readlink("/etc/localtime")
        candidates.append(target.split("zoneinfo/", 1)[-1])
    except OSError:
        pass
    names = available_timezones()
    return next((c for c in candidates if c in names), "UTC")


def _event(uid: str, title: str, start: datetime, minutes: int, *, organizer: str = "",
           attendees: tuple[tuple[str, str, str], ...] = (), description: str = "",
           status: str = "") -> str:
    def utc(dt: datetime) -> str:
        return dt.astimezone(timezone.utc).strftime("%Y%m%dT%H%M%SZ")

    lines = ["BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//interview-followup//demo//EN",
             "BEGIN:VEVENT", f"UID:{uid}", f"DTSTAMP:{utc(start - timedelta(days=7))}",
             f"DTSTART:{utc(start)}", f"DTEND:{utc(start + timedelta(minutes=minutes))}",
             f"SUMMARY:{title}"]
    if description:
        lines.append("DESCRIPTION:" + description.replace("\n", "\\n").replace(",", "\\,"))
    if organizer:
        lines.append(organizer)
    for cn, email, partstat in attendees:
        lines.append(f"ATTENDEE;CN={cn};PARTSTAT={partstat}:mailto:{email}")
    if status:
        lines.append(f"STATUS:{status}")
    lines += ["END:VEVENT", "END:VCALENDAR", ""]
    return "\r\n".join(lines)


def build_sample(root: Path, now: datetime, tz_name: str) -> Path:
    """Writes the sample calendar, mailbox and config; returns the config path."""
    tz = ZoneInfo(tz_name)
    today = now.astimezone(tz).date()
    cal = root / "calendar"
    cal.mkdir(parents=True, exist_ok=True)
    for box in ("Drafts", "INBOX"):
        for sub in ("cur", "new", "tmp"):
            (root / "Mail" / box / sub).mkdir(parents=True, exist_ok=True)

    def at(day: date, hour: int) -> datetime:
        return datetime(day.year, day.month, day.day, hour, tzinfo=tz)

    me = ("Alex Morgan", ME, "ACCEPTED")
    # the happy path first: both interviews recent enough for their
    # thank-yous (three days), the screen's status check withdrawn by a reply
    screen = at(today - timedelta(days=2), 14)
    onsite = at(today - timedelta(days=1), 10)
    events = {
        "acme-screen": _event(
            "demo-acme-screen@example.org", "Phone Screen - Acme Corp (Senior Backend Engineer)", screen, 45,
            organizer="ORGANIZER;CN=Jane Doe:mailto:jane.doe@acme.example",
            attendees=(("Jane Doe", "jane.doe@acme.example", "ACCEPTED"), me),
            description="Call with the hiring manager.\nPhone: +1 555 0100 200"),
        "initech-onsite": _event(
            "demo-initech-onsite@example.org", "Onsite interview — Initech, Product Manager", onsite, 300,
            organizer="ORGANIZER;CN=Sam Lee:mailto:sam.lee@initech.example",
            attendees=(("Sam Lee", "sam.lee@initech.example", "ACCEPTED"),
                       ("Priya Patel", "priya.patel@initech.example", "ACCEPTED"), me),
            description="Thanks for coming in! We plan to make a decision within two weeks."),
        "globex": _event(
            "demo-globex@example.org", "Vorstellungsgespräch bei Globex AG", at(today + timedelta(days=7), 11), 60,
            organizer="ORGANIZER;CN=Max Mustermann:mailto:max@globex.example",
            attendees=(("Max Mustermann", "max@globex.example", "ACCEPTED"), me)),
        "prep": _event("demo-prep@example.org", "Interview prep: system design", at(today, 18), 60),
        "hooli": _event(
            "demo-hooli@example.org", "Final round: Hooli", at(today + timedelta(days=3), 9), 240,
            organizer="ORGANIZER;CN=Gavin B:mailto:gavin@hooli.example", attendees=(me,),
            status="CANCELLED"),
        "lunch": _event("demo-lunch@example.org", "Team lunch", at(today, 12), 60),
    }
    for name, text in events.items():
        (cal / f"{name}.ics").write_text(text, encoding="utf-8", newline="")
    reply_day = screen + timedelta(days=2)
    (root / "Mail" / "INBOX" / "cur" / "1.demo:2,S").write_bytes(
        f"From: Jane Doe <jane.doe@acme.example>\r\nTo: {ME}\r\nSubject: Re: your interview\r\n"
        f"Date: {reply_day.strftime('%a, %d %b %Y %H:%M:%S %z')}\r\nMessage-ID: <demo-reply@acme.example>\r\n"
        "\r\nThanks Alex, we'll be in touch soon.\r\n".encode())
    cfg = root / "config.toml"
    cfg.write_text(f"""# Sample configuration written by 'followup demo'.
[me]
name = "Alex Morgan"
email = "{ME}"
timezone = "{tz_name}"
country = "US"

[state]
path = "state.sqlite3"

[[calendars]]
name = "demo calendar"
type = "local"
path = "calendar"

[[mailboxes]]
name = "demo mailbox"
type = "maildir"
drafts = "Mail/Drafts"
inbox = ["Mail/INBOX"]
""", encoding="utf-8")
    return cfg


def run_demo(folder: Path | None) -> int:
    root = Path(folder) if folder else Path(tempfile.mkdtemp(prefix="followup-demo-"))
    tz_name = local_zone()
    now = datetime.now(timezone.utc)
    cfg = build_sample(root, now, tz_name)
    settings = config.load(cfg)
    engine = Engine(settings)
    try:
        print(f"Sample calendar and mailbox in {root}\n")
        print(report.plan_text(engine.run_pass(now, apply=False), engine.tz))
        rep = engine.run_pass(now, apply=True)
    finally:
        engine.close()
    written = [a for a in rep.applied.done if a.op != Op.RECORD]
    print(f"\nOne pass done: {len(written)} follow-ups written.")
    events = sorted((root / "calendar").glob("followup-*.ics"))
    drafts = sorted(p for sub in ("cur", "new") for p in (root / "Mail" / "Drafts" / sub).iterdir())
    print(f"\nFollow-up events ({len(events)}) in {root / 'calendar'}:")
    for p in events:
        print(f"  {p.name}")
    print(f"\nDraft emails ({len(drafts)}), never sent, in {root / 'Mail' / 'Drafts'}:")
    for p in drafts:
        print(f"  {p.relative_to(root / 'Mail' / 'Drafts')}")
    print(f"\nTry: followup --config {cfg} plan --json")
    return 0
