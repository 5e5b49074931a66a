"""The harnesses the contract suite runs against: add new backends here."""

from .local_harness import LocalCalendarHarness, MaildirHarness

#: every harness class; the fixtures pick calendars and mailboxes by base class
HARNESSES = [
    LocalCalendarHarness,
    MaildirHarness,
]
from .google_harness import HARNESSES as GOOGLE_HARNESSES; HARNESSES += GOOGLE_HARNESSES  # noqa: E402,E702
HARNESSES += __import__(f"{__package__}.outlook_harness", fromlist=["HARNESSES"]).HARNESSES
from .caldav_harness import RadicaleCalendarHarness; HARNESSES.append(RadicaleCalendarHarness)  # noqa: E402,E702
from .imap_harness import DovecotMailboxHarness; HARNESSES.append(DovecotMailboxHarness)  # noqa: E402,E702
