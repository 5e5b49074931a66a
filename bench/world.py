"""Configurations for the benchmarks: as dicts for ``daemon.app.config.from_dict``
and as ``config.toml`` files for the ``followup`` command."""

from __future__ import annotations

from pathlib import Path

from .ics import COUNTRY, ME, ME_NAME, TIMEZONE


def config(state: Path, calendars: list[dict], mailboxes: list[dict], **sections) -> dict:
    """A whole configuration: ``[me]``, ``[state]``, the accounts and any
    other ``sections`` (e.g. ``scan={"interval": "5m"}``)."""
    data = {"me": {"name": ME_NAME, "email": ME, "timezone": TIMEZONE, "country": COUNTRY},
            "state": {"path": str(state)}, "calendars": calendars, "mailboxes": mailboxes}
    data.update(sections)
    return data


def local_accounts(root: Path) -> tuple[dict, dict]:
    """A ``local`` calendar at ``root/calendar`` and a ``maildir`` mailbox
    at ``root/Mail`` (Drafts and INBOX), the folders created."""
    for box in ("Drafts", "INBOX"):
        for sub in ("cur", "new", "tmp"):
            (root / "Mail" / box / sub).mkdir(parents=True, exist_ok=True)
    (root / "calendar").mkdir(parents=True, exist_ok=True)
    calendar = {"name": "personal", "type": "local", "path": str(root / "calendar"),
                "mailbox": "mail"}
    mailbox = {"name": "mail", "type": "maildir", "drafts": str(root / "Mail" / "Drafts"),
               "inbox": [str(root / "Mail" / "INBOX")]}
    return calendar, mailbox


def settings(data: dict, root: Path):
    """``Settings`` from a configuration dict (relative paths from ``root``)."""
    from daemon.app.config import from_dict

    return from_dict(data, source=root / "config.toml", base_dir=root)


def _toml_value(value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return str(value)
    if isinstance(value, str):
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
    if isinstance(value, list):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    raise TypeError(f"no TOML for {value!r}")


def write_toml(data: dict, path: Path) -> Path:
    """Write a configuration dict as TOML (tables, arrays of tables and
    plain values only)."""
    out: list[str] = []

    def table(prefix: str, values: dict) -> None:
        plain = {k: v for k, v in values.items() if not isinstance(v, dict)}
        out.append(f"[{prefix}]")
        out.extend(f"{k} = {_toml_value(v)}" for k, v in plain.items())
        out.append("")
        for k, v in values.items():
            if isinstance(v, dict):
                table(f"{prefix}.{k}", v)

    for key, value in data.items():
        if isinstance(value, dict):
            table(key, value)
        elif isinstance(value, list):
            for entry in value:
                out.append(f"[[{key}]]")
                out.extend(f"{k} = {_toml_value(v)}" for k, v in entry.items())
                out.append("")
    path.write_text("\n".join(out))
    return path
