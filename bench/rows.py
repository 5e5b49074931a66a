"""A benchmark result row, and the table and JSON made of rows."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path


@dataclass
class Row:
    """One figure: ``value`` in ``unit`` (None when it could not be
    measured here, with the reason in ``note``), the ``goal`` as text and
    whether it is ``met`` (None when there is no value)."""

    figure: str
    value: float | None
    unit: str
    goal: str
    met: bool | None
    note: str = ""

    def as_dict(self) -> dict:
        return asdict(self)


def missing(figure: str, unit: str, goal: str, why: str) -> Row:
    """A row that could not be measured."""
    return Row(figure, None, unit, goal, None, why)


def shown(value: float | None) -> str:
    """A value for the table: counts as integers, ratios with 3 digits."""
    if value is None:
        return "-"
    if isinstance(value, int) or float(value).is_integer() and abs(value) >= 10:
        return f"{value:,.0f}"
    if abs(value) >= 100:
        return f"{value:,.0f}"
    return f"{value:.3g}"


def table(rows: list[Row]) -> str:
    """A plain-text table; notes follow it, numbered."""
    header = ("figure", "value", "unit", "goal", "met")
    notes: list[str] = []
    lines = []
    for row in rows:
        mark = {True: "yes", False: "NO", None: "-"}[row.met]
        figure = row.figure
        if row.note:
            notes.append(row.note)
            figure += f" [{len(notes)}]"
        lines.append((figure, shown(row.value), row.unit, row.goal, mark))
    widths = [max(len(str(r[i])) for r in [header, *lines]) for i in range(len(header))]

    def fmt(cells) -> str:
        return "  ".join(str(c).ljust(w) if i != 1 else str(c).rjust(w)
                         for i, (c, w) in enumerate(zip(cells, widths))).rstrip()

    out = [fmt(header), fmt("-" * w for w in widths), *(fmt(line) for line in lines)]
    if notes:
        out.append("")
        out += [f"[{n}] {text}" for n, text in enumerate(notes, start=1)]
    return "\n".join(out)


def write_json(rows: list[Row], path: Path) -> None:
    """The rows as a JSON list of objects (figure, value, unit, goal, met, note)."""
    Path(path).write_text(json.dumps([r.as_dict() for r in rows], indent=2) + "\n")
