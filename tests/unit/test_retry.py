"""The retry policy the HTTP connectors share (``daemon.retry``)."""

from __future__ import annotations

import pytest

from daemon.errors import AuthError, TransientError
from daemon.retry import Again, RetryPolicy


def flaky(failures: list[Exception], result: str = "ok"):
    calls = []

    def attempt():
        calls.append(1)
        if failures:
            raise failures.pop(0)
        return result
    return attempt, calls


def policy(sleeps, **kw):
    return RetryPolicy(sleep=sleeps.append, random=lambda: 1.0, **kw)


def test_backoff_doubles_up_to_the_cap_and_a_server_wait_is_kept():
    sleeps: list[float] = []
    attempt, calls = flaky([Again(TransientError("503")), Again(TransientError("503")),
                            Again(TransientError("429"), wait=7), Again(TransientError("503"))])
    assert policy(sleeps, attempts=5, base=1, cap=3, longest=30).run(attempt) == "ok"
    assert sleeps == [2, 3, 7, 3] and len(calls) == 5


def test_the_last_failure_is_raised_when_the_attempts_are_used_up():
    sleeps: list[float] = []
    last = TransientError("still down", retry_after=30)
    attempt, calls = flaky([Again(TransientError("down")), Again(last)])
    with pytest.raises(TransientError) as info:
        policy(sleeps, attempts=2).run(attempt)
    assert info.value is last and len(calls) == 2 and len(sleeps) == 1


def test_a_wait_longer_than_a_pass_should_take_goes_to_the_core():
    sleeps: list[float] = []
    attempt, _ = flaky([Again(TransientError("429"), wait=3600)])
    with pytest.raises(TransientError) as info:
        policy(sleeps, longest=300).run(attempt)
    assert info.value.retry_after == 3600 and sleeps == []


def test_a_failure_not_to_repeat_ends_at_once():
    sleeps: list[float] = []
    attempt, calls = flaky([AuthError("expired")])
    with pytest.raises(AuthError):
        policy(sleeps).run(attempt)
    assert len(calls) == 1 and sleeps == []
