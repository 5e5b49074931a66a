"""Start-up of the ``followup`` command against ``python -c pass``, and the
heavy modules a command loads.

``followup --help`` and ``followup status`` (on a local configuration with
a state database) run as subprocesses, interleaved with ``python -c pass``
of the same interpreter, several times each; the medians are compared.
A child process also reports which connector SDKs and parsers are loaded
after ``import daemon.app.cli`` and after each command.

The commands may write their bytecode cache (into a temporary
``PYTHONPYCACHEPREFIX``, never into the tree), as an installed program
does; a first untimed run of each fills it.
"""

from __future__ import annotations

import sys
import tempfile
from datetime import timedelta
from pathlib import Path

from .ics import interview
from .measure import ChildFailed, child_env, followup_command, median, run_child, wall
from .polls import INTERVIEW, T3
from .rows import Row, missing
from .world import config, local_accounts, settings, write_toml

RATIO_GOAL = 4.0
SDKS = ("googleapiclient", "google.auth", "google_auth_oauthlib", "google_auth_httplib2",
        "httplib2", "msal", "caldav", "imapclient", "requests", "keyring", "lxml")


def _world(root: Path) -> Path:
    """A local configuration whose state database holds a pass's records."""
    from daemon.app.engine import Engine

    calendar, mailbox = local_accounts(root)
    (root / "calendar" / "iv.ics").write_bytes(interview("iv@bench", "Acme", INTERVIEW))
    data = config(root / "state.sqlite3", [calendar], [mailbox])
    engine = Engine(settings(data, root))
    try:
        engine.run_pass(T3 + timedelta(minutes=1), apply=True)
    finally:
        engine.close()
    return write_toml(data, root / "config.toml")


def _all_types(root: Path) -> Path:
    """A configuration naming every connector type (never reached: ``status``
    and ``--help`` do not connect)."""
    calendar, mailbox = local_accounts(root)
    client = "00000000-0000-0000-0000-000000000000"
    data = config(root / "state.sqlite3", [
        calendar,
        {"name": "work", "type": "caldav", "url": "https://dav.example.org/", "username": "alex",
         "calendar": "Personal"},
        {"name": "google", "type": "google"},
        {"name": "outlook", "type": "outlook", "client_id": client},
    ], [
        mailbox,
        {"name": "imap", "type": "imap", "host": "imap.example.org", "username": "alex"},
        {"name": "gmail", "type": "gmail"},
        {"name": "outlook-mail", "type": "outlook", "client_id": client},
    ])
    return write_toml(data, root / "config-all.toml")


def _modules_rows(command: str, argv: list[str], where: str = "") -> Row:
    name = f"heavy modules loaded by `followup {command}`{where}"
    goal = "no connector SDK"
    try:
        found = run_child("modules", {"argv": argv})
    except ChildFailed as exc:
        return missing(name, "modules", goal, str(exc))
    sdks = [m for m in found["command"] if m in SDKS]
    others = [m for m in found["command"] if m not in SDKS]
    note = (f"after `import daemon.app.cli`: {', '.join(found['import']) or 'none'}; after the "
            f"command: {', '.join(found['command']) or 'none'}")
    if others and not sdks:
        note += " (parsers and the state database, no SDK)"
    return Row(name, len(sdks), "SDK modules", goal, not sdks, note)


def run(quick: bool) -> list[Row]:
    reps = 3 if quick else 11
    followup = followup_command()
    with tempfile.TemporaryDirectory(prefix="followup-bench-") as tmp:
        cfg = _world(Path(tmp))
        commands = {
            "pass": [sys.executable, "-c", "pass"],
            "--help": [*followup, "--help"],
            "status": [*followup, "--config", str(cfg), "status"],
        }
        times: dict[str, list[float]] = {name: [] for name in commands}
        env = child_env()
        env.pop("PYTHONDONTWRITEBYTECODE", None)
        env["PYTHONPYCACHEPREFIX"] = str(Path(tmp) / "pycache")
        try:
            for name, argv in commands.items():  # fill the caches once
                wall(argv, env)
            for _ in range(reps):
                for name, argv in commands.items():
                    times[name].append(wall(argv, env))
        except Exception as exc:  # noqa: BLE001 - a command that fails gives no figure
            why = f"a command failed: {exc}"
            return [missing(f"start-up `followup {c}` vs `python -c pass`", "x", f"<= {RATIO_GOAL:g}", why)
                    for c in ("--help", "status")]
        rows = []
        base = median(times["pass"])
        for name in ("--help", "status"):
            ratio = round(median(times[name]) / base, 2)
            rows.append(Row(f"start-up `followup {name}` vs `python -c pass`", ratio, "x",
                            f"<= {RATIO_GOAL:g}", ratio <= RATIO_GOAL,
                            f"median of {reps} interleaved runs: {median(times[name]) * 1000:.0f} ms "
                            f"vs {base * 1000:.0f} ms"))
        rows.append(_modules_rows("--help", ["--help"]))
        rows.append(_modules_rows("status", ["--config", str(cfg), "status"]))
        everything = _all_types(Path(tmp))
        rows.append(_modules_rows("status", ["--config", str(everything), "status"],
                                  ", every connector type configured"))
    return rows
