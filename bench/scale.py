"""Planning over large generated calendars: time per event at two sizes
(the ratio shows whether it grows linearly), peak memory, and a second
``plan`` on the warm state against the first.

Each size is a vdir of one-event files inside the scan window, 1 in 100 of
them interviews (two rounds per company), made by ``bench.ics``; each runs
in a child process of its own (``bench.child plan``), which also generates
the folder, so the peak resident memory is that of the pass plus the
interpreter and its libraries. The sizes run one after the other with
nothing else running: on two cores, another group on the other core slowed
one size more than the other and the per-event ratio wandered by a third.
The per-event ratio uses the CPU time of the passes.

The folders live in memory (``/dev/shm``) where there is one: writing and
deleting 100,000 files on a disk mounted with ``discard`` takes minutes
that have nothing to do with the figures (the files would be in the page
cache during the pass anyway).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from datetime import datetime, timezone
from pathlib import Path

from .child import WARM_PASSES
from .measure import ChildFailed, run_child
from .rows import Row, missing

NOW = datetime(2030, 3, 4, 15, 0, tzinfo=timezone.utc)
SIZES = (10_000, 100_000)
QUICK_SIZES = (200, 2_000)
MEMORY_LIMIT_MB = 200
LINEAR = 1.25  # per-event time may grow this much over 10x the events
MEMORY_FOLDER = Path("/dev/shm")
TIMEOUT = 1200  # seconds the large size may take before it is given up


def _base() -> Path | None:
    """The tmpfs to put the folders in, if the system has one."""
    ok = MEMORY_FOLDER.is_dir() and os.access(MEMORY_FOLDER, os.W_OK)
    return MEMORY_FOLDER if ok else None


def scratch() -> Path:
    """A new temporary folder, in memory when the system has a tmpfs for it."""
    return Path(tempfile.mkdtemp(prefix="followup-bench-", dir=_base()))


def _args(size: int, root: Path, profile: str | None = None) -> dict:
    return {"root": str(root), "folder": str(root / "calendar"), "now": NOW.isoformat(),
            "generate": size, "profile": profile}


def measure(size: int, tmp: Path, profile: str | None = None) -> dict:
    """Generate a calendar of ``size`` events and plan over it in a child."""
    root = tmp / f"plan-{size}"
    try:
        return run_child("plan", _args(size, root, profile), timeout=TIMEOUT)
    finally:
        shutil.rmtree(root, ignore_errors=True)


class Run:
    """The group: both sizes, one after the other."""

    def __init__(self, quick: bool):
        self.quick = quick
        self.small, self.big = QUICK_SIZES if quick else SIZES
        self.where = _base() or Path(tempfile.gettempdir())

    def measure(self) -> list[Row]:
        # The small size runs before and after the large one, and its times
        # are the mean of the two: the speed of a shared machine drifts over
        # the large run's quarter of a minute, and bracketing cancels a drift.
        results = []
        for size in (self.small, self.big, self.small):
            tmp = scratch()
            try:
                results.append(measure(size, tmp))
            except (ChildFailed, OSError, ValueError, subprocess.TimeoutExpired) as exc:
                return self.failed(f"the child for {size:,} events failed: {exc}")
            finally:
                shutil.rmtree(tmp, ignore_errors=True)
        before, big, after = results
        small = {**before, **{key: (before[key] + after[key]) / 2
                              for key in ("first", "first_cpu", "second", "second_cpu")}}
        return self.rows(small, big)

    def names(self) -> dict[str, str]:
        small, big = f"{self.small:,}", f"{self.big:,}"
        return {
            "ratio": f"plan, CPU time per event at {big} vs {small} events",
            "big": f"plan, time per event at {big} events",
            "small": f"plan, time per event at {small} events",
            "peak_big": f"plan, peak memory at {big} events",
            "peak_small": f"plan, peak memory at {small} events",
            "warm": f"second plan, nothing changed, vs the first ({big} events)",
        }

    def failed(self, why: str) -> list[Row]:
        return [missing(name, "", "", why) for name in self.names().values()]

    def rows(self, small: dict, big: dict) -> list[Row]:
        names = self.names()
        bad = {n: r["errors"] for n, r in ((self.small, small), (self.big, big)) if r["errors"]}
        if bad:
            return self.failed(f"the pass failed: {bad}")
        cpu = {self.small: small["first_cpu"] / self.small, self.big: big["first_cpu"] / self.big}
        ratio = round(cpu[self.big] / cpu[self.small], 3)
        wall_ratio = (big["first"] / self.big) / (small["first"] / self.small)

        def what(size: int, r: dict) -> str:
            return (f"{size:,}: {r['interviews']} interviews, {r['outcomes']} follow-ups "
                    f"planned, pass {r['first']:.1f} s wall, {r['first_cpu']:.1f} s CPU")

        peak = "resident peak of the child; {:.0f} MB before the pass (interpreter, libraries)"
        warm_small = small["second"] / small["first"]
        warm_big = big["second"] / big["first"]
        limit = f"< {MEMORY_LIMIT_MB}" if not self.quick else "(full run only)"
        return [
            Row(names["ratio"], ratio, "x", f"~1 (<= {LINEAR})", ratio <= LINEAR,
                f"{what(self.small, small)}; {what(self.big, big)}; wall-time ratio "
                f"{wall_ratio:.2f} (files in {self.where}; {self.small:,}: the mean of a run "
                f"before and one after)"),
            Row(names["big"], round(big["first"] / self.big * 1000, 3), "ms", "for the ratio",
                None, f"{cpu[self.big] * 1000:.3f} ms CPU"),
            Row(names["small"], round(small["first"] / self.small * 1000, 3), "ms",
                "for the ratio", None, f"{cpu[self.small] * 1000:.3f} ms CPU"),
            Row(names["peak_big"], round(big["peak_mb"], 1), "MB", limit,
                big["peak_mb"] < MEMORY_LIMIT_MB if not self.quick else None,
                peak.format(big["base_mb"])),
            Row(names["peak_small"], round(small["peak_mb"], 1), "MB", "for the growth", None,
                peak.format(small["base_mb"])),
            Row(names["warm"], round(warm_big, 4), "x", "<= 0.1", warm_big <= 0.1,
                f"second pass (median of {WARM_PASSES}) {big['second']:.2f} s after "
                f"{big['first']:.1f} s; at "
                f"{self.small:,} events {warm_small:.3f} ({small['second']:.2f} s)"),
        ]


def run(quick: bool) -> list[Row]:
    """The group's rows."""
    return Run(quick).measure()
