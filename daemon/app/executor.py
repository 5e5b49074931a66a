"""Applies planned actions through the connectors and records them.

Every effect follows the same steps: the intent is written to the state
database (``pending``), the provider is called, the outcome is written. A
crash between the steps leaves a ``pending`` record; ``reconcile`` looks its
key up at the provider before anything is retried, so no effect happens
twice.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from datetime import datetime

from daemon.connector import Calendar, Mailbox
from daemon.errors import AuthError, Conflict, ConnectorError, TransientError, Unsupported
from daemon.kinds import Op, RecordState
from daemon.model import StoredItem
from daemon.plan.keys import content_hash
from daemon.plan.planner import EVENT_KINDS, Action, Record
from daemon.store.state import State

log = logging.getLogger("followup")

CHANGED_BY_USER = "changed by you, so it is left as it is"
DELETED_BY_USER = "deleted by you, so it is not written again"
ALREADY_SENT = "already sent by you (found among the sent messages), so it is not written again"
LEFT_FOR_YOU = "left for you to delete"
IN_DOUBT = "written just before an interruption; left as it is, as you may have changed it since"


@dataclass
class Applied:
    done: list[Action] = field(default_factory=list)
    failed: list[tuple[Action, str]] = field(default_factory=list)
    skipped: list[Action] = field(default_factory=list)
    links: dict[str, str] = field(default_factory=dict)  # key -> web address of a draft written


class Executor:
    """Carries out actions for one pass. ``account_failed(name, error)`` is
    called when an account must stop for this pass (auth or outage)."""

    def __init__(self, state: State, calendars: dict[str, Calendar], mailboxes: dict[str, Mailbox],
                 now: datetime, account_failed: Callable[[str, Exception], bool]):
        self.state = state
        self.calendars = calendars
        self.mailboxes = mailboxes
        self.now = now
        self.account_failed = account_failed  # returns True when the account must stop
        self.stopped: set[str] = set()

    def _known(self, account: str) -> bool:
        """False for an account no longer in the config: what was written
        there is left alone."""
        return account in self.calendars or account in self.mailboxes

    def _put(self, rec: Record) -> None:
        self.state.put(rec, self.now)

    def _stop(self, account: str, exc: Exception) -> None:
        """A failed call: the action waits for the next pass; the account
        stops for this pass when the engine says so (a login problem, or
        transient failures piling up)."""
        if self.account_failed(account, exc):
            self.stopped.add(account)

    # -- after a crash -------------------------------------------------------

    def reconcile(self, records: Iterable[Record]) -> None:
        """Resolve every ``pending`` record by looking its key up first."""
        for rec in records:
            if rec.state != RecordState.PENDING or rec.target in self.stopped or not self._known(rec.target):
                continue
            try:
                self._reconcile_one(rec)
            except (AuthError, TransientError) as exc:
                self._stop(rec.target, exc)
            except ConnectorError as exc:
                log.warning("%s: could not check follow-up %s: %s", rec.target, rec.key[:12], exc)

    def _find(self, rec: Record) -> StoredItem | None:
        if rec.kind in EVENT_KINDS:
            return self.calendars[rec.target].find_own(rec.key)
        return self.mailboxes[rec.target].find_draft(rec.key, rec.message_id or "")

    def _reconcile_one(self, rec: Record) -> None:
        item = self._find(rec)
        if rec.pending_op == "create":
            if item is None:
                self._put(replace(rec, state=RecordState.PLANNED, pending_op=None))
            else:
                found = _hash(item)
                if found is not None and rec.content_hash is not None and found != rec.content_hash:
                    # written, then moved or retitled before this check
                    self._put(replace(rec, state=RecordState.DONE, pending_op=None, ref=item.ref, etag=item.etag,
                                      content_hash=found, user_changed=True, reason=CHANGED_BY_USER))
                elif found is None and rec.kind not in EVENT_KINDS:
                    # a draft: whether the user edited it since cannot be told
                    # from here, so it is never deleted (nor would it be changed)
                    self._put(replace(rec, state=RecordState.DONE, pending_op=None, ref=item.ref, etag=item.etag,
                                      user_changed=True, reason=IN_DOUBT))
                else:
                    self._put(replace(rec, state=RecordState.DONE, pending_op=None, ref=item.ref, etag=item.etag,
                                      content_hash=found or rec.content_hash))
        elif rec.pending_op == "update":
            if item is None:
                self._put(replace(rec, state=RecordState.SKIPPED, pending_op=None, reason=DELETED_BY_USER,
                                  cause="user"))
            elif _hash(item) == rec.content_hash:
                self._put(replace(rec, state=RecordState.DONE, pending_op=None, ref=item.ref, etag=item.etag))
            elif item.etag == rec.etag:  # the update never happened: plan it again
                self._put(replace(rec, state=RecordState.DONE, pending_op=None, content_hash=None))
            else:
                self._put(replace(rec, state=RecordState.DONE, pending_op=None, user_changed=True,
                                  reason=CHANGED_BY_USER))
        elif rec.pending_op == "delete":
            if item is None:
                self._put(replace(rec, state=RecordState.CANCELLED, pending_op=None, ref=None, etag=None))
            elif item.etag == rec.etag:  # not deleted yet: the planner will ask again
                self._put(replace(rec, state=RecordState.DONE, pending_op=None))
            else:
                self._put(replace(rec, state=RecordState.DONE, pending_op=None, user_changed=True,
                                  reason=CHANGED_BY_USER))

    # -- a pass --------------------------------------------------------------

    def apply(self, actions: Iterable[Action], should_stop: Callable[[], bool] = lambda: False) -> Applied:
        """Carry out ``actions`` in order; between two of them, stop early when
        ``should_stop()`` says so (the rest waits for the next pass)."""
        result = Applied()
        for action in actions:
            if should_stop():
                break
            target = action.record.target
            if action.op != Op.RECORD and (target in self.stopped or not self._known(target)):
                result.skipped.append(action)
                continue
            try:
                link = self._apply_one(action)
                result.done.append(action)
                if link:
                    result.links[action.key] = link
            except (AuthError, TransientError) as exc:
                self._stop(target, exc)
                result.skipped.append(action)
            except (ConnectorError, OSError) as exc:  # an OSError let through counts as a ConnectorError
                log.warning("%s: follow-up %s (%s) failed: %s", target, action.key[:12], action.op, exc)
                result.failed.append((action, str(exc)))
        return result

    def _apply_one(self, action: Action) -> str:
        """Carry out one action; the web address of a draft it wrote, or ""."""
        rec, prev = action.record, action.previous
        if action.op == Op.RECORD:
            self._put(rec)
        elif action.op == Op.CREATE_EVENT:
            self._put(replace(rec, state=RecordState.PENDING, pending_op="create"))
            try:
                item = self.calendars[rec.target].create_event(action.event)
            except Conflict as exc:  # its place is taken for good: never asked again
                self._put(replace(rec, state=RecordState.SKIPPED, cause="user", user_changed=True, reason=str(exc)))
                return ""
            self._put(replace(rec, ref=item.ref, etag=item.etag))
        elif action.op == Op.CREATE_DRAFT:
            draft = action.draft  # composed before the intent is stored
            assert draft is not None and draft.message_id == rec.message_id
            if prev is None and self.mailboxes[rec.target].find_sent(rec.key, draft.message_id):
                # no record, yet sent: the state was lost after the user sent it
                self._put(replace(rec, state=RecordState.DONE, user_changed=True, reason=ALREADY_SENT))
                return ""
            self._put(replace(rec, state=RecordState.PENDING, pending_op="create"))
            try:
                item = self.mailboxes[rec.target].create_draft(draft)
            except Conflict as exc:  # its Message-ID is taken by a message not ours
                self._put(replace(rec, state=RecordState.DONE, user_changed=True, reason=str(exc)))
                return ""
            self._put(replace(rec, ref=item.ref, etag=item.etag))
            return item.link
        elif action.op == Op.UPDATE_EVENT:
            assert prev is not None and action.event is not None
            self._put(replace(rec, state=RecordState.PENDING, pending_op="update", ref=prev.ref, etag=prev.etag))
            try:
                item = self.calendars[rec.target].update_event(_item(prev), action.event)
            except Conflict:
                self._user_changed(prev)
                return ""
            self._put(replace(rec, ref=item.ref, etag=item.etag))
        elif action.op in (Op.DELETE_EVENT, Op.DELETE_DRAFT):
            assert prev is not None
            if self._find(prev) is None:
                # gone already: the user deleted it, so it must never come
                # back, not even when the reason for withdrawing it goes away
                self._put(replace(prev, state=RecordState.SKIPPED, reason=DELETED_BY_USER, cause="user",
                                  user_changed=True))
                return ""
            self._put(replace(rec, state=RecordState.PENDING, pending_op="delete", ref=prev.ref, etag=prev.etag))
            try:
                if action.op == Op.DELETE_EVENT:
                    self.calendars[rec.target].delete_event(_item(prev))
                else:
                    self.mailboxes[rec.target].delete_draft(_item(prev))
            except Conflict:
                self._user_changed(prev)
                return ""
            except Unsupported as exc:
                # final: the item stays for the user, and is never asked about again
                self._put(replace(prev, state=RecordState.DONE, user_changed=True,
                                  reason=f"{rec.reason or 'no longer needed'}; {LEFT_FOR_YOU}: {exc}"))
                return ""
            self._put(rec)
        else:  # pragma: no cover - the planner makes no other ops
            raise ValueError(action.op)
        return ""

    def _user_changed(self, prev: Record) -> None:
        """The item is no longer as the daemon wrote it: never touch it again."""
        item = self._find(prev)
        if item is None:
            self._put(replace(prev, state=RecordState.SKIPPED, reason=DELETED_BY_USER, cause="user", user_changed=True))
        else:  # an event is shown where the user put it
            due = item.start if prev.kind in EVENT_KINDS and item.start else prev.due
            self._put(replace(prev, state=RecordState.DONE, reason=CHANGED_BY_USER, user_changed=True, due=due))


def _item(rec: Record) -> StoredItem:
    return StoredItem(key=rec.key, ref=rec.ref or "", etag=rec.etag or "")


def _hash(item: StoredItem) -> str | None:
    if item.start is None or item.end is None:
        return None
    return content_hash(item.title, item.start, item.end)
