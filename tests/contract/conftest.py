"""Fixtures ``calendar_harness`` and ``mailbox_harness``: one test per
harness in ``registry.HARNESSES``, each on a fresh backend."""

from __future__ import annotations

import pytest

from .harness import CalendarHarness, Harness, MailboxHarness
from .registry import HARNESSES


def _params(base: type[Harness]) -> list:
    return [pytest.param(cls, id=cls.name) for cls in HARNESSES if issubclass(cls, base)]


def _open(cls: type[Harness], tmp_path):
    cls.require()
    harness = cls(tmp_path)
    try:
        yield harness
    finally:
        harness.close()


@pytest.fixture(params=_params(CalendarHarness))
def calendar_harness(request, tmp_path):
    """A ``CalendarHarness`` on an empty calendar."""
    yield from _open(request.param, tmp_path)


@pytest.fixture(params=_params(MailboxHarness))
def mailbox_harness(request, tmp_path):
    """A ``MailboxHarness`` on a mailbox with some unrelated mail in it."""
    yield from _open(request.param, tmp_path)
