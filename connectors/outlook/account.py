"""What the Outlook calendar and mailbox share: config keys, sign-in and
the HTTP client, and helpers for the daemon's private property."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable
from datetime import datetime, timezone
from typing import Any

from daemon.connector import Option
from daemon.errors import AuthError
from daemon.options import pattern, text

from .auth import TENANT, MsalTokens, tokens_for
from .graph import DEFAULT_BASE_URL, GraphClient, odata_string

# The daemon's key on its own events and drafts: a named single-value
# extended property. Id format "{type} {guid} Name {name}" as documented in
# the Outlook extended properties overview
# (https://learn.microsoft.com/graph/api/resources/extended-properties-overview).
KEY_PROPERTY = "String {66f5a359-4659-4830-9070-00047ec6ac6e} Name FollowupKey"
# the same value on every item, so "all of ours" is a documented filter
MARKER_PROPERTY = "String {66f5a359-4659-4830-9070-00047ec6ac6e} Name FollowupOwn"
MARKER_VALUE = "1"

# Prefer headers (https://learn.microsoft.com/graph/api/event-delta and
# https://learn.microsoft.com/graph/outlook-immutable-id): times in UTC,
# ids that survive moves between folders, bodies as plain text.
PREFER = ('outlook.timezone="UTC"', 'IdType="ImmutableId"', 'outlook.body-content-type="text"')

OPTIONS: dict[str, Option] = {
    "client_id": Option(str, required=True, help=(
        "Application (client) id of the app registration used to sign in "
        "(a public client with device code flow enabled)."), check=text()),
    "tenant": Option(str, default="common", help=(
        "common, consumers (personal accounts), organizations, or a tenant id or domain."),
        check=pattern(TENANT, "common, consumers, organizations, a tenant id or a domain")),
    "account": Option(str, default=None, help=(
        "Name the sign-in is stored under; give a calendar and a mailbox of the "
        "same Microsoft account the same value to sign in once. Default: this entry's name.")),
    "token_file": Option(str, default=None, help=(
        "Keep the sign-in in this file instead of the keyring (for machines "
        "without one). It must be mode 0600 in a 0700 folder.")),
    "graph_url": Option(str, default=DEFAULT_BASE_URL, help=(
        "Microsoft Graph endpoint; change only for national clouds.")),
}


class GraphAccount:
    """Mixin: builds the token source and ``GraphClient`` from the config.

    Tests pass ``token`` (a callable returning an access token),
    ``session`` and ``sleep`` to the connector's constructor.
    """

    def _setup_graph(self, token: Callable[[], str] | None, session: Any,
                     sleep: Callable[[float], None] | None, prefer: tuple[str, ...]) -> None:
        self.account = self.config.get("account") or self.name
        self._tokens: MsalTokens | None = token if isinstance(token, MsalTokens) else None
        if token is None:
            self._tokens = tokens_for(self.name, self.config, self.context.base_dir)
            token = self._tokens
        kwargs: dict[str, Any] = {"session": session, "prefer": prefer, "name": self.account}
        if sleep is not None:
            kwargs["sleep"] = sleep
        base = self.config.get("graph_url") or DEFAULT_BASE_URL
        self.graph = GraphClient(base, token, f"{base}|{self.account}", **kwargs)

    def require_scopes(self) -> None:
        """``followup check``: the sign-in must carry both permissions (an
        administrator may have granted only one)."""
        missing = self._tokens.missing_scopes() if self._tokens is not None else []
        if missing:
            raise AuthError(f"{self.name}: the Microsoft sign-in lacks {', '.join(missing)}; "
                            "add it to the app registration's API permissions (or ask your "
                            f"administrator), then run followup auth {self.name}")

    def authorize(self) -> str:
        """``followup auth NAME``: device-code sign-in, then a check."""
        tokens = self._tokens or tokens_for(self.name, self.config, self.context.base_dir)
        user = tokens.device_login()
        summary = self.check()
        return f"{self.name}: signed in as {user}, stored in {tokens.store.where()} ({summary})"

    def close(self) -> None:
        self.graph.close()


def transaction_id(key: str) -> str:
    """The ``transactionId`` of the follow-up with ``key``: derived from it,
    so a retried create is recognised by Graph too, and in a fixed
    alphabet whatever the key holds."""
    return "followup-" + hashlib.sha256(key.encode("utf-8")).hexdigest()[:40]


def key_filter(key: str | None = None) -> str:
    """``$filter`` for items carrying the key property with ``key``, or
    (``key`` None) carrying the marker property written beside it.

    Only the documented form: ``singleValueExtendedProperties/Any(ep: ep/id
    eq '...' and ep/value eq '...')``
    (https://learn.microsoft.com/graph/api/singlevaluelegacyextendedproperty-get);
    an id clause alone is not documented. The value comparison is
    case-insensitive at Graph: callers compare the value they get back
    exactly.
    """
    prop, value = (KEY_PROPERTY, key) if key is not None else (MARKER_PROPERTY, MARKER_VALUE)
    return (f"singleValueExtendedProperties/Any(ep: ep/id eq {odata_string(prop)} "
            f"and ep/value eq {odata_string(value)})")


def own_properties(key: str) -> list[dict[str, str]]:
    """The extended properties every item written by the daemon carries."""
    return [{"id": KEY_PROPERTY, "value": key}, {"id": MARKER_PROPERTY, "value": MARKER_VALUE}]


KEY_EXPAND = f"singleValueExtendedProperties($filter=id eq {odata_string(KEY_PROPERTY)})"


def key_of(item: dict) -> str | None:
    """The key property's value on an item read with ``KEY_EXPAND``."""
    for prop in item.get("singleValueExtendedProperties") or []:
        if isinstance(prop, dict) and str(prop.get("id", "")).lower() == KEY_PROPERTY.lower():
            value = prop.get("value")
            return value if isinstance(value, str) else None
    return None


_FRACTION = re.compile(r"\.(\d+)")


def parse_instant(value: str) -> datetime:
    """An ISO 8601 instant as Graph writes it (``Z`` or an offset, up to 7
    fraction digits) as an aware datetime; naive values are UTC."""
    text = value.strip().replace("Z", "+00:00").replace("z", "+00:00")
    text = _FRACTION.sub(lambda m: "." + m.group(1)[:6].ljust(6, "0"), text, count=1)
    parsed = datetime.fromisoformat(text)
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=timezone.utc)


def utc_text(moment: datetime) -> str:
    """``2030-03-18T09:00:00Z``: an aware datetime in UTC for $filter."""
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
