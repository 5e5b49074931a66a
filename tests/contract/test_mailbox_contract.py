"""The Mailbox contract (``daemon.connector.Mailbox``), for every harness."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from email import policy
from email.parser import BytesParser

import pytest

from daemon.errors import Conflict

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


def test_find_replies_by_address(h, box):
    at = SINCE + timedelta(hours=5)
    deliver(h, "Jane Doe <Jane.Doe@Acme.Example>", at, subject="Re: Thank you")
    deliver(h, "John Roe <john.roe@acme.example>", at)
    replies = box.find_replies(["jane.doe@acme.example"], [], SINCE)
    assert [r.sender for r in replies] == ["jane.doe@acme.example"]
    assert replies[0].date == at
    assert replies[0].subject == "Re: Thank you"
    assert replies[0].date.tzinfo is not None


def test_find_replies_by_domain_and_subdomain(h, box):
    at = SINCE + timedelta(hours=5)
    deliver(h, "bob@acme.example", at)
    deliver(h, "Carol <carol@eu.mail.acme.example>", at + timedelta(minutes=1))
    deliver(h, "mallory@notacme.example", at)
    deliver(h, "eve@acme.example.evil.test", at)
    replies = box.find_replies([], ["acme.example"], SINCE)
    assert sorted(r.sender for r in replies) == ["bob@acme.example", "carol@eu.mail.acme.example"]


def test_find_replies_respects_since(h, box):
    deliver(h, "jane.doe@acme.example", SINCE - timedelta(hours=2), subject="before")
    deliver(h, "jane.doe@acme.example", SINCE, subject="at")
    deliver(h, "jane.doe@acme.example", SINCE + timedelta(hours=2), subject="after")
    replies = box.find_replies(["jane.doe@acme.example"], [], SINCE)
    assert sorted(r.subject for r in replies) == ["after", "at"]
    assert box.find_replies(["jane.doe@acme.example"], [], NOW + timedelta(hours=1)) == []


@pytest.mark.parametrize("header, value", [
    ("Auto-Submitted", "auto-replied"),
    ("X-Autoreply", "yes"),
    ("X-Autorespond", "Out of office"),
    ("Precedence", "auto_reply"),
    ("Precedence", "Auto_Reply"),
])
def test_auto_replies_are_excluded(h, box, header, value):
    at = SINCE + timedelta(hours=1)
    deliver(h, "jane.doe@acme.example", at, subject="Out of office", headers={header: value})
    deliver(h, "jane.doe@acme.example", at + timedelta(hours=1), subject="Real answer")
    replies = box.find_replies(["jane.doe@acme.example"], ["acme.example"], SINCE)
    assert [r.subject for r in replies] == ["Real answer"]


def test_auto_submitted_no_is_a_real_reply(h, box):
    deliver(h, "jane.doe@acme.example", SINCE + timedelta(hours=1),
            headers={"Auto-Submitted": "no"})
    assert len(box.find_replies(["jane.doe@acme.example"], [], SINCE)) == 1


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
    box.find_replies(["jane.doe@acme.example"], ["else.example"], SINCE)
    box.delete_draft(item_a)
    h.user_edit_draft(b.message_id)
    with pytest.raises(Conflict):
        box.delete_draft(item_b)
    box.check()
    assert h.snapshot() == before
