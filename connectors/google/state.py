"""A connector's own small JSON file under ``Context.state_dir``."""

from __future__ import annotations

import json
import os
import re
import tempfile
from pathlib import Path
from typing import Any

from daemon.errors import ConnectorError


def state_path(state_dir: Path, account: str, kind: str) -> Path:
    """``google-<account>-<kind>.json`` (the account name made file-safe)."""
    safe = re.sub(r"[^A-Za-z0-9_.-]", "_", account) or "_"
    return Path(state_dir) / f"google-{safe}-{kind}.json"


def load(path: Path) -> dict[str, Any] | None:
    """The stored object, or None when the file is missing or unreadable
    (the callers then rebuild what they need from the provider)."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def save(path: Path, data: dict[str, Any]) -> None:
    """Replace the file atomically, readable by the owner only."""
    try:
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        fd, temp = tempfile.mkstemp(prefix=".tmp-", dir=path.parent)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                json.dump(data, handle, separators=(",", ":"), sort_keys=True)
            os.replace(temp, path)
        except BaseException:
            try:
                os.unlink(temp)
            except OSError:
                pass
            raise
    except OSError as exc:
        raise ConnectorError(f"cannot write {path}: {exc.strerror or exc}") from None
