"""``python -m bench [--quick] [--json PATH] [--only GROUPS] [--profile GROUP]``.

Runs the figure groups, prints one table (notes below it) and, with
``--json``, writes the same rows as a JSON list. The groups run one after
the other, so that no figure is taken while another group loads the machine.
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import sys
import time
import traceback
from pathlib import Path

from .rows import Row, table, write_json

#: the groups in the order of the table
GROUPS = ("judgement", "requests", "corpus", "scale", "idle", "startup", "latency")
PROFILES = ("corpus", "scale", "idle")


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m bench", description=(
        "Measure followup's figures: requests per poll, parse and plan cost, memory, "
        "start-up and latency. Every figure is a count or a ratio from this run."))
    p.add_argument("--quick", action="store_true", help="a reduced run (for the tests)")
    p.add_argument("--json", type=Path, metavar="PATH", help="also write the rows as JSON here")
    p.add_argument("--only", metavar="GROUPS",
                   help=f"comma-separated groups to run (of {', '.join(GROUPS)})")
    p.add_argument("--profile", choices=PROFILES,
                   help="run one group's measured pass under cProfile and print the profile")
    return p


def _failed(group: str, exc: BaseException) -> list[Row]:
    last = traceback.format_exception_only(type(exc), exc)[-1].strip()
    return [Row(f"{group}: every figure", None, "", "", None, f"the group failed: {last[:400]}")]


def _guarded(group: str, call) -> list[Row]:
    started = time.monotonic()
    try:
        rows = call()
    except Exception as exc:  # noqa: BLE001 - one broken group must not lose the others
        rows = _failed(group, exc)
    print(f"  {group}: {time.monotonic() - started:.0f} s", file=sys.stderr, flush=True)
    return rows


def run(quick: bool, groups: tuple[str, ...] = GROUPS) -> list[Row]:
    """Every selected group; rows in the order of ``GROUPS``."""
    from . import corpus, idle, judgement, latency, polls, scale, startup

    modules = {"judgement": judgement, "requests": polls, "corpus": corpus, "scale": scale,
               "idle": idle, "startup": startup, "latency": latency}
    found: dict[str, list[Row]] = {}
    for group in groups:
        found[group] = _guarded(group, lambda m=modules[group]: m.run(quick))
    return [row for group in GROUPS if group in found for row in found[group]]


def profile(group: str, quick: bool) -> None:
    """The measured pass of ``group`` under cProfile, summarised."""
    import pstats
    import tempfile

    from . import corpus, idle, scale
    from .measure import run_child

    with tempfile.TemporaryDirectory(prefix="followup-bench-") as tmp:
        stats = Path(tmp) / "profile.out"
        if group == "idle":
            idle.trace(quick, stats)
            print(f"== idle, every connector: allocations from cycle {idle.CHECKPOINT} on ==")
            print(stats.read_text())
            return
        if group == "corpus":
            args = corpus.task_args(quick, Path(tmp))
            run_child("corpus", {**args, "reps": 1, "profile": str(stats)})
        else:
            size = scale.QUICK_SIZES[1] if quick else scale.SIZES[0]
            folder = scale.scratch()
            try:
                scale.measure(size, folder, profile=str(stats))
            finally:
                shutil.rmtree(folder, ignore_errors=True)
        data = pstats.Stats(str(stats))
        data.strip_dirs()
        for key in ("cumulative", "tottime"):
            print(f"\n== {group}: by {key} ==")
            data.sort_stats(key).print_stats(25)


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if args.profile:
        profile(args.profile, args.quick)
        return 0
    groups = GROUPS
    if args.only:
        groups = tuple(g.strip() for g in args.only.split(",") if g.strip())
        unknown = [g for g in groups if g not in GROUPS]
        if unknown:
            _parser().error(f"unknown group(s): {', '.join(unknown)} (known: {', '.join(GROUPS)})")
    started = time.monotonic()
    print(f"followup bench{' (quick)' if args.quick else ''}: {os.cpu_count()} CPUs, Python "
          f"{platform.python_version()}, {platform.system()} {platform.machine()}",
          file=sys.stderr, flush=True)
    rows = run(args.quick, groups)
    print(table(rows))
    print(f"\n{len(rows)} figures in {time.monotonic() - started:.0f} s; "
          f"{sum(1 for r in rows if r.met is False)} goals not met, "
          f"{sum(1 for r in rows if r.value is None)} without a value")
    if args.json:
        write_json(rows, args.json)
    return 0


if __name__ == "__main__":
    sys.exit(main())
