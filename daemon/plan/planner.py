"""Planning: what should exist, compared with what the state says exists.

``plan(PlanInput) -> Plan`` is pure: it reads no files, calls no provider
and never looks at the clock (``now`` is an input). Its output is a list of
``Action``s for the executor and one ``Outcome`` per follow-up for reports.

Inputs:
  - the interviews currently in the calendars (``Interview``), and the
    events that matched a keyword but are cancelled or declined (their
    follow-ups are withdrawn);
  - the stored ``Record`` of every follow-up ever planned, by key;
  - replies found in the mailboxes, by hiring process;
  - the policy, business days, time zone, and a ``Composer`` that renders
    the content of what is to be written.

Rules that keep the daemon from fighting the user:
  - a follow-up is created once; a record in ``done`` is never created again,
    so what the user deleted stays deleted;
  - only items the daemon wrote and the user did not change are updated or
    deleted (the executor enforces this with etags);
  - nothing is withdrawn because something is merely missing: the follow-ups
    of an interview that vanished from the calendar are put on hold, not
    cancelled. A vanished round still counts in its hiring process, by the
    due time of its call: a later round in the calendar supersedes it as if
    it were there, and once it wrote its call or status check it supersedes
    the earlier rounds still in the calendar, so one process never gets two
    calls or two status checks.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta, timezone
from functools import cached_property
from typing import Any
from zoneinfo import ZoneInfo

from daemon.drafts.compose import Composer
from daemon.judge.detection import Ignored, Interview
from daemon.kinds import Kind, Op, RecordState
from daemon.model import Draft, FollowupEvent, Recipient, Reply, StoredItem
from daemon.plan import timing
from daemon.plan.keys import action_key, content_hash, interview_id
from daemon.plan.records import Record
from daemon.settings import Policy

THANK_YOU, NOTE, CALL, STATUS = Kind.THANK_YOU, Kind.NOTE, Kind.CALL, Kind.STATUS
KINDS = tuple(Kind)
EVENT_KINDS = frozenset(k for k in Kind if k.is_event)

# A status check later than this past its due time is no longer drafted.
STATUS_CHECK_GRACE = timedelta(days=14)
# After the status-check draft exists, replies are still watched this long
# so the draft can be withdrawn if the company answers first.
REPLY_WATCH = timedelta(days=21)
# More interviewers than this are a crowd, not a panel: the thank-you and
# the status check go to the organizer alone (or to nobody, to fill in).
MAX_PANEL = 8
# Causes of a cancellation that can go away again (the interview is
# re-accepted, the later round is removed, the kind is turned back on).
REVIVABLE = frozenset({"interview_cancelled", "superseded", "disabled", "no_mailbox"})

# Records that need nothing more: a cancellation whose cause can go away
# again is still brought back by ``_revivable``.
TERMINAL = frozenset({RecordState.CANCELLED, RecordState.EXPIRED, RecordState.SKIPPED})


@dataclass(frozen=True)
class Followup:
    """One follow-up the policy asks for (it may be suppressed)."""

    key: str
    kind: str
    interview: Interview
    process: str
    due: datetime
    ready_at: datetime  # from when it may be written
    expires_at: datetime | None  # after this it is not written any more
    to: tuple[Recipient, ...]
    recipient: str
    target: str | None  # None: no mailbox to write the draft into
    suppressed: str = ""  # why it must not (or no longer) exist
    cause: str = ""


@dataclass(frozen=True)
class Action:
    """One effect for the executor. ``record`` is the state to store once
    the effect succeeded; ``previous`` the stored record (ref and etag).
    A draft to create is composed when ``draft`` is first read (a dry run
    never needs the message itself)."""

    op: Op
    record: Record
    previous: Record | None = None
    event: FollowupEvent | None = None
    compose: Callable[[], Draft] | None = field(default=None, compare=False, repr=False)

    @property
    def key(self) -> str:
        return self.record.key

    @cached_property
    def draft(self) -> Draft | None:
        return self.compose() if self.compose is not None else None


@dataclass(frozen=True)
class Outcome:
    """A follow-up as reported by ``plan`` and ``status``."""

    key: str
    kind: str
    interview: str
    due: datetime
    state: str  # planned, due, done, cancelled, expired, skipped
    to: tuple[str, ...]
    reason: str
    process: str = ""


@dataclass(frozen=True)
class ReplyQuery:
    """Which mailbox to search for one process's answer, and what is known
    to judge it by (``daemon.judge.answers.Facts``)."""

    process: str
    mailbox: str
    addresses: tuple[str, ...]
    domains: tuple[str, ...]
    since: datetime
    companies: tuple[str, ...] = ()
    people: tuple[str, ...] = ()
    positions: tuple[str, ...] = ()
    message_ids: tuple[str, ...] = ()

    @property
    def facts(self):
        from daemon.judge.answers import Facts

        return Facts(process=self.process, since=self.since, addresses=self.addresses,
                     domains=self.domains, companies=self.companies, people=self.people,
                     positions=self.positions, message_ids=self.message_ids)


@dataclass
class PlanInput:
    now: datetime
    tz: ZoneInfo
    policy: Policy
    days: timing.BusinessDays
    composer: Composer
    interviews: Sequence[Interview]
    withdrawn: Sequence[Ignored] = ()  # cancelled or declined interviews
    records: Mapping[str, Record] = field(default_factory=dict)
    replies: Mapping[str, Reply] = field(default_factory=dict)
    mailbox_of: Mapping[str, str | None] = field(default_factory=dict)
    # processes whose reply search failed this pass: their status check waits
    reply_unknown: set[str] = field(default_factory=set)
    # calendar name -> the name its keys are made with (a renamed calendar
    # keeps its first name there, so nothing is written twice)
    key_names: Mapping[str, str] = field(default_factory=dict)

    def key(self, iv: Interview, rid: datetime | None, kind: str, recipient: str = "") -> str:
        return action_key(self.key_names.get(iv.calendar, iv.calendar), iv.uid, rid, kind, recipient)

    @cached_property
    def processes(self) -> dict[str, str]:
        """Interview id -> hiring process, grouped once per input."""
        return group_processes(self.interviews)

    @cached_property
    def latest(self) -> dict[str, Interview]:
        """Process -> its latest round."""
        return latest_rounds(self.interviews, self.processes)

    def but(self, **changes: Any) -> "PlanInput":
        """A copy with ``changes`` (the records after adoption, the replies
        once searched); the grouping of unchanged interviews is kept."""
        new = replace(self, **changes)
        if "interviews" not in changes:
            for name in ("processes", "latest"):
                if name in self.__dict__:
                    new.__dict__[name] = self.__dict__[name]
        return new


@dataclass
class Plan:
    actions: list[Action] = field(default_factory=list)
    outcomes: list[Outcome] = field(default_factory=list)
    processes: dict[str, str] = field(default_factory=dict)  # interview id -> process
    next_wake: datetime | None = None  # when the next follow-up becomes writable


# -- hiring processes --------------------------------------------------------

def _norm_company(name: str) -> str:
    import re

    words = re.sub(r"[^\w\s]", " ", name.casefold()).split()
    suffixes = {"inc", "llc", "ltd", "gmbh", "ag", "corp", "corporation", "co", "sa", "sas", "plc", "bv", "se"}
    while len(words) > 1 and words[-1] in suffixes:
        words.pop()
    return " ".join(words)


def group_processes(interviews: Sequence[Interview]) -> dict[str, str]:
    """Interview id -> process id. Rounds with the same company form one
    process; when several positions at one company are known, each is its
    own process, and a round without a position joins the company's only
    known position."""
    result: dict[str, str] = {}
    by_company: dict[str, list[Interview]] = {}
    for iv in interviews:
        iid = interview_id(iv.calendar, iv.uid, iv.event.recurrence_id)
        if iv.company:
            by_company.setdefault(_norm_company(iv.company) or iv.company, []).append(iv)
        else:  # the occurrences of a series are one process
            result[iid] = "event:" + interview_id(iv.calendar, iv.uid, None).replace("\x1f", "/")
    for company, rounds in by_company.items():
        positions = {_norm_company(r.position) for r in rounds if r.position}
        for r in rounds:
            iid = interview_id(r.calendar, r.uid, r.event.recurrence_id)
            if r.position:
                result[iid] = f"{company} / {_norm_company(r.position)}"
            elif len(positions) == 1:
                result[iid] = f"{company} / {next(iter(positions))}"
            else:
                result[iid] = company
    return result


def latest_rounds(interviews: Sequence[Interview], processes: Mapping[str, str]) -> dict[str, Interview]:
    latest: dict[str, Interview] = {}
    for iv in interviews:
        p = processes[interview_id(iv.calendar, iv.uid, iv.event.recurrence_id)]
        if p not in latest or (iv.start, iv.uid) > (latest[p].start, latest[p].uid):
            latest[p] = iv
    return latest


# -- what the policy asks for --------------------------------------------------

def _call_day(iv: Interview, inp: PlanInput) -> date:
    return timing.follow_up_call_due(iv.start, iv.decision_by, inp.policy.follow_up_call, inp.days, inp.tz).date()


def _call_due(iv: Interview, inp: PlanInput) -> datetime:
    return timing.local_at(_call_day(iv, inp), inp.policy.follow_up_call.at, inp.tz)


@dataclass(frozen=True)
class Held:
    """The rounds of present hiring processes that vanished from the
    calendar, placed by the due time of their calls (stored in every
    round's call record, whatever its state)."""

    # process -> the call record of the latest vanished round placed after
    # the rounds in the calendar that already wrote its call or status check
    later_written: dict[str, Record]
    earlier: dict[str, Interview]  # vanished interview id -> the present round that supersedes it


def held_rounds(inp: PlanInput, processes: Mapping[str, str],
                latest: Mapping[str, Interview]) -> Held:
    """Place the vanished rounds of the processes in the calendar (a
    withdrawn round is not vanished: it was cancelled or declined)."""
    present = set(processes)
    withdrawn = {interview_id(w.calendar, w.uid, w.event.recurrence_id) for w in inp.withdrawn}
    vanished = [rec for rec in inp.records.values()
                if rec.interview not in present and rec.interview not in withdrawn
                and rec.process in latest]
    written = {rec.interview for rec in vanished
               if rec.kind in (CALL, STATUS) and rec.state in (RecordState.DONE, RecordState.PENDING)}
    held = Held({}, {})
    latest_due = {process: _call_due(iv, inp) for process, iv in latest.items()}
    for rec in vanished:
        if rec.kind != CALL:
            continue
        if rec.due <= latest_due[rec.process]:
            held.earlier[rec.interview] = latest[rec.process]
        elif rec.interview in written:  # a written follow-up stands: the process moved on
            other = held.later_written.get(rec.process)
            if other is None or rec.due > other.due:
                held.later_written[rec.process] = rec
    return held


def desired(inp: PlanInput, processes: Mapping[str, str], latest: Mapping[str, Interview],
            held: Held | None = None) -> list[Followup]:
    pol, tz = inp.policy, inp.tz
    held = held or held_rounds(inp, processes, latest)
    out: list[Followup] = []
    first_of_series = _first_of_series(inp.interviews)
    written_before = _series_written(inp.records)
    for iv in inp.interviews:
        rid = iv.event.recurrence_id
        # a series gets one thank-you and one note, after its first occurrence
        once = rid is None or first_of_series[(iv.calendar, iv.uid)] is iv
        iid = interview_id(iv.calendar, iv.uid, rid)
        process = processes[iid]
        mailbox = inp.mailbox_of.get(iv.calendar)
        newest = latest[process]
        superseded = "" if newest is iv else (
            f"superseded by the later round on {newest.start:%Y-%m-%d} ({newest.title})")
        written = held.later_written.get(process)
        if written is not None:
            superseded = ("superseded by a later round that is no longer in the calendar "
                          f"(its call was due {written.due.astimezone(tz):%Y-%m-%d}) and whose "
                          "follow-ups were written")

        def make(kind: str, due: datetime, ready: datetime, expires: datetime | None,
                 to: tuple[Recipient, ...] = (), recipient: str = "",
                 suppressed: str = "", cause: str = "") -> Followup:
            target = iv.calendar if kind in EVENT_KINDS else mailbox
            if not suppressed and target is None:
                suppressed, cause = "no mailbox is configured for this calendar", "no_mailbox"
            key = inp.key(iv, None if kind in (THANK_YOU, NOTE) else rid, kind, recipient)
            if (not suppressed and rid is not None and key not in inp.records
                    and (iv.calendar, iv.uid, kind, recipient.lower()) in written_before):
                suppressed, cause = "already written for an earlier occurrence of this series", "series"
            return Followup(key, kind, iv, process, due, ready, expires, to, recipient, target,
                            suppressed, cause)

        off = ("turned off in the config", "disabled")
        addressees = _addressees(iv)
        if once:
            due = timing.thank_you_due(iv.end, pol.thank_you, tz)
            for person in addressees or [Recipient("", None)]:
                out.append(make(THANK_YOU, due, due, timing.thank_you_expires(due, pol.thank_you),
                                (person,) if person.email else (), person.email or "",
                                *(() if pol.thank_you.enabled else off)))

            due = timing.handwritten_note_due(iv.start, pol.handwritten_note, inp.days, tz)
            out.append(make(NOTE, due, iv.end, due + pol.handwritten_note.duration,
                            suppressed=("" if pol.handwritten_note.enabled else off[0]),
                            cause=("" if pol.handwritten_note.enabled else off[1])))

        call_day = _call_day(iv, inp)
        due = timing.local_at(call_day, pol.follow_up_call.at, tz)
        reason, cause = (superseded, "superseded") if superseded else ("", "")
        if not pol.follow_up_call.enabled:
            reason, cause = off
        out.append(make(CALL, due, iv.end, due + pol.follow_up_call.duration,
                        suppressed=reason, cause=cause))

        due = timing.status_check_due(call_day, pol.status_check, inp.days, tz)
        reason, cause = (superseded, "superseded") if superseded else ("", "")
        reply = inp.replies.get(process)
        if not superseded and reply is not None:
            day = f"{reply.date.astimezone(tz):%Y-%m-%d}"
            if reply.sender:
                reason = f"{reply.sender} replied on {day}" + (f" ({reply.reason})" if reply.reason else "")
            else:
                reason = f"{reply.reason or 'answered'}, on {day}"
            if reply.ref:
                reason += f"; if that was no answer: followup not-answered '{reply.ref}'"
            cause = "reply"
        if not pol.status_check.enabled:
            reason, cause = off
        to = tuple(addressees)
        out.append(make(STATUS, due, due, due + STATUS_CHECK_GRACE, to, "",
                        suppressed=reason, cause=cause))
    return out


def _addressees(iv: Interview) -> list[Recipient]:
    """Whom the thank-you and the status check are for: the interviewers
    with an address, or of a crowd only the organizer."""
    people = [p for p in iv.interviewers if p.email]
    if len(people) <= MAX_PANEL:
        return people
    organizer = (iv.event.organizer.email or "").lower() if iv.event.organizer else ""
    return [p for p in people if p.email.lower() == organizer][:1]


def _first_of_series(interviews: Sequence[Interview]) -> dict[tuple[str, str], Interview]:
    first: dict[tuple[str, str], Interview] = {}
    for iv in interviews:
        known = first.get((iv.calendar, iv.uid))
        if known is None or iv.event.start < known.event.start:
            first[(iv.calendar, iv.uid)] = iv
    return first


def _series_written(records: Mapping[str, Record]) -> set[tuple[str, str, str, str]]:
    """(calendar, UID, kind, recipient) of the thank-yous and notes written
    for single occurrences of a series (as earlier versions did), so that
    the series' own is not written again."""
    out = set()
    for rec in records.values():
        if rec.kind in (THANK_YOU, NOTE) and rec.state in (RecordState.DONE, RecordState.PENDING):
            calendar, uid, rid = (rec.interview.split("\x1f") + ["", "", ""])[:3]
            if rid:
                out.add((calendar, uid, rec.kind, rec.recipient.lower()))
    return out


def reply_queries(inp: PlanInput) -> list[ReplyQuery]:
    """Which mailboxes to search for replies, and for whom: only processes
    whose status check is still to come (or still in Drafts) are asked."""
    processes, latest = inp.processes, inp.latest
    rounds: dict[str, list[Interview]] = {}
    for other in inp.interviews:
        process = processes[interview_id(other.calendar, other.uid, other.event.recurrence_id)]
        rounds.setdefault(process, []).append(other)
    ids_of: dict[str, list[Record]] = {}
    for rec in inp.records.values():  # the drafts written for each process
        if rec.message_id and rec.state == RecordState.DONE:
            ids_of.setdefault(rec.process, []).append(rec)
    queries = []
    for process, iv in sorted(latest.items()):
        mailbox = inp.mailbox_of.get(iv.calendar)
        if mailbox is None or not inp.policy.status_check.enabled:
            continue
        key = inp.key(iv, iv.event.recurrence_id, STATUS)
        rec = inp.records.get(key)
        if rec is not None and (rec.user_changed or (rec.state in TERMINAL and not _revivable(rec))):
            continue
        if rec is not None and rec.state == RecordState.DONE and inp.now > rec.due + REPLY_WATCH:
            continue
        if inp.now < iv.end:
            continue
        # every round's interviewers and domains count (``iv`` is one of them)
        addresses = tuple(sorted({p.email for other in rounds[process]
                                  for p in other.interviewers if p.email}))
        domains = list(iv.company_domains)
        for other in rounds[process]:
            domains += [d for d in other.company_domains if d not in domains]
        companies = _unique(r.company for r in rounds[process])
        people = _unique(p.name for r in rounds[process] for p in r.interviewers)
        positions = _unique(r.position for r in rounds[process])
        message_ids = tuple(sorted({rec.message_id for rec in ids_of.get(process, ())}))
        if addresses or domains or companies or message_ids:
            queries.append(ReplyQuery(process, mailbox, addresses, tuple(domains), iv.end,
                                      companies, people, positions, message_ids))
    return queries


def _unique(values) -> tuple[str, ...]:
    out: list[str] = []
    for value in values:
        if value and value.strip() and value.strip() not in out:
            out.append(value.strip())
    return tuple(out)


# -- deciding ------------------------------------------------------------------

def _same_instant(a: datetime, b: datetime) -> bool:
    """``a == b`` for aware datetimes, also in the hour repeated when daylight
    saving time ends (Python never finds a time in it equal to a time in
    another zone, such as the UTC of a stored record)."""
    return a.astimezone(timezone.utc) == b.astimezone(timezone.utc)


def _revivable(rec: Record) -> bool:
    """A cancellation that is undone when its cause goes away."""
    return rec.state == RecordState.CANCELLED and rec.cause in REVIVABLE


def _new_record(f: Followup, state: str, reason: str = "", cause: str = "") -> Record:
    iv = f.interview
    return Record(
        key=f.key, kind=f.kind, calendar=iv.calendar, target=f.target or "",
        interview=interview_id(iv.calendar, iv.uid, iv.event.recurrence_id),
        process=f.process, due=f.due, state=state, recipient=f.recipient,
        reason=reason, cause=cause,
    )


def _withdraw(rec: Record, reason: str, cause: str) -> Action | None:
    """Actions that take back a follow-up (record only, or delete own item)."""
    if rec.state in TERMINAL or rec.state == RecordState.PENDING:
        return None
    if rec.state == RecordState.PLANNED:
        return Action(Op.RECORD, replace(rec, state=RecordState.CANCELLED, reason=reason, cause=cause))
    # done: remove only our own unchanged items: calendar items, and a
    # status-check draft (the company replied, a later round took over, the
    # round was cancelled). Thank-you drafts stay.
    if rec.user_changed or rec.ref is None:
        return None
    after = replace(rec, state=RecordState.CANCELLED, reason=reason, cause=cause, ref=None, etag=None)
    if rec.kind in EVENT_KINDS:
        return Action(Op.DELETE_EVENT, after, previous=rec)
    if rec.kind == STATUS:
        return Action(Op.DELETE_DRAFT, after, previous=rec)
    return None


def _decide(f: Followup, rec: Record | None, inp: PlanInput) -> Action | None:
    now = inp.now
    if rec is not None and _revivable(rec) and not f.suppressed:
        rec = replace(rec, state=RecordState.PLANNED, reason="", cause="")
        revived = True
    else:
        revived = False
    if f.suppressed:
        if rec is None:
            return Action(Op.RECORD, _new_record(f, RecordState.CANCELLED, f.suppressed, f.cause))
        return _withdraw(rec, f.suppressed, f.cause)
    if rec is None or rec.state == RecordState.PLANNED:
        if f.expires_at is not None and now > f.expires_at:
            return Action(Op.RECORD, _new_record(
                f, RecordState.EXPIRED,
                f"its time had passed ({f.expires_at:%Y-%m-%d %H:%M}) before it could be written", "expired"))
        if now >= f.ready_at:
            if f.kind == STATUS and f.process in inp.reply_unknown:
                return None  # a reply may have come: do not draft before knowing
            done = _new_record(f, RecordState.DONE)
            if f.kind in EVENT_KINDS:
                event = _event(f, inp)
                done = replace(done, content_hash=content_hash(event.title, event.start, event.end))
                return Action(Op.CREATE_EVENT, done, previous=rec, event=event)
            def compose(f=f) -> Draft:  # dated when it is written, so it sorts as it should
                return inp.composer.draft(f.kind, f.key, f.interview, f.to, inp.now)

            return Action(Op.CREATE_DRAFT, replace(done, message_id=inp.composer.message_id(f.key)),
                          previous=rec, compose=compose)
        if rec is None or revived or not _same_instant(rec.due, f.due):
            return Action(Op.RECORD, _new_record(f, RecordState.PLANNED))
        return None
    if rec.state == RecordState.DONE and f.kind in EVENT_KINDS and rec.ref and not rec.user_changed:
        event = _event(f, inp)
        new_hash = content_hash(event.title, event.start, event.end)
        if new_hash != rec.content_hash:
            after = replace(rec, due=f.due, content_hash=new_hash, reason="moved with the interview")
            return Action(Op.UPDATE_EVENT, after, previous=rec, event=event)
    return None


def _event(f: Followup, inp: PlanInput) -> FollowupEvent:
    duration = (inp.policy.follow_up_call.duration if f.kind == CALL
                else inp.policy.handwritten_note.duration)
    return inp.composer.event(f.kind, f.key, f.interview, f.due, duration)


def _outcome(f_key: str, kind: str, interview: str, process: str, due: datetime,
             state: str, to: tuple[str, ...], reason: str, now: datetime) -> Outcome:
    if state in ("planned", "pending") and due <= now:
        state = "due"
    return Outcome(f_key, kind, interview, due, state, to, reason, process)


def adopt(inp: PlanInput, found: Sequence[StoredItem]) -> list[Record]:
    """Records for the daemon's own items ``found`` at the provider that
    have none (the state database was lost, or is new): each is taken back
    as done, never written twice, and one the user moved or retitled stays
    as they left it. Items the policy no longer asks for are left out."""
    wanted = {f.key: f for f in desired(inp, inp.processes, inp.latest)}
    out = []
    for item in found:
        f = wanted.get(item.key)
        if f is None or item.key in inp.records:
            continue
        seen = content_hash(item.title, item.start, item.end) if item.start and item.end else None
        event = _event(f, inp)
        as_written = seen == content_hash(event.title, event.start, event.end)
        rec = _new_record(f, RecordState.DONE, "found in the calendar and taken back" if as_written
                          else "found in the calendar as you left it; left so")
        out.append(replace(rec, ref=item.ref, etag=item.etag, content_hash=seen, user_changed=not as_written,
                           due=rec.due if as_written or not item.start else item.start))
    return out


def plan(inp: PlanInput) -> Plan:
    """Compare what the policy asks for with the records; see module doc."""
    processes, latest = inp.processes, inp.latest
    held = held_rounds(inp, processes, latest)
    result = Plan(processes=dict(processes))
    seen: set[str] = set()
    for f in desired(inp, processes, latest, held):
        seen.add(f.key)
        rec = inp.records.get(f.key)
        action = _decide(f, rec, inp)
        if (not f.suppressed and f.ready_at > inp.now and (rec is None or rec.state == RecordState.PLANNED)
                and (result.next_wake is None or f.ready_at < result.next_wake)):
            result.next_wake = f.ready_at
        if action is not None:
            result.actions.append(action)
        final = action.record if action is not None else rec
        if action is not None and action.op != Op.RECORD:
            state, reason = "due", action.record.reason or f"to be written ({action.op.replace('_', ' ')})"
        elif final is not None:
            state, reason = final.state, final.reason
        else:
            state, reason = "planned", ""
        # a follow-up event the user moved is shown where they put it
        shown = final.due if (final is not None and final.user_changed and final.kind in EVENT_KINDS
                              and final.state == RecordState.DONE) else f.due
        result.outcomes.append(_outcome(
            f.key, f.kind, interview_id(f.interview.calendar, f.interview.uid, f.interview.event.recurrence_id),
            f.process, shown, state, tuple(r.email for r in f.to if r.email), reason, inp.now))

    withdrawn = {interview_id(w.calendar, w.uid, w.event.recurrence_id): w for w in inp.withdrawn}
    present = set(processes)
    for rec in inp.records.values():
        if rec.key in seen:
            continue
        w = withdrawn.get(rec.interview)
        later = held.earlier.get(rec.interview) if rec.kind in (CALL, STATUS) else None
        if w is not None:
            action = _withdraw(rec, f"the interview was {'declined' if w.cause == 'declined' else 'cancelled'}",
                               "interview_cancelled")
        elif later is not None:
            action = _withdraw(rec, f"superseded by the later round on {later.start:%Y-%m-%d} "
                               f"({later.title})", "superseded")
        else:
            action = None
        if action is not None:
            result.actions.append(action)
            rec_state, reason = action.record.state, action.record.reason
        else:
            rec_state = rec.state
            reason = rec.reason
            if w is None and rec.state in (RecordState.PLANNED, RecordState.PENDING):
                reason = ("on hold: no longer asked for since the event changed" if rec.interview in present
                          else "on hold: the interview is no longer in the calendar")
        result.outcomes.append(_outcome(rec.key, rec.kind, rec.interview, rec.process, rec.due,
                                        rec_state, (rec.recipient,) if rec.recipient else (), reason, inp.now))
    return result
