"""The vocabularies of a follow-up, each in one place: what kind it is, the
state of its record, and the effects the planner asks for. String enums:
a member is its own string, so stored records and JSON read the same."""

from __future__ import annotations

from enum import StrEnum


class Kind(StrEnum):
    """What a follow-up is."""

    THANK_YOU = "thank_you_email"
    NOTE = "handwritten_note"
    CALL = "follow_up_call"
    STATUS = "status_check_email"

    @property
    def label(self) -> str:
        """As messages name it: "thank-you email"."""
        return _LABELS[self]

    @property
    def template(self) -> str:
        """The template file it is written from (without ``.txt``), which is
        also its ``[policy.*]`` section."""
        return _TEMPLATES[self]

    @property
    def is_event(self) -> bool:
        """A calendar item (the call, the note), not a draft."""
        return self in (Kind.NOTE, Kind.CALL)


_LABELS = {Kind.THANK_YOU: "thank-you email", Kind.NOTE: "handwritten note",
           Kind.CALL: "follow-up call", Kind.STATUS: "status check email"}
_TEMPLATES = {Kind.THANK_YOU: "thank_you", Kind.NOTE: "handwritten_note",
              Kind.CALL: "follow_up_call", Kind.STATUS: "status_check"}


class RecordState(StrEnum):
    """The state of a follow-up's record."""

    PLANNED = "planned"  # waits for its time
    PENDING = "pending"  # its effect is under way (``Record.pending_op`` says which)
    DONE = "done"  # written (or taken back, or left as the user changed it)
    CANCELLED = "cancelled"  # withdrawn; some causes can go away again
    EXPIRED = "expired"  # its time passed before it could be written
    SKIPPED = "skipped"  # the user deleted it, or its place is taken for good


class Op(StrEnum):
    """What an ``Action`` asks the executor to do."""

    CREATE_EVENT = "create_event"
    UPDATE_EVENT = "update_event"
    DELETE_EVENT = "delete_event"
    CREATE_DRAFT = "create_draft"
    DELETE_DRAFT = "delete_draft"
    RECORD = "record"  # only store the record


def label(kind: str) -> str:
    """The label of a kind given as its string (as records store it)."""
    return Kind(kind).label
