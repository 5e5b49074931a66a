"""Durable file writing shared by the local calendar and the Maildir."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path


def etag(data: bytes) -> str:
    """A local item's etag: the hash of its bytes, so any edit changes it."""
    return hashlib.sha256(data).hexdigest()


def write_and_sync(fd: int, data: bytes) -> None:
    """Write ``data`` to the open descriptor ``fd``, fsync and close it."""
    with os.fdopen(fd, "wb") as out:
        out.write(data)
        out.flush()
        os.fsync(out.fileno())


def sync_folder(folder: Path) -> None:
    """Make a new, replaced or removed name in ``folder`` durable."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass  # not every file system can sync a directory
    finally:
        os.close(fd)
