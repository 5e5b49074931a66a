"""The ``followup`` command."""

from __future__ import annotations

import argparse
import logging
import os
import sys
from datetime import datetime, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

from daemon import __version__
from daemon.errors import ConfigError, FollowupError
from daemon.kinds import Op

log = logging.getLogger("followup")


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="followup",
        description="Finds job interviews in your calendars and prepares every follow-up: "
                    "thank-you drafts, a follow-up call, a status check. It never sends mail.")
    p.add_argument("--config", type=Path, help="config file (default: the platform's config folder)")
    p.add_argument("-v", "--verbose", action="store_true", help="log more detail to stderr")
    p.add_argument("--version", action="version", version=f"followup {__version__}")
    sub = p.add_subparsers(dest="command", metavar="COMMAND")

    def now_arg(sp):
        sp.add_argument("--now", help="pretend it is this moment (ISO 8601; without an offset: "
                                      "your configured time zone), for previews and tests")

    sp = sub.add_parser("plan", help="show what is detected and planned, changing nothing")
    now_arg(sp)
    sp.add_argument("--json", action="store_true", help="machine-readable output")
    sp = sub.add_parser("run", help="run the daemon (or one pass with --once)")
    sp.add_argument("--once", action="store_true", help="one pass that carries out every due follow-up")
    sp.add_argument("--accept-empty", action="append", default=[], metavar="CALENDAR",
                    help="believe this calendar when it suddenly reads as empty")
    now_arg(sp)
    sub.add_parser("status", help="what is planned, done, and why")
    sub.add_parser("check", help="validate the config and reach every calendar and mailbox")
    sp = sub.add_parser("auth", help="log in to a calendar or mailbox and store its credential")
    sp.add_argument("name", help="the account's name in the config")
    sp = sub.add_parser("service", help="install, remove or show the background service")
    sp.add_argument("action", choices=["install", "uninstall", "status"])
    sp.add_argument("--seccomp-only", action="store_true",
                    help="a unit without namespacing, for systems that forbid user namespaces")
    for name, text in (("include", "count an event as your interview (followup acts on it)"),
                       ("exclude", "never count an event as your interview")):
        sp = sub.add_parser(name, help=text)
        sp.add_argument("what", help="the event's UID, as 'followup plan' shows it; with --title, "
                                     "a text: every event whose title holds it")
        sp.add_argument("--title", action="store_true", help="WHAT is a text in the title, not a UID")
        sp.add_argument("--undo", action="store_true", help="take this decision back")
    sp = sub.add_parser("answered", help="the company has answered: no status check for this "
                                         "hiring process")
    sp.add_argument("process", help="the company (or its process, as 'followup status' shows it)")
    sp.add_argument("--undo", action="store_true", help="take this decision back")
    sp = sub.add_parser("not-answered", help="a message taken for the company's answer was none: "
                                             "the status check comes back")
    sp.add_argument("message", help="the message's Message-ID, as 'followup plan' or 'status' shows it")
    sp.add_argument("--undo", action="store_true", help="take this decision back")
    sp = sub.add_parser("demo", help="try it on a sample calendar and mailbox in a temporary folder")
    sp.add_argument("--dir", type=Path, help="build the sample here instead of a temporary folder")
    return p


def _load(args, holidays: bool = True):
    from daemon.app import config

    return config.load(args.config or config.default_path(), holidays=holidays)


def _now(text: str | None, tz: ZoneInfo) -> datetime:
    if not text:
        return datetime.now(timezone.utc).astimezone(tz)
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise ConfigError(f"--now: not an ISO 8601 date and time: {text!r}") from None
    if not 1971 <= moment.year <= 9000:  # the scan window and business days reach years around it
        raise ConfigError(f"--now: {text!r} is outside the years 1971 to 9000")
    return moment.replace(tzinfo=tz) if moment.tzinfo is None else moment.astimezone(tz)


def cmd_plan(args) -> int:
    from daemon.app import report
    from daemon.app.engine import Engine

    settings = _load(args)
    engine = Engine(settings)
    try:
        rep = engine.run_pass(_now(args.now, engine.tz), apply=False)
    finally:
        engine.close()
    print(report.dumps(report.plan_json(rep, engine.tz)) if args.json else report.plan_text(rep, engine.tz))
    return 0


def _summary(rep) -> str:
    from daemon.app import report

    applied = rep.applied
    written = [a for a in applied.done if a.op != Op.RECORD]
    parts = [f"{len(rep.interviews)} interviews", f"{len(written)} changes made"]
    if applied.failed:
        parts.append(f"{len(applied.failed)} failed")
    if applied.skipped:
        parts.append(f"{len(applied.skipped)} postponed")
    unreadable = sorted({str(p) for p in rep.problems if p.severity == "error"})
    if unreadable:
        parts.append(f"{len(unreadable)} unreadable items")
    lines = [", ".join(parts)]
    lines += [f"  could not read {report.safe(line, 300)}" for line in unreadable[:report.SHOWN_UNREADABLE]]
    if len(unreadable) > report.SHOWN_UNREADABLE:
        lines.append(f"  and {len(unreadable) - report.SHOWN_UNREADABLE} more (followup plan lists them all)")
    return "\n".join(lines)


def cmd_run(args) -> int:
    from daemon.app import report
    from daemon.app.engine import Engine

    if not args.once:
        from daemon.app.runner import Runner

        runner = Runner(load=lambda: _load(args),
                        make_engine=lambda s: Engine(s, accept_empty=frozenset(args.accept_empty)))
        runner.install_signals()
        return runner.run()
    from daemon.app.runner import InstanceLock

    settings = _load(args)
    lock = InstanceLock(settings.state_path)
    lock.acquire()
    try:
        engine = Engine(settings, accept_empty=frozenset(args.accept_empty))
        try:
            rep = engine.run_pass(_now(args.now, engine.tz), apply=True)
        finally:
            engine.close()
    finally:
        lock.release()
    for a in rep.applied.done:
        if a.op != Op.RECORD:
            log.info("%s: %s %s", a.record.target, a.op.replace("_", " "), report.LABELS[a.record.kind])
    for name, why in rep.account_errors.items():
        print(f"{name}: {why}", file=sys.stderr)
    for name, count in rep.strikes.items():
        if name not in rep.account_errors:
            print(f"{name}: {count} call{'s' if count > 1 else ''} failed for a passing reason; "
                  "the next pass tries again", file=sys.stderr)
    for p in rep.problems:
        log.info("could not read %s", p)
    print(_summary(rep))
    return 1 if rep.account_errors or rep.strikes or rep.applied.failed else 0


def cmd_status(args) -> int:
    from zoneinfo import ZoneInfo

    from daemon.app import report
    from daemon.store.state import State

    settings = _load(args, holidays=False)  # status only reads the state
    tz = ZoneInfo(settings.me.timezone)
    if not settings.state_path.exists():
        print(f"No state yet at {settings.state_path}: run 'followup run --once' first.")
        return 0
    from daemon.app.runner import InstanceLock

    running = InstanceLock(settings.state_path).held()
    state = State(settings.state_path)
    try:
        wake = state.meta("next_wake")
        if running:
            daemon = "followup run is running" + (
                f"; next wake-up {report.when(datetime.fromisoformat(wake), tz)}" if wake else "")
        else:
            daemon = "followup run is not running (followup service status)"
        import json

        try:
            maybe = json.loads(state.meta("maybe") or "[]")
        except ValueError:
            maybe = []
        try:
            names = json.loads(state.meta("process_names") or "{}")
        except ValueError:
            names = {}
        try:
            unreadable = [str(entry[3]) for entry in json.loads(state.meta("unreadable") or "[]")]
        except (ValueError, TypeError, IndexError, KeyError):
            unreadable = []
        print(report.status_text(state.records().values(), state.accounts(), tz,
                                 datetime.now(timezone.utc), daemon, maybe, state.verdicts(),
                                 names if isinstance(names, dict) else {}, unreadable))
    finally:
        state.close()
    return 0


def cmd_check(args) -> int:
    from daemon.app.engine import Engine

    settings = _load(args)
    print(f"config {settings.source}: ok")
    engine = Engine(settings)
    failures = 0
    try:
        for name, why in engine.broken.items():
            print(f"{name}: FAILED: {why}")
            failures += 1
        for name, conn in [*engine.calendars.items(), *engine.mailboxes.items()]:
            try:
                print(f"{name}: ok: {conn.check()}")
            except (FollowupError, OSError) as exc:
                print(f"{name}: FAILED: {exc}")
                failures += 1
    finally:
        engine.close()
    return 1 if failures else 0


def cmd_auth(args) -> int:
    from daemon import registry

    settings = _load(args)
    accounts = {a.name: (a, registry.calendar_class) for a in settings.calendars}
    accounts.update({a.name: (a, registry.mailbox_class) for a in settings.mailboxes})
    if args.name not in accounts:
        raise ConfigError(f"no calendar or mailbox named {args.name!r} (known: {', '.join(sorted(accounts))})")
    from daemon.app.engine import connector_context

    acc, find = accounts[args.name]
    connector = find(acc.type)(acc.name, dict(acc.options), connector_context(settings))
    try:
        print(connector.authorize())
    finally:
        connector.close()
    return 0


def cmd_service(args) -> int:
    from daemon.app import service

    if args.action == "install":
        print(service.install(_load(args), seccomp_only=args.seccomp_only))
    elif args.action == "uninstall":
        print(service.uninstall())
    else:
        print(service.status())
    return 0


def cmd_verdict(args) -> int:
    """include / exclude / answered / not-answered: the user's own verdicts,
    kept in the state database and read by the next pass."""
    from daemon.store.state import State

    settings = _load(args, holidays=False)
    kind = args.command.replace("-", "_")
    state = State(settings.state_path)
    try:
        if kind in ("include", "exclude"):
            target, shown = _event_target(args, state)
        elif kind == "answered":
            target = _process_target(args.process, state)
            shown = f"hiring process {target!r}"
        else:
            target = args.message.strip().strip("'\"")
            shown = f"message {target}"
        if args.undo:
            found = state.drop_verdict(kind, target)
            print(f"{'Took back' if found else 'There was no'} '{args.command}' for {shown}.")
            return 0 if found else 1
        state.set_verdict(kind, target, datetime.now(timezone.utc))
    finally:
        state.close()
    effect = {
        "include": "counts as your interview",
        "exclude": "is never taken for your interview",
        "answered": "has its answer: no status check",
        "not_answered": "is no answer: the status check stays",
    }[kind]
    print(f"From the next pass, {shown} {effect}. Undo with 'followup {args.command} --undo'.")
    return 0


def _event_target(args, state) -> tuple[str, str]:
    what = args.what.strip()
    if not what:
        raise ConfigError(f"{args.command}: give an event's UID, or --title and a text")
    if args.title:
        return "title:" + what, f"every event whose title holds {what!r}"
    known = state.db.execute("SELECT 1 FROM events WHERE uid=? LIMIT 1", (what,)).fetchone()
    if known is None:
        print(f"Note: no event with UID {what!r} was seen yet; if it exists, the next pass reads it. "
              "For a text in the title, add --title.", file=sys.stderr)
    return what, f"the event {what!r}"


def _process_target(wanted: str, state) -> str:
    """The process key the user means: exactly, or the only one whose
    company starts with what they typed."""
    from daemon.lang import norm

    processes = sorted({row[0] for row in state.db.execute("SELECT DISTINCT process FROM actions")})
    if wanted in processes:
        return wanted
    key = norm(wanted).strip()
    matches = [p for p in processes if p.startswith(key)] or [p for p in processes if key in p]
    if len(matches) == 1:
        return matches[0]
    known = ", ".join(repr(p) for p in (matches or processes)) or "none yet"
    raise ConfigError(f"answered: {'several' if matches else 'no'} hiring processes match {wanted!r} "
                      f"({'say which' if matches else 'known'}: {known})")


def cmd_demo(args) -> int:
    from daemon.app.demo import run_demo

    return run_demo(args.dir)


class _SafeFormatter(logging.Formatter):
    """Log lines carry event titles and file names, which anyone who can
    send an invitation chooses: control characters (escape sequences, line
    breaks that would fake another log line) are written as escapes."""

    def formatMessage(self, record: logging.LogRecord) -> str:
        record.message = "".join(c if c.isprintable() else repr(c)[1:-1] for c in record.message)
        return super().formatMessage(record)


COMMANDS = {"plan": cmd_plan, "run": cmd_run, "status": cmd_status, "check": cmd_check,
            "auth": cmd_auth, "service": cmd_service, "demo": cmd_demo, "include": cmd_verdict,
            "exclude": cmd_verdict, "answered": cmd_verdict, "not-answered": cmd_verdict}


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    daemon_mode = args.command == "run" and not args.once
    # journald stamps each line itself; launchd's log files and terminals do not
    stamp = "" if os.environ.get("JOURNAL_STREAM") else "%(asctime)s "
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(_SafeFormatter(stamp + "%(levelname)s %(message)s"))
    logging.basicConfig(level=logging.INFO if args.verbose or daemon_mode else logging.WARNING,
                        handlers=[handler])
    if args.command is None:
        _parser().print_help()
        return 2
    try:
        return COMMANDS[args.command](args)
    except ConfigError as exc:
        print("The configuration has problems:" if len(exc.problems) > 1 else "Configuration problem:",
              file=sys.stderr)
        for line in exc.problems:
            print(f"  {line}", file=sys.stderr)
        return 2
    except FollowupError as exc:
        print(f"followup: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        # "followup plan --json | head": the reader has gone, which is fine;
        # point stdout at nothing so that closing it at exit cannot fail again
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 0


if __name__ == "__main__":
    sys.exit(main())
