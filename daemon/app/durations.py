"""Durations and times of day as written in the configuration.

A duration is one or more ``<number><unit>`` parts, largest unit first, each
unit at most once: ``"90s"``, ``"15m"``, ``"1h"``, ``"3d"``, ``"2w"``,
``"1h30m"``. Units: ``w`` weeks, ``d`` days, ``h`` hours, ``m`` minutes,
``s`` seconds. A time of day is ``"HH:MM"`` on a 24-hour clock.
"""

from __future__ import annotations

import re
from datetime import time, timedelta

#: unit letter -> seconds, largest first
UNITS: dict[str, int] = {"w": 7 * 86400, "d": 86400, "h": 3600, "m": 60, "s": 1}

_PART = re.compile(r"\s*(\d+)\s*([a-zA-Z]+)\s*")
_TIME = re.compile(r"(\d{1,2}):(\d{2})")

# Spelled-out units people tend to write, mapped to the letter we expect.
_WORDS = {
    "weeks": "w", "week": "w", "wk": "w", "wks": "w",
    "days": "d", "day": "d",
    "hours": "h", "hour": "h", "hr": "h", "hrs": "h",
    "minutes": "m", "minute": "m", "min": "m", "mins": "m",
    "seconds": "s", "second": "s", "sec": "s", "secs": "s",
}

_HOW = 'write a number and a unit (s, m, h, d or w), like "90s", "15m", "1h30m", "3d" or "2w"'


def parse_duration(text: str) -> timedelta:
    """Read a duration such as ``"1h30m"``; raise ValueError saying how to
    write it when ``text`` is not one."""
    if not isinstance(text, str):
        raise ValueError(f"{text!r} is not a duration: {_HOW}")
    parts = _split(text)
    if parts is None:
        raise _not_a_duration(text, _HOW)
    seen: list[str] = []
    seconds = 0
    for number, unit in parts:
        if unit not in UNITS:
            raise _not_a_duration(text, f"unknown unit {_quote(unit)}; {_HOW}")
        if unit in seen:
            raise ValueError(f"{_quote(text)} is not a duration: unit {_quote(unit)} appears twice")
        if seen and UNITS[unit] > UNITS[seen[-1]]:
            raise ValueError(
                f"{_quote(text)} is not a duration: put larger units first, like \"1h30m\""
            )
        seen.append(unit)
        seconds += int(number) * UNITS[unit]
    try:
        return timedelta(seconds=seconds)
    except OverflowError:
        raise ValueError(f"{_quote(text)} is too long a duration") from None


def format_duration(td: timedelta) -> str:
    """Write ``td`` the way ``parse_duration`` reads it, largest units first
    and without zero parts (``"1h30m"``, ``"2w"``, ``"0s"``)."""
    if td < timedelta(0):
        raise ValueError(f"cannot write a negative duration: {td}")
    if td.microseconds:
        raise ValueError(f"cannot write a duration with fractions of a second: {td}")
    left = td.days * 86400 + td.seconds
    if left == 0:
        return "0s"
    out = []
    for unit, size in UNITS.items():
        count, left = divmod(left, size)
        if count:
            out.append(f"{count}{unit}")
    return "".join(out)


def parse_time_of_day(text: str) -> time:
    """Read ``"HH:MM"`` (24-hour clock, e.g. ``"09:30"`` or ``"17:00"``)."""
    match = _TIME.fullmatch(text.strip()) if isinstance(text, str) else None
    if match:
        hour, minute = int(match[1]), int(match[2])
        if hour < 24 and minute < 60:
            return time(hour, minute)
    shown = _quote(text) if isinstance(text, str) else repr(text)
    raise ValueError(
        f"{shown} is not a time of day: write HH:MM on a 24-hour clock, like \"09:30\" or \"17:00\""
    )


def _split(text: str) -> list[tuple[str, str]] | None:
    """``"1h 30m"`` -> ``[("1", "h"), ("30", "m")]``; None if it is not
    made only of number-unit parts."""
    parts, pos = [], 0
    while pos < len(text):
        match = _PART.match(text, pos)
        if not match:
            return None
        parts.append((match[1], match[2]))
        pos = match.end()
    return parts or None


def _not_a_duration(text: str, why: str) -> ValueError:
    """The error for ``text``: a suggestion if there is an obvious one, else
    ``why`` (how to write a duration)."""
    guess = _guess(text)
    if guess:
        return ValueError(f'{_quote(text)} is not a duration (did you mean "{guess}"?)')
    return ValueError(f"{_quote(text)} is not a duration: {why}")


def _guess(text: str) -> str:
    """``"5 minutes"`` -> ``"5m"``; ``""`` when there is no obvious fix."""
    parts = _split(text)
    if not parts:
        return ""
    fixed = []
    for number, unit in parts:
        letter = _WORDS.get(unit.lower(), unit.lower() if unit.lower() in UNITS else None)
        if letter is None:
            return ""
        fixed.append(f"{int(number)}{letter}")
    guess = "".join(fixed)
    try:
        parse_duration(guess)
    except ValueError:
        return ""
    return guess


def _quote(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'
