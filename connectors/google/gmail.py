"""``type = "gmail"``: drafts into Gmail, replies found from message headers.

Scopes: ``gmail.compose`` (drafts) and ``gmail.metadata`` (headers of
received mail, never bodies). No code path here sends mail.

A token holding ``gmail.metadata`` makes Gmail refuse the ``q`` search
parameter on every call and the ``full``/``raw`` formats, even when another
scope would allow them (google-api-python-client issue #582, Google issue
tracker 115621456), so nothing here searches:

- Drafts (https://developers.google.com/workspace/gmail/api/reference/rest/v1/users.drafts/create:
  ``{"message": {"raw": <base64url RFC 2822>}}``, metadata-only request, no
  media upload). The draft id is the ref and is remembered per key in the
  connector's state file; the etag is the id of the draft's message, which
  Gmail replaces whenever the draft is edited
  (https://developers.google.com/workspace/gmail/api/guides/drafts). Before
  a create the key is recorded as pending; after a crash or an unanswered
  create the drafts are scanned (``drafts.list`` + ``drafts.get`` with
  ``format=metadata``) for ``X-Followup-Key``/``Message-ID``. Whether Gmail
  keeps a client's Message-ID on a draft is not documented; the key header
  makes the lookup work either way.
- Replies: ``users.history.list`` from the stored ``historyId``
  (``historyTypes=messageAdded``): an idle poll is one request. New messages
  are read with ``messages.get(format=metadata, metadataHeaders=[...])``
  (https://developers.google.com/workspace/gmail/api/reference/rest/v1/users.messages/get).
  Without a usable history id (first run, or 404 on an old one, as
  https://developers.google.com/workspace/gmail/api/guides/sync prescribes)
  a bounded re-scan pages through ``messages.list`` newest first until the
  messages are older than needed. What was read is kept in the state file:
  the receive time and the answer headers (``daemon.headers.ANSWER_HEADERS``);
  the core judges them like any other mailbox's.
"""

from __future__ import annotations

import base64
from datetime import datetime, timedelta, timezone
from typing import Any
from urllib.parse import quote

from daemon.connector import Context, Mailbox, Option
from daemon.errors import Conflict, TransientError
from daemon.headers import ANSWER_HEADERS, answer_headers, wanted
from daemon.model import Draft, Received, ReplySearch, StoredItem
from daemon.options import whole_number

from . import state as statefile
from .account import GoogleAccount
from .auth import AUTH_OPTIONS, GMAIL_SCOPES, require_scopes
from .retry import Ambiguous, ApiStatus, RetryPolicy

KEY_HEADER = "X-Followup-Key"
REPLY_HEADERS = list(ANSWER_HEADERS)
CACHE_VERSION = 2  # 2: whole answer headers per message (1 kept senders and a verdict)
NOT_RECEIVED = frozenset({"DRAFT", "SENT", "SPAM", "TRASH"})
DRAFT_SCAN_LIMIT = 300  # drafts looked at when searching for a lost draft
RESCAN_LIMIT = 1000  # messages read at most by one re-scan
PAGE = 100
DAY_MS = 86_400_000


class GmailMailbox(GoogleAccount, Mailbox):
    """Drafts in Gmail's Drafts; replies from received mail's headers."""

    API, STATE = ("gmail", "v1"), "gmail"
    options = {
        **AUTH_OPTIONS,
        "reply_lookback_days": Option(int, default=90, help=(
            "How far back received mail is looked at for replies (days)."), check=whole_number(1)),
    }

    def __init__(self, name: str, config: dict[str, Any], context: Context, *,
                 credentials: Any = None, endpoint: str | None = None,
                 retry: RetryPolicy | None = None):
        super().__init__(name, config, context)
        self.lookback = timedelta(days=config.get("reply_lookback_days", 90))
        self._connect_setup(context, config, GMAIL_SCOPES, credentials, endpoint, retry)

    # -- plumbing -------------------------------------------------------------------

    def _state(self) -> dict[str, Any]:
        data = statefile.load(self._state_path) or {}
        if data.get("cache_version") != CACHE_VERSION:  # read the mail again in today's shape
            data.pop("messages", None)
            data.pop("covered_since", None)
            data["cache_version"] = CACHE_VERSION
        for name in ("drafts", "pending", "messages"):
            if not isinstance(data.get(name), dict):
                data[name] = {}
        return data

    def _address(self, data: dict[str, Any]) -> str | None:
        """The account's address, for links that open the right account (read
        from the profile once, then kept in the state file)."""
        if not data.get("address"):
            profile = self._call(self._api("users").getProfile(userId="me"), "read the profile")
            data["address"] = profile.get("emailAddress")
            self._save(data)
        return data.get("address")

    def check(self) -> str:
        """One request (the profile): e.g. "Gmail alex@example.org"."""
        profile = self._call(self._api("users").getProfile(userId="me"), "read the profile")
        require_scopes(self.name, self._login_used, GMAIL_SCOPES)
        return (f"Gmail {profile.get('emailAddress', '?')}: drafts only, replies found from "
                "message headers")

    # -- drafts ---------------------------------------------------------------------

    def _get_draft(self, draft_id: str) -> dict | None:
        try:
            return self._call(self._api("users", "drafts").get(
                userId="me", id=draft_id, format="minimal"), "read a draft", expect=(404,))
        except ApiStatus:
            return None

    def _index(self, data: dict[str, Any], key: str, message_id: str) -> str | None:
        """Scan the newest drafts for our headers: record every draft that
        carries ``X-Followup-Key`` and return the id of the one for
        ``key``/``message_id``, if any."""
        known = set(data["drafts"].values())
        found = None
        page = None
        looked = 0
        while looked < DRAFT_SCAN_LIMIT:
            answer = self._call(self._api("users", "drafts").list(
                userId="me", maxResults=PAGE, pageToken=page), "list drafts")
            for entry in answer.get("drafts", []):
                looked += 1
                if entry["id"] in known:
                    continue
                try:
                    draft = self._call(self._api("users", "drafts").get(
                        userId="me", id=entry["id"], format="metadata"), "read a draft",
                        expect=(404,))
                except ApiStatus:
                    continue  # deleted while we looked
                headers = _headers(draft.get("message", {}))
                own_key = headers.get(KEY_HEADER.lower())
                if own_key:
                    data["drafts"].setdefault(own_key, entry["id"])
                if own_key == key:  # the marker, not a Message-ID anyone can copy
                    found = entry["id"]
            page = answer.get("nextPageToken")
            if not page:
                break
        data["indexed"] = True
        return found

    def find_draft(self, key: str, message_id: str) -> StoredItem | None:
        """The daemon's draft for ``key`` (found by the remembered draft id,
        or by scanning the drafts when a create may have been interrupted or
        nothing is remembered), or None."""
        data = self._state()
        draft_id = data["drafts"].get(key)
        if draft_id is None and (key in data["pending"] or not data.get("indexed")):
            draft_id = self._index(data, key, message_id)
            data["pending"].pop(key, None)
            if draft_id is not None:
                data["drafts"][key] = draft_id
            self._save(data)
        if draft_id is None:
            return None
        draft = self._get_draft(draft_id)
        if draft is None:  # the user deleted it
            data["drafts"].pop(key, None)
            self._save(data)
            return None
        return StoredItem(key=key, ref=draft_id, etag=draft["message"]["id"],
                          link=draft_link(draft["message"]["id"], self._address(data)))

    def create_draft(self, draft: Draft) -> StoredItem:
        """Create the draft unless it exists; an unanswered create is
        resolved by looking for the draft before sending it again."""
        existing = self.find_draft(draft.key, draft.message_id)
        if existing is not None:
            return existing
        data = self._state()
        data["pending"][draft.key] = draft.message_id
        self._save(data)
        body = {"message": {"raw": base64.urlsafe_b64encode(draft.raw).decode("ascii")}}
        for _ in range(2):
            try:
                created = self._call(self._api("users", "drafts").create(userId="me", body=body),
                                     "create a draft", write=True)
                break
            except Ambiguous:
                found = self._index(data, draft.key, draft.message_id)
                self._save(data)
                if found is not None:
                    item = self.find_draft(draft.key, draft.message_id)
                    if item is not None:
                        return item
        else:
            raise TransientError(f"{self.name}: the draft could not be created; will try again")
        data["drafts"][draft.key] = created["id"]
        data["pending"].pop(draft.key, None)
        self._save(data)
        return StoredItem(key=draft.key, ref=created["id"], etag=created["message"]["id"],
                          link=draft_link(created["message"]["id"], self._address(data)))

    def delete_draft(self, item: StoredItem) -> None:
        """Delete the draft if its message is still the one the daemon
        wrote. Gmail has no conditional delete: the check and the delete are
        two requests, so an edit in between them is lost (a narrow window)."""
        for _ in range(2):
            draft = self._get_draft(item.ref)
            if draft is None:
                break
            if draft["message"]["id"] != item.etag:
                raise Conflict(f"{self.name}: draft {item.ref} was changed; left alone")
            try:
                self._call(self._api("users", "drafts").delete(userId="me", id=item.ref),
                           "delete a draft", write=True, expect=(404,))
                break
            except ApiStatus:
                break
            except Ambiguous:
                continue  # look again: gone, or still there and unchanged
        else:
            raise TransientError(f"{self.name}: the draft could not be deleted; will try again")
        data = self._state()
        if data["drafts"].get(item.key) == item.ref:
            del data["drafts"][item.key]
            self._save(data)

    # -- replies --------------------------------------------------------------------

    def find_replies(self, search: ReplySearch, since: datetime) -> list[Received]:
        """Received messages that ``search`` asks for, at or after ``since``
        (Gmail's receive time), as their answer headers. Looks back at most
        ``reply_lookback_days``."""
        if not search:
            return []
        if since.tzinfo is None:
            since = since.replace(tzinfo=timezone.utc)
        now_ms = _ms(datetime.now(timezone.utc))
        floor = now_ms - int(self.lookback.total_seconds() * 1000)
        need = max(_ms(since), floor)
        data = self._state()
        cache = data["messages"]
        covered = data.get("covered_since")
        if data.get("history_id") is None or covered is None or need < covered:
            self._rescan(data, need)
        else:
            try:
                self._follow_history(data)
            except ApiStatus:  # 404: the history id is too old
                self._rescan(data, need)
        for msg_id in [m for m, e in cache.items() if e["d"] < floor]:
            del cache[msg_id]
        data["covered_since"] = max(data.get("covered_since") or floor, floor)
        self._save(data)
        found = []
        for msg_id, entry in cache.items():
            if entry["x"] or entry["d"] < _ms(since):
                continue
            headers = tuple((str(k), str(v)) for k, v in entry.get("h", ()))
            mid = next((v for k, v in headers if k == "message-id"), "")
            received = Received(ref=mid or msg_id, date=_from_ms(entry["d"]), headers=headers)
            if wanted(received, search):
                found.append(received)
        return sorted(found, key=lambda r: (r.date, r.ref))

    def _follow_history(self, data: dict[str, Any]) -> None:
        page = None
        while True:
            answer = self._call(self._api("users", "history").list(
                userId="me", startHistoryId=data["history_id"], historyTypes=["messageAdded"],
                maxResults=500, pageToken=page), "read the mailbox history", expect=(404,))
            for record in answer.get("history", []):
                for added in record.get("messagesAdded", []):
                    message = added.get("message", {})
                    if NOT_RECEIVED.intersection(message.get("labelIds", [])):
                        continue  # drafts and sent mail are not replies: not even read
                    if message.get("id") and message["id"] not in data["messages"]:
                        self._remember(data, message["id"])
            page = answer.get("nextPageToken")
            if not page:
                data["history_id"] = answer.get("historyId", data["history_id"])
                return

    def _rescan(self, data: dict[str, Any], need_ms: int) -> None:
        """Read received mail newest first until it is older than
        ``need_ms`` (with a day's slack: the list is ordered by date, not
        strictly by receive time), at most ``RESCAN_LIMIT`` messages."""
        profile = self._call(self._api("users").getProfile(userId="me"), "read the profile")
        cutoff = need_ms - DAY_MS
        read = 0
        oldest = None
        page = None
        complete = False
        while read < RESCAN_LIMIT:
            answer = self._call(self._api("users", "messages").list(
                userId="me", maxResults=PAGE, pageToken=page), "list messages")
            dates = []
            for entry in answer.get("messages", []):
                cached = data["messages"].get(entry["id"])
                if cached is None:
                    cached = self._remember(data, entry["id"])
                    read += 1
                if cached is not None:
                    dates.append(cached["d"])
            if dates:
                oldest = min(dates) if oldest is None else min(oldest, *dates)
            page = answer.get("nextPageToken")
            if not page or (dates and max(dates) < cutoff):
                complete = True
                break
        data["history_id"] = profile.get("historyId")
        data["address"] = profile.get("emailAddress")  # for links to the right account
        data["covered_since"] = need_ms if complete or oldest is None else max(oldest, need_ms)

    def _remember(self, data: dict[str, Any], msg_id: str) -> dict | None:
        """Read one message's headers into the cache (None if it vanished)."""
        try:
            message = self._call(self._api("users", "messages").get(
                userId="me", id=msg_id, format="metadata", metadataHeaders=REPLY_HEADERS),
                "read a message's headers", expect=(404,))
        except ApiStatus:
            return None
        pairs = [(str(h.get("name", "")), str(h.get("value", "")))
                 for h in (message.get("payload") or {}).get("headers", []) if isinstance(h, dict)]
        entry = {
            "d": int(message.get("internalDate") or 0),
            "h": [list(pair) for pair in answer_headers(pairs)],
            "x": bool(NOT_RECEIVED.intersection(message.get("labelIds", []))),
        }
        data["messages"][msg_id] = entry
        return entry


def _headers(message: dict) -> dict[str, str]:
    """Lower-case name -> value of the first of each header."""
    out: dict[str, str] = {}
    for header in (message.get("payload") or {}).get("headers", []):
        out.setdefault(str(header.get("name", "")).lower(), str(header.get("value", "")))
    return out


def _ms(value: datetime) -> int:
    return int(value.timestamp() * 1000)


def _from_ms(value: int) -> datetime:
    return datetime.fromtimestamp(value / 1000, timezone.utc)


def draft_link(message_id: str, address: str | None) -> str:
    """The Gmail web address that opens a draft for editing: the Drafts view
    with ``compose=`` the draft's message id (``draft.message.id``, not the
    draft id: the web UI opens a draft by the id of its message, as other
    Gmail API clients link it), in the account ``address`` names when it is
    known (``authuser``), else the first signed-in one."""
    account = f"?authuser={quote(address, safe='@')}" if address else "u/0/"
    return f"https://mail.google.com/mail/{account}#drafts?compose={quote(message_id, safe='')}"
