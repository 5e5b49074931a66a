"""Connecting an ``Engine`` to test servers.

The Google and Outlook connectors take their endpoint and login from
arguments that the configuration cannot express (the real services need
none); these helpers build them from a JSON-able spec and put them in
place of the connectors the engine built from the configuration.
"""

from __future__ import annotations

from typing import Any


def swap(engine, calendars: dict[str, Any] | None = None,
         mailboxes: dict[str, Any] | None = None) -> None:
    """Replace the engine's connectors of these account names."""
    for table, new in ((engine.calendars, calendars or {}), (engine.mailboxes, mailboxes or {})):
        for name, connector in new.items():
            old = table.get(name)
            if old is not None:
                old.close()
            table[name] = connector
            engine.broken.pop(name, None)


def google_credentials(spec: dict):
    """OAuth credentials whose token endpoint is the fake's."""
    from google.oauth2.credentials import Credentials

    return Credentials(token=None, refresh_token=spec["refresh_token"], token_uri=spec["token_uri"],
                       client_id=spec["client_id"], client_secret=spec["client_secret"],
                       scopes=list(spec["scopes"]))


def build(kind: str, name: str, options: dict, context, spec: dict):
    """A connector of ``kind`` (google, gmail, outlook-calendar,
    outlook-mail) wired to the server in ``spec``."""
    if kind in ("google", "gmail"):
        from connectors.google import GmailMailbox, GoogleCalendar

        cls = GoogleCalendar if kind == "google" else GmailMailbox
        return cls(name, options, context, credentials=google_credentials(spec),
                   endpoint=spec["endpoint"])
    if kind in ("outlook-calendar", "outlook-mail"):
        from connectors.outlook import OutlookCalendar, OutlookMailbox

        cls = OutlookCalendar if kind == "outlook-calendar" else OutlookMailbox
        token = spec["token"]
        return cls(name, {**options, "graph_url": spec["graph_url"]}, context,
                   token=lambda: token)
    raise ValueError(f"unknown connector kind {kind!r}")


def wire(engine, specs: dict[str, dict]) -> None:
    """Swap in the connectors ``specs`` describes: account name ->
    ``{"kind": ..., ...}``."""
    from daemon.app.engine import connector_context

    context = connector_context(engine.settings)
    accounts = {a.name: (a, "calendar") for a in engine.settings.calendars}
    accounts.update({a.name: (a, "mailbox") for a in engine.settings.mailboxes})
    calendars, mailboxes = {}, {}
    for name, spec in specs.items():
        account, side = accounts[name]
        connector = build(spec["kind"], name, dict(account.options), context, spec)
        (calendars if side == "calendar" else mailboxes)[name] = connector
    swap(engine, calendars, mailboxes)
