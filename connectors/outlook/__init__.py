"""Outlook / Microsoft 365 through Microsoft Graph: ``OutlookCalendar``
(``type = "outlook"`` calendars) and ``OutlookMailbox`` (``type = "outlook"``
mailboxes). Sign-in with MSAL's device-code flow (``followup auth NAME``)."""

from .calendar import OutlookCalendar
from .mail import OutlookMailbox

__all__ = ["OutlookCalendar", "OutlookMailbox"]
