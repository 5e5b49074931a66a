"""iCalendar in and out: reading events and their recurrences with limits,
writing the daemon's own follow-up events, splitting files by UID."""
