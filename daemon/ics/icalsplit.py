"""Cutting damaged iCalendar text into the blocks that can still be read.

When a whole file does not parse, ``daemon.ics.ical`` reads it again piece by
piece: ``split`` finds each VCALENDAR and, in it, the VTIMEZONE and VEVENT
blocks by their BEGIN/END lines alone, tolerating anything in between;
``parse_event_block`` parses one VEVENT (without its subcomponents if they
are the broken part).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import icalendar

# components that can never sit inside a VEVENT: seeing one ends a block
_TOP_LEVEL = frozenset({"VCALENDAR", "VEVENT", "VTIMEZONE", "VTODO", "VJOURNAL",
                        "VFREEBUSY", "VAVAILABILITY"})


@dataclass
class Piece:
    """What the hand splitter found for one VCALENDAR."""

    x_wr_timezone: str = ""
    timezones: list[list[str]] = field(default_factory=list)
    events: list[tuple[list[str], bool]] = field(default_factory=list)  # (lines, complete)


def unfold(text: str) -> list[str]:
    lines: list[str] = []
    for line in text.split("\n"):
        line = line.rstrip("\r")
        if line[:1] in (" ", "\t") and lines:
            lines[-1] += line[1:]
        else:
            lines.append(line)
    return lines


def split(text: str) -> list[Piece]:
    """Find the VCALENDARs, and in them the VTIMEZONE and VEVENT blocks, by
    their BEGIN/END lines only, tolerating anything in between."""
    pieces: list[Piece] = []
    piece: Piece | None = None
    block: list[str] | None = None
    kind = ""
    depth = 0

    def close(complete: bool) -> None:
        nonlocal block
        if kind == "VEVENT":
            piece.events.append((block, complete))
        elif kind == "VTIMEZONE" and complete:
            piece.timezones.append(block)
        block = None

    for line in unfold(text):
        upper = line.strip().upper()
        if upper.startswith("BEGIN:"):
            name = upper[6:].strip()
            if block is not None:
                if name not in _TOP_LEVEL:
                    depth += 1
                    block.append(line)
                    continue
                close(False)
            if name == "VCALENDAR":
                piece = Piece()
                pieces.append(piece)
                continue
            if piece is None:  # components without a VCALENDAR around them
                piece = Piece()
                pieces.append(piece)
            block, kind, depth = [line], name, 0
        elif upper.startswith("END:"):
            name = upper[4:].strip()
            if block is None:
                if name == "VCALENDAR":
                    piece = None
                continue
            if depth:
                depth -= 1
                block.append(line)
            elif name == kind:
                block.append(line)
                close(True)
            elif name == "VCALENDAR":
                close(False)
                piece = None
            else:
                block.append(line)
        elif block is not None:
            block.append(line)
        elif piece is not None and upper.startswith("X-WR-TIMEZONE"):
            _, sep, value = line.partition(":")
            if sep:
                piece.x_wr_timezone = value.strip()
    if block is not None:
        close(False)
    return pieces


def parse_event_block(block: list[str]):
    """A VEVENT block as a component, or the exception that stopped it. When
    the block fails, it is tried again without its subcomponents (alarms are
    of no use here and often the broken part)."""
    try:
        return icalendar.Event.from_ical("\n".join(block))
    except Exception as exc:
        first_error = exc
    flat, depth = [], 0
    for line in block[1:-1]:
        upper = line.strip().upper()
        if upper.startswith("BEGIN:"):
            depth += 1
        elif upper.startswith("END:"):
            depth = max(depth - 1, 0)
        elif depth == 0:
            flat.append(line)
    try:
        return icalendar.Event.from_ical("\n".join([block[0], *flat, block[-1]]))
    except Exception:
        return first_error


def uid_in(block: list[str]) -> str | None:
    for line in block:
        if line[:4].upper() == "UID:" or line[:4].upper() == "UID;":
            value = line.partition(":")[2].strip()
            return value or None
    return None
