"""One pass of the daemon: scan, detect, plan, and (in ``run``) apply.

This is the only place that wires connectors, state and the pure core
together. Each account is isolated: a calendar or mailbox that fails is
reported and skipped, and the others go on.
"""

from __future__ import annotations

import json
import logging
import random
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

from daemon import registry
from daemon.app.executor import CHANGED_BY_USER, DELETED_BY_USER, Applied, Executor
from daemon.app.notify import Message, Notifier, Written, summary
from daemon.app.report import LABELS, safe
from daemon.connector import Calendar, Context, Mailbox
from daemon.drafts.compose import Composer
from daemon.errors import AuthError, ConfigError, ConnectorError, SyncTokenExpired, TransientError
from daemon.interest import Interest
from daemon.judge.answers import Judge as AnswerJudge
from daemon.judge.answers import first_answer
from daemon.judge.detection import Ignored, Interview, Judge, Overrides, judge_series
from daemon.kinds import Op, RecordState
from daemon.model import CalendarEvent, Problem, Reply, ReplySearch
from daemon.plan import planner
from daemon.plan.keys import interview_id
from daemon.plan.planner import Plan, PlanInput, Record
from daemon.plan.reminders import calls_today, due_now
from daemon.plan.timing import BusinessDays
from daemon.settings import AccountConfig, Settings
from daemon.store.state import State

log = logging.getLogger("followup")

# Backoff of a failing account: doubling from a minute up to an hour.
BACKOFF_BASE = timedelta(minutes=1)
MAX_BACKOFF = timedelta(hours=1)
# Transient failures of one account tolerated in a pass before it stops.
TOLERATED_PER_PASS = 2
# A login that failed needs the user; look again now and then in case they
# ran 'followup auth' (a reload retries at once).
AUTH_RETRY = timedelta(hours=1)
# Interviews older than this have no follow-up left (the latest, a status
# check after a far decision date, is well inside it).
CACHE_DAYS = timedelta(days=400)
# Where 12/11 means December 11.
MONTH_FIRST_COUNTRIES = frozenset({"US", "PH", "FM", "MH", "PW", "CA", "BZ"})
# A calendar that read as holding at least this many events and now reads
# as empty is not believed (a broken sync, an unmounted folder).
EMPTY_BRAKE = 3
# Unreadable items ``followup status`` keeps (``followup plan`` lists all).
MAX_UNREADABLE = 50


@dataclass
class PassReport:
    now: datetime
    plan: Plan
    interviews: list[Interview]
    ignored: list[Ignored]
    problems: list[Problem] = field(default_factory=list)
    account_errors: dict[str, str] = field(default_factory=dict)
    applied: Applied | None = None
    strikes: dict[str, int] = field(default_factory=dict)  # transient failures per account
    retry_soon: bool = False  # some call failed: the next pass should come soon
    retry_after: float = 0.0  # the longest Retry-After a provider asked for


def scan_window(now: datetime, lookback: timedelta, lookahead: timedelta) -> tuple[datetime, datetime]:
    """The scan window, widened to whole UTC days: it stays the same all day,
    so sync tokens tied to a window stay valid from one scan to the next."""
    def day(moment: datetime) -> datetime:
        utc = moment.astimezone(timezone.utc)
        return utc.replace(hour=0, minute=0, second=0, microsecond=0)

    return day(now - lookback), day(now + lookahead) + timedelta(days=1)


def connector_context(settings: Settings) -> Context:
    base = settings.source.parent if settings.source else Path.cwd()
    return Context(base_dir=base, state_dir=settings.state_path.parent, user_addresses=settings.me.addresses)


class Engine:
    """Holds the connectors and state for a run of passes."""

    def __init__(self, settings: Settings, accept_empty: frozenset[str] = frozenset()):
        self.settings = settings
        self.tz = ZoneInfo(settings.me.timezone)
        self.judge = Judge(settings.detection, settings.me.addresses, self.tz, settings.me.name,
                           month_first=settings.me.country in MONTH_FIRST_COUNTRIES)
        self.interest = Interest.from_keywords(self.judge.interest_terms(),
                                               domains=self.judge.interest_domains())
        self.answers = AnswerJudge(settings.me.addresses, self.judge.lexicon)
        self.verdicts: dict[str, dict[str, datetime]] = {}
        self._verdicts_before: dict[tuple[str, CalendarEvent], Interview | Ignored | None] = {}
        self._verdicts_now: dict[tuple[str, CalendarEvent], Interview | Ignored | None] = {}
        self.days = BusinessDays.for_country(settings.me.country, settings.me.subdivision)
        self.notifier = Notifier(settings.notifications.enabled)
        self.composer = Composer.load(settings.me, settings.templates_dir, settings.templates_language,
                                      {c.name: c.language for c in settings.calendars})
        self.state = State(settings.state_path)
        self.key_names = self._follow_renames()
        self.accept_empty = set(accept_empty)
        self.calendars: dict[str, Calendar] = {}
        self.mailboxes: dict[str, Mailbox] = {}
        self.broken: dict[str, str] = {}  # account -> why it could not be built
        self.holds: dict[str, tuple[datetime, int]] = {}  # account -> (retry after, failures)
        self.retry_at: datetime | None = None  # the next pass, after a pass with failed calls
        self.failing_passes = 0
        self.applying = False  # in a pass of 'run' (not a preview)
        self._adopted = False
        self._unreadable: list[tuple[str, str, str, str]] | None = None  # (calendar, source, uid, line)
        self._build()

    def _follow_renames(self) -> dict[str, str]:
        """Accounts renamed in the config keep their follow-ups (see
        ``State.follow_renames``); returns the names keys are made with."""
        for old, new in self.state.follow_renames({a.name: a.identity for a in self.settings.calendars},
                                                  {a.name: a.identity for a in self.settings.mailboxes}):
            log.info("%s: renamed from %s in the config; its follow-ups go with it", new, old)
        return self.state.key_names()

    def _strays(self, now: datetime) -> None:
        """Accounts gone from the config are reported once in ``status``;
        what was written there is left as it is."""
        configured = [a.name for a in (*self.settings.calendars, *self.settings.mailboxes)]
        for name, count in sorted(self.state.stray_accounts(configured).items()):
            message = (f"no longer in the config; its {count} follow-up(s) are left as they are. "
                       "Put it back (under the old name or with the same settings) to go on with them")
            if self.state.accounts().get(name, ("",))[0] != "gone":
                self._health(name, "gone", message, now)

    def _build(self) -> None:
        ctx = connector_context(self.settings)
        for acc in self.settings.calendars:
            self._build_one(acc, registry.calendar_class, self.calendars, ctx)
        for acc in self.settings.mailboxes:
            self._build_one(acc, registry.mailbox_class, self.mailboxes, ctx)

    def _build_one(self, acc: AccountConfig, find, into: dict, ctx: Context) -> None:
        try:
            into[acc.name] = find(acc.type)(acc.name, dict(acc.options), ctx)
        except (ConfigError, ConnectorError) as exc:
            self.broken[acc.name] = str(exc)

    def close(self) -> None:
        self.notifier.close()
        for c in [*self.calendars.values(), *self.mailboxes.values()]:
            try:
                c.close()
            except Exception:  # noqa: BLE001 - closing must never stop shutdown
                pass
        self.state.close()

    # -- scanning ------------------------------------------------------------

    def _trouble(self, report: PassReport, account: str, exc: Exception) -> bool:
        """A call of ``account`` failed. A login problem stops the account at
        once; transient failures are tolerated a few times per pass (the
        action waits for the next pass, which comes soon) before the account
        stops. Returns True when it stops."""
        if isinstance(exc, TransientError):
            report.retry_soon = True
            strikes = report.strikes.get(account, 0) + 1
            report.strikes[account] = strikes
            if strikes <= TOLERATED_PER_PASS:
                log.info("%s: %s (will retry)", account, exc)
                if exc.retry_after:
                    report.retry_after = max(report.retry_after, exc.retry_after)
                return False
        self._fail(report, account, exc)
        return True

    def _fail(self, report: PassReport, account: str, exc: Exception) -> None:
        """Stop ``account`` for this pass and hold it back for a while:
        exponential backoff with full jitter, at least the provider's
        Retry-After; a login problem waits for the user (or a reload)."""
        failures = self.holds.get(account, (report.now, 0))[1] + 1
        if isinstance(exc, AuthError):
            status = f"reconnect needed: {exc}"
            delay = AUTH_RETRY
        else:
            cap = min(MAX_BACKOFF, BACKOFF_BASE * 2 ** min(failures - 1, 20))
            delay = timedelta(seconds=random.uniform(cap.total_seconds() / 2, cap.total_seconds()))
            retry_after = getattr(exc, "retry_after", None)
            if retry_after:
                delay = max(delay, timedelta(seconds=retry_after))
            kind = "temporarily unreachable" if isinstance(exc, TransientError) else "failing"
            status = f"{kind} ({failures} in a row), next try after {delay.total_seconds():.0f}s: {exc}"
        self.holds[account] = (report.now + delay, failures)
        report.account_errors[account] = status
        self._health(account, "error", status, report.now)
        log.warning("%s: %s", account, status)

    def _held(self, report: PassReport) -> None:
        """Accounts still backing off are skipped until their time comes."""
        for account, (until, failures) in self.holds.items():
            if until > report.now:
                report.account_errors[account] = (
                    f"waiting until {until.astimezone(self.tz):%Y-%m-%d %H:%M} after {failures} failures")

    def _health(self, account: str, status: str, message: str, now: datetime) -> None:
        """What ``status`` shows of an account; a preview (``plan``) leaves it."""
        if self.applying:
            self.state.set_account(account, status, message, now)

    def rebase(self, now: datetime) -> None:
        """The wall clock went back: no account waits longer than its
        longest backoff from ``now``."""
        for account, (until, failures) in list(self.holds.items()):
            self.holds[account] = (min(until, now + max(MAX_BACKOFF, AUTH_RETRY)), failures)
        if self.retry_at is not None:
            self.retry_at = min(self.retry_at, now + MAX_BACKOFF)

    def next_retry(self) -> datetime | None:
        """When the next pass should come to retry what failed."""
        times = [until for until, _ in self.holds.values()]
        if self.retry_at is not None:
            times.append(self.retry_at)
        return min(times, default=None)

    def _schedule_retry(self, report: PassReport) -> None:
        """After a pass with failed calls, come back soon: backoff with full
        jitter over the passes that keep failing, at least Retry-After."""
        if not report.retry_soon:
            self.failing_passes, self.retry_at = 0, None
            return
        self.failing_passes += 1
        cap = min(MAX_BACKOFF, BACKOFF_BASE * 2 ** min(self.failing_passes - 1, 20)).total_seconds()
        delay = max(random.uniform(cap / 2, cap), report.retry_after)
        self.retry_at = report.now + timedelta(seconds=delay)

    def _scan_calendar(self, name: str, cal: Calendar, report: PassReport) -> None:
        now = report.now
        start, end = scan_window(now, self.settings.scan.lookback, self.settings.scan.lookahead)
        token, previous_total = self.state.sync_info(name)
        try:
            try:
                result = cal.scan(start, end, self.tz, token, interest=self.interest)
            except SyncTokenExpired:
                self.state.forget_token(name)
                result = cal.scan(start, end, self.tz, None, interest=self.interest)
        except (ConnectorError, OSError) as exc:
            self._fail(report, name, exc)
            return
        report.problems.extend(result.problems)
        self._note_unreadable(name, result)
        total = result.total
        if total is None and result.full:
            total = len({e.uid for e in result.events})
        if total == 0 and (previous_total or 0) >= EMPTY_BRAKE and name not in self.accept_empty:
            self._fail(report, name, ConnectorError(
                f"the calendar now reads as empty but held {previous_total} events at the last scan; "
                "nothing was changed. If you emptied it on purpose, run "
                f"'followup run --once --accept-empty {name}'"))
            return
        relevant = [e for e in result.events if self._classify(e, name, report) is not None]
        # a changed event that no longer matches (retitled, say) must not stay
        # cached as it was: every UID the scan delivered is replaced
        forget = {*result.removed_uids, *result.skipped_uids, *(e.uid for e in result.events)}
        self.state.store_scan(name, relevant, full=result.full, removed_uids=forget,
                              window_start=start, token=result.sync_token,
                              total=total, now=now)
        self.state.prune_events(now - CACHE_DAYS)
        self._health(name, "ok", "", now)

    def _classify(self, event: CalendarEvent, calendar: str, report: PassReport) -> Interview | Ignored | None:
        """``classify``, but an event that trips it is reported, never fatal.
        A verdict is remembered from one pass to the next while the event
        and the judge stay the same: a warm pass judges only what changed."""
        key = (calendar, event)
        if key in self._verdicts_now:
            return self._verdicts_now[key]
        if key in self._verdicts_before:
            found = self._verdicts_before[key]
        else:
            try:
                found = self.judge.classify(event, calendar)
            except Exception as exc:  # noqa: BLE001 - one bad event never stops a scan
                report.problems.append(Problem(event.source or calendar,
                                               f"could not be understood: {exc!r}", event.uid))
                return None
        self._verdicts_now[key] = found
        return found

    def _detect(self, report: PassReport) -> None:
        for name in self.calendars:
            for event in self.state.cached_events(name):
                found = self._classify(event, name, report)
                if isinstance(found, Interview):
                    report.interviews.append(found)
                elif isinstance(found, Ignored):
                    report.ignored.append(found)
        report.interviews, series = judge_series(report.interviews)
        report.ignored.extend(series)
        report.interviews.sort(key=lambda i: (i.start, i.uid))

    def _plan_input(self, report: PassReport, records: dict[str, Record]) -> PlanInput:
        """What the planner is given, before the replies are searched."""
        mailbox_of = {}
        for acc in self.settings.calendars:
            mb = self.settings.mailbox_for(acc)
            mailbox_of[acc.name] = mb.name if mb else None
        return PlanInput(
            now=report.now, tz=self.tz, policy=self.settings.policy, days=self.days,
            composer=self.composer, interviews=report.interviews,
            withdrawn=[i for i in report.ignored if i.cause in ("cancelled", "declined")],
            records=records, mailbox_of=mailbox_of, key_names=self.key_names)

    def _replies(self, inp: PlanInput, report: PassReport, stopped: set[str],
                 unknown: set[str]) -> dict[str, Reply]:
        """The first answer of each process that waits for one. One search
        per mailbox covers every process; ``daemon.judge.answers`` then judges
        each message for each process from its headers. A process whose
        search could not run goes into ``unknown``: its status
        check waits, since an answer may exist."""
        by_mailbox: dict[str, list[planner.ReplyQuery]] = {}
        for q in planner.reply_queries(inp):
            by_mailbox.setdefault(q.mailbox, []).append(q)
        found: dict[str, Reply] = {}
        for process, made_at in self.verdicts.get("answered", {}).items():
            found[process] = Reply(sender="", date=made_at, ref="",
                                   reason="you said the company answered (followup answered)")
        not_answers = set(self.verdicts.get("not_answered", {}))
        for mailbox, queries in list(by_mailbox.items()):
            queries = [q for q in queries if q.process not in found]
            if not queries:
                continue
            box = self.mailboxes.get(mailbox)
            if box is None or mailbox in stopped:
                unknown.update(q.process for q in queries)
                continue
            search = ReplySearch(
                senders=tuple(sorted({s for q in queries for s in (*q.addresses, *q.domains)})),
                words=tuple(sorted({w for q in queries for w in (*q.companies, *q.people)
                                    if len(w) >= 3})),
                message_ids=tuple(sorted({m for q in queries for m in q.message_ids})))
            try:
                received = box.find_replies(search, min(q.since for q in queries))
            except (ConnectorError, OSError) as exc:
                # the status checks wait, and status says why
                unknown.update(q.process for q in queries)
                if not isinstance(exc, ConnectorError):
                    exc = ConnectorError(f"cannot search for replies: {exc.strerror or exc}")
                if self._trouble(report, mailbox, exc):
                    stopped.add(mailbox)
                continue
            received = [r for r in received if r.ref not in not_answers]
            for q in queries:
                first = first_answer(self.answers, received, q.facts)
                if first is not None:
                    msg, verdict = first
                    found[q.process] = Reply(sender=verdict.sender, date=msg.date,
                                             subject=msg.get("subject") or "", ref=msg.ref,
                                             reason=verdict.reason)
        return found

    def _adopt(self, inp: PlanInput, executor: Executor) -> None:
        """Own items found at the provider with no record (the state database
        was lost or is new) are taken back (``planner.adopt``)."""
        for name, cal in self.calendars.items():
            if name in executor.stopped:
                continue
            try:
                items = cal.list_own()
            except (ConnectorError, OSError):
                continue
            for rec in planner.adopt(inp, items):
                self.state.put(rec, inp.now)
                log.info("%s: took back follow-up %s already in the calendar", name, rec.key[:12])

    def _tell(self, report: PassReport, names: dict[str, str]) -> None:
        """One desktop notification for what this pass wrote."""
        written = [Written(LABELS[a.record.kind], _who(a.record, names), report.applied.links.get(a.key, ""))
                   for a in report.applied.done if a.op in (Op.CREATE_DRAFT, Op.CREATE_EVENT)]
        said = summary(written)
        if said is not None:
            self.notifier.tell(said)

    def _remind(self, report: PassReport, names: dict[str, str]) -> None:
        """The morning notification of a follow-up call due today (once per
        call); the next reminder's time joins the plan's wake-up time."""
        if not self.notifier.enabled:
            return
        try:
            told = frozenset(json.loads(self.state.meta("reminded") or "[]"))
        except (ValueError, TypeError):  # damaged: at worst one reminder again
            told = frozenset()
        before = sorted(told)
        records = self.state.records()
        calls, _ = calls_today(records.values(), report.now, self.tz, told)
        for call in calls:
            found = self._as_in_calendar(call, report)
            if found is None or not due_now(found[0].due, report.now, self.tz):
                continue  # deleted, moved to another day, or not to be looked at now
            rec, title = found
            self.notifier.tell(Message(f"Follow-up call today at {rec.due.astimezone(self.tz):%H:%M}",
                                       f"{safe(title or _who(rec, names), 120)}\n"
                                       "What to say is in the calendar event."))
            told |= {rec.key}
            records[rec.key] = rec
        # only calls still to come are remembered, so the list stays short
        keep = sorted(k for k in told if k in records and records[k].due > report.now)
        if keep != before:
            self.state.set_meta("reminded", json.dumps(keep))
        _, next_at = calls_today(records.values(), report.now, self.tz, told)  # as they stand now
        if next_at is not None:
            report.plan.next_wake = min(filter(None, (report.plan.next_wake, next_at)))

    def _as_in_calendar(self, rec: Record, report: PassReport) -> tuple[Record, str] | None:
        """The call's record as its event now stands (the user may have moved
        or deleted it since it was written), with the event's title; None
        when it is gone or cannot be told."""
        cal = self.calendars.get(rec.target)
        if cal is None or rec.target in report.account_errors:
            return None
        try:
            item = cal.find_own(rec.key)
        except (ConnectorError, OSError) as exc:
            log.info("%s: could not look at the follow-up call %s: %s", rec.target, rec.key[:12], exc)
            return None
        if item is None:
            self.state.put(replace(rec, state=RecordState.SKIPPED, reason=DELETED_BY_USER, cause="user",
                                   user_changed=True), report.now)
            return None
        if item.start is not None and item.start != rec.due:
            rec = replace(rec, due=item.start, user_changed=True, reason=CHANGED_BY_USER)
            self.state.put(rec, report.now)
        return rec, item.title

    def _remember_processes(self, report: PassReport) -> dict[str, str]:
        """The company and position of each hiring process as the invitation
        writes them, for ``followup status`` (written only when changed)."""
        try:
            names = dict(json.loads(self.state.meta("process_names") or "{}"))
        except (ValueError, TypeError):  # damaged: made again from this pass
            names = {}
        for iv in report.interviews:  # sorted by start: the latest round's words win
            process = report.plan.processes.get(interview_id(iv.calendar, iv.uid, iv.event.recurrence_id))
            if process:
                label = " / ".join(p for p in (iv.company, iv.position) if p) or iv.title
                names[process] = label[:120]
        text = json.dumps(names, ensure_ascii=False, sort_keys=True)
        if self.state.meta("process_names") != text:
            self.state.set_meta("process_names", text)
        return names

    def _remember_maybes(self, report: PassReport) -> None:
        """Keep the events detection is unsure about for ``followup status``
        (written only when the list changed)."""
        maybe = [{"uid": i.uid, "title": i.event.title[:200], "start": i.event.start.isoformat(),
                  "reason": i.reason[:400]}
                 for i in sorted(report.ignored, key=lambda i: (i.event.start, i.uid)) if i.cause == "unsure"]
        text = json.dumps(maybe[:100], ensure_ascii=False, sort_keys=True)
        if self.state.meta("maybe") != text:
            self.state.set_meta("maybe", text)

    def _note_unreadable(self, name: str, result) -> None:
        """Keep what a calendar's scan could not read until it is read again:
        a scan of changes only does not read an unchanged broken file again,
        so its entry stays until a full scan (the window moves daily, so at
        least that), a new reading of that file, or its UID going away."""
        if not self.applying:
            return
        if self._unreadable is None:
            try:
                stored = json.loads(self.state.meta("unreadable") or "[]")
                self._unreadable = [tuple(e) for e in stored if isinstance(e, list) and len(e) == 4]
            except (ValueError, TypeError):  # damaged: made again from the scans
                self._unreadable = []
        errors = [p for p in result.problems if p.severity == "error"]
        read_again = {p.source for p in result.problems} | {e.source for e in result.events}
        self._unreadable = [e for e in self._unreadable
                            if e[0] != name or not (result.full or e[1] in read_again
                                                    or (e[2] and e[2] in result.removed_uids))]
        self._unreadable += [(name, p.source, p.uid or "", str(p)) for p in errors]

    def _remember_unreadable(self) -> None:
        """Write what could not be read for ``followup status`` (only when
        the list changed); each new one is logged once, not every pass."""
        configured = {a.name for a in self.settings.calendars}
        now = sorted({e for e in (self._unreadable or []) if e[0] in configured})[:MAX_UNREADABLE]
        try:
            before = {tuple(e) for e in json.loads(self.state.meta("unreadable") or "[]")}
        except (ValueError, TypeError):
            before = set()
        for entry in now:
            if entry not in before:
                log.warning("could not read %s", entry[3])
        if set(now) != before:
            self.state.set_meta("unreadable", json.dumps(now, ensure_ascii=False))

    def _read_verdicts(self) -> None:
        """The user's own verdicts (``followup include`` and friends), read
        at every pass; detection is rebuilt when they changed."""
        verdicts = self.state.verdicts()
        if verdicts == self.verdicts:
            return
        self.verdicts = verdicts

        def titles(kind: str) -> tuple[str, ...]:
            return tuple(t[len("title:"):] for t in sorted(verdicts.get(kind, {})) if t.startswith("title:"))

        def uids(kind: str) -> frozenset[str]:
            return frozenset(t for t in verdicts.get(kind, {}) if not t.startswith("title:"))

        overrides = Overrides(include_uids=uids("include"), exclude_uids=uids("exclude"),
                              include_titles=titles("include"), exclude_titles=titles("exclude"))
        old = self.judge
        self.judge = Judge(old.rules, old.me, old.tz, old.user_name, overrides, old.month_first, old.lexicon)
        self._verdicts_now = {}  # judged by the old judge: judge again
        self.interest = Interest.from_keywords(self.judge.interest_terms(), uids=overrides.include_uids,
                                               domains=self.judge.interest_domains())

    # -- the pass ------------------------------------------------------------

    def run_pass(self, now: datetime, apply: bool,
                 should_stop: Callable[[], bool] = lambda: False) -> PassReport:
        """Scan every calendar, plan, and apply the actions when ``apply``
        (stopping between two actions once ``should_stop()`` is true)."""
        report = PassReport(now=now, plan=Plan(), interviews=[], ignored=[])
        self.applying = apply
        self._strays(now)
        self._read_verdicts()
        # the verdicts of the last pass, for the events still the same; only
        # this pass's are kept, so the memory follows the calendar
        self._verdicts_before, self._verdicts_now = self._verdicts_now, {}
        for name, why in self.broken.items():
            report.account_errors[name] = why
        self._held(report)
        for name, cal in self.calendars.items():
            if name not in report.account_errors:
                self._scan_calendar(name, cal, report)
        self._detect(report)
        stopped = set(report.account_errors)
        executor = Executor(self.state, self.calendars, self.mailboxes, now,
                            lambda acc, exc: self._trouble(report, acc, exc))
        executor.stopped |= stopped
        if apply:
            executor.reconcile(self.state.records().values())
        inp = self._plan_input(report, self.state.records())
        if apply and not self._adopted:
            self._adopted = True
            self._adopt(inp, executor)
            inp = inp.but(records=self.state.records())
        unknown: set[str] = set()
        inp = inp.but(replies=self._replies(inp, report, stopped, unknown), reply_unknown=unknown)
        report.plan = planner.plan(inp)
        if apply:
            executor.stopped |= stopped
            report.applied = executor.apply(report.plan.actions, should_stop)
            for action, message in report.applied.failed:
                # shown by status until a pass writes it
                report.account_errors.setdefault(action.record.target, (
                    f"could not write the {LABELS[action.record.kind]} due "
                    f"{action.record.due.astimezone(self.tz):%Y-%m-%d %H:%M}: {message}"))
                self._health(action.record.target, "error", report.account_errors[action.record.target], now)
            self._remember_maybes(report)
            self._remember_unreadable()
            names = self._remember_processes(report)
            self._tell(report, names)
            self._remind(report, names)
        for name in [*self.calendars, *self.mailboxes]:
            if name not in report.account_errors:
                self.holds.pop(name, None)
                self._health(name, "ok", "", now)
        self._schedule_retry(report)
        return report


def _who(rec: Record, names: dict[str, str]) -> str:
    """Whom a follow-up is for, as a notification names it."""
    return ", ".join(x for x in (rec.recipient, names.get(rec.process, "")) if x) or rec.process
