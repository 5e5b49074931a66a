"""One retry policy for the connectors that speak HTTP (Google, Microsoft
Graph): a bounded number of attempts, exponential backoff with full jitter
between them, a server's ``Retry-After`` honoured, and a wait longer than a
pass should sit through handed to the core as ``TransientError`` with
``retry_after``, so the account waits while the others go on.

A connector only classifies: its attempt raises ``Again`` for a failure
that may be repeated (a 429, a 5xx on a read, a dropped connection before
anything was sent) and any other error for one that may not.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timezone
from email.utils import parsedate_to_datetime
from typing import TypeVar

from .errors import TransientError

T = TypeVar("T")


class Again(Exception):
    """Raised by an attempt: repeat it, after ``wait`` seconds when the
    server said how long (``Retry-After``); ``error`` is raised if this was
    the last attempt."""

    def __init__(self, error: TransientError, wait: float | None = None):
        super().__init__(str(error))
        self.error = error
        self.wait = wait


@dataclass
class RetryPolicy:
    """Bounded exponential backoff with full jitter. ``sleep`` and
    ``random`` are injectable so tests run instantly and reproducibly."""

    attempts: int = 5  # in all, the first included
    base: float = 1.0  # the n-th retry waits up to base * 2**n seconds ...
    cap: float = 30.0  # ... but never more than this
    longest: float = 30.0  # a Retry-After beyond this is left to the core
    sleep: Callable[[float], None] = field(default=time.sleep)
    random: Callable[[], float] = field(default=random.random)

    def backoff(self, retry: int) -> float:
        """The wait before retry number ``retry`` (1, 2, ...)."""
        return self.random() * min(self.cap, self.base * (2 ** retry))

    def run(self, attempt: Callable[[], T]) -> T:
        """``attempt()`` until it returns, it raises something other than
        ``Again``, or the attempts are used up (then the last ``Again``'s
        error is raised)."""
        for number in range(1, self.attempts + 1):
            try:
                return attempt()
            except Again as again:
                if number == self.attempts:
                    raise again.error from None
                delay = again.wait if again.wait is not None else self.backoff(number)
                if delay > self.longest:
                    raise TransientError(str(again.error), retry_after=delay) from None
                self.sleep(delay)
        raise AssertionError("attempts must be at least 1")


def retry_after_seconds(value: str | None) -> float | None:
    """An HTTP ``Retry-After`` value (delta-seconds or an HTTP date) as
    seconds from now, or None when absent or unreadable."""
    value = (value or "").strip()
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=timezone.utc)
    return max(0.0, (when - datetime.now(timezone.utc)).total_seconds())
