"""The Mailbox contract (``daemon.connector.Mailbox``), for every harness."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from email import policy
from email.parser import BytesParser
from email.utils import getaddresses

import pytest

from daemon.errors import Conflict
from daemon.model import ReplySearch

from . import samples

NOW = datetime.now(timezone.utc).replace(microsecond=0)
SINCE = NOW - timedelta(days=3)


@pytest.fixture
def h(mailbox_harness):
    return mailbox_harness


@pytest.fixture
def box(h):
    mailbox = h.make()
    yield mailbox
    mailbox.close()


def deliver(h, sender, at, **kwargs):
    h.deliver(samples.incoming(sender, at, **kwargs), received=at)


# -- drafts -------------------------------------------------------------------


def test_create_draft_is_idempotent_by_message_id(h, box):
    d = samples.draft()
    first = box.create_draft(d)
    second = box.create_draft(d)
    assert second.ref == first.ref and second.etag == first.etag
    assert first.key == d.key
    assert h.draft_count() == 1


def test_create_draft_is_idempotent_across_instances(h, box):
    d = samples.draft()
    first = box.create_draft(d)
    again = h.make().create_draft(d)
    assert (again.ref, again.etag) == (first.ref, first.etag)
    assert h.draft_count() == 1


def test_stored_draft_is_a_clean_marked_draft(h, box):
    d = samples.draft()
    box.create_draft(d)
    raw = h.draft_bytes(d.message_id)
    assert raw is not None
    msg = BytesParser(policy=policy.strict).parsebytes(raw)
    for part in msg.walk():
        assert not part.defects
        for _, value in part.items():
            assert not value.defects, value
    assert str(msg["Message-ID"]).strip() == d.message_id
    assert str(msg["X-Followup-Key"]).strip() == d.key
    assert str(msg["Subject"]) == d.subject
    assert "thank you for the conversation" in msg.get_body(("plain",)).get_content()
    assert h.is_marked_draft(d.message_id)


def test_find_draft(h, box):
    d = samples.draft()
    assert box.find_draft(d.key, d.message_id) is None
    item = box.create_draft(d)
    found = box.find_draft(d.key, d.message_id)
    assert found is not None
    assert (found.key, found.ref, found.etag) == (d.key, item.ref, item.etag)
    assert box.find_draft("thank-you:other", "<other@alex.example.org>") is None


def test_a_draft_links_to_where_the_provider_opens_it(h, box):
    d = samples.draft()
    item = box.create_draft(d)
    assert h.link_opens(item.link, d.message_id), item.link
    found = box.find_draft(d.key, d.message_id)
    assert found is not None and h.link_opens(found.link, d.message_id), found.link
    assert h.make().create_draft(d).link == item.link  # taken back after a crash: the same link


def test_two_drafts_are_kept_apart(h, box):
    a = samples.draft()
    b = samples.draft(key="thank-you:interview-2@acme.example",
                      message_id="<followup.4d5e6f@alex.example.org>")
    item_a, item_b = box.create_draft(a), box.create_draft(b)
    assert item_a.ref != item_b.ref
    assert h.draft_count() == 2
    box.delete_draft(item_a)
    assert box.find_draft(a.key, a.message_id) is None
    assert box.find_draft(b.key, b.message_id) == item_b


def test_delete_unchanged_draft(h, box):
    d = samples.draft()
    item = box.create_draft(d)
    box.delete_draft(item)
    assert box.find_draft(d.key, d.message_id) is None
    assert h.draft_count() == 0
    box.delete_draft(item)  # already gone: nothing happens


def test_delete_after_user_edit_raises_conflict_and_keeps_it(h, box):
    d = samples.draft()
    item = box.create_draft(d)
    h.user_edit_draft(d.message_id)
    with pytest.raises(Conflict):
        box.delete_draft(item)
    assert h.draft_count() == 1
    found = box.find_draft(d.key, d.message_id)
    assert found is not None and found.etag != item.etag
    assert b"looking forward" in h.draft_bytes(d.message_id)


def test_user_deleted_draft_is_gone(h, box):
    d = samples.draft()
    item = box.create_draft(d)
    h.user_delete_draft(d.message_id)
    assert box.find_draft(d.key, d.message_id) is None
    box.delete_draft(item)  # nothing left to delete, no error
    assert h.draft_count() == 0


# -- replies ------------------------------------------------------------------


def search(senders=(), words=(), ids=()) -> ReplySearch:
    return ReplySearch(senders=tuple(senders), words=tuple(words), message_ids=tuple(ids))


def senders_of(received) -> list[str]:
    return sorted(addr.lower() for r in received for _, addr in getaddresses([r.get("from") or ""]))


def test_find_replies_by_address(h, box):
    at = SINCE + timedelta(hours=5)
    deliver(h, "Jane Doe <Jane.Doe@Acme.Example>", at, subject="Re: Thank you")
    deliver(h, "John Roe <john.roe@acme.example>", at)
    replies = box.find_replies(search(["jane.doe@acme.example"]), SINCE)
    assert senders_of(replies) == ["jane.doe@acme.example"]
    (reply,) = replies
    assert reply.date == at and reply.date.tzinfo is not None
    assert reply.get("subject") == "Re: Thank you" and reply.get("From") == "Jane Doe <Jane.Doe@Acme.Example>"
    assert reply.ref


def test_find_replies_by_domain_and_subdomain(h, box):
    at = SINCE + timedelta(hours=5)
    deliver(h, "bob@acme.example", at)
    deliver(h, "Carol <carol@eu.mail.acme.example>", at + timedelta(minutes=1))
    deliver(h, "mallory@notacme.example", at)
    deliver(h, "eve@acme.example.evil.test", at)
    replies = box.find_replies(search(["acme.example"]), SINCE)
    assert senders_of(replies) == ["bob@acme.example", "carol@eu.mail.acme.example"]


def test_find_replies_by_reply_to_and_sender(h, box):
    at = SINCE + timedelta(hours=5)
    deliver(h, "Acme Recruiting <no-reply@us.greenhouse-mail.io>", at,
            headers={"Reply-To": "Jane Doe <jane.doe@acme.example>"})
    deliver(h, "Jane Doe <jane.doe@acme.example>", at + timedelta(minutes=1),
            headers={"Sender": "Google Calendar <calendar-notification@google.com>"})
    deliver(h, "Other <no-reply@us.greenhouse-mail.io>", at, headers={"Reply-To": "x@else.example"})
    replies = box.find_replies(search(["acme.example"]), SINCE)
    assert len(replies) == 2


def test_find_replies_by_a_word_in_the_display_name_or_subject(h, box):
    at = SINCE + timedelta(hours=5)
    deliver(h, "Acme via Greenhouse <no-reply@us.greenhouse-mail.io>", at, subject="Your application")
    deliver(h, "Talent Team <no-reply@ashbyhq.com>", at + timedelta(minutes=1),
            subject="An update on your application to ACME")
    deliver(h, "Globex via Greenhouse <no-reply@us.greenhouse-mail.io>", at, subject="Your application")
    replies = box.find_replies(search(words=["Acme"]), SINCE)
    assert sorted(r.get("subject") for r in replies) == ["An update on your application to ACME",
                                                         "Your application"]


def test_find_replies_to_a_draft(h, box):
    at = SINCE + timedelta(hours=5)
    deliver(h, "Jane <jane@personal.example>", at,
            headers={"In-Reply-To": "<followup.abc123@alex.example.org>"})
    deliver(h, "Bob <bob@personal.example>", at,
            headers={"References": "<x@y> <followup.def456@alex.example.org>"})
    deliver(h, "Eve <eve@personal.example>", at, headers={"In-Reply-To": "<other@y>"})
    ids = ["<followup.abc123@alex.example.org>", "<followup.def456@alex.example.org>"]
    replies = box.find_replies(search(ids=ids), SINCE)
    assert senders_of(replies) == ["bob@personal.example", "jane@personal.example"]


def test_find_replies_respects_since(h, box):
    deliver(h, "jane.doe@acme.example", SINCE - timedelta(hours=2), subject="before")
    deliver(h, "jane.doe@acme.example", SINCE, subject="at")
    deliver(h, "jane.doe@acme.example", SINCE + timedelta(hours=2), subject="after")
    replies = box.find_replies(search(["jane.doe@acme.example"]), SINCE)
    assert sorted(r.get("subject") for r in replies) == ["after", "at"]
    assert box.find_replies(search(["jane.doe@acme.example"]), NOW + timedelta(hours=1)) == []


def test_the_headers_that_tell_an_automatic_reply_are_delivered(h, box):
    # the core judges them (daemon.judge.answers); the mailbox only reads them
    at = SINCE + timedelta(hours=1)
    deliver(h, "jane.doe@acme.example", at, subject="Automatic reply: Thank you",
            headers={"Auto-Submitted": "auto-replied (vacation)", "X-Autoreply": "yes",
                     "Precedence": "bulk", "X-Auto-Response-Suppress": "All",
                     "List-Unsubscribe": "<mailto:u@acme.example>"})
    (reply,) = box.find_replies(search(["acme.example"]), SINCE)
    assert reply.get("auto-submitted") == "auto-replied (vacation)"
    assert (reply.get("x-autoreply"), reply.get("precedence")) == ("yes", "bulk")
    assert reply.get("x-auto-response-suppress") == "All"
    assert reply.get("list-unsubscribe") == "<mailto:u@acme.example>"


def test_encoded_words_arrive_decoded(h, box):
    deliver(h, "=?utf-8?q?J=C3=BCrgen_M=C3=BCller?= <jm@acme.example>", SINCE + timedelta(hours=1),
            subject="=?utf-8?b?QWJ3ZXNlbmhlaXRzbm90aXo6IFLDvGNrbWVsZHVuZw==?=")
    (reply,) = box.find_replies(search(["acme.example"]), SINCE)
    assert "Jürgen Müller" in reply.get("from") and reply.get("subject") == "Abwesenheitsnotiz: Rückmeldung"


def test_other_mail_is_untouched(h, box):
    deliver(h, "jane.doe@acme.example", SINCE + timedelta(hours=1))
    deliver(h, "someone@else.example", SINCE + timedelta(hours=2))
    before = h.snapshot()
    assert before
    a, b = samples.draft(), samples.draft(key="k2", message_id="<k2@alex.example.org>")
    item_a = box.create_draft(a)
    box.create_draft(a)
    item_b = box.create_draft(b)
    box.find_draft(a.key, a.message_id)
    box.find_replies(search(["jane.doe@acme.example", "else.example"], ["Acme"]), SINCE)
    box.delete_draft(item_a)
    h.user_edit_draft(b.message_id)
    with pytest.raises(Conflict):
        box.delete_draft(item_b)
    box.check()
    assert h.snapshot() == before
