"""Requests per poll, counted on the server side, for every connector.

For each calendar backend (with a local Maildir beside it) and each
mailbox backend (with a local calendar beside it) an ``Engine`` runs real
passes (``run_pass(now, apply=True)``) on a world with five meetings and an
interview:

1. a first pass, then N idle polls five minutes apart (the interview is
   still ahead: no follow-up is due, no reply is looked for);
2. one meeting is edited (calendars), then one poll;
3. the interview is over: a pass that writes its follow-ups, then N idle
   polls (the status check is pending, so replies are looked for);
4. an unrelated message arrives (mailboxes), then one poll.
"""

from __future__ import annotations

import tempfile
from collections import Counter
from datetime import datetime, timedelta, timezone
from pathlib import Path

from . import backends
from .ics import interview, meeting, message
from .rows import Row, missing
from .wiring import swap
from .world import config, local_accounts, settings

UTC = timezone.utc
T1 = datetime(2030, 3, 4, 15, 0, tzinfo=UTC)
INTERVIEW = datetime(2030, 3, 5, 19, 0, tzinfo=UTC)  # 14:00 in New York, one hour
T3 = INTERVIEW + timedelta(hours=3)  # the thank-you was due an hour ago
POLL = timedelta(minutes=5)


def _meetings() -> list[bytes]:
    return [meeting(f"m{i}@bench", f"Team sync {i}", T1 + timedelta(days=i % 4, hours=i))
            for i in range(5)]


def _pass(engine, now: datetime):
    report = engine.run_pass(now, apply=True)
    if report.account_errors:
        raise RuntimeError("; ".join(f"{k}: {v}" for k, v in report.account_errors.items()))
    return report


def _polls(engine, backend, start: datetime, n: int) -> Counter:
    """The counts of ``n`` polls after ``start``, summed."""
    backend.reset()
    for i in range(1, n + 1):
        _pass(engine, start + i * POLL)
    return backend.counted()


def _per_poll(backend, counter: Counter, n: int) -> float:
    return round(backend.value(counter) / n, 2)


def _detail(counter: Counter, n: int) -> str:
    return ", ".join(f"{name} {count / n:g}" for name, count in sorted(counter.items())
                     if count) or "nothing"


def _engine(root: Path):
    from daemon.app.engine import Engine

    calendar, mailbox = local_accounts(root)
    return Engine(settings(config(root / "state.sqlite3", [calendar], [mailbox]), root))


def _start(backend, root: Path) -> str:
    """Start ``backend`` on a fresh world at ``root``: "" or why it cannot run."""
    root.mkdir()
    try:
        local_accounts(root)
        backend.start(root)
    except backends.Unavailable as exc:
        return f"not measured: {exc}"
    return ""


def calendar_rows(cls, tmp: Path, n: int) -> list[Row]:
    backend = cls()
    idle_name = f"requests per idle poll, calendar: {backend.label}"
    change_name = f"requests after one event changes, calendar: {backend.label}"
    local = backend.unit == "parses"
    idle_goal = "0 parses, 1 listing" if local else "1"
    # a local change costs one file read; it is parsed only if a keyword can match
    change_goal = "1 read, at most 1 parse" if local else "1 + O(changed events)"
    change_unit = "reads" if local else backend.unit
    unit = f"{backend.unit}/poll"
    root = tmp / f"calendar-{cls.__name__}"
    why = _start(backend, root)
    if why:
        return [missing(idle_name, unit, idle_goal, why),
                missing(change_name, change_unit, change_goal, why)]
    engine = None
    try:
        handles = [backend.add(data) for data in _meetings()]
        backend.add(interview("iv@bench", "Acme", INTERVIEW))
        engine = _engine(root)
        connector = backend.connector()
        if connector is not None:
            swap(engine, calendars={"personal": connector})
        _pass(engine, T1)
        before = _polls(engine, backend, T1, n)
        backend.change(handles[0], meeting("m0@bench", "Team sync moved", T1 + timedelta(hours=5)))
        backend.reset()
        _pass(engine, T1 + (n + 1) * POLL)
        changed = backend.counted()
        written = _pass(engine, T3).applied
        after = _polls(engine, backend, T3, n)
    except Exception as exc:  # noqa: BLE001 - reported in the rows, the other backends go on
        why = f"failed: {exc!r}"[:300]
        return [missing(idle_name, unit, idle_goal, why),
                missing(change_name, change_unit, change_goal, why)]
    finally:
        if engine is not None:
            engine.close()
        backend.close()
    idle = max(_per_poll(backend, before, n), _per_poll(backend, after, n))
    changed_value = backend.value(changed)
    if local:
        idle_met = idle == 0 and before["listing"] <= n and after["listing"] <= n
        changed_value = changed["open"]
        change_met = changed_value == 1 and changed["parse"] <= 1
    else:
        idle_met, change_met = idle <= 1, changed_value <= 2
    own = sum(1 for a in written.done if a.op == "create_event")
    note = (f"per poll, before the interview: {_detail(before, n)}; after it, with {own} "
            f"follow-up event(s) written: {_detail(after, n)}")
    if local:
        note = "no network; " + note
    if cls is backends.GoogleCalendarBackend:
        note += " (OAuth token requests are not counted)"
    return [Row(idle_name, idle, unit, idle_goal, idle_met, note),
            Row(change_name, changed_value, change_unit, change_goal, change_met,
                f"{_detail(changed, 1)}")]


def mailbox_rows(cls, tmp: Path, n: int) -> list[Row]:
    backend = cls()
    label = backend.label
    names = (f"requests per idle poll, mailbox: {label}, nothing pending",
             f"requests per idle poll, mailbox: {label}, status check pending",
             f"requests after one message arrives, mailbox: {label}")
    imap = cls is backends.ImapBackend
    maildir = cls is backends.MaildirBackend
    goals = ("0",
             "1 EXAMINE per reply folder" if imap else ("0 opens of old mail" if maildir else "1"),
             "1 + O(new messages)")
    unit = f"{backend.unit}/poll"
    root = tmp / f"mailbox-{cls.__name__}"
    why = _start(backend, root)
    if why:
        return [missing(name, unit, goal, why) for name, goal in zip(names, goals)]
    engine = None
    try:
        for i, data in enumerate(_meetings()):
            (root / "calendar" / f"m{i}.ics").write_bytes(data)
        (root / "calendar" / "iv.ics").write_bytes(interview("iv@bench", "Acme", INTERVIEW))
        if maildir:  # older mail that a reply search must not open
            for i in range(20):
                backend.deliver(message("News <news@shop.example>", f"Sale {i}",
                                        T1 - timedelta(days=300 + i), f"old{i}@shop.example"),
                                T1 - timedelta(days=300 + i))
        engine = _engine(root)
        connector = backend.connector()
        if connector is not None:
            swap(engine, mailboxes={"mail": connector})
        _pass(engine, T1)
        quiet = _polls(engine, backend, T1, n)
        written = _pass(engine, T3).applied
        # the first poll after the drafts exist asks for replies to them too
        # (their Message-IDs): one search more, once; the idle polls follow
        _pass(engine, T3 + POLL / 2)
        pending = _polls(engine, backend, T3, n)
        backend.deliver(message("News <news@shop.example>", "Spring sale", T3 + timedelta(minutes=1),
                                "new@shop.example"), T3 + timedelta(minutes=1))
        backend.reset()
        _pass(engine, T3 + (n + 1) * POLL)
        arrived = backend.counted()
    except Exception as exc:  # noqa: BLE001 - reported in the rows, the other backends go on
        why = f"failed: {exc!r}"[:300]
        return [missing(name, unit, goal, why) for name, goal in zip(names, goals)]
    finally:
        if engine is not None:
            engine.close()
        backend.close()
    drafts = sum(1 for a in written.done if a.op == "create_draft")
    quiet_value, pending_value = _per_poll(backend, quiet, n), _per_poll(backend, pending, n)
    arrived_value = backend.value(arrived)
    if imap:
        folders = pending["EXAMINE"] / n
        pending_met = set(pending) <= {"EXAMINE"} and folders <= 2
        pending_note = (f"{folders:g} EXAMINE per poll, one per reply folder (INBOX, Archive); "
                        f"per poll: {_detail(pending, n)}")
    elif maildir:
        pending_met = pending_value == 0
        pending_note = f"no network; 20 old messages; per poll: {_detail(pending, n)}"
    else:
        pending_met = pending_value <= 1
        pending_note = f"per poll: {_detail(pending, n)}"
    pending_note += (f" (after the pass that wrote {drafts} thank-you drafts, and the one poll after "
                     "it that first asks for replies to them)")
    return [
        Row(names[0], quiet_value, unit, goals[0], quiet_value == 0,
            f"per poll: {_detail(quiet, n)}"),
        Row(names[1], pending_value, unit, goals[1], pending_met, pending_note),
        Row(names[2], arrived_value, backend.unit, goals[2], arrived_value <= pending_value + 2,
            _detail(arrived, 1)),
    ]


def run(quick: bool) -> list[Row]:
    n = 2 if quick else 10
    rows: list[Row] = []
    with tempfile.TemporaryDirectory(prefix="followup-bench-") as tmp:
        for cls in backends.CALENDARS:
            rows += calendar_rows(cls, Path(tmp), n)
        for cls in backends.MAILBOXES:
            rows += mailbox_rows(cls, Path(tmp), n)
    return rows
