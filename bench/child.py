"""Work that runs in a fresh interpreter: ``python -m bench.child TASK``.

The task's arguments come as one JSON object on stdin; the result is
printed as one JSON object on the last line of stdout. Keeping each task in
a process of its own makes peak memory, imported modules and timings
independent of whatever ran before. The imports here stay minimal, since
what this process loads is part of what is measured.
"""

from __future__ import annotations

import json
import statistics
import sys
import time

#: modules too heavy for the start of every command
HEAVY = ("googleapiclient", "google.auth", "google_auth_oauthlib", "google_auth_httplib2",
         "httplib2", "msal", "caldav", "imapclient", "requests", "keyring", "lxml",
         "icalendar", "recurring_ical_events", "x_wr_timezone", "holidays", "sqlite3")
#: passes on the warm state after the first one of ``task_plan``
WARM_PASSES = 3
#: top-level packages of this project (left out of the bare-import baseline)
PROJECT = ("daemon", "connectors", "bench", "tests", "__main__")


def _heavy_loaded() -> list[str]:
    return [name for name in HEAVY if name in sys.modules]


def task_modules(args: dict) -> dict:
    """Heavy modules loaded by importing ``daemon.app.cli`` and then by running
    the command ``args["argv"]`` (its output discarded)."""
    import contextlib
    import io

    from daemon.app import cli

    after_import = _heavy_loaded()
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
        try:
            cli.main(args["argv"])
        except SystemExit:
            pass
    return {"import": after_import, "command": _heavy_loaded()}


def _profiled(call, path: str | None):
    """``call()``, under cProfile when ``path`` is given (stats saved there)."""
    if not path:
        return call()
    import cProfile

    profile = cProfile.Profile()
    try:
        return profile.runcall(call)
    finally:
        profile.dump_stats(path)


def task_plan(args: dict) -> dict:
    """``followup plan`` on a calendar folder (first generated with
    ``args["generate"]`` events when given): the first pass with an empty
    state, then ``WARM_PASSES`` on the warm state (each a new engine, as a
    second command would make); "second" is their median, so one stall of a
    busy machine does not decide the figure. Times only the passes."""
    from datetime import datetime
    from pathlib import Path

    from bench.measure import peak_rss_mb, rss_mb
    from bench.world import config, local_accounts, settings
    from daemon.app.engine import Engine

    root = Path(args["root"])
    if args.get("generate"):
        from bench.ics import generate_folder

        size = args["generate"]
        generate_folder(Path(args["folder"]), size, size // 100, datetime.fromisoformat(args["now"]))
    _, mailbox = local_accounts(root)
    calendar = {"name": "personal", "type": "local", "path": args["folder"],
                "write_to": str(root / "own"), "mailbox": "mail"}
    s = settings(config(root / "state.sqlite3", [calendar], [mailbox]), root)
    now = datetime.fromisoformat(args["now"])
    times, cpu, base = [], [], rss_mb()
    report = None
    for attempt in range(1 + WARM_PASSES):
        engine = Engine(s)
        try:
            start, start_cpu = time.perf_counter(), time.process_time()
            profile = args.get("profile") if attempt == 0 else None
            result = _profiled(lambda e=engine: e.run_pass(now, apply=False), profile)
            times.append(time.perf_counter() - start)
            cpu.append(time.process_time() - start_cpu)
        finally:
            engine.close()
        if attempt == 0:
            report, peak = result, peak_rss_mb()
    return {"first": times[0], "second": statistics.median(times[1:]), "first_cpu": cpu[0],
            "second_cpu": statistics.median(cpu[1:]),
            "base_mb": base, "peak_mb": peak,
            "interviews": len(report.interviews), "ignored": len(report.ignored),
            "outcomes": len(report.plan.outcomes), "problems": len(report.problems),
            "errors": report.account_errors}


def task_corpus(args: dict) -> dict:
    """Scan + plan of one .ics file against icalendar + recurring-ical-events
    alone over the same window, interleaved, ``args["reps"]`` times each.
    The scan runs once per entry of ``args["variants"]`` (name -> extra
    keywords) in each round."""
    from datetime import datetime
    from pathlib import Path

    import icalendar
    import recurring_ical_events

    from bench.world import config, local_accounts, settings
    from daemon.app.engine import Engine, scan_window

    root, path = Path(args["root"]), Path(args["path"])
    _, mailbox = local_accounts(root)
    now = datetime.fromisoformat(args["now"])
    calendar = {"name": "corpus", "type": "local", "path": str(path),
                "write_to": str(root / "own"), "mailbox": "mail"}

    variants: dict[str, list[str]] = args["variants"]
    cpu: dict[str, list[float]] = {"theirs": [], **{name: [] for name in variants}}

    def product(rep: int, variant: str):
        detection = {"extra_keywords": variants[variant]}
        s = settings(config(root / f"state-{variant}-{rep}.sqlite3", [calendar], [mailbox],
                            detection=detection), root)
        engine = Engine(s)
        try:
            start, start_cpu = time.perf_counter(), time.process_time()
            report = _profiled(lambda: engine.run_pass(now, apply=False),
                               args.get("profile") if rep == 0 else None)
            seconds = time.perf_counter() - start
            cpu[variant].append(time.process_time() - start_cpu)
            return seconds, report
        finally:
            engine.close()

    s = settings(config(root / "state-window.sqlite3", [calendar], [mailbox]), root)
    window = scan_window(now, s.scan.lookback, s.scan.lookahead)

    def alone():
        start, start_cpu = time.perf_counter(), time.process_time()
        parsed = icalendar.Calendar.from_ical(path.read_bytes())
        found = recurring_ical_events.of(parsed).between(*window)
        seconds = time.perf_counter() - start
        cpu["theirs"].append(time.process_time() - start_cpu)
        return seconds, found

    wall: dict[str, list[float]] = {name: [] for name in cpu}
    reports, found = {}, []
    order = ["theirs", *variants]
    for rep in range(args["reps"]):  # rotating which goes first
        for which in order[rep % len(order):] + order[:rep % len(order)]:
            if which == "theirs":
                seconds, found = alone()
            else:
                seconds, reports[which] = product(rep, which)
            wall[which].append(seconds)
    return {"wall": wall, "cpu": cpu, "occurrences": len(found),
            "window": [w.isoformat() for w in window],
            "reports": {name: {"interviews": len(r.interviews), "ignored": len(r.ignored),
                               "problems": len(r.problems), "errors": r.account_errors}
                        for name, r in reports.items()}}


def _url_cache_entries() -> int:
    """Entries in the LRU caches of parsed URLs of the urllib3 fork the
    CalDAV library brings (1,024 each): every Outlook delta poll fills them
    with a new URL."""
    url = sys.modules.get("urllib3.util.url")
    return sum(getattr(url, name).cache_info().currsize for name in ("parse_url", "_encode_target")
               if hasattr(getattr(url, name, None), "cache_info"))


def task_idle(args: dict) -> dict:
    """``followup run`` on a fake clock for ``args["cycles"]`` passes; the
    resident memory after pass ``args["checkpoint"]`` and after the last,
    and the modules it loaded."""
    import gc
    import threading
    from datetime import datetime, timedelta
    from pathlib import Path

    from bench.measure import rss_mb
    from bench.wiring import wire
    from daemon.app import config
    from daemon.app.engine import Engine
    from daemon.app.runner import Runner
    from tests.e2e.world import FakeClock

    cycles, checkpoint = args["cycles"], args["checkpoint"]
    marks_at = {checkpoint, cycles, *args.get("marks", ())}
    marks: dict[str, dict] = {}
    problems: list[str] = []
    stop = threading.Event()
    start = datetime.fromisoformat(args["start"])
    clock = FakeClock(start, start + timedelta(days=365), stop)
    count = 0

    def make_engine(settings):
        engine = Engine(settings)
        wire(engine, args.get("specs", {}))
        real = engine.run_pass

        def counted(now, apply, should_stop=lambda: False):
            nonlocal count
            report = real(now, apply, should_stop)
            count += 1
            if report.account_errors:
                problems.extend(f"{k}: {v}" for k, v in report.account_errors.items())
            if count in marks_at:
                rss = rss_mb()
                gc.collect()
                if trace and count == checkpoint:
                    tracemalloc.start(12)  # from here: tracing every cycle is too slow
                elif trace and count == cycles:
                    snapshots.append(tracemalloc.take_snapshot())
                marks[str(count)] = {"rss": rss, "blocks": sys.getallocatedblocks(),
                                     "interviews": len(report.interviews),
                                     "url_cache": _url_cache_entries()}
            return report

        engine.run_pass = counted
        return engine

    runner = Runner(load=lambda: config.load(Path(args["config"])), make_engine=make_engine,
                    clock=clock, stop=stop)
    trace = args.get("trace")
    snapshots: list = []
    if trace:
        import tracemalloc
    runner.run(max_passes=cycles)
    if trace:
        # what was allocated after the checkpoint and is still alive
        kept = snapshots[-1].statistics("traceback")
        with open(trace, "w") as out:
            out.write(f"{sum(s.size for s in kept) / 1024:+.1f} KiB in all\n\n")
            for stat in kept[:25]:
                out.write(f"{stat.size / 1024:+.1f} KiB {stat.count:+d} blocks\n")
                out.write("\n".join(stat.traceback.format()[-12:]) + "\n\n")
    modules = sorted(name for name in sys.modules
                     if name.partition(".")[0] not in PROJECT)
    return {"marks": marks, "modules": modules, "problems": sorted(set(problems))[:5],
            "fake_hours": (clock.t - start).total_seconds() / 3600}


TASKS = {"modules": task_modules, "plan": task_plan, "corpus": task_corpus, "idle": task_idle}


def main() -> int:
    task = TASKS[sys.argv[1]]
    result = task(json.loads(sys.stdin.read() or "{}"))
    sys.stdout.write("\n" + json.dumps(result) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
