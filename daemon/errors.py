"""Errors, typed by what the core does next.

Connectors translate every provider failure into one of these, so the core
never has to know a provider's status codes:

- ``TransientError``: try again later (after ``retry_after`` seconds if given;
  ``daemon.retry`` is the policy the HTTP connectors share).
- ``AuthError``: stop this account, keep the others running, tell the user.
- ``SyncTokenExpired``: forget the stored sync token and rescan in full.
- ``ConfigError``: refuse to start; ``problems`` lists every problem found.
- ``Conflict``: the item changed since the daemon last saw it (the user
  edited it); leave it alone.
- ``ConnectorError``: anything else a connector cannot do; reported, the
  account's other work goes on.
- ``NotFound``: the item asked for does not exist; ``Ambiguous``: a write
  got no answer, so whether it happened is unknown (a ``TransientError``;
  the connector looks its key up before writing again).
- ``Unsupported``: the provider cannot do this at all (an IMAP server
  without UIDPLUS cannot remove one draft alone): the core records a final
  state that says what is left for the user, and never asks again.
- ``StateError``: the state database cannot be used just now (locked, full,
  read-only, damaged): ``run`` keeps going and tries again, the one-shot
  commands stop with the message.
"""

from __future__ import annotations


class FollowupError(Exception):
    """Base of every error the core knows how to handle."""


class ConnectorError(FollowupError):
    """A connector failed in a way that retrying will not fix by itself."""


class TransientError(ConnectorError):
    """Temporary failure (network, 429, 5xx). Retry later."""

    def __init__(self, message: str, retry_after: float | None = None):
        super().__init__(message)
        self.retry_after = retry_after


class AuthError(ConnectorError):
    """The account's credentials are missing, wrong, expired or revoked."""


class SyncTokenExpired(ConnectorError):
    """The provider no longer accepts the stored sync token: rescan in full."""


class Conflict(ConnectorError):
    """The item's etag changed: somebody else (the user) edited it."""


class NotFound(ConnectorError):
    """The item asked for does not exist at the provider (HTTP 404)."""


class Ambiguous(TransientError):
    """A write may or may not have been applied (no answer came back):
    look the key up at the provider before writing again."""


class Unsupported(ConnectorError):
    """The provider cannot do what was asked, now or later; the message
    says what is left for the user to do."""


class StateError(FollowupError):
    """The state database failed; the message names it and what to do."""


class ConfigError(FollowupError):
    """The configuration is unusable. ``problems`` holds one line per problem,
    each naming the file and key it is about."""

    def __init__(self, problems: list[str] | str):
        if isinstance(problems, str):
            problems = [problems]
        self.problems = list(problems)
        super().__init__("\n".join(self.problems))
