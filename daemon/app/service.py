"""``followup service``: the systemd user unit and the launchd agent.

Both files are rendered from the config in use: the unit's
``ReadWritePaths=`` lists exactly the folders the daemon writes (its state
and the local calendars and Maildirs), everything else stays read-only.
``systemd/`` in the source tree holds the two units as rendered with the
default paths; a test keeps them equal to what this module writes.
"""

from __future__ import annotations

import plistlib
import shutil
import subprocess
import sys
from collections.abc import Iterable
from pathlib import Path

from daemon.errors import ConfigError
from daemon.settings import Settings

UNIT_NAME = "followup.service"
AGENT_LABEL = "org.interview-followup.followup"

# Namespacing settings work in a user unit only together with PrivateUsers=,
# which some distributions forbid to unprivileged users (then the unit fails
# to start with status 218/CAPABILITIES): use the seccomp-only variant there.
NAMESPACED = """\
PrivateUsers=yes
PrivateTmp=yes
PrivateDevices=yes
PrivateIPC=yes
PrivateMounts=yes
ProtectSystem=strict
# read-only, not "yes": the keyring's D-Bus socket lives under the home folder
ProtectHome=read-only
ProtectKernelTunables=yes
ProtectKernelModules=yes
ProtectKernelLogs=yes
ProtectControlGroups=yes
ProtectClock=yes
ProtectHostname=yes
ProtectProc=invisible
ProcSubset=pid
RestrictNamespaces=yes
KeyringMode=private
RemoveIPC=yes
"""

UNIT = """\
# followup user service{variant}. Installed by 'followup service install'.
[Unit]
Description=followup: prepares job interview follow-ups (drafts, calendar events)
After=default.target

[Service]
Type=simple
ExecStart={exec_start}
Restart=on-failure
RestartSec=30
TimeoutStopSec=15
UMask=0077
NoNewPrivileges=yes
CapabilityBoundingSet=
AmbientCapabilities=
SystemCallFilter=@system-service
SystemCallFilter=~@privileged @resources
SystemCallErrorNumber=EPERM
SystemCallArchitectures=native
RestrictAddressFamilies=AF_UNIX AF_INET AF_INET6
LockPersonality=yes
RestrictRealtime=yes
RestrictSUIDSGID=yes
{namespaced}
[Install]
WantedBy=default.target
"""


def _quote_word(arg: str, specifiers: bool = False) -> str:
    """Quote one word for systemd: spaces, quotes, ``$``, and ``%`` unless
    the word is meant to use specifiers such as ``%h``."""
    escaped = arg.replace("\\", "\\\\").replace('"', '\\"').replace("$", "$$")
    if not specifiers:
        escaped = escaped.replace("%", "%%")
    return f'"{escaped}"' if any(c.isspace() for c in arg) or escaped != arg else arg


def render_unit(executable: str, config: str, write_paths: Iterable[str], seccomp_only: bool = False,
                specifiers: bool = False) -> str:
    """The user unit running ``executable --config config run``. With
    ``specifiers`` the paths may use systemd's ``%h`` (the shipped files)."""
    def _quote(arg: str) -> str:
        return _quote_word(arg, specifiers)

    exec_start = " ".join(_quote(a) for a in (executable, "--config", config, "run"))
    if seccomp_only:
        namespaced = ""
    else:
        paths = " ".join(_quote(p) for p in sorted(set(write_paths)))
        namespaced = NAMESPACED + (f"ReadWritePaths={paths}\n" if paths else "")
    return UNIT.format(variant=" (seccomp-only variant)" if seccomp_only else "",
                       exec_start=exec_start, namespaced=namespaced)


def render_plist(executable: str, config: str, log_dir: str) -> bytes:
    """The launchd agent: started at login, restarted when it stops."""
    return plistlib.dumps({
        "Label": AGENT_LABEL,
        "ProgramArguments": [executable, "--config", config, "run"],
        "RunAtLoad": True,
        "KeepAlive": {"SuccessfulExit": False},
        "ThrottleInterval": 30,
        "ProcessType": "Background",
        "StandardOutPath": f"{log_dir}/followup.log",
        "StandardErrorPath": f"{log_dir}/followup.log",
        "Umask": 0o077,
    })


def write_paths(settings: Settings) -> list[str]:
    """Folders the daemon writes: its state, local follow-up folders, Drafts."""
    base = settings.source.parent if settings.source else Path.cwd()

    def folder(value: str) -> str:
        path = Path(value).expanduser()
        return str(path if path.is_absolute() else base / path)

    paths = [str(settings.state_path.parent)]
    for cal in settings.calendars:
        if cal.type == "local":
            target = cal.options.get("write_to") or cal.options.get("path")
            paths.append(folder(target))
    for box in settings.mailboxes:
        if box.type == "maildir":
            paths.append(folder(box.options["drafts"]))
    return paths


def executable() -> str:
    found = shutil.which("followup")
    if found:
        return str(Path(found).resolve())
    return str(Path(sys.executable).resolve().parent / "followup")


def _unit_path() -> Path:
    return Path.home() / ".config" / "systemd" / "user" / UNIT_NAME


def _plist_path() -> Path:
    return Path.home() / "Library" / "LaunchAgents" / f"{AGENT_LABEL}.plist"


def _run(argv: list[str]) -> str:
    try:
        done = subprocess.run(argv, capture_output=True, text=True, timeout=60)
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise ConfigError(f"{argv[0]}: {exc}") from None
    if done.returncode != 0:
        raise ConfigError(f"{' '.join(argv)} failed: {done.stderr.strip() or done.stdout.strip()}")
    return done.stdout


def install(settings: Settings, seccomp_only: bool = False) -> str:
    config = str(settings.source.resolve()) if settings.source else ""
    if sys.platform == "darwin":
        path = _plist_path()
        log_dir = Path.home() / "Library" / "Logs" / "followup"
        log_dir.mkdir(parents=True, exist_ok=True)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(render_plist(executable(), config, str(log_dir)))
        _run(["launchctl", "load", "-w", str(path)])
        return f"launchd agent written to {path} and loaded; logs in {log_dir}"
    path = _unit_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    for p in write_paths(settings):
        Path(p).mkdir(parents=True, exist_ok=True, mode=0o700)
    path.write_text(render_unit(executable(), config, write_paths(settings), seccomp_only))
    _run(["systemctl", "--user", "daemon-reload"])
    _run(["systemctl", "--user", "enable", "--now", UNIT_NAME])
    return (f"user unit written to {path}, enabled and started; "
            f"logs: journalctl --user -u {UNIT_NAME}")


def uninstall() -> str:
    if sys.platform == "darwin":
        path = _plist_path()
        if path.exists():
            _run(["launchctl", "unload", "-w", str(path)])
            path.unlink()
        return f"launchd agent {path} removed"
    path = _unit_path()
    if path.exists():
        _run(["systemctl", "--user", "disable", "--now", UNIT_NAME])
        path.unlink()
        _run(["systemctl", "--user", "daemon-reload"])
    return f"user unit {path} removed"


def status() -> str:
    if sys.platform == "darwin":
        return _run(["launchctl", "list", AGENT_LABEL])
    try:
        return _run(["systemctl", "--user", "status", "--no-pager", UNIT_NAME])
    except ConfigError as exc:
        return str(exc)


def shipped_units() -> dict[str, str]:
    """The files in ``systemd/``: the units with systemd's home specifier."""
    exe, config = "%h/.local/bin/followup", "%h/.config/followup/config.toml"
    return {
        "followup.service": render_unit(exe, config, ["%h/.local/state/followup"], specifiers=True),
        "followup-seccomp.service": render_unit(exe, config, [], seccomp_only=True, specifiers=True),
    }
