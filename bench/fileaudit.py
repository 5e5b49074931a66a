"""Counting what the local connectors do on disk, with an audit hook.

``watch(folder)`` returns a ``Counter`` that from then on counts every
``open`` (files read or written) and every directory listing
(``os.scandir``, ``os.listdir``) below ``folder`` in this process. The hook
stays installed (audit hooks cannot be removed) but costs nothing once no
folder is watched.
"""

from __future__ import annotations

import os
import sys
from collections import Counter

_watched: list[tuple[str, Counter]] = []
_installed = False
_EVENTS = {"open": "open", "os.scandir": "listing", "os.listdir": "listing"}


def _hook(event: str, args: tuple) -> None:
    if not _watched or event not in _EVENTS or not args:
        return
    path = args[0]
    if isinstance(path, int) or path is None:
        return
    try:
        text = os.fsdecode(os.fspath(path))
    except TypeError:
        return
    for prefix, counter in _watched:
        if text == prefix or text.startswith(prefix + os.sep):
            counter[_EVENTS[event]] += 1


def watch(folder) -> Counter:
    """A counter of opens and listings below ``folder`` (absolute)."""
    global _installed
    if not _installed:
        sys.addaudithook(_hook)
        _installed = True
    counter: Counter = Counter()
    _watched.append((os.path.abspath(os.fspath(folder)), counter))
    return counter


def unwatch(counter: Counter) -> None:
    """Stop counting for ``counter``."""
    _watched[:] = [(p, c) for p, c in _watched if c is not counter]
