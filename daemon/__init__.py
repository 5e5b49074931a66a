"""followup: finds job interviews in calendars and prepares their follow-ups."""

__version__ = "0.1.0"
