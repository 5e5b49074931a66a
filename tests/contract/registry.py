"""The harnesses the contract suite runs against: add new backends here."""

from .local_harness import LocalCalendarHarness, MaildirHarness

#: every harness class; the fixtures pick calendars and mailboxes by base class
HARNESSES = [
    LocalCalendarHarness,
    MaildirHarness,
]
