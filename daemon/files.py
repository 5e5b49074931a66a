"""Reading files that anyone could have replaced with something else."""

from __future__ import annotations

import errno
import os
import stat


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
