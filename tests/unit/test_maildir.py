"""Maildir specifics of ``connectors.local.maildir`` (the shared behaviour is
in ``tests/contract``)."""

from __future__ import annotations

import hashlib
import os
import re
import socket
import stat
from datetime import datetime, timedelta, timezone
from email import policy
from email.message import EmailMessage
from email.utils import format_datetime
from pathlib import Path

import pytest

from connectors.local import maildir
from connectors.local.maildir import MaildirMailbox
from daemon.connector import Context
from daemon.errors import ConfigError, Conflict, ConnectorError
from daemon.model import Draft, Recipient, ReplySearch

UTC = timezone.utc
NOW = datetime.now(UTC).replace(microsecond=0)
SINCE = NOW - timedelta(days=2)
KEY = "thank-you:interview-1@acme.example"
MID = "<followup.abc123@alex.example.org>"


def make_draft(key: str = KEY, message_id: str = MID, text: str = "Thank you!") -> Draft:
    msg = EmailMessage(policy=policy.SMTP)
    msg["From"] = "alex@example.org"
    msg["To"] = "jane.doe@acme.example"
    msg["Subject"] = "Thank you"
    msg["Message-ID"] = message_id
    msg["X-Followup-Key"] = key
    msg.set_content(text)
    return Draft(key=key, message_id=message_id, raw=msg.as_bytes(),
                 to=(Recipient("Jane", "jane.doe@acme.example"),), subject="Thank you", text=text)


def message(sender: str = "jane.doe@acme.example", date: datetime | None = NOW,
            subject: str = "Re: Thank you", message_id: str | None = None,
            **headers: str) -> bytes:
    msg = EmailMessage()
    msg["From"] = sender
    msg["Subject"] = subject
    if date is not None:
        msg["Date"] = format_datetime(date)
    if message_id:
        msg["Message-ID"] = message_id
    for name, value in headers.items():
        msg[name.replace("_", "-")] = value
    msg.set_content("Hello\n")
    return msg.as_bytes()


def make_maildir(path: Path) -> Path:
    for sub in ("cur", "new", "tmp"):
        (path / sub).mkdir(parents=True, exist_ok=True)
    return path


def put(folder: Path, name: str, data: bytes, mtime: datetime | None = None, sub: str = "new") -> Path:
    path = folder / sub / name
    path.write_bytes(data)
    if mtime is not None:
        os.utime(path, (mtime.timestamp(), mtime.timestamp()))
    return path


def mailbox(tmp_path: Path, **config) -> MaildirMailbox:
    config.setdefault("drafts", "Drafts")
    return MaildirMailbox("test", config, Context(base_dir=tmp_path, state_dir=tmp_path))


@pytest.fixture
def box(tmp_path) -> MaildirMailbox:
    make_maildir(tmp_path / "INBOX")
    return mailbox(tmp_path, inbox="INBOX")


@pytest.fixture
def inbox(tmp_path) -> Path:
    return tmp_path / "INBOX"


# -- configuration --------------------------------------------------------------


def test_options_are_declared():
    assert MaildirMailbox.options["drafts"].required
    assert MaildirMailbox.options["drafts"].kind is str
    assert not MaildirMailbox.options["inbox"].required
    assert set(MaildirMailbox.options["inbox"].kind) == {str, list}


@pytest.mark.parametrize("config", [{}, {"drafts": ""}, {"drafts": 3},
                                    {"drafts": "D", "inbox": 5},
                                    {"drafts": "D", "inbox": ["ok", 7]}])
def test_bad_config_is_refused(tmp_path, config):
    with pytest.raises(ConfigError):
        MaildirMailbox("test", config, Context(base_dir=tmp_path, state_dir=tmp_path))


def test_paths_are_relative_to_base_dir_and_expand_home(tmp_path, monkeypatch):
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    box = mailbox(tmp_path, drafts="~/Mail/Drafts", inbox=["INBOX", "/abs/Box"])
    assert box.drafts == tmp_path / "home" / "Mail" / "Drafts"
    assert box.inboxes == [tmp_path / "INBOX", Path("/abs/Box")]


def test_drafts_maildir_is_created_private(tmp_path):
    box = mailbox(tmp_path, drafts="Mail/Drafts")
    box.create_draft(make_draft())
    for path in (box.drafts, *(box.drafts / s for s in ("cur", "new", "tmp"))):
        assert path.is_dir()
        assert stat.S_IMODE(path.stat().st_mode) == 0o700


# -- drafts ---------------------------------------------------------------------


def test_draft_file_name_flag_and_ref(box):
    item = box.create_draft(make_draft())
    (path,) = (box.drafts / "cur").iterdir()
    digest = hashlib.sha256(KEY.encode()).hexdigest()[:24]
    assert re.fullmatch(rf"followup\.{digest}\.[^/:]+:2,D", path.name)
    assert item.ref == f"cur/{path.name}"
    assert item.etag == hashlib.sha256(path.read_bytes()).hexdigest()
    assert not list((box.drafts / "new").iterdir())


def test_draft_is_stored_with_lf_line_ends(box):
    d = make_draft()
    assert b"\r\n" in d.raw
    box.create_draft(d)
    data = (box.drafts / box.find_draft(KEY, MID).ref).read_bytes()
    assert b"\r\n" not in data
    assert data == d.raw.replace(b"\r\n", b"\n")


def test_hostname_is_sanitized(tmp_path, monkeypatch):
    monkeypatch.setattr(socket, "gethostname", lambda: "odd/host:name")
    box = mailbox(tmp_path)
    item = box.create_draft(make_draft())
    assert item.ref.endswith(".odd\\057host\\072name:2,D")


def test_tmp_is_left_clean(box):
    box.create_draft(make_draft())
    box.create_draft(make_draft())
    assert list((box.drafts / "tmp").iterdir()) == []
    assert len(list((box.drafts / "cur").iterdir())) == 1


def test_stale_tmp_leftovers_of_our_own_are_removed(box):
    make_maildir(box.drafts)
    old = datetime.now(UTC) - timedelta(days=2)
    ours = put(box.drafts, "followup.deadbeef.host.1.aa", b"partial", old, sub="tmp")
    fresh = put(box.drafts, "followup.deadbeef.host.2.bb", b"in progress", sub="tmp")
    foreign = put(box.drafts, "1700000000.M1.client", b"not ours", old, sub="tmp")
    box.create_draft(make_draft())
    assert not ours.exists()
    assert fresh.exists() and foreign.read_bytes() == b"not ours"


def test_concurrent_create_keeps_one_copy(box, monkeypatch):
    first = box.create_draft(make_draft())
    monkeypatch.setattr(MaildirMailbox, "_find", lambda self, key, mid, ref=None: None)
    second = box.create_draft(make_draft(text="A different text"))
    assert second.ref == first.ref and second.etag == first.etag
    assert len(list((box.drafts / "cur").iterdir())) == 1
    assert list((box.drafts / "tmp").iterdir()) == []


def test_draft_renamed_by_client_is_found_again(box):
    item = box.create_draft(make_draft())
    old = box.drafts / item.ref
    renamed = old.with_name(old.name.replace(":2,D", ":2,DS"))
    old.rename(renamed)
    found = box.find_draft(KEY, MID)
    assert found.ref == f"cur/{renamed.name}" and found.etag == item.etag
    assert box.create_draft(make_draft()).ref == found.ref
    assert len(list((box.drafts / "cur").iterdir())) == 1
    box.delete_draft(item)  # stale ref, unchanged bytes: deleted
    assert not renamed.exists()


def test_draft_moved_to_new_is_found(box):
    item = box.create_draft(make_draft())
    old = box.drafts / item.ref
    moved = box.drafts / "new" / old.name.partition(":")[0]
    old.rename(moved)
    assert box.find_draft(KEY, MID).ref == f"new/{moved.name}"


def test_draft_under_a_new_name_is_found_by_message_id(box):
    item = box.create_draft(make_draft())
    old = box.drafts / item.ref
    new = box.drafts / "cur" / "1900000000.M5P7.client:2,DS"
    old.rename(new)
    found = box.find_draft(KEY, MID)
    assert found.ref == "cur/" + new.name and found.etag == item.etag
    assert box.create_draft(make_draft()).ref == found.ref
    assert len(list((box.drafts / "cur").iterdir())) == 1
    box.delete_draft(item)
    assert not new.exists()


def test_draft_with_new_message_id_is_found_by_key_header(box):
    item = box.create_draft(make_draft())
    old = box.drafts / item.ref
    new = box.drafts / "cur" / "1900000000.M6P7.client:2,D"
    new.write_bytes(old.read_bytes().replace(MID.encode(), b"<client-made@alex>"))
    old.unlink()
    found = box.find_draft(KEY, MID)
    assert found.ref == "cur/" + new.name
    with pytest.raises(Conflict):
        box.delete_draft(item)
    assert new.exists()


def test_delete_after_edit_leaves_the_file_alone(box):
    item = box.create_draft(make_draft())
    path = box.drafts / item.ref
    edited = path.read_bytes() + b"PS\n"
    path.write_bytes(edited)
    with pytest.raises(Conflict):
        box.delete_draft(item)
    assert path.read_bytes() == edited


def test_other_drafts_are_never_touched(box):
    make_maildir(box.drafts)
    own = put(box.drafts, "1700000000.M1P1.laptop:2,DS", message(message_id="<mine@x>"), sub="cur")
    before = own.read_bytes()
    item = box.create_draft(make_draft())
    assert box.find_draft("other-key", "<mine-not@x>") is None
    box.delete_draft(item)
    box.delete_draft(item)
    assert [p.name for p in (box.drafts / "cur").iterdir()] == [own.name]
    assert own.read_bytes() == before


def test_find_draft_without_drafts_folder(box):
    assert box.find_draft(KEY, MID) is None
    assert not box.drafts.exists()


def S(addresses=(), domains=()) -> ReplySearch:
    """The search for replies from these senders."""
    return ReplySearch(senders=(*addresses, *domains))


# -- replies ----------------------------------------------------------------------


def test_no_inbox_means_no_replies(tmp_path):
    assert mailbox(tmp_path).find_replies(S(["jane.doe@acme.example"], ["acme.example"]), SINCE) == []


def test_missing_inbox_is_an_error(tmp_path):
    with pytest.raises(ConnectorError):
        mailbox(tmp_path, inbox="nowhere").find_replies(S(["a@b.example"], []), SINCE)


def test_unreadable_files_are_skipped(box, inbox):
    put(inbox, "1.good", message(date=NOW))
    (inbox / "new" / "2.dir").mkdir()
    (inbox / "cur" / "3.broken:2,S").symlink_to(inbox / "missing")
    put(inbox, "4.empty", b"")
    put(inbox, "5.binary", os.urandom(4096))
    put(inbox, "6.badfrom", b"From: <<<@@@>>>\x00\xff,,\nDate: nonsense\n\nbody\n")
    put(inbox, ".7.hidden", message(date=NOW))
    put(inbox, "8.nulls", b"\x00" * 100 + b"\n\n")
    replies = box.find_replies(S(["jane.doe@acme.example"], []), SINCE)
    assert len(replies) == 1


def test_old_files_are_not_opened(box, inbox, monkeypatch):
    opened = []
    real = maildir.read_head
    monkeypatch.setattr(maildir, "read_head", lambda path: opened.append(path.name) or real(path))
    put(inbox, "old", message(date=NOW), mtime=SINCE - timedelta(days=1, minutes=1))
    put(inbox, "slack", message(date=NOW), mtime=SINCE - timedelta(hours=20))
    replies = box.find_replies(S(["jane.doe@acme.example"], []), SINCE)
    assert opened == ["slack"]
    assert len(replies) == 1


def test_date_header_wins_over_mtime(box, inbox):
    put(inbox, "late-delivery", message(date=SINCE - timedelta(hours=1)), mtime=NOW)
    assert box.find_replies(S(["jane.doe@acme.example"], []), SINCE) == []


@pytest.mark.parametrize("date_header", [None, "not a date", "Tue, 99 Foo 2030 99:99:99"])
def test_missing_or_bad_date_falls_back_to_mtime(box, inbox, date_header):
    raw = message(date=None)
    if date_header:
        raw = f"Date: {date_header}\n".encode() + raw
    when = SINCE + timedelta(hours=3)
    put(inbox, "undated", raw, mtime=when)
    (reply,) = box.find_replies(S(["jane.doe@acme.example"], []), SINCE)
    assert reply.date == when


def test_naive_date_is_utc(box, inbox):
    put(inbox, "naive", b"From: jane.doe@acme.example\nDate: Mon, 1 Jan 2035 10:00:00 -0000\n\nx\n")
    (reply,) = box.find_replies(S(["jane.doe@acme.example"], []), SINCE)
    assert reply.date == datetime(2035, 1, 1, 10, 0, tzinfo=UTC)


def test_reply_fields(box, inbox):
    put(inbox, "m", message("Jane <JANE.DOE@acme.example>", NOW, "Re: Hi", "<r1@acme.example>"))
    (reply,) = box.find_replies(S(["Jane.Doe@Acme.Example"], []), SINCE)
    assert (reply.get("from"), reply.date, reply.get("subject"), reply.ref) == (
        "Jane <JANE.DOE@acme.example>", NOW, "Re: Hi", "<r1@acme.example>")


def test_several_inboxes_and_duplicates(tmp_path):
    one, two = make_maildir(tmp_path / "INBOX"), make_maildir(tmp_path / "Archive")
    put(one, "a", message(message_id="<same@acme.example>"))
    put(two, "b", message(message_id="<same@acme.example>"), sub="cur")
    put(two, "c", message("bob@hr.acme.example", message_id="<other@acme.example>"))
    box = mailbox(tmp_path, inbox=["INBOX", "Archive"])
    replies = box.find_replies(S(["jane.doe@acme.example"], ["acme.example"]), SINCE)
    assert sorted(r.ref for r in replies) == ["<other@acme.example>", "<same@acme.example>"]


@pytest.mark.parametrize("headers", [
    {"Auto-Submitted": "auto-replied; owner-email=jane@acme.example"},
    {"X-Autoreply": ""},
    {"Precedence": "AUTO_REPLY", "X-Auto-Response-Suppress": "All"},
])
def test_the_headers_of_automatic_replies_are_delivered_for_the_core_to_judge(box, inbox, headers):
    raw = "".join(f"{k}: {v}\n" for k, v in headers.items()).encode() + message()
    put(inbox, "m", raw)
    (reply,) = box.find_replies(S(["jane.doe@acme.example"], []), SINCE)
    assert {k.lower(): v for k, v in headers.items()} == {
        k: v for k, v in reply.headers if k in {h.lower() for h in headers}}


def test_find_replies_changes_nothing(box, inbox):
    paths = [put(inbox, f"m{i}", message(date=NOW - timedelta(hours=i))) for i in range(3)]
    paths.append(put(inbox, "x:2,S", message("other@else.example"), sub="cur"))
    before = {p: (p.read_bytes(), p.stat().st_mtime_ns) for p in paths}
    box.find_replies(S(["jane.doe@acme.example"], ["else.example"]), SINCE)
    assert {p: (p.read_bytes(), p.stat().st_mtime_ns) for p in paths} == before
    assert sorted(p.name for s in ("cur", "new", "tmp") for p in (inbox / s).iterdir()) == sorted(
        p.name for p in paths)


# -- check ----------------------------------------------------------------------


def test_check_describes_both_sides(box):
    box.create_draft(make_draft())
    box.create_draft(make_draft(key="k2", message_id="<k2@x>"))
    assert box.check() == f"Drafts at {box.drafts} (2 drafts by followup), replies from 1 inbox folder"


def test_check_without_inbox(tmp_path):
    box = mailbox(tmp_path)
    assert box.check() == (f"Drafts at {box.drafts} (0 drafts by followup), "
                           "no inbox folder, replies are not looked for")
    assert (box.drafts / "tmp").is_dir()


def test_check_refuses_a_missing_inbox(tmp_path):
    (tmp_path / "NotAMaildir").mkdir()
    with pytest.raises(ConnectorError, match="not found"):
        mailbox(tmp_path, inbox="INBOX").check()
    with pytest.raises(ConnectorError, match="not a Maildir"):
        mailbox(tmp_path, inbox="NotAMaildir").check()


def test_a_fifo_in_the_inbox_or_at_a_draft_never_blocks(box, inbox, tmp_path):
    """Regression: a FIFO in a message's place blocked the pass forever."""
    import threading

    put(inbox, "1.good", message(date=NOW))
    os.mkfifo(inbox / "cur" / "2.fifo:2,S")
    out: list = []
    thread = threading.Thread(target=lambda: out.append(
        box.find_replies(S(["jane.doe@acme.example"], []), SINCE)), daemon=True)
    thread.start()
    thread.join(20)
    assert out and len(out[0]) == 1
    with pytest.raises(OSError, match="not a regular file"):
        maildir.read_head(inbox / "cur" / "2.fifo:2,S")


def test_a_message_that_only_shares_the_drafts_message_id_is_not_taken_over(box):
    """Regression: a message not written by followup but with one of its
    Message-IDs was taken over as its draft."""
    make_maildir(box.drafts)
    other = put(box.drafts, "1700000000.M1P1.laptop:2,DS", message(message_id=MID), sub="cur")
    before = other.read_bytes()
    assert box.find_draft(KEY, MID) is None
    with pytest.raises(Conflict, match="without followup's marker"):
        box.create_draft(make_draft())  # neither taken over nor written a second time
    assert other.read_bytes() == before and len(list((box.drafts / "cur").iterdir())) == 1


def test_a_symlink_at_the_drafts_file_name_is_not_a_written_draft(box, tmp_path):
    """Regression: a symlink at a draft's file name was recorded as written."""
    make_maildir(box.drafts)
    elsewhere = tmp_path / "elsewhere.eml"
    elsewhere.write_bytes(make_draft().raw)  # even one that carries the key
    (box.drafts / "cur" / maildir.draft_name(KEY)).symlink_to(elsewhere)
    assert box.find_draft(KEY, MID) is None
    item = box.create_draft(make_draft())
    path = box.drafts / item.ref
    assert not path.is_symlink() and path.is_file()
    assert elsewhere.read_bytes() == make_draft().raw


def test_a_sent_copy_is_found_by_marker_or_message_id(tmp_path):
    box = mailbox(tmp_path, sent="Sent")
    with pytest.raises(ConnectorError, match="sent Maildir .* not found"):
        box.find_sent(KEY, MID)
    sent = make_maildir(tmp_path / "Sent")
    assert box.find_sent(KEY, MID) is False
    put(sent, "1.mine:2,S", message(message_id=MID), sub="cur")  # the client dropped the marker
    assert box.find_sent(KEY, MID) is True
    assert mailbox(tmp_path).find_sent(KEY, MID) is None  # no 'sent': cannot be told
