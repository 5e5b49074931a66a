"""Google accounts: Google Calendar (``type = "google"``) and Gmail
(``type = "gmail"``), on google-api-python-client.

Both log in with the user's own OAuth client (``followup auth NAME``) and
ask for the narrowest scopes that do the job; see ``auth``.
"""

from .calendar import GoogleCalendar
from .gmail import GmailMailbox

__all__ = ["GoogleCalendar", "GmailMailbox"]
