"""``followup run``: pass after pass, for months.

The loop wakes for three reasons: the periodic scan (``scan.interval``,
with jitter), the moment the next follow-up becomes writable, and a
one-minute heartbeat. Timers on the monotonic clock stop while a laptop is
suspended, so the loop never waits longer than ``MAX_SLEEP`` without
comparing the wall clock with what is due: after sleep, downtime or a clock
jump, everything that became due meanwhile runs at once (the planner marks
what is too late as expired). All it knows comes from the state database,
so a restart loses nothing. When the wall clock goes back, the schedule
made in its future is made again from the present.

SIGTERM and SIGINT finish the action in flight and exit 0; SIGHUP reloads
the config (a broken config is reported and the old one kept).
"""

from __future__ import annotations

import errno
import fcntl
import logging
import os
import random
import signal
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path

from daemon.errors import ConfigError, FollowupError, StateError
from daemon.kinds import Op
from daemon.settings import Settings

log = logging.getLogger("followup")

MAX_SLEEP = 60.0  # seconds: the longest wait without looking at the wall clock
JITTER = 0.1  # share of scan.interval added at random, so accounts spread out
# After the state database failed: try again after 30 s, doubling up to 10 min.
STATE_RETRY = 30.0
STATE_RETRY_MAX = 600.0


class Clock:
    """Wall-clock time and an interruptible wait; tests pass a fake one."""

    def now(self) -> datetime:
        return datetime.now(timezone.utc)

    def wait(self, seconds: float, stop: threading.Event) -> None:
        stop.wait(seconds)


class InstanceLock:
    """One ``followup run`` per state database (an advisory file lock)."""

    def __init__(self, state_path: Path):
        self.path = Path(str(state_path) + ".lock")
        self.fd: int | None = None

    def acquire(self) -> None:
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
            # never through a symbolic link: its target would be truncated
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW | os.O_CLOEXEC, 0o600)
        except OSError as exc:
            raise FollowupError(_lock_trouble(self.path, exc)) from None
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            raise FollowupError(
                f"another 'followup run' is already working on {self.path.with_suffix('')}; "
                "stop it first (followup service status)") from None
        os.ftruncate(fd, 0)
        os.write(fd, f"{os.getpid()}\n".encode())
        self.fd = fd

    def release(self) -> None:
        if self.fd is not None:
            os.close(self.fd)
            self.fd = None

    def held(self) -> bool:
        """Whether a ``followup run`` holds the lock. Only looks: creates,
        truncates and follows nothing."""
        try:
            fd = os.open(self.path, os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC | os.O_NONBLOCK)
        except OSError:
            return False  # no lock file (or none of ours): nothing runs on it
        try:
            fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
        except OSError:
            return True
        finally:
            os.close(fd)
        return False


def _lock_trouble(path: Path, exc: OSError) -> str:
    if exc.errno == errno.ELOOP:
        return (f"{path} is a symbolic link; followup never writes through one. "
                "Remove it and start again")
    return f"cannot create the lock file {path}: {exc.strerror or exc}; check [state] path"


@dataclass
class Runner:
    """The long-running loop. ``load`` reads the config (again on SIGHUP);
    ``make_engine`` builds an ``Engine`` from it."""

    load: Callable[[], Settings]
    make_engine: Callable[[Settings], object]
    clock: Clock = field(default_factory=Clock)
    stop: threading.Event = field(default_factory=threading.Event)
    reload: threading.Event = field(default_factory=threading.Event)
    passes: int = 0

    def __post_init__(self) -> None:
        self._wake = threading.Event()  # set by a stop or a reload: ends the wait at once

    def request_stop(self) -> None:
        self.stop.set()
        self._wake.set()

    def request_reload(self) -> None:
        self.reload.set()
        self._wake.set()

    def install_signals(self) -> None:
        def stop(signum, frame):
            log.info("stopping after the action in flight (signal %d)", signum)
            self.request_stop()

        signal.signal(signal.SIGTERM, stop)
        signal.signal(signal.SIGINT, stop)
        signal.signal(signal.SIGHUP, lambda signum, frame: self.request_reload())

    def run(self, max_passes: int | None = None) -> int:
        settings = self.load()
        lock = InstanceLock(settings.state_path)
        lock.acquire()
        engine = self.make_engine(settings)
        try:
            return self._loop(settings, engine, max_passes)
        finally:
            engine.close()
            lock.release()

    def _loop(self, settings: Settings, engine, max_passes: int | None) -> int:
        interval = settings.scan.interval.total_seconds()
        next_scan = self.clock.now()
        next_wake: datetime | None = None
        state_failures = 0
        engine.notifier.listen = max_passes is None  # stays to hear notification buttons
        while not self.stop.is_set():
            if self.reload.is_set():
                self.reload.clear()
                settings, engine = self._reloaded(settings, engine)
                engine.notifier.listen = max_passes is None
                interval = settings.scan.interval.total_seconds()
                next_scan = self.clock.now()
            now = self.clock.now()
            if next_scan - now > timedelta(seconds=interval * (1 + JITTER) + MAX_SLEEP):
                # the wall clock went back: the schedule was made in its future
                log.info("the clock went back by %s; scanning now", next_scan - now)
                next_scan = now
                engine.rebase(now)
            if now >= next_scan or (next_wake is not None and now >= next_wake):
                self.passes += 1
                try:
                    report = engine.run_pass(now, apply=True, should_stop=self.stop.is_set)
                except StateError as exc:
                    # locked by another program, disk full ...: every effect's
                    # intent is stored before it happens, so the next pass
                    # picks up where this one stopped
                    state_failures += 1
                    delay = min(STATE_RETRY_MAX, STATE_RETRY * 2 ** min(state_failures - 1, 10))
                    log.error("%s; next try in %.0f seconds", exc, delay)
                    next_scan, next_wake = now + timedelta(seconds=delay), None
                else:
                    state_failures = 0
                    written = sum(1 for a in report.applied.done if a.op != Op.RECORD)
                    log.info("pass at %s: %d interviews, %d changes, %d accounts with problems",
                             now.isoformat(timespec="seconds"), len(report.interviews), written,
                             len(report.account_errors))
                    next_scan = now + timedelta(seconds=interval * (1 + random.uniform(0, JITTER)))
                    next_wake = min((t for t in (report.plan.next_wake, engine.next_retry()) if t),
                                    default=None)
                    try:
                        engine.state.set_meta("next_wake", min(filter(None, (next_wake, next_scan))).isoformat())
                    except StateError as exc:
                        log.error("%s", exc)
                if max_passes is not None and self.passes >= max_passes:
                    break
            targets = [next_scan] + ([next_wake] if next_wake else [])
            seconds = (min(targets) - self.clock.now()).total_seconds()
            self._wake.clear()  # before the flags are read, so no signal is missed
            if not self.stop.is_set() and not self.reload.is_set():
                self.clock.wait(min(MAX_SLEEP, max(0.5, seconds)), self._wake)
        return 0

    def _reloaded(self, settings: Settings, engine):
        try:
            fresh = self.load()
        except ConfigError as exc:
            for line in exc.problems:
                log.error("config not reloaded: %s", line)
            return settings, engine
        if fresh.state_path != settings.state_path:
            log.error("config not reloaded: [state] path cannot change while running")
            return settings, engine
        engine.close()
        log.info("config reloaded")
        return fresh, self.make_engine(fresh)

