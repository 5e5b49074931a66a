"""``type = "outlook"`` mailboxes: drafts and replies through Microsoft Graph.

Drafts are created with ``POST /me/messages``, which puts them into the
Drafts folder (https://learn.microsoft.com/graph/api/user-post-messages),
from the ``Draft`` fields: subject, recipients, the text body. Each
carries the key twice: as the custom internet header ``x-followup-key``
(Graph accepts only names starting with ``x-``, and at most 5 custom
headers; https://learn.microsoft.com/graph/api/resources/message) and as a
single-value extended property, which is what lookups filter on. The
draft's Message-ID is set through ``internetMessageId``.

Nothing is ever sent: no request here submits mail.

Replies are found with ``GET /me/messages`` filtered on
``receivedDateTime`` and ``from/emailAddress/address``, selecting only
envelope fields and ``internetMessageHeaders`` (never bodies). With
company domains to match, one bounded listing since ``since`` is filtered
here instead, since Graph cannot filter on the end of an address.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from datetime import datetime, timezone
from typing import Any

from daemon.connector import Context, Mailbox, Option
from daemon.errors import ConfigError, Conflict
from daemon.headers import auto_reply, domain_matches
from daemon.model import Draft, Reply, StoredItem

from .account import (
    KEY_EXPAND,
    KEY_PROPERTY,
    OPTIONS,
    PREFER,
    GraphAccount,
    key_filter,
    key_of,
    parse_instant,
    utc_text,
)
from .graph import NotFound, create_once, etag_header, odata_string

log = logging.getLogger(__name__)

KEY_HEADER = "x-followup-key"
DRAFT_SELECT = "id,changeKey,isDraft,internetMessageId,parentFolderId"
REPLY_SELECT = "id,subject,from,receivedDateTime,internetMessageId,internetMessageHeaders,isDraft"
# Subjects of Exchange's own automatic replies, which come without headers
# when sender and user share an organization.
AUTO_SUBJECTS = ("automatic reply:", "out of office:", "out of office ", "autoreply:")


def is_auto_reply(message: dict) -> bool:
    """True for vacation notices and other automatic answers: by header
    (``Auto-Submitted`` other than ``no``, ``X-Autoreply``, ``X-Autorespond``,
    ``Precedence: auto_reply``), by subject only when Graph gives no
    headers. ``X-Auto-Response-Suppress`` says nothing about the message
    itself and does not count."""
    headers = message.get("internetMessageHeaders")
    if isinstance(headers, list) and headers:
        values: dict[str, str] = {}
        for header in headers:
            if isinstance(header, dict):
                name = str(header.get("name") or "").strip().lower()
                values.setdefault(name, str(header.get("value") or ""))
        return auto_reply(lambda name: values.get(name.lower()))
    subject = str(message.get("subject") or "").strip().lower()
    return subject.startswith(AUTO_SUBJECTS) or subject == "out of office"


class OutlookMailbox(GraphAccount, Mailbox):
    """Drafts in an Outlook mailbox's Drafts folder; replies from the whole mailbox."""

    options = {
        **OPTIONS,
        "reply_scan_limit": Option(int, default=500, help=(
            "With company domains to match, at most this many recent messages "
            "are read (headers only) per search for replies.")),
    }

    def __init__(self, name: str, config: dict[str, Any], context: Context, *,
                 token: Callable[[], str] | None = None, session: Any = None,
                 sleep: Callable[[float], None] | None = None):
        super().__init__(name, config, context)
        limit = config.get("reply_scan_limit", 500)
        if not isinstance(limit, int) or isinstance(limit, bool) or limit < 1:
            raise ConfigError(f"mailbox {name!r}: reply_scan_limit must be a positive number")
        self.reply_scan_limit = limit
        self._setup_graph(token, session, sleep, PREFER)
        self._drafts_id: str | None = None

    def _drafts_folder(self) -> str:
        if self._drafts_id is None:
            self._drafts_id = self.graph.get("me/mailFolders/drafts", **{"$select": "id"})["id"]
        return self._drafts_id

    def check(self) -> str:
        """Reach the Drafts folder and count the daemon's drafts in it."""
        data = self.graph.get("me/mailFolders/drafts", **{"$select": "id,displayName"})
        self.require_scopes()
        self._drafts_id = data.get("id") or self._drafts_id
        count = sum(1 for _ in self._drafts(None))
        return (f"drafts go to {data.get('displayName') or 'Drafts'} "
                f"({count} draft{'' if count == 1 else 's'} by followup), nothing is ever sent")

    # -- drafts -------------------------------------------------------------------

    def _drafts(self, key: str | None):
        params = {"$filter": key_filter(key), "$select": DRAFT_SELECT, "$expand": KEY_EXPAND}
        for data in self.graph.pages("me/mailFolders/drafts/messages", params):
            found = key_of(data)
            if found is not None and (key is None or found == key):
                yield StoredItem(key=found, ref=data["id"], etag=str(data.get("changeKey") or ""))

    def find_draft(self, key: str, message_id: str) -> StoredItem | None:
        """The daemon's draft with ``key`` in the Drafts folder, or None."""
        return next(self._drafts(key), None)

    def create_draft(self, draft: Draft) -> StoredItem:
        """``POST /me/messages`` unless the draft exists; a create without
        an answer is resolved by looking the key up first."""
        existing = self.find_draft(draft.key, draft.message_id)
        if existing is not None:
            return existing
        body = {
            "subject": draft.subject,
            "body": {"contentType": "text", "content": draft.text},
            "toRecipients": [{"emailAddress": {"name": r.name, "address": r.email}}
                             for r in draft.to if r.email],
            "internetMessageId": draft.message_id,
            "internetMessageHeaders": [{"name": KEY_HEADER, "value": draft.key}],
            "singleValueExtendedProperties": [{"id": KEY_PROPERTY, "value": draft.key}],
        }

        def post():
            data = self.graph.request("POST", "me/messages", body=body, repeat=False).json()
            return StoredItem(key=draft.key, ref=data["id"], etag=str(data.get("changeKey") or ""))

        return create_once(self.graph, post, lambda: self.find_draft(draft.key, draft.message_id),
                           f"mailbox {self.name!r}: creating a draft")

    def delete_draft(self, item: StoredItem) -> None:
        """Delete the draft if it is still the daemon's, still a draft in
        the Drafts folder and unchanged (``If-Match`` its changeKey)."""
        params = {"$select": DRAFT_SELECT, "$expand": KEY_EXPAND}
        try:
            data = self.graph.request("GET", f"me/messages/{item.ref}", params=params).json()
        except NotFound:
            return
        if key_of(data) != item.key:
            raise Conflict(f"mailbox {self.name!r}: message {item.ref} is not the daemon's "
                           "draft; left alone")
        if data.get("parentFolderId") != self._drafts_folder():
            return  # deleted or sent by the user: not a draft of ours any more
        if not data.get("isDraft") or data.get("changeKey") != item.etag:
            raise Conflict(f"mailbox {self.name!r}: the draft was changed; left alone")
        try:
            self.graph.request("DELETE", f"me/messages/{item.ref}", headers=etag_header(item.etag))
        except NotFound:
            return

    # -- replies ------------------------------------------------------------------

    def find_replies(self, addresses: Sequence[str], domains: Sequence[str],
                     since: datetime) -> list[Reply]:
        """Messages received at or after ``since`` from ``addresses`` or
        anyone at ``domains`` (and below), automatic replies left out."""
        wanted = {a.strip().lower() for a in addresses if a and a.strip()}
        wanted_domains = {d.strip().lower().lstrip("@.").rstrip(".") for d in domains if d}
        wanted_domains.discard("")
        if not wanted and not wanted_domains:
            return []
        if since.tzinfo is None:
            since = since.replace(tzinfo=timezone.utc)
        after = f"receivedDateTime ge {utc_text(since)}"
        if wanted_domains:
            params = {"$filter": after, "$select": REPLY_SELECT,
                      "$orderby": "receivedDateTime desc", "$top": "50"}
            messages = list(self.graph.pages("me/messages", params, limit=self.reply_scan_limit))
            if len(messages) >= self.reply_scan_limit:
                log.warning("%s: only the newest %d messages were searched for replies",
                            self.name, self.reply_scan_limit)
        else:
            messages = []
            for address in sorted(wanted):
                params = {"$filter": f"{after} and from/emailAddress/address eq "
                                     f"{odata_string(address)}",
                          "$select": REPLY_SELECT, "$top": "50"}
                messages.extend(self.graph.pages("me/messages", params,
                                                 limit=self.reply_scan_limit))
        found: dict[str, Reply] = {}
        for message in messages:
            reply = self._reply(message, wanted, wanted_domains, since)
            if reply is not None:
                found.setdefault(reply.ref, reply)
        return sorted(found.values(), key=lambda r: (r.date, r.ref))

    @staticmethod
    def _reply(message: dict, wanted: set[str], domains: set[str],
               since: datetime) -> Reply | None:
        if not isinstance(message, dict) or message.get("isDraft"):
            return None
        sender = (((message.get("from") or {}).get("emailAddress") or {}).get("address") or "")
        sender = sender.strip().lower() if isinstance(sender, str) else ""
        if "@" not in sender or not (sender in wanted or domain_matches(sender, domains)):
            return None
        if is_auto_reply(message):
            return None
        try:
            date = parse_instant(str(message.get("receivedDateTime") or ""))
        except ValueError:
            return None
        if date < since:
            return None
        return Reply(sender=sender, date=date, subject=str(message.get("subject") or "").strip(),
                     ref=str(message.get("internetMessageId") or message.get("id") or ""))
