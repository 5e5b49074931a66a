"""Durable file writing shared by the local calendar and the Maildir."""

from __future__ import annotations

import errno
import hashlib
import os
import stat
from pathlib import Path


def etag(data: bytes) -> str:
    """A local item's etag: the hash of its bytes, so any edit changes it."""
    return hashlib.sha256(data).hexdigest()


def open_regular(path) -> int:
    """A descriptor for reading ``path``, which must be a regular file. The
    open never blocks: a FIFO put in a file's place between listing and
    reading would otherwise wait for a writer forever, and a device would
    never end; both are refused with an ``OSError``."""
    fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise OSError(errno.EINVAL, "it is not a regular file (a pipe or device is in its place)")
    except BaseException:
        os.close(fd)
        raise
    return fd


def read_regular(path) -> bytes:
    """The bytes of the regular file ``path`` (see ``open_regular``)."""
    with os.fdopen(open_regular(path), "rb") as handle:
        return handle.read()


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
