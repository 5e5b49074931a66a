"""Passwords from the keyring or a command, and what the user is told."""

import sys

import pytest

from daemon import secrets
from daemon.errors import AuthError


@pytest.fixture
def memory(memory_keyring):
    return memory_keyring


@pytest.fixture
def no_keyring(failing_keyring):
    return failing_keyring


def test_stored_password_round_trip(memory):
    secrets.store("work mail", "s3cret")
    assert secrets.get("work mail") == "s3cret"
    assert memory.items == {(secrets.SERVICE, "work mail"): "s3cret"}


def test_missing_password_says_how_to_add_one(memory):
    with pytest.raises(AuthError, match="followup auth work mail"):
        secrets.get("work mail")


def test_no_keyring_names_password_command(no_keyring):
    with pytest.raises(AuthError, match="password_command"):
        secrets.get("work mail")
    with pytest.raises(AuthError, match="password_command"):
        secrets.store("work mail", "x")


def test_password_command_first_line_without_a_shell(tmp_path):
    script = tmp_path / "pw.py"
    script.write_text("print('first line; $HOME')\nprint('second')\n")
    assert secrets.get("a", f"{sys.executable} {script}") == "first line; $HOME"


@pytest.mark.parametrize("command, message", [
    ("", "empty"), ("'unclosed", "cannot be split"), ("/nonexistent/pass show x", "could not run"),
    (f"{sys.executable} -c 'import sys; sys.exit(3)'", "exit code 3"),
    (f"{sys.executable} -c pass", "printed nothing"),
])
def test_password_command_failures_are_auth_errors(command, message):
    with pytest.raises(AuthError, match=message):
        secrets.from_command(command, "a")


def test_the_password_never_appears_in_messages(tmp_path):
    script = tmp_path / "pw.py"
    script.write_text("import sys\nprint('hunter2')\nsys.exit(1)\n")
    with pytest.raises(AuthError) as info:
        secrets.from_command(f"{sys.executable} {script}", "a")
    assert "hunter2" not in str(info.value)


def test_retry_after_in_seconds_or_as_a_date():
    from datetime import datetime, timedelta, timezone
    from email.utils import format_datetime

    from daemon.retry import retry_after_seconds

    assert retry_after_seconds("120") == 120.0
    assert retry_after_seconds(" 0 ") == 0.0
    assert retry_after_seconds(None) is None and retry_after_seconds("soon") is None
    later = format_datetime(datetime.now(timezone.utc) + timedelta(minutes=2), usegmt=True)
    assert 100 < retry_after_seconds(later) <= 120
    assert retry_after_seconds("Mon, 01 Jan 2001 00:00:00 GMT") == 0.0
