"""The systemd user unit and the launchd agent, rendered and checked."""

from __future__ import annotations

import os
import plistlib
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from daemon.app import config, service

ROOT = Path(__file__).resolve().parents[2]
ANALYZE = shutil.which("systemd-analyze")


def test_shipped_units_are_what_the_installer_writes():
    for name, text in service.shipped_units().items():
        assert (ROOT / "systemd" / name).read_text() == text, f"systemd/{name} is out of date"


def test_unit_quotes_odd_paths():
    text = service.render_unit("/opt/my apps/followup", "/home/a/100% sure/config.toml", ["/home/a/x y"])
    assert 'ExecStart="/opt/my apps/followup" --config "/home/a/100%% sure/config.toml" run' in text
    assert 'ReadWritePaths="/home/a/x y"' in text


def test_write_paths_come_from_the_config(tmp_path):
    cfg = tmp_path / "config.toml"
    cfg.write_text("""
[me]
email = "me@example.org"
[state]
path = "state/s.db"
[[calendars]]
name = "c"
type = "local"
path = "cal.ics"
write_to = "followups"
[[mailboxes]]
name = "m"
type = "maildir"
drafts = "Mail/Drafts"
""")
    (tmp_path / "cal.ics").write_text("BEGIN:VCALENDAR\r\nEND:VCALENDAR\r\n")
    paths = service.write_paths(config.load(cfg))
    assert paths == [str(tmp_path / "state"), str(tmp_path / "followups"), str(tmp_path / "Mail/Drafts")]


def test_launchd_agent():
    data = plistlib.loads(service.render_plist("/usr/local/bin/followup", "/Users/a/config.toml",
                                               "/Users/a/Library/Logs/followup"))
    assert data["Label"] == service.AGENT_LABEL
    assert data["ProgramArguments"] == ["/usr/local/bin/followup", "--config", "/Users/a/config.toml", "run"]
    assert data["RunAtLoad"] is True and data["KeepAlive"] == {"SuccessfulExit": False}
    assert data["StandardErrorPath"].endswith("followup.log")


def _analyze(*args: str, unit: Path, tmp_path: Path) -> subprocess.CompletedProcess:
    runtime = tmp_path / "runtime"
    runtime.mkdir(mode=0o700, exist_ok=True)
    env = {**os.environ, "XDG_RUNTIME_DIR": str(runtime)}
    return subprocess.run([ANALYZE, *args, str(unit)], capture_output=True, text=True, env=env, timeout=60)


def _exposure(result: subprocess.CompletedProcess) -> float:
    m = re.search(r"Overall exposure level for \S+: ([\d.]+)", result.stdout + result.stderr)
    assert m, result.stdout + result.stderr
    return float(m.group(1))


@pytest.mark.skipif(ANALYZE is None, reason="systemd-analyze is not installed")
def test_units_verify_and_are_hardened(tmp_path):
    exe = shutil.which("followup") or "/usr/bin/true"
    hardened = tmp_path / "followup.service"
    hardened.write_text(service.render_unit(exe, str(tmp_path / "c.toml"), [str(tmp_path)]))
    seccomp = tmp_path / "followup-seccomp.service"
    seccomp.write_text(service.render_unit(exe, str(tmp_path / "c.toml"), [], seccomp_only=True))
    bare = tmp_path / "bare.service"
    bare.write_text(f"[Service]\nExecStart={exe} run\n")
    for unit in (hardened, seccomp):
        result = _analyze("verify", unit=unit, tmp_path=tmp_path)
        assert result.returncode == 0, result.stderr
    scores = {}
    for unit in (hardened, seccomp, bare):
        result = _analyze("--user", "security", "--offline=true", "--threshold=20", unit=unit, tmp_path=tmp_path)
        # --threshold=20: exit status 1 when the exposure is above 2.0
        assert (result.returncode == 0) == (unit == hardened), result.stdout[-300:]
        scores[unit.stem] = _exposure(result)
    assert scores["followup"] < 2.0 < scores["followup-seccomp"] < scores["bare"]
