"""The long-running loop on a fake clock, and the real process's signals."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from daemon.app import config
from daemon.app.engine import Engine
from daemon.app.runner import MAX_SLEEP, InstanceLock, Runner
from daemon.errors import FollowupError

from .world import ME, FakeClock, ics_event

NY = ZoneInfo("America/New_York")
START = datetime(2026, 11, 16, 14, 0, tzinfo=NY)


def make_runner(world, start, until):
    stop = threading.Event()
    clock = FakeClock(start, until, stop)
    passes: list[datetime] = []

    def make_engine(settings):
        engine = Engine(settings)
        real = engine.run_pass

        def counted(now, apply, should_stop=lambda: False):
            passes.append(now)
            return real(now, apply, should_stop)

        engine.run_pass = counted
        return engine

    runner = Runner(load=lambda: config.load(world.config), make_engine=make_engine, clock=clock, stop=stop)
    return runner, clock, passes


def acme(world):
    world.add("acme", ics_event("acme@x", "Phone Screen - Acme Corp", START, organizer=("Jane", "jane@acme.example"),
                                attendees=[("Jane", "jane@acme.example", "ACCEPTED"), ("Me", ME, "ACCEPTED")]))


def test_drafts_appear_within_seconds_of_their_due_time(world):
    acme(world)
    runner, clock, passes = make_runner(world, START - timedelta(hours=1), START + timedelta(hours=3))
    runner.run()
    due = START + timedelta(hours=2)  # interview end + 1 h
    assert any(due <= p <= due + timedelta(seconds=1) for p in passes), passes
    end = START + timedelta(hours=1)
    assert any(end <= p <= end + timedelta(seconds=1) for p in passes)
    assert len(world.drafts_list()) == 1 and len(world.own_events()) == 1
    assert max(clock.waits) <= MAX_SLEEP


def test_scans_every_interval_with_jitter(world):
    runner, clock, passes = make_runner(world, START, START + timedelta(hours=1))
    runner.run()
    gaps = [(b - a).total_seconds() for a, b in zip(passes, passes[1:])]
    assert gaps and all(300 <= g <= 330 + MAX_SLEEP for g in gaps)


@pytest.mark.slow
def test_after_a_suspend_everything_due_meanwhile_runs_once(world):
    acme(world)
    runner, clock, passes = make_runner(world, START - timedelta(hours=1), START + timedelta(days=6))
    # the laptop sleeps from 30 minutes before the interview for two days
    clock.jumps[START - timedelta(minutes=30)] = timedelta(days=2)
    runner.run()
    after = [p for p in passes if p > START]
    assert after and after[0] < START + timedelta(days=2, minutes=2)
    assert len(world.own_events()) == 1  # the call event, written once
    assert len(world.drafts_list()) == 1  # the thank-you is still inside its 3 days


@pytest.mark.parametrize("back", [timedelta(hours=1), timedelta(days=1)])
def test_when_the_clock_goes_back_the_next_scan_still_comes_on_time(world, back):
    """Regression: an hour back made the next scan 64 minutes late, a day back none for a day."""
    runner, clock, passes = make_runner(world, START, START + timedelta(hours=2))
    clock.jumps[START + timedelta(minutes=1)] = -back
    runner.run(max_passes=3)
    gaps = [(b - a).total_seconds() for a, b in zip(passes, passes[1:])]
    assert len(passes) == 3 and passes[1] < passes[0]  # the second pass is in the new past
    assert all(g <= 330 + MAX_SLEEP for g in gaps[1:])
    assert clock.t - (START - back) < timedelta(minutes=15)


def test_a_state_database_locked_by_another_program_is_waited_out(world, monkeypatch, caplog):
    """Regression: the daemon exited with a traceback when another process
    held the state database for more than a few seconds."""
    import sqlite3

    from daemon.store import state

    monkeypatch.setattr(state, "BUSY_TIMEOUT_MS", 50)
    acme(world)
    runner, clock, passes = make_runner(world, START - timedelta(hours=1), START + timedelta(hours=3))
    holder = []
    real_make = runner.make_engine

    def make_engine(settings):
        engine = real_make(settings)
        counted = engine.run_pass

        def locked_sometimes(now, apply, should_stop=lambda: False):
            if len(passes) == 2:  # a backup program takes the database for a while
                other = sqlite3.connect(world.root / "state.sqlite3", isolation_level=None)
                other.execute("BEGIN EXCLUSIVE")
                holder.append(other)
            elif holder:
                holder.pop().rollback()
            return counted(now, apply, should_stop)

        engine.run_pass = locked_sometimes
        return engine

    runner.make_engine = make_engine
    assert runner.run() == 0
    assert "database is locked" in caplog.text and "next try in 30 seconds" in caplog.text
    assert len(world.drafts_list()) == 1 and len(world.own_events()) == 1


def test_a_second_instance_is_refused(world):
    settings = config.load(world.config)
    lock = InstanceLock(settings.state_path)
    lock.acquire()
    try:
        runner, _, _ = make_runner(world, START, START + timedelta(minutes=1))
        with pytest.raises(FollowupError, match="already"):
            runner.run()
        assert world.once(START) == 1
    finally:
        lock.release()


def test_a_broken_config_on_reload_keeps_the_old_one(world, caplog):
    runner, clock, passes = make_runner(world, START, START + timedelta(minutes=20))
    broken_at = START + timedelta(minutes=6)
    real_wait = clock.wait

    def wait(seconds, event):
        real_wait(seconds, event)
        if clock.t >= broken_at and not world.config.read_text().endswith("'often'\n"):
            world.config.write_text(world.config.read_text() + "\n[scan]\ninterval = 'often'\n")
            runner.request_reload()  # what SIGHUP does

    clock.wait = wait
    with caplog.at_level("ERROR", logger="followup"):
        runner.run()
    assert "config not reloaded" in caplog.text and "scan.interval" in caplog.text
    assert any(p > broken_at for p in passes)  # still running on the old config


@pytest.mark.slow
def test_sigterm_stops_the_real_process_within_ten_seconds(world):
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    proc = subprocess.Popen([sys.executable, "-m", "daemon.app.cli", "--config", str(world.config), "-v", "run"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env, text=True)
    try:
        deadline = time.monotonic() + 30
        while not (world.root / "state.sqlite3").exists() and time.monotonic() < deadline:
            time.sleep(0.1)
        time.sleep(1.0)
        # a second instance is refused with a clear message
        second = subprocess.run([sys.executable, "-m", "daemon.app.cli", "--config", str(world.config), "run"],
                                capture_output=True, text=True, env=env, timeout=30)
        assert second.returncode == 1 and "already" in second.stderr
        status = subprocess.run([sys.executable, "-m", "daemon.app.cli", "--config", str(world.config), "status"],
                                capture_output=True, text=True, env=env, timeout=30)
        assert "followup run is running; next wake-up" in status.stdout
        started = time.monotonic()
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=10) == 0
        assert time.monotonic() - started < 10
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    err = proc.stderr.read()
    assert "Traceback" not in err
