"""The harnesses the contract suite runs against: add new backends here."""

from .caldav_harness import RadicaleCalendarHarness, XandikosCalendarHarness
from .google_harness import HARNESSES as GOOGLE
from .imap_harness import DovecotMailboxHarness
from .local_harness import LocalCalendarHarness, MaildirHarness
from .memory import MemoryCalendarHarness, MemoryMailboxHarness
from .outlook_harness import HARNESSES as OUTLOOK

#: every harness class; the fixtures pick calendars and mailboxes by base class
HARNESSES = [
    MemoryCalendarHarness,  # the reference: read it first
    MemoryMailboxHarness,
    LocalCalendarHarness,
    MaildirHarness,
    *GOOGLE,
    *OUTLOOK,
    RadicaleCalendarHarness,
    XandikosCalendarHarness,
    DovecotMailboxHarness,
]
