"""Limits on recurrence expansion: an invitation is enough to put any RRULE
into a calendar, and some never end or never match.

``FREQ=SECONDLY`` without an end has millions of occurrences in a scan
window, and a rule whose parts never match (``BYMONTH=2;BYMONTHDAY=30``)
makes dateutil walk to the year 9999 without producing one. Before a
series is expanded, ``Limits.check`` walks its rule on its own: it gives up
after ``MAX_STEPS`` occurrences up to the end of the window, after
``MAX_IN_WINDOW`` occurrences inside it, or after ``SERIES_SECONDS`` of
work (``FILE_SECONDS`` for all series of one file), and says why. The time
limit interrupts even a walk that yields nothing, by a timer signal; it is
only armed in the main thread, where the daemon and the commands read
calendars (elsewhere the counts still hold, and a walk that yields nothing
ends at the year 9999 on its own).
"""

from __future__ import annotations

import signal
import threading
import time
from contextlib import contextmanager
from datetime import datetime, timezone

from dateutil.rrule import rrulestr

#: occurrences from DTSTART to the end of the window (a daily event since 1890)
MAX_STEPS = 50_000
#: occurrences inside the window (an event every 4 hours over 3 months fits)
MAX_IN_WINDOW = 1_000
#: work for one series, and for all the series of one file
SERIES_SECONDS = 1.0
FILE_SECONDS = 10.0


class _TooSlow(Exception):
    pass


def _naive_utc(value) -> datetime:
    if isinstance(value, datetime):
        if value.tzinfo is not None:
            value = value.astimezone(timezone.utc)
        return value.replace(tzinfo=None)
    return datetime(value.year, value.month, value.day)


def rule_texts(component) -> list[str]:
    """The RRULE values of a component as text (there may be several)."""
    value = component.get("RRULE")
    values = value if isinstance(value, list) else [value] if value is not None else []
    out = []
    for one in values:
        try:
            out.append(one.to_ical().decode())
        except Exception:  # noqa: BLE001 - an unreadable rule is the library's to report
            continue
    return out


class Limits:
    """The budget of one file: ``check`` each series before expanding it."""

    def __init__(self, start: datetime, end: datetime):
        self.start = _naive_utc(start)
        self.end = _naive_utc(end)
        self.spent = 0.0

    def check(self, component) -> str | None:
        """None when the series may be expanded, else why not (a sentence
        that follows the event's name)."""
        texts = rule_texts(component)
        if not texts:
            return None
        try:
            first = _naive_utc(component.get("DTSTART").dt)
        except Exception:  # noqa: BLE001 - the reader reports a bad DTSTART
            return None
        if self.spent >= FILE_SECONDS:
            return ("was not expanded: the repeating events of this file already took "
                    f"{FILE_SECONDS:.0f} seconds")
        began = time.monotonic()
        try:
            with _deadline(min(SERIES_SECONDS, FILE_SECONDS - self.spent)):
                for text in texts:
                    why = self._walk(text, first)
                    if why:
                        return why
        except _TooSlow:
            return (f"repeats by a rule ({texts[0][:80]}) that takes more than "
                    f"{SERIES_SECONDS:.0f} seconds to expand; it was skipped")
        finally:
            self.spent += time.monotonic() - began
        return None

    def _walk(self, text: str, first: datetime) -> str | None:
        try:
            rule = rrulestr(text, dtstart=first, ignoretz=True)
        except Exception:  # noqa: BLE001 - left to the library, which reports it
            return None
        steps = inside = 0
        for moment in rule:
            if moment > self.end:
                break
            steps += 1
            if moment >= self.start:
                inside += 1
                if inside > MAX_IN_WINDOW:
                    return (f"repeats more than {MAX_IN_WINDOW} times in the scan window "
                            f"({text[:80]}); it was skipped")
            if steps > MAX_STEPS:
                return (f"repeats more than {MAX_STEPS} times since it began on "
                        f"{first:%Y-%m-%d} ({text[:80]}); it was skipped")
        return None


@contextmanager
def _deadline(seconds: float):
    """Raise ``_TooSlow`` inside the block after ``seconds`` (main thread
    only, and only when no other interval timer is running)."""
    usable = (threading.current_thread() is threading.main_thread()
              and signal.getitimer(signal.ITIMER_REAL) == (0.0, 0.0))
    if not usable:
        yield
        return
    armed = True

    def ring(signum, frame):  # noqa: ARG001
        if armed:
            raise _TooSlow()

    previous = signal.signal(signal.SIGALRM, ring)
    signal.setitimer(signal.ITIMER_REAL, max(seconds, 0.001))
    try:
        yield
    finally:
        armed = False
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
