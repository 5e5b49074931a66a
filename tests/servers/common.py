"""Helpers shared by the tests that start a real server on a loopback port."""

from __future__ import annotations

import os
import socket

import pytest


def free_port() -> int:
    """A TCP port on 127.0.0.1 that is free right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def require_or_skip(name: str, hint: str) -> None:
    """A server the tests need is not available: fail in CI (``CI=true``),
    where every server must run, and skip with a one-line ``hint`` elsewhere."""
    if os.environ.get("CI") == "true":
        pytest.fail(f"{name} is required in CI: {hint}", pytrace=False)
    pytest.skip(f"{name} not available: {hint}")
