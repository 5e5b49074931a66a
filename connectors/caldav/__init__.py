"""CalDAV calendars (``type = "caldav"``): Nextcloud, Fastmail, iCloud,
Radicale and any other server that speaks CalDAV."""

from .calendar import CalDAVCalendar

__all__ = ["CalDAVCalendar"]
