"""Random histories of a job search, played against whole passes.

A Hypothesis state machine owns a local calendar folder (a vdir), a Drafts
and an INBOX Maildir and a config file, and drives ``daemon.app.engine.Engine``
(and now and then the ``followup run --once`` entry point) over them with a
simulated clock. Between passes the simulated world changes: interviews are
added, moved, cancelled, declined, deleted and restored, later rounds are
scheduled, the company answers (or an out-of-office does), the user moves,
edits and deletes what the daemon wrote, and the daemon is killed between
the intent write and the provider call or between the provider call and the
state write.

After every pass the files on disk are compared with the model:

- no follow-up exists twice (one event file per key, one draft per key and
  per Message-ID);
- nothing the user deleted comes back;
- every source event, every inbox message and the user's own draft is
  byte-for-byte as the world wrote it, and an item the user edited is
  byte-for-byte as the user left it;
- a second pass at the same moment plans nothing and changes no file;
- a hiring process has at most one call event and one status-check draft
  that the daemon still owns, counting rounds that vanished from the
  calendar;
- a follow-up is only ever created for an interview that is in the calendar
  and neither cancelled nor declined; a thank-you only between its due time
  and three days later; a call or status check only for the latest round
  (which may be a vanished round whose call or status check was written, if
  its call falls later: the process moved on to it);
  a status check never once the company has answered after that round;
- and what is due is there: each thank-you, the latest round's call and,
  unless the company answered (an out-of-office does not count), its status
  check, for as long as each may still be written.

Two things cannot be known after a crash right after a write, and the model
says so instead of expecting the impossible: an item the user deletes
before the next pass looks as if it had never been written (it is written
again, once), and a draft found by that pass may have been edited by the
user (it is left alone for good, so it may stay next to a later round's
status check).

``FOLLOWUP_PROPERTY_EXAMPLES`` (default 200) sets the number of histories.
"""

from __future__ import annotations

import os
import re
import shutil
import tempfile
import time
from collections import Counter
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from email.parser import BytesHeaderParser
from email.utils import format_datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, precondition, rule

from daemon.app import cli
from daemon.app import config as config_module
from daemon.app.engine import Engine, scan_window
from daemon.ics.icalout import read_followup_ics
from daemon.judge.decision import DecisionReader
from daemon.lang import Lexicon
from daemon.plan import timing
from daemon.plan.keys import action_key
from daemon.plan.planner import CALL, NOTE, STATUS, STATUS_CHECK_GRACE, THANK_YOU
from tests.e2e.world import ME, TZ_NAME, config_text

TZ = ZoneInfo(TZ_NAME)
CALENDAR = "personal"
# A Monday a week before the end of daylight saving time, three weeks
# before Thanksgiving: the clock runs across both.
BASE = datetime(2026, 10, 26, 8, 0, tzinfo=TZ)
MAX_INTERVIEWS = 6
THANK_YOU_DELAY = timedelta(hours=1)
THANK_YOU_EXPIRY = timedelta(days=3)
# tmpfs when there is one: fsync is a no-op there, which keeps each pass fast
TMP = "/dev/shm" if os.path.isdir("/dev/shm") and os.access("/dev/shm", os.W_OK) else None

DECISIONS = DecisionReader(Lexicon())  # the model reads decision dates as the daemon does


class Crash(BaseException):
    """The process dies at this point (SIGKILL, power loss): nothing after
    it runs, no ``except Exception`` sees it."""


UNKNOWN = object()  # the latest round cannot be told from the world alone


@dataclass(frozen=True)
class Company:
    name: str
    domain: str
    position: str
    people: tuple[tuple[str, str], ...]


COMPANIES = {
    "acme": Company("Acme Corp", "acme.example", "Backend Engineer", (
        ("Jane Doe", "jane@acme.example"), ("Raj Patel", "raj@acme.example"),
        ("Li Wei", "li@acme.example"))),
    "initech": Company("Initech", "initech.example", "Product Manager", (
        ("Bill Lumbergh", "bill@initech.example"), ("Joanna Smith", "joanna@initech.example"),
        ("Tom Smykowski", "tom@initech.example"))),
    "globex": Company("Globex", "globex.example", "Data Scientist", (
        ("Hank Scorpio", "hank@globex.example"), ("Mindy Lee", "mindy@globex.example"),
        ("Frank Grimes", "frank@globex.example"))),
}
ROUNDS = ("Phone Screen", "Technical Screen", "Onsite", "Final Round", "Hiring Manager Interview")
DESCRIPTIONS = (
    "",
    "We will make a decision within two weeks.",
    "You'll hear back in 10 days.",
    "We'll get back to you by December 12.",
    "Phone: +1 555 010 0199",
)
AUTO_HEADERS = ("", "Auto-Submitted: auto-replied\n", "X-Autoreply: yes\n", "Precedence: auto_reply\n")


@dataclass
class Interview:
    """One interview as the simulated world has it in the calendar folder."""

    n: int
    company: str
    round: str
    start: datetime
    minutes: int
    people: tuple[tuple[str, str], ...]
    description: str
    cancelled: bool = False
    declined: bool = False
    present: bool = True
    sequence: int = 0
    moved: bool = False
    seen: bool = False  # inside the scan window at some pass (else the daemon never knew it)

    @property
    def uid(self) -> str:
        return f"iv{self.n}@example.org"

    @property
    def file(self) -> str:
        return f"iv{self.n}.ics"

    @property
    def end(self) -> datetime:
        return self.start + timedelta(minutes=self.minutes)

    @property
    def active(self) -> bool:
        return self.present and self.seen and not self.cancelled and not self.declined

    @property
    def title(self) -> str:
        c = COMPANIES[self.company]
        return f"{self.round} - {c.name} ({c.position})"

    def keys(self) -> dict[str, tuple[str, str]]:
        """key -> (kind, recipient) of every follow-up this interview can have."""
        out = {action_key(CALENDAR, self.uid, None, kind): (kind, "") for kind in (NOTE, CALL, STATUS)}
        for email in [e for _, e in self.people] or [""]:
            out[action_key(CALENDAR, self.uid, None, THANK_YOU, email)] = (THANK_YOU, email)
        return out

    def ics(self) -> bytes:
        def utc(dt: datetime) -> str:
            return dt.astimezone(timezone.utc).strftime("%Y%m%dT%H%M%SZ")

        lines = ["BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//property test//EN", "BEGIN:VEVENT",
                 f"UID:{self.uid}", "DTSTAMP:20260101T000000Z", f"SEQUENCE:{self.sequence}",
                 f"DTSTART:{utc(self.start)}", f"DTEND:{utc(self.end)}", f"SUMMARY:{self.title}"]
        if self.description:
            lines.append("DESCRIPTION:" + self.description.replace(",", "\\,"))
        if self.people:
            lines.append(f"ORGANIZER;CN={self.people[0][0]}:mailto:{self.people[0][1]}")
        for name, email in self.people:
            lines.append(f"ATTENDEE;CN={name};PARTSTAT=ACCEPTED:mailto:{email}")
        lines.append(f"ATTENDEE;CN=Alex Morgan;PARTSTAT={'DECLINED' if self.declined else 'ACCEPTED'}"
                     f":mailto:{ME}")
        if self.cancelled:
            lines.append("STATUS:CANCELLED")
        lines += ["END:VEVENT", "END:VCALENDAR", ""]
        return "\r\n".join(lines).encode()


@dataclass(frozen=True)
class SentReply:
    sender: str
    company: str
    date: datetime
    auto: bool


POLICY = """
[policy.handwritten_note]
enabled = {note}

[policy.follow_up_call]
business_day = {call_day}

[policy.status_check]
days_after_call = {days_after_call}
"""

# keeps the calendar from ever reading as empty (which would stop the account)
PARENTAL_LEAVE = (
    b"BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//property test//EN\r\nBEGIN:VEVENT\r\n"
    b"UID:leave@example.org\r\nDTSTAMP:20260101T000000Z\r\n"
    b"DTSTART;VALUE=DATE:20260901\r\nDTEND;VALUE=DATE:20270601\r\n"
    b"SUMMARY:Parental leave\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n")
PREP = (
    b"BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//property test//EN\r\nBEGIN:VEVENT\r\n"
    b"UID:prep@example.org\r\nDTSTAMP:20260101T000000Z\r\n"
    b"DTSTART:20261027T140000Z\r\nDTEND:20261027T150000Z\r\n"
    b"SUMMARY:Interview prep - Acme Corp\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n")
USER_DRAFT = (b"From: Alex Morgan <me@example.org>\nTo: friend@example.net\nSubject: Dinner?\n"
              b"Message-ID: <own-draft@example.org>\n\nFriday?\n")
NEWSLETTER = (b"From: news@shop.example\nTo: me@example.org\nSubject: Sale\n"
              b"Date: Mon, 26 Oct 2026 07:00:00 -0400\nMessage-ID: <n1@shop.example>\n\nBuy!\n")


EVENT_WRITES = ("create_event", "update_event", "delete_event")
DRAFT_WRITES = ("create_draft", "delete_draft")
LATER = st.one_of(st.just(timedelta(0)),
                  st.integers(1, 120).map(lambda m: timedelta(minutes=m)),
                  st.integers(1, 48).map(lambda h: timedelta(hours=h)),
                  st.integers(1, 14).map(lambda d: timedelta(days=d)))


def _dying(real, calls: list, nth: int, after_the_write: bool, in_doubt: set):
    """``real``, except that the nth write (counted in ``calls``, shared by
    every wrapped method) kills the process before or after it happens. The
    key of an item created just before the crash goes into ``in_doubt``."""
    def write(*args, **kwargs):
        calls.append(real.__name__)
        if len(calls) < nth:
            return real(*args, **kwargs)
        if after_the_write:
            real(*args, **kwargs)
            if real.__name__.startswith("create_"):
                in_doubt.add(args[0].key)
        raise Crash(real.__name__)

    return write


def _shift_times(data: bytes, delta: timedelta) -> bytes:
    def move(m: re.Match) -> bytes:
        moment = datetime.strptime(m.group(2).decode(), "%Y%m%dT%H%M%SZ").replace(tzinfo=timezone.utc)
        return m.group(1) + (moment + delta).strftime("%Y%m%dT%H%M%SZ").encode()

    return re.sub(rb"(?m)^(DT(?:START|END)[^:\r\n]*:)(\d{8}T\d{6}Z)", move, data)


class FollowupWorld(RuleBasedStateMachine):
    def __init__(self):
        super().__init__()
        self.root = Path(tempfile.mkdtemp(prefix="followup-prop-", dir=TMP))
        self.cal = self.root / "calendar"
        self.drafts = self.root / "Mail" / "Drafts"
        self.inbox = self.root / "Mail" / "INBOX"
        self.cal.mkdir()
        for box in (self.drafts, self.inbox):
            for sub in ("cur", "new", "tmp"):
                (box / sub).mkdir(parents=True)
        self.config = self.root / "config.toml"
        self.engine: Engine | None = None
        self.now = BASE
        self.mtime = time.time_ns()
        self.interviews: dict[str, Interview] = {}  # uid -> interview
        self.keymap: dict[str, tuple[Interview, str, str]] = {}  # key -> (interview, kind, recipient)
        self.sources: dict[str, bytes] = {}  # calendar file name -> bytes
        self.mail: dict[Path, bytes] = {}  # inbox messages and the user's own draft
        self.replies: list[SentReply] = []
        self.present: dict[str, Path] = {}  # the daemon's items after the last pass
        self.edited: dict[Path, bytes] = {}  # the daemon's items the user changed
        self.deleted: set[str] = set()  # keys of the daemon's items the user deleted
        # Keys of items written by a pass that was killed before it could
        # store the outcome, until the next pass has looked them up. Deleting
        # one of those is indistinguishable from the write never having
        # happened: the daemon writes it again, once.
        self.in_doubt: set[str] = set()
        # Drafts found by that look-up: the daemon cannot tell whether the user
        # edited them in the meantime, so it never deletes them.
        self.hands_off: set[str] = set()
        self._source("leave.ics", PARENTAL_LEAVE)
        self._source("prep.ics", PREP)
        self._mail(self.drafts / "cur" / "1761480000.own.host:2,DS", USER_DRAFT, BASE)
        self._mail(self.inbox / "cur" / "1761476400.n1.host:2,S", NEWSLETTER, BASE)

    @initialize(call_day=st.integers(1, 5), days_after_call=st.integers(1, 7), note=st.booleans())
    def configure(self, call_day, days_after_call, note):
        """Every number is configurable: shorter ones reach the status
        check within fewer steps."""
        self.config.write_text(config_text(POLICY.format(
            call_day=call_day, days_after_call=days_after_call, note=str(note).lower())))
        self.settings = config_module.load(self.config)
        self.engine = Engine(self.settings)

    def teardown(self):
        if self.engine is not None:
            self.engine.close()
        shutil.rmtree(self.root, ignore_errors=True)

    # -- the world's files ---------------------------------------------------

    def _touch(self, path: Path) -> None:
        """A distinct mtime for every write: edits never hide behind the
        file system's timestamp granularity (as they cannot in real life,
        where edits are more than a clock tick apart)."""
        self.mtime += 1_000_000_000
        os.utime(path, ns=(self.mtime, self.mtime))

    def _source(self, name: str, data: bytes) -> None:
        path = self.cal / name
        path.write_bytes(data)
        self._touch(path)
        self.sources[name] = data

    def _mail(self, path: Path, data: bytes, date: datetime) -> None:
        path.write_bytes(data)
        ns = int(date.timestamp()) * 1_000_000_000
        os.utime(path, ns=(ns, ns))
        self.mail[path] = data

    def _write(self, iv: Interview) -> None:
        iv.present = True
        self._source(iv.file, iv.ics())

    def _own_events(self) -> list[tuple[str, Path, bytes]]:
        out = []
        for path in sorted(self.cal.glob("followup-*.ics")):
            data = path.read_bytes()
            parsed = read_followup_ics(data)
            assert parsed is not None, f"{path.name} is not a readable follow-up"
            out.append((parsed[0], path, data))
        return out

    def _own_drafts(self) -> list[tuple[str, str, Path, bytes]]:
        out = []
        for sub in ("cur", "new"):
            for path in sorted((self.drafts / sub).iterdir()):
                if path in self.mail:
                    continue
                data = path.read_bytes()
                head = BytesHeaderParser().parsebytes(data)
                key = head.get("X-Followup-Key")
                assert key, f"a draft without X-Followup-Key appeared: {path.name}"
                out.append((str(key), str(head.get("Message-ID", "")), path, data))
        return out

    def _files(self) -> dict[str, bytes]:
        return {p.relative_to(self.root).as_posix(): p.read_bytes() for p in self.root.rglob("*")
                if p.is_file() and not p.name.startswith("state.sqlite3")}

    def _add(self, company: str, round_name: str, start: datetime, minutes: int, people: int,
             description: str) -> None:
        n = len(self.interviews) + 1
        c = COMPANIES[company]
        iv = Interview(n, company, round_name, start, minutes, c.people[:people], description)
        self.interviews[iv.uid] = iv
        for key, (kind, recipient) in iv.keys().items():
            self.keymap[key] = (iv, kind, recipient)
        self._write(iv)

    def _pick(self, items: list, index: int):
        return items[index % len(items)]

    def _latest(self, company: str, written: set[str] | None = None) -> Interview | None | object:
        """The company's latest round in the calendar; with the keys the
        daemon holds as ``written``, a vanished round whose call or status
        check was written and whose call falls later takes its place (the
        process moved on to it). ``UNKNOWN`` when such a round was ever
        moved: the daemon places it by the call it last planned, which the
        world does not know."""
        rounds = [iv for iv in self.interviews.values() if iv.company == company and iv.active]
        latest = max(rounds, key=lambda iv: (iv.start, iv.uid), default=None)
        if latest is None or written is None:
            return latest
        held = [iv for iv in self.interviews.values()
                if iv.company == company and iv.seen and not iv.present
                and any(k in written for k, (kind, _) in iv.keys().items() if kind in (CALL, STATUS))]
        if any(iv.moved for iv in held):
            return UNKNOWN
        later = [iv for iv in held if self._call_due(iv) > self._call_due(latest)]
        return max(later, key=self._call_due, default=latest)

    def _call_due(self, iv: Interview) -> datetime:
        return timing.follow_up_call_due(iv.start, DECISIONS.read(iv.description, iv.start.date()),
                                         self.settings.policy.follow_up_call, self.engine.days, TZ)

    def _written(self, current: set[str]) -> set[str]:
        """Keys the daemon holds as written: its items there now, and those
        the user deleted or it cannot be sure about."""
        return current | self.deleted | self.hands_off

    # -- the world changes ---------------------------------------------------

    @precondition(lambda self: len(self.interviews) < MAX_INTERVIEWS)
    @rule(company=st.sampled_from(sorted(COMPANIES)), later_round=st.booleans(),
          round_name=st.sampled_from(ROUNDS), hours=st.integers(-48, 10 * 24), quarter=st.integers(0, 3),
          minutes=st.sampled_from([30, 45, 60, 90]), people=st.integers(0, 3),
          description=st.sampled_from(DESCRIPTIONS))
    def add_interview(self, company, later_round, round_name, hours, quarter, minutes, people, description):
        """A new interview; with ``later_round``, the next round after the
        company's latest one."""
        start = self.now.replace(minute=0) + timedelta(hours=hours, minutes=15 * quarter)
        latest = self._latest(company)
        if later_round and latest is not None:
            start = latest.start.replace(minute=0) + timedelta(hours=24 + abs(hours), minutes=15 * quarter)
        self._add(company, round_name, start, minutes, people, description)

    @precondition(lambda self: bool(self.interviews))
    @rule(what=st.sampled_from(["reschedule", "cancel", "decline", "reinstate", "delete", "restore"]),
          index=st.integers(0, 20), hours=st.integers(-72, 7 * 24).filter(bool))
    def change_interview(self, what, index, hours):
        """The organizer moves or cancels it, the user declines it or
        accepts after all, the file disappears (deleted, a sync glitch) or
        comes back. Falls back to something possible for the interview."""
        iv = self._pick(sorted(self.interviews.values(), key=lambda i: i.n), index)
        if not iv.present:
            what = "restore"
        elif what == "restore" or (what == "reinstate" and iv.active):
            what = "reschedule"
        if what == "reschedule":
            iv.start += timedelta(hours=hours)
            iv.moved = True
        elif what == "cancel":
            iv.cancelled = True
        elif what == "decline":
            iv.declined = True
        elif what == "reinstate":
            iv.cancelled = iv.declined = False
        if what == "delete":
            iv.present = False
            (self.cal / iv.file).unlink()
            del self.sources[iv.file]
        else:
            iv.sequence += what != "decline"
            self._write(iv)

    @precondition(lambda self: bool(self.interviews))
    @rule(index=st.integers(0, 20), who=st.integers(0, 20), auto=st.sampled_from(AUTO_HEADERS),
          minutes_ago=st.sampled_from([0, 5, 90, 600]))
    def deliver_reply(self, index, who, auto, minutes_ago):
        """Somebody at the company writes (or an out-of-office answers)."""
        company = self._pick(sorted({iv.company for iv in self.interviews.values()}), index)
        c = COMPANIES[company]
        senders = sorted({e for iv in self.interviews.values() if iv.company == company for _, e in iv.people})
        senders += [f"hr@{c.domain}", f"recruiting@mail.{c.domain}"]
        sender = self._pick(senders, who)
        date = self.now - timedelta(minutes=minutes_ago)
        n = len(self.replies) + 1
        raw = (f"From: {sender}\nTo: {ME}\nSubject: Re: interview\nDate: {format_datetime(date)}\n"
               f"Message-ID: <r{n}@{c.domain}>\n{auto}\nThanks for your time.\n").encode()
        self._mail(self.inbox / "cur" / f"{int(date.timestamp())}.r{n}.host:2,S", raw, date)
        self.replies.append(SentReply(sender, company, date, bool(auto)))

    # -- the user and the daemon's items ---------------------------------------

    def _items(self) -> list[tuple[str, Path, bytes]]:
        return [*self._own_events(), *((k, p, d) for k, _, p, d in self._own_drafts())]

    @precondition(lambda self: bool(self.present))
    @rule(index=st.integers(0, 40), delete=st.booleans(), hours=st.integers(-48, 48).filter(bool))
    def user_changes_own_item(self, index, delete, hours):
        """The user deletes a follow-up, moves a call or note, or edits a draft."""
        items = self._items()
        if not items:
            return
        key, path, data = self._pick(items, index)
        if delete:
            path.unlink()
            self.edited.pop(path, None)
            self.present.pop(key, None)
            if key in self.in_doubt:
                self.in_doubt.discard(key)  # to the daemon as if never written
            else:
                self.deleted.add(key)
            self.hands_off.discard(key)
            return
        if path.suffix == ".ics":
            changed = _shift_times(data, timedelta(hours=hours))
        else:
            changed = data + b"P.S. my own words\n"
        assert changed != data
        path.write_bytes(changed)
        self.edited[path] = changed

    # -- the daemon ----------------------------------------------------------

    def _restart(self) -> None:
        self.engine.close()
        self.engine = Engine(self.settings)

    def _looked_up(self) -> None:
        """Every pass first looks up what a crash left open, and scans the
        window (an interview added long after it started is never seen)."""
        self.hands_off |= {k for k in self.in_doubt if self.keymap[k][1] in (THANK_YOU, STATUS)}
        self.in_doubt.clear()
        scan = self.settings.scan
        first_day = scan_window(self.now, scan.lookback, scan.lookahead)[0]
        for iv in self.interviews.values():
            iv.seen = iv.seen or (iv.present and iv.start >= first_day)

    def _pass(self):
        self._looked_up()
        report = self.engine.run_pass(self.now, apply=True)
        assert report.account_errors == {}, report.account_errors
        assert report.problems == [], report.problems
        assert report.applied.failed == [], report.applied.failed
        return report

    def _advance(self, amount: timedelta) -> None:
        self.now = (self.now + amount).astimezone(TZ)

    @rule(later=LATER, how=st.sampled_from(["engine", "restarted", "command"]))
    def run_pass(self, later, how):
        """Time passes, then a pass: by the running engine, by a restarted
        one, or by ``followup run --once``. A second pass at the same moment
        must find nothing to do."""
        self._advance(later)
        if how == "command":
            self._looked_up()
            code = cli.main(["--config", str(self.config), "run", "--once", "--now", self.now.isoformat()])
            assert code == 0
        else:
            if how == "restarted":
                self._restart()
            self._pass()
        self._check(complete=True)
        files = self._files()
        again = self._pass()
        assert again.plan.actions == [], [(a.op, a.record.kind, a.record.state, a.record.reason)
                                          for a in again.plan.actions]
        assert self._files() == files

    @rule(later=LATER, nth=st.integers(1, 4), after_the_write=st.booleans())
    def crash(self, later, nth, after_the_write):
        """Killed during a pass at the nth write to a calendar or mailbox:
        after the intent is stored and before the provider call, or after
        the provider call and before the outcome is stored. A fresh engine
        then starts on the same files."""
        self._advance(later)
        calls = []
        for connector, methods in ((self.engine.calendars[CALENDAR], EVENT_WRITES),
                                   (self.engine.mailboxes["mail"], DRAFT_WRITES)):
            for method in methods:
                setattr(connector, method, _dying(getattr(connector, method), calls, nth,
                                                  after_the_write, self.in_doubt))
        crashed = False
        try:
            self._pass()
        except Crash:
            crashed = True
        self._restart()
        self._check(complete=not crashed)

    # -- what must hold ------------------------------------------------------

    def _check(self, complete: bool) -> None:
        events = self._own_events()
        drafts = self._own_drafts()

        # nothing twice
        twice = [k for k, n in Counter(k for k, _, _ in events).items() if n > 1]
        assert not twice, f"follow-up events written twice: {twice}"
        twice = [k for k, n in Counter(k for k, _, _, _ in drafts).items() if n > 1]
        assert not twice, f"drafts written twice: {twice}"
        twice = [m for m, n in Counter(m for _, m, _, _ in drafts).items() if n > 1]
        assert not twice, f"drafts with the same Message-ID: {twice}"
        assert not any((self.drafts / "tmp").iterdir())

        # what the user deleted stays deleted
        back = [self.keymap[k][1] for k in {k for k, _, _ in events} | {k for k, _, _, _ in drafts}
                if k in self.deleted]
        assert not back, f"deleted by the user but written again: {back}"

        # what is not the daemon's is untouched; what the user edited stays so
        names = {p.name for p in self.cal.iterdir()}
        assert names == set(self.sources) | {p.name for _, p, _ in events}, names
        for name, data in self.sources.items():
            assert (self.cal / name).read_bytes() == data, f"source event {name} changed"
        for path, data in self.mail.items():
            assert path.exists() and path.read_bytes() == data, f"{path.name} changed"
        inbox = {p for sub in ("cur", "new") for p in (self.inbox / sub).iterdir()}
        assert inbox == {p for p in self.mail if p.is_relative_to(self.inbox)}
        for path, data in self.edited.items():
            assert path.exists(), f"{path.name}, edited by the user, was deleted"
            assert path.read_bytes() == data, f"{path.name}, edited by the user, was changed"

        # what was created in this pass was due, and allowed
        current = {k: p for k, p, _ in events} | {k: p for k, _, p, _ in drafts}
        for key in set(current) - set(self.present):
            assert key in self.keymap, f"unknown follow-up {key}"
            self._check_created(*self.keymap[key], self._written(set(current)))
        self.present = current

        if not complete:
            return
        self._check_due(set(current))
        # one call and one status check per hiring process, counting what the
        # daemon still owns, also of rounds that vanished from the calendar
        # (their follow-ups are on hold, but they still count)
        def owned(kind: str, company: str, items) -> list[Path]:
            return [path for key, path in items if path not in self.edited and key not in self.hands_off
                    and self.keymap[key][1] == kind and self.keymap[key][0].company == company]

        for company in COMPANIES:
            calls = owned(CALL, company, [(k, p) for k, p, _ in events])
            assert len(calls) <= 1, f"{len(calls)} call events for {company}"
            checks = owned(STATUS, company, [(k, p) for k, _, p, _ in drafts])
            assert len(checks) <= 1, f"{len(checks)} status-check drafts for {company}"

    def _check_created(self, iv: Interview, kind: str, recipient: str, written: set[str]) -> None:
        what = f"{kind} for {iv.uid} ({iv.title}, {iv.start:%Y-%m-%d %H:%M}) at {self.now:%Y-%m-%d %H:%M}"
        assert iv.active, (f"{what}: the interview is "
                           f"{'cancelled' if iv.cancelled else 'declined' if iv.declined else 'gone'}")
        if kind == THANK_YOU:
            due = iv.end + THANK_YOU_DELAY
            assert due <= self.now, f"{what}: before its time {due}"
            assert self.now <= due + THANK_YOU_EXPIRY, f"{what}: more than 3 days after {due}"
        else:
            assert self.now >= iv.end, f"{what}: before the interview was over"
        if kind in (CALL, STATUS):
            latest = self._latest(iv.company, written)
            assert latest is iv or latest is UNKNOWN, f"{what}: not the latest round"
        if kind == STATUS:
            answered = self._answered(iv)
            assert not answered, f"{what}: {answered[0].sender} had replied on {answered[0].date}"

    def _answered(self, iv: Interview) -> list[SentReply]:
        """Replies that stop the status check of ``iv``: not automatic, sent
        after it, by someone the daemon can tie to the company (the domain
        is known once a round in the calendar has an interviewer)."""
        if not any(r.people for r in self.interviews.values() if r.company == iv.company and r.active):
            return []
        return [r for r in self.replies if r.company == iv.company and not r.auto and r.date >= iv.end]

    def _check_due(self, current: set[str]) -> None:
        """What is due has been written, unless the user deleted it: each
        thank-you from its due time for three days, the latest round's call
        from the end of the interview until the call is over, its status
        check from its due time for two weeks unless the company answered
        (an automatic reply does not count). Only for interviews never
        moved, whose due times never changed."""
        policy, days = self.settings.policy, self.engine.days
        for iv in self.interviews.values():
            if not iv.active or iv.moved:
                continue
            latest = self._latest(iv.company, self._written(current)) is iv
            call = self._call_due(iv)
            for key, (kind, recipient) in iv.keys().items():
                if key in current or key in self.deleted:
                    continue
                if kind == THANK_YOU and policy.thank_you.enabled:
                    due = iv.end + policy.thank_you.delay
                    window = (due, due + policy.thank_you.expire_after)
                elif kind == CALL and latest:
                    window = (iv.end, call + policy.follow_up_call.duration)
                elif kind == STATUS and latest and not self._answered(iv):
                    due = timing.status_check_due(call.date(), policy.status_check, days, TZ)
                    window = (due, due + STATUS_CHECK_GRACE)
                else:
                    continue
                assert not window[0] <= self.now <= window[1], (
                    f"{kind} {recipient} for {iv.uid} ({iv.title}, {iv.start:%Y-%m-%d %H:%M}) is missing "
                    f"at {self.now:%Y-%m-%d %H:%M}: it is due from {window[0]:%Y-%m-%d %H:%M} "
                    f"to {window[1]:%Y-%m-%d %H:%M}")


FollowupWorld.TestCase.settings = settings(
    max_examples=int(os.environ.get("FOLLOWUP_PROPERTY_EXAMPLES", "200")), stateful_step_count=25,
    deadline=None)  # a pass scans, plans and writes real files: its time varies
TestFollowupWorld = pytest.mark.slow(FollowupWorld.TestCase)


# -- the bugs this machine found, as plain scenarios -----------------------------

@pytest.fixture
def world():
    w = FollowupWorld()
    w.configure(call_day=1, days_after_call=1, note=False)
    yield w
    w.teardown()


def _names(world: FollowupWorld, kind: str) -> list[str]:
    found = [(k, p) for k, p, _ in world._own_events()] + [(k, p) for k, _, p, _ in world._own_drafts()]
    return sorted(p.name for k, p in found if world.keymap[k][1] == kind)


def _acme(world: FollowupWorld, later_round: bool = False, hours: int = 1) -> None:
    world.add_interview(company="acme", later_round=later_round, round_name="Onsite", hours=hours, quarter=0,
                        minutes=60, people=1, description="")


def test_a_follow_up_the_user_deleted_stays_deleted_when_its_withdrawal_is_undone(world):
    # the call is withdrawn (interview cancelled) after the user deleted it;
    # the interview is then reinstated: the call must not be written again
    _acme(world)
    world.run_pass(later=timedelta(hours=2, minutes=30), how="engine")  # over, before the thank-you
    assert len(_names(world, CALL)) == 1
    world.user_changes_own_item(index=0, delete=True, hours=1)
    world.change_interview(what="cancel", index=0, hours=1)
    world.run_pass(later=timedelta(minutes=5), how="engine")
    world.change_interview(what="reinstate", index=0, hours=1)
    world.run_pass(later=timedelta(minutes=5), how="engine")
    assert _names(world, CALL) == []


def test_a_later_round_removes_the_earlier_rounds_status_check_draft(world):
    _acme(world)
    world.run_pass(later=timedelta(days=4), how="engine")  # 10-30: call 10-27, status check 10-28
    assert len(_names(world, STATUS)) == 1
    _acme(world, later_round=True, hours=120)  # 11-01: call 11-02, status check 11-03
    world.run_pass(later=timedelta(hours=1), how="engine")
    assert _names(world, STATUS) == []
    world.run_pass(later=timedelta(days=6), how="engine")  # the later round's own status check
    assert len(_names(world, STATUS)) == 1


def test_a_cancelled_rounds_status_check_draft_is_removed(world):
    _acme(world)
    world.run_pass(later=timedelta(days=4), how="engine")
    world.change_interview(what="cancel", index=0, hours=1)
    world.run_pass(later=timedelta(hours=1), how="engine")
    assert _names(world, STATUS) == []


def test_a_call_event_moved_right_after_a_crash_is_left_alone(world):
    # the pass is killed right after writing the call; the user moves the
    # call; the interview is rescheduled: the user's call stays as it is
    _acme(world)
    world.crash(later=timedelta(hours=2, minutes=30), nth=1, after_the_write=True)
    world.user_changes_own_item(index=0, delete=False, hours=3)
    ((path, moved),) = world.edited.items()
    world.change_interview(what="reschedule", index=0, hours=1)
    world.run_pass(later=timedelta(minutes=5), how="engine")
    assert path.read_bytes() == moved


def test_a_draft_written_right_before_a_crash_is_never_deleted(world):
    # the pass that writes the status check is killed before it stores the
    # outcome; the user edits the draft; the company replies: the draft is
    # the user's now
    _acme(world)
    world.run_pass(later=timedelta(hours=3), how="engine")
    world.crash(later=timedelta(days=4), nth=1, after_the_write=True)
    (status,) = [p for k, _, p, _ in world._own_drafts() if world.keymap[k][1] == STATUS]
    world.user_changes_own_item(index=[p for _, p, _ in world._items()].index(status), delete=False, hours=1)
    world.deliver_reply(index=0, who=0, auto="", minutes_ago=0)
    world.run_pass(later=timedelta(minutes=5), how="engine")
    assert status.read_bytes() == world.edited[status]
