"""What the commands print: the plan (text or JSON) and the status table."""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import datetime
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from daemon.kinds import Kind, RecordState
from daemon.plan.keys import instant, interview_id

if TYPE_CHECKING:  # only for annotations: status output must start fast
    from daemon.plan.planner import Outcome
    from daemon.plan.records import Record

LABELS = {kind.value: kind.label for kind in Kind}


def _iso(dt: datetime | None, tz: ZoneInfo) -> str | None:
    return None if dt is None else dt.astimezone(tz).isoformat(timespec="seconds")


#: unreadable items listed by ``status`` and ``run --once`` (``plan`` lists all)
SHOWN_UNREADABLE = 10


def safe(text: str, limit: int = 120) -> str:
    """Event text is untrusted: no control characters on the terminal."""
    cleaned = "".join(c if c.isprintable() else " " for c in text)
    return cleaned if len(cleaned) <= limit else cleaned[: limit - 1] + "…"


def plan_json(report, tz: ZoneInfo) -> dict:
    by_interview: dict[str, list[Outcome]] = {}
    for o in report.plan.outcomes:
        by_interview.setdefault(o.interview, []).append(o)
    interviews = []
    for iv in report.interviews:
        iid = interview_id(iv.calendar, iv.uid, iv.event.recurrence_id)
        interviews.append({
            "uid": iv.uid,
            "recurrence_id": instant(iv.event.recurrence_id) or None,
            "calendar": iv.calendar,
            "title": iv.title,
            "start": _iso(iv.start, tz),
            "end": _iso(iv.end, tz),
            "company": iv.company,
            "position": iv.position,
            "interviewers": [{"name": p.name, "email": p.email} for p in iv.interviewers],
            "process": report.plan.processes.get(iid),
            "decision_by": iv.decision_by.isoformat() if iv.decision_by else None,
            "matched": iv.matched,
            "why": iv.why,
            "language": iv.language,
            "actions": [{
                "kind": o.kind, "due": _iso(o.due, tz), "state": o.state,
                "to": list(o.to), "reason": o.reason,
            } for o in by_interview.get(iid, [])],
        })
    known = {interview_id(iv.calendar, iv.uid, iv.event.recurrence_id) for iv in report.interviews}
    on_hold = [{
        "kind": o.kind, "interview": o.interview.replace("\x1f", " "), "due": _iso(o.due, tz),
        "state": o.state, "to": list(o.to), "reason": o.reason,
    } for o in report.plan.outcomes if o.interview not in known]
    return {
        "generated_at": _iso(report.now, tz),
        "timezone": str(tz),
        "interviews": interviews,
        "ignored": [{"uid": i.uid, "title": i.event.title, "cause": i.cause, "reason": i.reason}
                    for i in report.ignored],
        "other_followups": on_hold,
        "problems": [str(p) for p in report.problems],
        "account_errors": report.account_errors,
    }


def when(dt: datetime, tz: ZoneInfo) -> str:
    return dt.astimezone(tz).strftime("%a %Y-%m-%d %H:%M")


def plan_text(report, tz: ZoneInfo) -> str:
    data_by: dict[str, list[Outcome]] = {}
    for o in report.plan.outcomes:
        data_by.setdefault(o.interview, []).append(o)
    lines = [f"Interviews found: {len(report.interviews)}  (times in {tz})"]
    for iv in report.interviews:
        lines.append("")
        lines.append(f"  {when(iv.start, tz)}  {safe(iv.title)}  [{iv.calendar}]")
        facts = [f"company: {safe(iv.company, 60)}" if iv.company else "company: unknown"]
        if iv.position:
            facts.append(f"position: {safe(iv.position, 60)}")
        if iv.decision_by:
            facts.append(f"decision by {iv.decision_by:%Y-%m-%d}")
        lines.append("    " + " · ".join(facts))
        if iv.why:
            lines.append(f"    why: {safe(iv.why, 200)}")
        if iv.interviewers:
            people = ", ".join(safe(f"{p.name} <{p.email}>" if p.email else p.name, 60) for p in iv.interviewers)
            lines.append(f"    interviewers: {people}")
        for o in data_by.get(interview_id(iv.calendar, iv.uid, iv.event.recurrence_id), []):
            lines.append(_outcome_line(o, tz))
    maybe = [i for i in report.ignored if i.cause == "unsure"]
    if maybe:
        lines += ["", f"Maybe interviews, nothing done for them ({len(maybe)}):"]
        lines += [f"  {when(i.event.start, tz)}  {safe(i.event.title)}: {safe(i.reason, 300)}" for i in maybe]
    ignored = [i for i in report.ignored if i.cause != "unsure"]
    if ignored:
        lines += ["", f"Ignored ({len(ignored)}):"]
        lines += [f"  {safe(i.event.title)}: {safe(i.reason, 200)}" for i in ignored]
    known = {interview_id(iv.calendar, iv.uid, iv.event.recurrence_id) for iv in report.interviews}
    others = [o for o in report.plan.outcomes if o.interview not in known]
    if others:
        lines += ["", "Follow-ups of interviews no longer in a calendar:"]
        lines += [_outcome_line(o, tz) for o in others]
    if report.problems:
        lines += ["", f"Could not read ({len(report.problems)}):"]
        lines += [f"  {safe(str(p), 300)}" for p in report.problems]
    if report.account_errors:
        lines += ["", "Accounts with problems:"]
        lines += [f"  {name}: {why}" for name, why in report.account_errors.items()]
    return "\n".join(lines)


def _outcome_line(o: Outcome, tz: ZoneInfo) -> str:
    to = f" to {safe(', '.join(o.to), 200)}" if o.to else ""
    reason = f" ({safe(o.reason, 300)})" if o.reason else ""
    return f"    - {LABELS[o.kind]}{to}: {o.state}, {when(o.due, tz)}{reason}"


def _row(*parts: str) -> str:
    """One table line: the parts that are not empty, two spaces apart."""
    return "  " + "  ".join(p for p in parts if p)


def _pipeline(records: list[Record], names: dict[str, str], tz: ZoneInfo, now: datetime) -> list[str]:
    """One line per hiring process, newest first: its rounds, the last
    thing written, whether the company answered, and the next step."""
    by_process: dict[str, list[Record]] = {}
    for r in records:
        by_process.setdefault(r.process, []).append(r)
    rows = []
    for process, recs in by_process.items():
        rounds = len({r.interview for r in recs})
        done = [r for r in recs if r.state == RecordState.DONE and r.due <= now]
        placed = [r for r in recs if r.state == RecordState.DONE and r.due > now]  # a call in the calendar
        coming = [r for r in recs if r.state in (RecordState.PLANNED, RecordState.PENDING)]
        answered = any(r.cause == "reply" for r in recs)
        parts = [f"{rounds} round{'s' if rounds != 1 else ''}"]
        if done:
            last = max(done, key=lambda r: r.due)
            parts.append(f"last: {LABELS[last.kind]} {when(last.due, tz)}")
        for r in sorted(placed, key=lambda r: r.due)[:1]:
            parts.append(f"{LABELS[r.kind]} in your calendar for {when(r.due, tz)}")
        if answered:
            parts.append("the company answered")
        if coming:
            step = min(coming, key=lambda r: r.due)
            parts.append(f"next: {LABELS[step.kind]} {'now' if step.due <= now else when(step.due, tz)}")
        elif not answered:
            parts.append("nothing more planned")
        newest = max(r.due for r in recs)
        rows.append((newest, f"  {safe(names.get(process) or process, 60)}: {' · '.join(parts)}"))
    if not rows:
        return []
    rows.sort(key=lambda row: row[0], reverse=True)
    return ["", f"Hiring processes ({len(rows)}):", *(line for _, line in rows[:30])]


def status_text(records: Iterable[Record], accounts: dict, tz: ZoneInfo, now: datetime,
                daemon: str = "", maybe: list[dict] | None = None,
                verdicts: dict[str, dict[str, datetime]] | None = None,
                names: dict[str, str] | None = None, unreadable: list[str] | None = None) -> str:
    """``names``: hiring process -> its company and position as written;
    ``unreadable``: what the last pass could not read."""
    records = sorted(records, key=lambda r: r.due)
    names = names or {}

    def process(r: Record) -> str:
        return safe(names.get(r.process) or r.process, 60)
    lines = [daemon, ""] if daemon else []
    lines.append("Accounts:")
    if not accounts:
        lines.append("  (no pass has run yet)")
    for name, (status, message, since, last_ok) in sorted(accounts.items()):
        good = f", last good pass {when(last_ok, tz)}" if last_ok and status != "ok" else ""
        moment = f"last pass {when(last_ok, tz)}" if status == "ok" and last_ok else f"since {when(since, tz)}"
        lines.append(f"  {safe(name, 60)}: {status}, {moment}{good}" + (f": {safe(message, 400)}" if message else ""))
    lines += _pipeline(records, names, tz, now)
    upcoming = [r for r in records if r.state in (RecordState.PLANNED, RecordState.PENDING)]
    lines += ["", f"Upcoming follow-ups ({len(upcoming)}):"]
    for r in upcoming:
        state = "due now" if r.due <= now else "planned"
        lines.append(_row(when(r.due, tz), f"{LABELS[r.kind]:<19}", f"{state:<8}",
                          safe(r.recipient or "", 80), process(r)))
    if unreadable:
        lines += ["", f"Could not be read ({len(unreadable)}); everything else was:"]
        lines += [f"  {safe(line, 300)}" for line in unreadable[:SHOWN_UNREADABLE]]
        if len(unreadable) > SHOWN_UNREADABLE:
            lines.append(f"  and {len(unreadable) - SHOWN_UNREADABLE} more (followup plan lists them all)")
    if maybe:
        lines += ["", f"Maybe interviews, nothing done for them ({len(maybe)}):"]
        for m in maybe:
            start = datetime.fromisoformat(m["start"])
            lines.append(f"  {when(start, tz)}  {safe(m['title'], 60)}: {safe(m['reason'], 300)}")
    decided = [(kind, target) for kind, targets in sorted((verdicts or {}).items()) for target in sorted(targets)]
    if decided:
        lines += ["", "Your decisions (take one back with --undo):"]
        lines += [f"  followup {kind.replace('_', '-')} "
                  f"{'--title ' + repr(t[6:]) if t.startswith('title:') else repr(t)}"
                  for kind, t in decided]
    past = [r for r in records if r.state not in (RecordState.PLANNED, RecordState.PENDING)]
    lines += ["", f"Done and closed ({len(past)}):"]
    for r in past[-50:]:
        reason = f"({safe(r.reason, 200)})" if r.reason else ""
        lines.append(_row(when(r.due, tz), f"{LABELS[r.kind]:<19}", f"{r.state:<9}",
                          safe(r.recipient or "", 80), process(r), reason))
    return "\n".join(lines)


def dumps(data: dict) -> str:
    return json.dumps(data, indent=2, ensure_ascii=False)
