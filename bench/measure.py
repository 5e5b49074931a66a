"""Small measuring tools: medians, child processes, resident memory."""

from __future__ import annotations

import json
import os
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

#: the repository root (the parent of ``bench/``)
ROOT = Path(__file__).resolve().parent.parent


def median(values) -> float:
    return float(statistics.median(values))


def _status_mb(field: str) -> float | None:
    """A memory line of ``/proc/self/status`` in MB (None where there is none)."""
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith(field + ":"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return None


def rss_mb() -> float:
    """This process's resident set size now, in MB (``VmRSS``)."""
    now = _status_mb("VmRSS")
    return peak_rss_mb() if now is None else now  # not Linux: the peak is the best there is


def peak_rss_mb() -> float:
    """This process's peak resident set size so far, in MB. On Linux the
    high-water mark of its own memory (``VmHWM``): ``ru_maxrss`` survives
    ``exec`` and so starts a child at its parent's size."""
    hwm = _status_mb("VmHWM")
    if hwm is not None:
        return hwm
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / (1024 * 1024) if sys.platform == "darwin" else peak / 1024


def child_env() -> dict[str, str]:
    """The environment for child processes: the repository importable."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(ROOT), env.get("PYTHONPATH", "")) if p)
    env.pop("PYTHONSTARTUP", None)
    return env


class ChildFailed(RuntimeError):
    """A child process exited with an error; the message ends with its stderr."""


def run_child(task: str, args: dict, timeout: float = 600) -> dict:
    """Run ``python -m bench.child TASK`` with ``args`` as JSON on stdin and
    return the JSON object it prints last."""
    done = subprocess.run([sys.executable, "-m", "bench.child", task], input=json.dumps(args),
                          capture_output=True, text=True, cwd=ROOT, env=child_env(),
                          timeout=timeout, check=False)
    lines = done.stdout.strip().splitlines()
    if done.returncode != 0 or not lines:
        tail = " | ".join(done.stderr.strip().splitlines()[-3:])
        raise ChildFailed(f"bench.child {task} exited {done.returncode}: {tail[-400:]}")
    return json.loads(lines[-1])


def wall(argv: list[str], env: dict[str, str] | None = None) -> float:
    """Seconds one run of ``argv`` takes, output discarded; raises on failure."""
    start = time.perf_counter()
    subprocess.run(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True,
                   cwd=ROOT, env=env or child_env(), timeout=120)
    return time.perf_counter() - start


def followup_command() -> list[str]:
    """How to start the ``followup`` command of this environment."""
    script = Path(sys.executable).parent / "followup"
    if script.exists():
        return [str(script)]
    return [sys.executable, "-m", "daemon.app.cli"]
