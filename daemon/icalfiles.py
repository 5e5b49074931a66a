"""The iCalendar reader and writer for connectors, loaded on first use.

``daemon.ics.ical`` and ``daemon.ics.icalout`` load icalendar (a tenth of a second);
a connector imports these stand-ins instead, so that checking a config or
printing ``followup status`` never loads it.
"""

from __future__ import annotations


def parse_ics(*args, **kwargs):
    """``daemon.ics.ical.parse_ics``."""
    from daemon.ics.ical import parse_ics as parse

    return parse(*args, **kwargs)


def build_followup_ics(*args, **kwargs):
    """``daemon.ics.icalout.build_followup_ics``."""
    from daemon.ics.icalout import build_followup_ics as build

    return build(*args, **kwargs)


def read_followup_ics(*args, **kwargs):
    """``daemon.ics.icalout.read_followup_ics``."""
    from daemon.ics.icalout import read_followup_ics as read

    return read(*args, **kwargs)


def followup_uid(*args, **kwargs):
    """``daemon.ics.icalout.followup_uid``."""
    from daemon.ics.icalout import followup_uid as uid

    return uid(*args, **kwargs)
