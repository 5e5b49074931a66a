"""The IMAP connector beyond the shared contract: its settings and queries,
what goes over the wire (and how many commands), and what it does when the
server fails. Most tests run against the session's private Dovecot."""

from __future__ import annotations

import email
import email.policy
import re
from datetime import datetime, timedelta, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from connectors.imap import ImapMailbox, folders, query, settings
from connectors.imap.folders import Folder
from daemon.app.config import from_dict
from daemon.connector import Context
from daemon.drafts.mail import build_draft
from daemon.errors import (
    AuthError,
    ConfigError,
    Conflict,
    ConnectorError,
    TransientError,
)
from daemon.model import Recipient, ReplySearch
from tests.contract import samples

NOW = datetime.now(timezone.utc).replace(microsecond=0)
SINCE = NOW - timedelta(days=3)


def context(tmp_path: Path) -> Context:
    state = tmp_path / "state"
    state.mkdir(exist_ok=True)
    return Context(base_dir=tmp_path, state_dir=state)


# -- settings -------------------------------------------------------------------


@pytest.mark.parametrize("tls, port", [("ssl", 993), ("starttls", 143), ("none", 143)])
def test_default_port_follows_tls(tls, port):
    parsed = settings.parse("m", {"host": "localhost", "username": "alex", "tls": tls})
    assert (parsed.tls, parsed.port) == (tls, port)


def test_tls_defaults_to_ssl():
    parsed = settings.parse("m", {"host": "imap.example.com", "username": "alex", "tls": None})
    assert (parsed.tls, parsed.port) == ("ssl", 993)


@pytest.mark.parametrize("host", ["imap.example.com", "192.168.1.10", "127.example.com"])
def test_plaintext_is_refused_for_other_hosts(host):
    with pytest.raises(ConfigError) as exc:
        settings.parse("work", {"host": host, "username": "alex", "tls": "none"})
    assert "only allowed for a server on this machine" in str(exc.value) and repr(host) in str(exc.value)


@pytest.mark.parametrize("host", ["localhost", "127.0.0.1", "127.0.0.53", "::1", "[::1]"])
def test_plaintext_is_allowed_on_loopback(host):
    assert settings.parse("m", {"host": host, "username": "alex", "tls": "none"}).tls == "none"


@pytest.mark.parametrize("changes, words", [
    ({"tls": "yes"}, "'tls' must be"),
    ({"port": 0}, "'port' must be"),
    ({"port": True}, "'port' must be"),
    ({"reply_folders": []}, "'reply_folders'"),
    ({"reply_folders": ["INBOX", ""]}, "'reply_folders'"),
    ({"drafts": "  "}, "'drafts'"),
    ({"host": None}, "'host' is required"),
])
def test_bad_settings_are_reported(changes, words):
    with pytest.raises(ConfigError) as exc:
        settings.parse("work", {"host": "imap.example.com", "username": "alex", **changes})
    assert words in str(exc.value) and "mailbox 'work'" in str(exc.value)


def test_a_password_in_the_config_is_refused(tmp_path):
    data = {"me": {"email": "me@example.org"}, "state": {"path": str(tmp_path / "s.db")},
            "calendars": [{"name": "c", "type": "local", "path": str(tmp_path)}],
            "mailboxes": [{"name": "work", "type": "imap", "host": "imap.example.com",
                           "username": "alex", "password": "secret"}]}
    with pytest.raises(ConfigError) as exc:
        from_dict(data, source=tmp_path / "config.toml", base_dir=tmp_path)
    assert "mailboxes[1].password" in str(exc.value)


def test_config_keys_are_declared():
    assert set(ImapMailbox.options) == {"host", "port", "username", "tls", "password_command",
                                        "drafts", "reply_folders"}
    assert ImapMailbox.options["host"].required and ImapMailbox.options["username"].required


# -- queries --------------------------------------------------------------------


def S(addresses=(), domains=()) -> ReplySearch:
    """The search for replies from these senders."""
    return ReplySearch(senders=(*addresses, *domains))


def test_reply_search_ors_the_senders_and_starts_a_day_early():
    since = datetime(2030, 3, 5, 0, 30, tzinfo=ZoneInfo("Europe/Berlin"))  # 4 March in UTC
    criteria = query.replies_criteria(S(["jane@acme.example", "bob@eu.acme.example", "x@other.example"],
                                        ["acme.example"]), since)
    assert criteria == (
        b'SINCE 3-Mar-2030 OR FROM "acme.example" OR HEADER SENDER "acme.example" '
        b'OR HEADER REPLY-TO "acme.example" OR FROM "x@other.example" '
        b'OR HEADER SENDER "x@other.example" HEADER REPLY-TO "x@other.example"')


def test_words_and_draft_ids_are_searched_too():
    search = ReplySearch(senders=("acme.example",), words=("Acme Corp",),
                         message_ids=("<followup.aaaa@alex.example>", "<followup.bbbb@alex.example>"))
    criteria = query.replies_criteria(search, datetime(2030, 1, 1, tzinfo=timezone.utc))
    assert b'FROM "Acme Corp"' in criteria and b'SUBJECT "Acme Corp"' in criteria
    assert b'HEADER REFERENCES "<followup."' in criteria and b'HEADER IN-REPLY-TO "<followup."' in criteria
    assert criteria.count(b"OR") == 8 - 1  # one OR fewer than the 8 terms


def test_a_word_that_cannot_be_quoted_widens_the_search_to_the_day():
    search = ReplySearch(senders=("acme.example",), words=("Société Générale",))
    assert query.replies_criteria(search, datetime(2030, 1, 2, tzinfo=timezone.utc)) == b"SINCE 1-Jan-2030"


@pytest.mark.parametrize("address", ['a"b\\c@acme.example'])
def test_search_values_are_quoted(address):
    assert b'FROM "a\\"b\\\\c@acme.example"' in query.replies_criteria(S([address], []), SINCE)


@pytest.mark.parametrize("address", ["x@acme.example\r\nA1 DELETE INBOX", "x\n@acme.example"])
def test_a_line_break_never_reaches_the_server(address):
    criteria = query.replies_criteria(S([address], []), SINCE)
    assert b"\r" not in criteria and b"\n" not in criteria


def test_non_ascii_senders_are_searched_by_domain():
    assert query.sender_terms(["jürgen@acme.example"], []) == ["acme.example"]
    assert query.sender_terms([], ["bücher.example"]) == ["xn--bcher-kva.example"]


def test_draft_search():
    assert query.draft_criteria("k1", "<m@x>") == (
        b'UNDELETED OR HEADER Message-ID "<m@x>" HEADER X-Followup-Key "k1"')
    assert query.draft_criteria("k\u00e4", None) == b'UNDELETED HEADER X-Followup-Key ""'


# -- folders --------------------------------------------------------------------


def folder(name: str, *flags: bytes, delimiter: str = "/") -> Folder:
    return Folder(name=name, flags=frozenset(flags), delimiter=delimiter)


def test_drafts_folder_by_special_use_first():
    found = [folder("INBOX"), folder("Drafts"), folder("Entwürfe", b"\\Drafts")]
    assert folders.drafts_folder(found, None, "m") == "Entwürfe"


@pytest.mark.parametrize("names, expected", [
    (["INBOX", "INBOX.Drafts"], "INBOX.Drafts"),
    (["INBOX", "[Gmail]/Drafts", "[Gmail]/Sent Mail"], "[Gmail]/Drafts"),
    (["INBOX", "Brouillons"], "Brouillons"),
    (["INBOX", "Projects/Drafts", "Drafts"], "Drafts"),
])
def test_drafts_folder_by_name(names, expected):
    delimiter = "." if any("." in n for n in names) else "/"
    found = [folder(n, delimiter=delimiter) for n in names]
    assert folders.drafts_folder(found, None, "m") == expected


def test_no_drafts_folder_lists_the_folders():
    with pytest.raises(ConnectorError) as exc:
        folders.drafts_folder([folder("INBOX"), folder("Projects/Drafts")], None, "work")
    assert "'INBOX', 'Projects/Drafts'" in str(exc.value) and "set 'drafts'" in str(exc.value)


def test_reply_folders_default_to_inbox_and_all_mail():
    found = [folder("INBOX"), folder("[Gmail]/All Mail", b"\\All"), folder("Archive", b"\\Archive")]
    assert folders.reply_folders(found, None, "m") == ["INBOX", "[Gmail]/All Mail"]
    assert folders.reply_folders(found[::2], None, "m") == ["INBOX", "Archive"]
    assert folders.reply_folders(found[:1], None, "m") == ["INBOX"]
    assert folders.reply_folders(found, ["inbox"], "m") == ["INBOX"]


# -- against Dovecot ------------------------------------------------------------


@pytest.fixture(scope="module")
def server():
    from tests.servers import dovecot

    return dovecot.shared()


@pytest.fixture
def account(server):
    return server.add_user()


@pytest.fixture
def proxy(server):
    from tests.servers.dovecot import ImapProxy

    p = ImapProxy(server.port).start()
    yield p
    p.stop()


@pytest.fixture
def mail(server, account):
    """The user's mail client."""
    client = server.connect(account)
    yield client
    try:
        client.logout()
    except Exception:  # noqa: BLE001 - a test may have stopped the server
        pass


def config(account, port: int, **changes) -> dict:
    return {"host": "127.0.0.1", "port": port, "username": account.user, "tls": "none",
            "password_command": f"echo {account.password}", **changes}


@pytest.fixture
def box(account, proxy, tmp_path):
    b = ImapMailbox("work", config(account, proxy.port), context(tmp_path))
    yield b
    b.close()


def messages(mail, folder: str) -> dict[int, tuple[bytes, set[bytes]]]:
    mail.select_folder(folder, readonly=True)
    uids = mail.search("ALL")
    fetched = mail.fetch(uids, [b"BODY.PEEK[]", b"FLAGS"]) if uids else {}
    return {uid: (e[b"BODY[]"], set(e[b"FLAGS"])) for uid, e in fetched.items()}


def own_drafts(mail) -> list[bytes]:
    return [raw for raw, flags in messages(mail, "Drafts").values()
            if b"X-Followup-Key" in raw and b"\\Deleted" not in flags]


def real_draft():
    return build_draft(
        "0123456789abcdef0123456789abcdef01234567", Recipient("Alex Müller", "alex@example.org"),
        [Recipient("Jane Doe", "jane@acme.example"), Recipient("Zoë Ñandú", "zoe@acme.example")],
        "Thank you – Backend Engineer interview", "Hi Jane,\n\nthank you.\n\nAlex\n",
        domain="example.org", date=datetime(2030, 3, 12, 16, 0, tzinfo=timezone.utc),
        html="<p>Hi Jane,</p><p>thank you.</p>")


def test_stored_draft_has_exactly_the_headers_written(box, mail):
    draft = real_draft()
    box.create_draft(draft)
    (raw,) = own_drafts(mail)
    assert raw == draft.raw  # stored byte for byte
    stored = email.message_from_bytes(raw, policy=email.policy.strict)
    written = email.message_from_bytes(draft.raw, policy=email.policy.strict)
    assert stored.items() == written.items()
    assert [k for k, _ in stored.items()] == [
        "From", "To", "Subject", "Date", "Message-ID", "MIME-Version", "X-Followup-Key", "Content-Type"]
    assert str(stored["Subject"]) == "Thank you – Backend Engineer interview"
    (flags,) = [f for raw_, f in messages(mail, "Drafts").values() if raw_ == raw]
    assert {b"\\Draft", b"\\Seen"} <= flags


def test_check_names_the_folders(box):
    assert box.check() == "drafts in 'Drafts', replies from INBOX, Archive"


def test_configured_folders(account, proxy, tmp_path, mail):
    mail.create_folder("Entwürfe")
    b = ImapMailbox("work", config(account, proxy.port, drafts="Entwürfe", reply_folders=["INBOX"]),
                    context(tmp_path))
    try:
        assert b.check() == "drafts in 'Entwürfe', replies from INBOX"
        b.create_draft(samples.draft())
        assert len(messages(mail, "Entwürfe")) == 1
    finally:
        b.close()


@pytest.mark.parametrize("changes, words", [
    ({"drafts": "Brouillons"}, "the drafts folder 'Brouillons' does not exist"),
    ({"reply_folders": ["INBOX", "Replies"]}, "reply folder(s) 'Replies' do not exist"),
])
def test_missing_folders_are_named_with_those_that_exist(account, proxy, tmp_path, changes, words):
    b = ImapMailbox("work", config(account, proxy.port, **changes), context(tmp_path))
    try:
        with pytest.raises(ConnectorError) as exc:
            b.check()
    finally:
        b.close()
    assert words in str(exc.value)
    assert "'INBOX'" in str(exc.value) and "'Drafts'" in str(exc.value)


# -- commands on the wire ---------------------------------------------------------


def test_command_counts(box, proxy, mail):
    draft = samples.draft()
    box.create_draft(draft)
    # once per connection: greeting and login, the folder list, and the
    # capabilities after login (asked by imapclient)
    assert proxy.commands == ["CAPABILITY", "LOGIN", "LIST", "SELECT", "CAPABILITY", "UID SEARCH",
                              "APPEND", "UID FETCH"]
    proxy.reset()
    box.create_draft(draft)  # already there
    assert proxy.commands == ["NOOP", "UID SEARCH", "UID FETCH"]

    mail.append("INBOX", samples.incoming("Jane <jane@acme.example>", SINCE + timedelta(hours=1)))
    proxy.reset()
    assert len(box.find_replies(S(["jane@acme.example"], ["acme.example"]), SINCE)) == 1
    assert proxy.commands == ["EXAMINE", "UID SEARCH", "UID FETCH", "EXAMINE", "UID SEARCH"]
    fetch = next(line for line in proxy.lines if " FETCH " in line)
    assert "BODY.PEEK[HEADER.FIELDS (FROM SENDER REPLY-TO SUBJECT DATE" in fetch and "BODY[]" not in fetch

    proxy.reset()  # an idle poll: nothing new anywhere
    assert len(box.find_replies(S(["jane@acme.example"], ["acme.example"]), SINCE)) == 1
    assert proxy.commands == ["EXAMINE", "EXAMINE"]

    mail.append("INBOX", samples.incoming("Bob <bob@acme.example>", SINCE + timedelta(hours=2)))
    proxy.reset()  # one new message: only its headers are read
    assert len(box.find_replies(S(["jane@acme.example"], ["acme.example"]), SINCE)) == 2
    assert proxy.commands == ["EXAMINE", "UID SEARCH", "UID FETCH", "EXAMINE"]
    assert proxy.lines[2].split()[3] == "2"  # UID FETCH 2 (...)

    proxy.reset()
    box.delete_draft(box.find_draft(draft.key, draft.message_id))
    assert proxy.commands == ["SELECT", "UID SEARCH", "UID FETCH", "NOOP", "UID FETCH", "UID STORE",
                              "UID EXPUNGE"]
    assert proxy.count("LOGIN") == 0  # one connection for all of it
    assert not any(c in ("EXPUNGE", "STORE", "CLOSE") for c in proxy.commands)


def test_close_logs_out(box, proxy):
    box.check()
    box.close()
    assert proxy.commands[-1] == "LOGOUT"


def test_a_new_reply_is_seen_by_the_kept_connection(box, mail):
    assert box.find_replies(S(["jane@acme.example"], []), SINCE) == []
    mail.append("INBOX", samples.incoming("jane@acme.example", SINCE + timedelta(hours=1)))
    assert len(box.find_replies(S(["jane@acme.example"], []), SINCE)) == 1
    mail.select_folder("INBOX")
    mail.delete_messages(mail.search("ALL"))
    mail.expunge()
    assert box.find_replies(S(["jane@acme.example"], []), SINCE) == []


def test_a_reply_in_inbox_and_archive_counts_once(box, mail):
    raw = samples.incoming("jane@acme.example", SINCE + timedelta(hours=1), message_id="<r1@acme.example>")
    mail.append("INBOX", raw)
    mail.append("Archive", raw)
    mail.append("Archive", samples.incoming("bob@acme.example", SINCE + timedelta(hours=2)))
    replies = box.find_replies(S([], ["acme.example"]), SINCE)
    assert [(r.get("from"), r.ref) for r in replies] == [
        ("jane@acme.example", "<r1@acme.example>"), ("bob@acme.example", replies[1].ref)]
    assert replies[1].ref.startswith("Archive/")


def test_replies_are_not_marked_seen(box, mail):
    mail.append("INBOX", samples.incoming("jane@acme.example", SINCE + timedelta(hours=1)))
    box.find_replies(S(["jane@acme.example"], []), SINCE)
    # not \Seen, and still \Recent: EXAMINE leaves it to the user's client
    assert [flags for _, flags in messages(mail, "INBOX").values()] == [{b"\\Recent"}]


def test_a_crafted_sender_does_not_break_the_session(box, mail):
    mail.append("INBOX", samples.incoming("jane@acme.example", SINCE + timedelta(hours=1)))
    odd = ['x") LOGOUT', "y@acme.example\r\nA1 LOGOUT", "{5}", "ü@ä.example"]
    assert [r.get("from") for r in box.find_replies(S([*odd, "jane@acme.example"], []), SINCE)] == [
        "jane@acme.example"]
    assert box.check()


# -- deleting drafts ---------------------------------------------------------------


def test_another_deleted_message_survives_the_drafts_expunge(box, mail):
    mail.append("Drafts", b"Subject: mine\r\nMessage-ID: <mine@example.org>\r\n\r\nold draft\r\n",
                flags=(b"\\Draft", b"\\Deleted"))
    item = box.create_draft(samples.draft())
    box.delete_draft(item)
    left = messages(mail, "Drafts")
    assert [(b"old draft" in raw, b"\\Deleted" in flags) for raw, flags in left.values()] == [(True, True)]


def test_without_uidplus_the_draft_stays(box, mail, monkeypatch):
    item = box.create_draft(samples.draft())
    monkeypatch.setattr(ImapMailbox, "_can_expunge_one", lambda self, client: False)
    with pytest.raises(ConnectorError) as exc:
        box.delete_draft(item)
    assert "UIDPLUS" in str(exc.value) and "left in place" in str(exc.value)
    assert len(own_drafts(mail)) == 1
    assert [flags for _, flags in messages(mail, "Drafts").values()] == [{b"\\Draft", b"\\Seen"}]


def test_edited_copy_next_to_a_flagged_original_is_a_conflict(box, mail):
    """A client that saves an edit as a new message and only flags the old
    one ``\\Deleted`` (expunging later): the edit wins, nothing is removed."""
    d = samples.draft()
    item = box.create_draft(d)
    (uid,) = messages(mail, "Drafts")
    mail.append("Drafts", d.raw.replace(b"Alex", b"Alex\r\nPS: see you"), flags=(b"\\Draft",))
    mail.select_folder("Drafts")
    mail.add_flags([uid], [b"\\Deleted"])
    with pytest.raises(Conflict):
        box.delete_draft(item)
    assert len(messages(mail, "Drafts")) == 2
    found = box.find_draft(d.key, d.message_id)
    assert found is not None and found.etag != item.etag


def test_a_delete_cut_short_is_finished(box, mail):
    item = box.create_draft(samples.draft())
    (uid,) = messages(mail, "Drafts")
    mail.select_folder("Drafts")
    mail.add_flags([uid], [b"\\Deleted"])  # flagged, then the connection was lost
    box.delete_draft(item)
    assert messages(mail, "Drafts") == {}


def test_a_draft_flagged_deleted_is_not_found(box, mail):
    d = samples.draft()
    box.create_draft(d)
    (uid,) = messages(mail, "Drafts")
    mail.select_folder("Drafts")
    mail.add_flags([uid], [b"\\Deleted"])
    assert box.find_draft(d.key, d.message_id) is None


# -- failures -----------------------------------------------------------------------


def test_wrong_password(account, proxy, tmp_path):
    b = ImapMailbox("work", config(account, proxy.port, password_command="echo not-it"),
                    context(tmp_path))
    with pytest.raises(AuthError) as exc:
        b.find_replies(S(["jane@acme.example"], []), SINCE)
    message = str(exc.value)
    assert message.startswith("work: 127.0.0.1 refused the login of ") and account.user in message
    assert "Authentication failed" in message and "password_command" in message
    assert "not-it" not in message and account.password not in message


def test_wrong_password_through_followup_check(account, server, tmp_path, capsys):
    from daemon.app import cli

    (tmp_path / "calendar").mkdir()
    (tmp_path / "config.toml").write_text(f"""
[me]
email = "me@example.org"
[state]
path = "state.db"
[[calendars]]
name = "personal"
type = "local"
path = "calendar"
[[mailboxes]]
name = "work"
type = "imap"
host = "127.0.0.1"
port = {server.port}
username = "{account.user}"
tls = "none"
password_command = "echo wrong"
""")
    assert cli.main(["--config", str(tmp_path / "config.toml"), "check"]) == 1
    out = capsys.readouterr().out
    assert "work: FAILED: work: 127.0.0.1 refused the login" in out and "Traceback" not in out


def test_authorize_stores_only_a_password_that_works(account, proxy, tmp_path, monkeypatch):
    import daemon.secrets

    stored = {}
    monkeypatch.setattr(daemon.secrets, "store", lambda name, value: stored.update({name: value}))
    cfg = {k: v for k, v in config(account, proxy.port).items() if k != "password_command"}
    monkeypatch.setattr(daemon.secrets, "ask", lambda name: "typo")
    with pytest.raises(AuthError):
        ImapMailbox("work", cfg, context(tmp_path)).authorize()
    assert stored == {}
    monkeypatch.setattr(daemon.secrets, "ask", lambda name: account.password)
    b = ImapMailbox("work", cfg, context(tmp_path))
    try:
        assert b.authorize().startswith("work: password stored in the keyring (drafts in 'Drafts'")
    finally:
        b.close()
    assert stored == {"work": account.password}


def test_closed_port_is_transient(account, tmp_path):
    from tests.servers.common import free_port

    b = ImapMailbox("work", config(account, free_port()), context(tmp_path))
    with pytest.raises(TransientError) as exc:
        b.create_draft(samples.draft())
    assert "connection refused" in str(exc.value)


def test_tls_against_a_plain_port_is_a_setting_to_fix(account, server, tmp_path):
    b = ImapMailbox("work", {**config(account, server.port), "tls": "ssl"}, context(tmp_path))
    with pytest.raises(ConnectorError) as exc:
        b.check()
    assert not isinstance(exc.value, TransientError) and "check 'port' and 'tls'" in str(exc.value)


def test_starttls_is_required_when_asked_for(account, server, tmp_path):
    b = ImapMailbox("work", {**config(account, server.port), "tls": "starttls"}, context(tmp_path))
    with pytest.raises(ConnectorError) as exc:
        b.check()
    assert "does not offer STARTTLS" in str(exc.value)


class FakeServer:
    """A scripted IMAP server on loopback, for answers Dovecot does not give.

    ``answers`` maps a command name to its replies, used in turn (the last
    one again and again; ``{tag}`` is the command's tag). The connection
    ends after a reply starting with ``* BYE``; only one is accepted.
    """

    def __init__(self, greeting: bytes, answers: dict[bytes, list[bytes]], tls=None):
        import socket
        import threading

        self.listener = socket.socket()
        self.listener.bind(("127.0.0.1", 0))
        self.listener.listen(1)
        self.port = self.listener.getsockname()[1]
        self.greeting, self.answers, self.tls = greeting, answers, tls
        threading.Thread(target=self.serve, daemon=True).start()

    def serve(self) -> None:
        conn, _ = self.listener.accept()
        self.listener.close()
        if self.tls is not None:
            try:
                conn = self.tls.wrap_socket(conn, server_side=True)
            except OSError:  # the client refused the certificate
                conn.close()
                return
        with conn:
            conn.sendall(self.greeting)
            if self.greeting.startswith(b"* BYE"):
                return
            for line in conn.makefile("rb"):
                tag, name = line.split()[:2]
                replies = self.answers.get(name.upper(), [b"{tag} BAD unknown\r\n"])
                answer = replies.pop(0) if len(replies) > 1 else replies[0]
                conn.sendall(answer.replace(b"{tag}", tag))
                if answer.startswith(b"* BYE"):
                    return


def capability(*extra: bytes) -> bytes:
    return b"* CAPABILITY IMAP4rev1 AUTH=PLAIN " + b" ".join(extra) + b"\r\n{tag} OK done\r\n"


GREETING = b"* OK fake ready\r\n"
LOGGED_IN = b"{tag} OK Logged in\r\n"


@pytest.mark.parametrize("greeting, answers, words", [
    (b"* BYE Too many connections\r\n", {}, "turned the connection away: * BYE Too many connections"),
    (GREETING, {b"CAPABILITY": [capability()], b"LOGIN": [b"{tag} NO [UNAVAILABLE] Try later\r\n"]},
     "cannot log in 'alex' right now: [UNAVAILABLE] Try later"),
    (GREETING, {b"CAPABILITY": [capability()], b"LOGIN": [LOGGED_IN], b"LIST": [b"* BYE Shutting down\r\n"]},
     "unreachable: connection refused"),  # lost after login, and no new connection
])
def test_busy_or_leaving_servers_are_transient(tmp_path, greeting, answers, words):
    fake = FakeServer(greeting, answers)
    b = ImapMailbox("work", {"host": "127.0.0.1", "port": fake.port, "username": "alex", "tls": "none",
                             "password_command": "echo pw"}, context(tmp_path))
    with pytest.raises(TransientError) as exc:
        b.check()
    assert words in str(exc.value)


def test_login_disabled_in_plaintext(tmp_path):
    fake = FakeServer(GREETING, {b"CAPABILITY": [capability(b"LOGINDISABLED", b"STARTTLS")]})
    b = ImapMailbox("work", {"host": "127.0.0.1", "port": fake.port, "username": "alex", "tls": "none",
                             "password_command": "echo pw"}, context(tmp_path))
    with pytest.raises(ConnectorError) as exc:
        b.check()
    assert "refuses passwords on an unencrypted connection" in str(exc.value)


def test_an_unverifiable_certificate_is_refused(tmp_path):
    import shutil
    import ssl
    import subprocess

    if shutil.which("openssl") is None:
        pytest.skip("needs openssl to make a certificate")
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
                    "-subj", "/CN=127.0.0.1", "-keyout", str(key), "-out", str(cert)],
                   check=True, capture_output=True)
    tls = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    tls.load_cert_chain(cert, key)
    fake = FakeServer(GREETING, {b"CAPABILITY": [capability()]}, tls=tls)
    b = ImapMailbox("work", {"host": "127.0.0.1", "port": fake.port, "username": "alex",
                             "password_command": "echo pw"}, context(tmp_path))
    with pytest.raises(ConnectorError) as exc:
        b.check()
    assert not isinstance(exc.value, TransientError)
    assert "the certificate of 127.0.0.1 could not be verified (self-signed certificate)" in str(exc.value)


def test_a_dropped_connection_is_reopened_once(box, proxy):
    box.check()
    proxy.drop_connections()
    assert box.find_replies(S(["jane@acme.example"], []), SINCE) == []
    assert proxy.count("LOGIN") == 2


def test_lost_answer_to_append_makes_no_second_draft(box, proxy, mail):
    box.check()
    proxy.cut_after("APPEND")  # stored, but the answer never arrives
    d = samples.draft()
    item = box.create_draft(d)  # reconnects and finds it
    assert len(own_drafts(mail)) == 1
    assert box.find_draft(d.key, d.message_id) == item


def test_server_gone_mid_call_then_back(box, proxy, mail):
    box.check()
    proxy.cut_after("APPEND", refuse=True)
    d = samples.draft()
    with pytest.raises(TransientError) as exc:
        box.create_draft(d)
    assert "unreachable: connection refused" in str(exc.value)
    proxy.start()
    item = box.find_draft(d.key, d.message_id)  # what the core asks after an unknown outcome
    assert item is not None
    assert box.create_draft(d) == item
    assert len(own_drafts(mail)) == 1


def test_dovecot_restart(server, account, tmp_path):
    b = ImapMailbox("work", config(account, server.port), context(tmp_path))
    try:
        b.check()
        server.stop()
        with pytest.raises(TransientError):
            b.find_replies(S(["jane@acme.example"], []), SINCE)
        server.start()
        assert b.find_replies(S(["jane@acme.example"], []), SINCE) == []
    finally:
        server.start()
        b.close()


# -- through the engine --------------------------------------------------------------

NY = ZoneInfo("America/New_York")
START = datetime(2026, 11, 16, 14, 0, tzinfo=NY)  # a Monday
ME = "me@example.org"


def interview(uid: str) -> bytes:
    from tests.e2e.world import ics_event

    return ics_event(uid, "Phone Screen - Acme Corp", START, organizer=("Jane Doe", "jane@acme.example"),
                     attendees=[("Jane Doe", "jane@acme.example", "ACCEPTED"),
                                ("Alex Morgan", ME, "ACCEPTED")])


def engine(tmp_path: Path, mailboxes: list[dict], calendars: list[dict]):
    from daemon.app.engine import Engine

    data = {"me": {"name": "Alex Morgan", "email": ME, "timezone": "America/New_York", "country": "US"},
            "state": {"path": str(tmp_path / "state.sqlite3")},
            "calendars": calendars, "mailboxes": mailboxes}
    return Engine(from_dict(data, source=tmp_path / "config.toml", base_dir=tmp_path))


def calendar(tmp_path: Path, name: str, mailbox: str) -> dict:
    folder = tmp_path / name
    folder.mkdir()
    (folder / "interview.ics").write_bytes(interview(f"{name}-1@example.org"))
    return {"name": name, "type": "local", "path": str(folder), "mailbox": mailbox}


def test_wrong_password_stops_only_that_mailbox(account, server, tmp_path, mail):
    maildir = tmp_path / "Mail" / "Drafts"
    e = engine(tmp_path,
               [{"name": "work", "type": "imap", **config(account, server.port, password_command="echo wrong")},
                {"name": "home", "type": "maildir", "drafts": str(maildir)}],
               [calendar(tmp_path, "job", "work"), calendar(tmp_path, "personal", "home")])
    try:
        report = e.run_pass(START + timedelta(hours=2, minutes=5), apply=True)
    finally:
        e.close()
    assert "work: 127.0.0.1 refused the login" in report.account_errors["work"]
    assert set(report.account_errors) == {"work"}
    assert len(list((maildir / "cur").iterdir())) == 1  # the other mailbox got its draft
    assert own_drafts(mail) == []


def thank_you_state(tmp_path: Path) -> str | None:
    import sqlite3

    db = sqlite3.connect(tmp_path / "state.sqlite3")
    try:
        row = db.execute("SELECT state FROM actions WHERE kind = 'thank_you_email'").fetchone()
    finally:
        db.close()
    return row[0] if row else None


def test_server_gone_mid_pass_then_no_second_draft(account, proxy, tmp_path, mail):
    e = engine(tmp_path, [{"name": "work", "type": "imap", **config(account, proxy.port)}],
               [calendar(tmp_path, "job", "work")])
    try:
        proxy.cut_after("APPEND", refuse=True)  # stored, then the server is gone
        e.run_pass(START + timedelta(hours=2, minutes=5), apply=True)
        assert len(own_drafts(mail)) == 1
        assert thank_you_state(tmp_path) != "done"  # the answer never arrived
        e.run_pass(START + timedelta(hours=2, minutes=10), apply=True)
        proxy.start()
        for hours in (4, 5):  # past any backoff of the account
            report = e.run_pass(START + timedelta(hours=hours), apply=True)
            assert report.account_errors == {}
        assert len(own_drafts(mail)) == 1
        assert thank_you_state(tmp_path) == "done"
        proxy.reset()  # an idle pass: only the reply search of the pending status check
        e.run_pass(START + timedelta(hours=6), apply=True)
        assert proxy.commands == ["EXAMINE", "EXAMINE"]
    finally:
        e.close()
    (raw,) = own_drafts(mail)
    msg = email.message_from_bytes(raw, policy=email.policy.strict)
    assert msg["To"] == "Jane Doe <jane@acme.example>"


def test_without_uidplus_a_status_check_no_longer_needed_is_left_for_the_user(
        account, server, tmp_path, mail, monkeypatch):
    """Regression: every pass failed to delete it (exit 1 forever) while
    status showed the cancelled status check as "due now"."""
    e = engine(tmp_path, [{"name": "work", "type": "imap", **config(account, server.port)}],
               [calendar(tmp_path, "job", "work")])
    try:
        e.run_pass(START + timedelta(hours=2, minutes=5), apply=True)  # the thank-you
        e.run_pass(START + timedelta(days=16), apply=True)  # the status check
        assert len(own_drafts(mail)) == 2
        mail.append("INBOX", (f"From: Jane Doe <jane@acme.example>\r\nTo: {ME}\r\n"
                              "Subject: Next steps\r\nMessage-ID: <answer@acme.example>\r\n"
                              "Date: Tue, 01 Dec 2026 10:00:00 -0500\r\n\r\nWe would like to "
                              "invite you to a second round.\r\n").encode())
        monkeypatch.setattr(ImapMailbox, "_can_expunge_one", lambda self, client: False)
        report = e.run_pass(START + timedelta(days=16, hours=1), apply=True)
        assert report.applied.failed == [] and report.account_errors == {}
        records = e.state.records().values()
        (status,) = [r for r in records if r.kind == "status_check_email"]
        assert status.state == "done" and status.user_changed
        assert "left for you to delete" in status.reason and "UIDPLUS" in status.reason
        again = e.run_pass(START + timedelta(days=16, hours=2), apply=True)
        assert [a for a in again.plan.actions if a.op != "record"] == []
        assert len(own_drafts(mail)) == 2  # the draft is where it was
    finally:
        e.close()


def test_a_message_that_only_shares_the_drafts_message_id_is_not_taken_over(box, mail):
    """Regression: a message not written by followup but with one of its
    Message-IDs was taken over as its draft."""
    d = samples.draft()
    mail.append("Drafts", (f"Subject: mine\r\nMessage-ID: {d.message_id}\r\n\r\nmy own text\r\n").encode(),
                flags=(b"\\Draft",))
    assert box.find_draft(d.key, d.message_id) is None
    with pytest.raises(Conflict, match="without followup's marker"):
        box.create_draft(d)
    assert own_drafts(mail) == [] and len(messages(mail, "Drafts")) == 1


@pytest.mark.parametrize("client_keeps", ["marker", "message-id"])
def test_a_draft_the_user_sent_is_not_written_again_after_the_state_is_lost(
        account, server, tmp_path, mail, client_keeps):
    """Regression: after the state database was lost, a thank-you the user
    had already sent was drafted again."""
    accounts = ([{"name": "work", "type": "imap", **config(account, server.port)}],
                [calendar(tmp_path, "job", "work")])
    e = engine(tmp_path, *accounts)
    try:
        e.run_pass(START + timedelta(hours=2, minutes=5), apply=True)
    finally:
        e.close()
    (draft,) = own_drafts(mail)
    # the user sends it: the client stores the sent copy (its own way) and removes the draft
    sent = draft if client_keeps == "marker" else re.sub(rb"(?im)^X-Followup-Key:[^\r\n]*\r\n", b"", draft)
    mail.append("Sent", sent, flags=(b"\\Seen",))
    mail.select_folder("Drafts")
    mail.delete_messages(mail.search("ALL"))
    mail.expunge()
    for path in tmp_path.glob("state.sqlite3*"):
        path.unlink()
    e = engine(tmp_path, *accounts)
    try:
        report = e.run_pass(START + timedelta(hours=3), apply=True)
        assert report.applied.failed == []
        (thanks,) = [r for r in e.state.records().values() if r.kind == "thank_you_email"]
        assert thanks.state == "done" and "already sent by you" in thanks.reason
    finally:
        e.close()
    assert own_drafts(mail) == []
