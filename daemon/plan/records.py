"""The stored record of one follow-up: what the state database holds and
the planner compares with what the policy asks for."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True)
class Record:
    """What the state database knows of one follow-up."""

    key: str
    kind: str
    calendar: str  # calendar the interview is in
    target: str  # calendar or mailbox that receives the follow-up
    interview: str  # interview id (calendar, UID, recurrence instant)
    process: str
    due: datetime
    state: str  # a RecordState (daemon.kinds)
    recipient: str = ""
    reason: str = ""
    cause: str = ""
    pending_op: str | None = None  # with "pending": the write under way (create, update or delete)
    ref: str | None = None
    etag: str | None = None
    content_hash: str | None = None
    message_id: str | None = None
    user_changed: bool = False
