"""Scan + plan of a large real calendar file against parsing and expanding
it with icalendar and recurring-ical-events alone.

The file is ``recurring-ical-events/issue42.ics`` of the shared corpus of
real-world calendars (``../shared/corpus/ics-wild`` from the repository
root): 1.6 MB, 4,778 events, 174 series, Google's X-WR-TIMEZONE. Both sides
read the file from disk and look at the same scan window (the default 30
days back, 60 ahead, around a day in 2012 where the file is dense); they
alternate in one child process and the medians are compared. ``--quick``
uses the first 300 events only.

Every title in the file is "test", and none holds an interview keyword, so
with the default keywords the daemon does not parse the file at all
(``daemon.interest``). The figure with the goal is therefore taken with
"test" added to the keywords: the whole file is parsed and every event in
the window is planned for as an interview, the most work this file can
cost. The default-keywords pass is a second, informational row.
"""

from __future__ import annotations

import re
import tempfile
from pathlib import Path

from .measure import ROOT, median, run_child
from .rows import Row, missing

CORPUS = ROOT.parent / "shared" / "corpus" / "ics-wild" / "recurring-ical-events" / "issue42.ics"
NOW = "2012-04-15T12:00:00+00:00"
QUICK_NOW = "2018-12-15T12:00:00+00:00"  # where the first events are
FIGURE = "scan + plan of issue42.ics vs icalendar + recurring-ical-events alone"
SKIPPED = "same, default keywords (no interview in the file: left unparsed)"
GOAL = "<= 1.3"
VARIANTS = {"whole": ["test"], "default": []}  # name -> extra keywords
QUICK_EVENTS = 300
REPS = 3


def _first_events(data: bytes, count: int) -> bytes:
    """The file cut after its ``count``-th VEVENT, the VCALENDAR closed."""
    ends = [m.end() for m in re.finditer(rb"END:VEVENT\r?\n", data)]
    if len(ends) <= count:
        return data
    return data[:ends[count - 1]] + b"END:VCALENDAR\r\n"


def task_args(quick: bool, tmp: Path) -> dict:
    """The child's arguments (the file copied or cut into ``tmp``)."""
    data = CORPUS.read_bytes()
    if quick:
        data = _first_events(data, QUICK_EVENTS)
    path = tmp / "issue42.ics"
    path.write_bytes(data)
    return {"root": str(tmp), "path": str(path), "now": QUICK_NOW if quick else NOW,
            "reps": 1 if quick else REPS, "variants": VARIANTS}


def run(quick: bool) -> list[Row]:
    if not CORPUS.exists():
        return [missing(FIGURE, "x", GOAL, f"skipped: {CORPUS} is not here")]
    with tempfile.TemporaryDirectory(prefix="followup-bench-") as tmp:
        result = run_child("corpus", task_args(quick, Path(tmp)))
    errors = {name: r["errors"] for name, r in result["reports"].items() if r["errors"]}
    if errors:
        return [missing(FIGURE, "x", GOAL, f"the pass failed: {errors}")]
    wall, cpu = result["wall"], result["cpu"]
    theirs = median(wall["theirs"])
    part = f"first {QUICK_EVENTS} events, " if quick else ""
    rows = []
    for name, figure in (("whole", FIGURE), ("default", SKIPPED)):
        ours = median(wall[name])
        ratio = round(ours / theirs, 3)
        counts = result["reports"][name]
        note = (f"{part}median of {len(wall[name])} rotating runs: followup {ours:.2f} s, "
                f"icalendar + recurring-ical-events {theirs:.2f} s (CPU-time ratio "
                f"{median(cpu[name]) / median(cpu['theirs']):.2f}); window "
                f"{result['window'][0][:10]}..{result['window'][1][:10]}: "
                f"{result['occurrences']} occurrences, {counts['interviews']} interviews, "
                f"{counts['ignored']} ignored, {counts['problems']} problems reported")
        if name == "whole":
            note += "; 'test' added to the keywords, so every event is an interview"
            # a slice of the file: the fixed cost of a pass weighs more than in the figure
            goal, met = ("(full run only)", None) if quick else (GOAL, ratio <= 1.3)
        else:
            goal, met = "-", None
        rows.append(Row(figure, ratio, "x", goal, met, note))
    return rows
