"""Keyrings for the tests of stored secrets: one in memory, one that fails."""

from __future__ import annotations

import keyring
import keyring.backend
import keyring.backends.fail
import pytest


class MemoryKeyring(keyring.backend.KeyringBackend):
    """A keyring that keeps passwords in a dict and counts the writes."""

    priority = 1

    def __init__(self):
        super().__init__()
        self.items: dict = {}
        self.writes = 0

    def get_password(self, service, username):
        return self.items.get((service, username))

    def set_password(self, service, username, password):
        self.writes += 1
        self.items[(service, username)] = password

    def delete_password(self, service, username):
        self.items.pop((service, username), None)


def _installed(ring):
    before = keyring.get_keyring()
    keyring.set_keyring(ring)
    try:
        yield ring
    finally:
        keyring.set_keyring(before)


@pytest.fixture
def memory_keyring():
    """The system keyring replaced by a ``MemoryKeyring`` for the test."""
    yield from _installed(MemoryKeyring())


@pytest.fixture
def failing_keyring():
    """No usable keyring, as on a headless machine without a secret service."""
    yield from _installed(keyring.backends.fail.Keyring())
