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

Replies are found with one bounded ``GET /me/messages`` listing filtered on
``receivedDateTime``, selecting only envelope fields and
``internetMessageHeaders`` (never bodies); the messages the search asks for
are picked here (Graph cannot filter on display names, the end of an
address or References) and judged by the core.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime, timezone
from typing import Any

from daemon.connector import Context, Mailbox, Option
from daemon.errors import Conflict
from daemon.headers import answer_headers, wanted
from daemon.model import Draft, Received, ReplySearch, StoredItem
from daemon.options import whole_number

from .account import (
    KEY_EXPAND,
    OPTIONS,
    PREFER,
    GraphAccount,
    key_filter,
    key_of,
    own_properties,
    parse_instant,
    utc_text,
)
from .graph import NotFound, create_once, etag_header, odata_string

log = logging.getLogger(__name__)

KEY_HEADER = "x-followup-key"
DRAFT_SELECT = "id,changeKey,isDraft,internetMessageId,parentFolderId,webLink"
REPLY_SELECT = ("id,subject,from,sender,replyTo,receivedDateTime,internetMessageId,"
                "internetMessageHeaders,isDraft")


def _mailbox_text(value: Any) -> str:
    """A Graph recipient ({"emailAddress": {"name", "address"}}) as an
    address header value."""
    from email.utils import formataddr

    address = value.get("emailAddress") if isinstance(value, dict) else None
    if not isinstance(address, dict):
        return ""
    name, addr = str(address.get("name") or ""), str(address.get("address") or "")
    return formataddr((name, addr)) if addr else ""


def received(message: dict) -> Received | None:
    """A Graph message as a ``Received``: its internet headers where Graph
    gives them (mail from outside the organization), and the envelope
    fields Graph always gives (From, Sender, Reply-To, Subject) where the
    headers lack them, as mail within an organization does."""
    if not isinstance(message, dict) or message.get("isDraft"):
        return None
    try:
        date = parse_instant(str(message.get("receivedDateTime") or ""))
    except ValueError:
        return None
    raw = message.get("internetMessageHeaders")
    pairs = [(str(h.get("name") or ""), str(h.get("value") or ""))
             for h in raw if isinstance(h, dict)] if isinstance(raw, list) else []
    headers = list(answer_headers(pairs))
    present = {name for name, _ in headers}
    reply_to = message.get("replyTo") if isinstance(message.get("replyTo"), list) else []
    envelope = {
        "from": _mailbox_text(message.get("from")),
        "sender": _mailbox_text(message.get("sender")),
        "reply-to": ", ".join(filter(None, (_mailbox_text(r) for r in reply_to))),
        "subject": str(message.get("subject") or ""),
    }
    headers += [(name, value) for name, value in envelope.items() if value and name not in present]
    ref = str(message.get("internetMessageId") or message.get("id") or "")
    return Received(ref=ref, date=date, headers=tuple(headers))


class OutlookMailbox(GraphAccount, Mailbox):
    """Drafts in an Outlook mailbox's Drafts folder; replies from the whole mailbox."""

    options = {
        **OPTIONS,
        "reply_scan_limit": Option(int, default=500, help=(
            "With company domains to match, at most this many recent messages "
            "are read (headers only) per search for replies."), check=whole_number(1)),
    }

    def __init__(self, name: str, config: dict[str, Any], context: Context, *,
                 token: Callable[[], str] | None = None, session: Any = None,
                 sleep: Callable[[float], None] | None = None):
        super().__init__(name, config, context)
        self.reply_scan_limit = config.get("reply_scan_limit", 500)
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
                yield StoredItem(key=found, ref=data["id"], etag=str(data.get("changeKey") or ""),
                                 link=web_link(data))

    def find_sent(self, key: str, message_id: str) -> bool:
        """Whether Sent Items holds the draft: by its key property (Outlook
        keeps it when the draft is sent) or by its ``internetMessageId``."""
        path = "me/mailFolders/sentitems/messages"
        by_key = {"$filter": key_filter(key), "$select": DRAFT_SELECT, "$expand": KEY_EXPAND}
        if any(key_of(data) == key for data in self.graph.pages(path, by_key, limit=5)):
            return True
        by_id = {"$filter": f"internetMessageId eq {odata_string(message_id)}", "$select": "id"}
        return any(True for _ in self.graph.pages(path, by_id, limit=1))

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
            "singleValueExtendedProperties": own_properties(draft.key),
        }

        def post():
            data = self.graph.request("POST", "me/messages", body=body, repeat=False).json()
            return StoredItem(key=draft.key, ref=data["id"], etag=str(data.get("changeKey") or ""),
                              link=web_link(data))

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

    def find_replies(self, search: ReplySearch, since: datetime) -> list[Received]:
        """Messages received at or after ``since`` that ``search`` asks for:
        one listing newest first (envelope fields and internet headers,
        never bodies), at most ``reply_scan_limit`` messages, filtered
        here (Graph cannot filter on display names, domains or
        References)."""
        if not search:
            return []
        if since.tzinfo is None:
            since = since.replace(tzinfo=timezone.utc)
        params = {"$filter": f"receivedDateTime ge {utc_text(since)}", "$select": REPLY_SELECT,
                  "$orderby": "receivedDateTime desc", "$top": "50"}
        messages = list(self.graph.pages("me/messages", params, limit=self.reply_scan_limit))
        if len(messages) >= self.reply_scan_limit:
            log.warning("%s: only the newest %d messages were searched for replies",
                        self.name, self.reply_scan_limit)
        found: dict[str, Received] = {}
        for message in messages:
            item = received(message)
            if item is not None and item.date >= since and wanted(item, search):
                found.setdefault(item.ref, item)
        return sorted(found.values(), key=lambda r: (r.date, r.ref))


def web_link(message: dict) -> str:
    """The message's ``webLink`` (Graph: "the URL to open the message in
    Outlook on the web"), when it is an https address; else ""."""
    link = str(message.get("webLink") or "")
    return link if link.startswith("https://") else ""
