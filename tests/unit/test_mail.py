"""Draft messages: header hygiene, determinism and parse-back."""

from __future__ import annotations

import email
from datetime import datetime, timezone
from email import policy
from email.header import decode_header, make_header

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from daemon.drafts.mail import (
    MAX_HEADER_CHARS,
    MAX_NAME_CHARS,
    build_draft,
    clean_address,
    clean_header,
    message_id,
)
from daemon.drafts.templates import render_html
from daemon.model import Recipient

DATE = datetime(2025, 3, 4, 15, 30, tzinfo=timezone.utc)
ME = Recipient("Sam Lee", "sam@example.com")
BASE_HEADERS = {"from", "subject", "date", "message-id", "mime-version", "x-followup-key", "content-type"}

HOSTILE = [
    "Thanks\r\nBcc: evil@x",
    "Thanks\nX-Injected: 1",
    "Thanks\rX-Injected: 1",
    "a\u2028Bcc: evil@x",
    "a\u2029Bcc: evil@x",
    "a\u0085Bcc: evil@x",
    "a\x00b\x1bc\x7fd\x9be",
    "=?utf-8?q?Bcc=3A_evil=40x=0D=0AX-Injected=3A_1?=",
    "=?utf-8?b?DQpCY2M6IGV2aWxAeA==?=",
    "==??utf-8?q?x?=",
    "=\n?utf-8?q?x?=",
    "x" * 5000,
    "Zoë Ünal",
    "山田太郎",
    'Lee, "Sam" <sam@evil>; (x)',
    "\\\"quoted\\\"",
    "",
    "   ",
]


def build(subject="Thank you", to=(Recipient("Dana Reyes", "dana@acme.example"),), html=None, key="k1", sender=ME):
    return build_draft(key, sender, list(to), subject, "Hello,\nthanks.\n", domain="example.com", date=DATE, html=html)


def parse(raw: bytes):
    msg = email.message_from_bytes(raw, policy=policy.strict)
    for name, value in msg.items():
        assert not getattr(value, "defects", ()), (name, value.defects)
    return msg


def content(part) -> str:
    return part.get_content().replace("\r\n", "\n")


def name(value: str) -> str:
    """What a display name becomes in the message."""
    return clean_header(value)[:MAX_NAME_CHARS].strip()


def header_names(msg) -> list[str]:
    return [k.lower() for k in msg.keys()]


def expected_headers(with_to: bool, multipart: bool) -> set[str]:
    names = set(BASE_HEADERS)
    if with_to:
        names.add("to")
    if not multipart:
        names.add("content-transfer-encoding")
    return names


def assert_exact_headers(msg, with_to: bool, multipart: bool = False):
    names = header_names(msg)
    assert len(names) == len(set(names)), names
    assert set(names) == expected_headers(with_to, multipart)


# clean_header ---------------------------------------------------------------


@pytest.mark.parametrize("value", HOSTILE)
def test_clean_header_removes_breaks_and_encoded_words(value):
    out = clean_header(value)
    assert "=?" not in out
    assert len(out) <= MAX_HEADER_CHARS
    assert out == out.strip()
    assert "  " not in out
    for ch in out:
        assert ord(ch) >= 0x20 and not 0x7F <= ord(ch) <= 0x9F
        assert ch not in "\u2028\u2029"


def test_clean_header_examples():
    assert clean_header("Thanks\r\nBcc: evil@x") == "Thanks Bcc: evil@x"
    assert clean_header("==??=?x") == "x"
    assert clean_header("  a \t b  ") == "a b"
    assert clean_header("Zoë Ünal") == "Zoë Ünal"
    assert clean_header("x" * 500) == "x" * MAX_HEADER_CHARS


# clean_address --------------------------------------------------------------


@pytest.mark.parametrize(
    "addr, expected",
    [
        ("dana@acme.example", "dana@acme.example"),
        ("  Dana.R+jobs@Acme.Example ", "Dana.R+jobs@acme.example"),
        ("dana@bücher.example", "dana@xn--bcher-kva.example"),
        ("", None),
        ("dana", None),
        ("a@b@c", None),
        ("da na@acme.example", None),
        ("dana@acme.example\r\nBcc: x@y", None),
        ("<dana@acme.example>", None),
        ("dana@acme.example, eve@x.example", None),
        ("dana@acme.example;eve@x.example", None),
        ('"dana"@acme.example', None),
        ("=?utf-8?q?x?=@acme.example", None),
        ("dana@", None),
        ("@acme.example", None),
        ("dana@acme..example", None),
        ("zoë@acme.example", None),
        ("dana@acme.example\u2028", None),
    ],
)
def test_clean_address(addr, expected):
    assert clean_address(addr) == expected


# message_id -----------------------------------------------------------------


def test_message_id_is_deterministic():
    a = message_id("key", "example.com")
    assert a == message_id("key", "example.com")
    assert a.startswith("<followup.") and a.endswith("@example.com>")
    assert len(a.split("@")[0]) == len("<followup.") + 32
    assert a != message_id("other", "example.com")


@pytest.mark.parametrize("domain", ["", "bad domain", "x\r\ny", "a>b", "-x-.com"])
def test_message_id_fallback_domain(domain):
    assert message_id("key", domain).endswith("@interview-followup.invalid>")


# build_draft ----------------------------------------------------------------


def test_plain_draft_headers_and_fields():
    draft = build()
    assert b"\r\n" in draft.raw and b"\n" not in draft.raw.replace(b"\r\n", b"")
    msg = parse(draft.raw)
    assert header_names(msg) == [
        "from", "to", "subject", "date", "message-id", "mime-version",
        "x-followup-key", "content-type", "content-transfer-encoding",
    ]
    assert msg["Subject"] == "Thank you"
    assert msg["Message-ID"] == draft.message_id == message_id("k1", "example.com")
    assert msg["X-Followup-Key"] == "k1"
    assert msg["Date"] == "Tue, 04 Mar 2025 15:30:00 +0000"
    assert msg.get_content_type() == "text/plain"
    assert content(msg) == "Hello,\nthanks.\n"
    assert draft.to == (Recipient("Dana Reyes", "dana@acme.example"),)
    assert draft.subject == "Thank you" and draft.html is None


def test_same_inputs_same_bytes():
    assert build().raw == build().raw
    html = render_html("Hello,\nthanks.")
    assert build(html=html).raw == build(html=html).raw
    assert build(html=html).raw != build(html=html, key="k2").raw


def test_no_recipient_address_means_no_to():
    draft = build(to=[Recipient("Hiring team", None), Recipient("Bad", "not an address")])
    msg = parse(draft.raw)
    assert_exact_headers(msg, with_to=False)
    assert draft.to == ()


def test_duplicate_recipients_once():
    draft = build(to=[Recipient("A", "a@x.example"), Recipient("A again", "A@X.example")])
    assert [r.email for r in draft.to] == ["a@x.example"]


def test_sender_without_address_is_rejected():
    with pytest.raises(ValueError):
        build(sender=Recipient("Sam", None))


def test_html_alternative():
    html = render_html("Hi <script>alert(1)</script>\nbye")
    draft = build(html=html)
    msg = parse(draft.raw)
    assert_exact_headers(msg, with_to=True, multipart=True)
    assert msg.get_content_type() == "multipart/alternative"
    plain, rich = list(msg.iter_parts())
    assert plain.get_content_type() == "text/plain"
    assert rich.get_content_type() == "text/html"
    assert "<script>" not in content(rich)
    assert "&lt;script&gt;" in content(rich)
    assert content(plain) == "Hello,\nthanks.\n"
    assert b"<script>" not in draft.raw


def test_boundary_is_not_in_content():
    draft = build(html=render_html("x"))
    boundary = parse(draft.raw).get_boundary()
    text = f"--{boundary}\nContent-Type: text/html\n\n<b>injected</b>\n"
    hostile = build_draft("k1", ME, [], "s", text, domain="example.com", date=DATE, html="<p>x</p>")
    parts = list(parse(hostile.raw).iter_parts())
    assert len(parts) == 2
    assert content(parts[0]) == text


@pytest.mark.parametrize("value", HOSTILE)
def test_hostile_subject(value):
    draft = build(subject=value)
    msg = parse(draft.raw)
    assert_exact_headers(msg, with_to=True)
    assert msg["Subject"] == clean_header(value) == draft.subject


@pytest.mark.parametrize("value", HOSTILE)
def test_hostile_recipient_and_sender_names(value):
    to = [Recipient(value, "dana@acme.example"), Recipient(value, "eve@acme.example")]
    draft = build(to=to, sender=Recipient(value, "sam@example.com"), html=render_html(value))
    msg = parse(draft.raw)
    assert_exact_headers(msg, with_to=True, multipart=True)
    parsed = [(a.display_name, a.addr_spec) for a in msg["To"].addresses]
    assert parsed == [(name(value), "dana@acme.example"), (name(value), "eve@acme.example")]
    assert [(r.name, r.email) for r in draft.to] == parsed
    (sender,) = msg["From"].addresses
    assert (sender.display_name, sender.addr_spec) == (name(value), "sam@example.com")


@pytest.mark.parametrize("value", HOSTILE)
def test_hostile_key(value):
    draft = build(key=value or "k")
    msg = parse(draft.raw)
    assert_exact_headers(msg, with_to=True)
    assert msg["X-Followup-Key"] == clean_header(value or "k")


def test_non_ascii_round_trip():
    draft = build(subject="Danke, Zoë Ünal — 山田太郎", to=[Recipient("山田太郎", "taro@example.jp")])
    assert draft.raw.isascii()
    msg = parse(draft.raw)
    assert msg["Subject"] == "Danke, Zoë Ünal — 山田太郎"
    assert msg["To"].addresses[0].display_name == "山田太郎"


@pytest.mark.parametrize("value", ["Zoë Ünal " * 8, "山田太郎" * 25, "0" + "\U00010000" * 20])
def test_long_non_ascii_name_is_one_encoded_word(value):
    """A name split into several encoded words reads differently in RFC 2047
    readers (which drop the space between them) and in Python's parser (which
    keeps it), so each display name stays one encoded word."""
    draft = build(to=[Recipient(value, "dana@acme.example"), Recipient("Zoë Ünal", "z@acme.example")])
    to_value = parse(draft.raw)["To"]
    assert [a.display_name for a in to_value.addresses] == [name(value), "Zoë Ünal"]
    raw_to = draft.raw.split(b"\r\nTo: ", 1)[1].split(b"\r\nSubject:", 1)[0].decode()
    first, second = raw_to.split(",\r\n ")
    encoded = first.rsplit(" <", 1)[0]
    assert encoded.count("=?") == 1
    assert str(make_header(decode_header(encoded))) == name(value)


def test_several_recipients_one_per_line_when_long():
    to = [Recipient(f"Person {i}", f"p{i}@acme.example") for i in range(5)]
    draft = build(to=to)
    msg = parse(draft.raw)
    assert [a.addr_spec for a in msg["To"].addresses] == [f"p{i}@acme.example" for i in range(5)]
    assert all(len(line) <= 78 for line in draft.raw.split(b"\r\n\r\n")[0].split(b"\r\n"))


def test_non_ascii_body_is_quoted_printable():
    draft = build_draft("k", ME, [], "s", "Grüße\n", domain="example.com", date=DATE)
    assert draft.raw.isascii()
    assert b"quoted-printable" in draft.raw
    assert content(parse(draft.raw)) == "Grüße\n"


header_text = st.text(max_size=300) | st.text(st.characters(max_codepoint=0x7F), max_size=300) | st.text(
    st.sampled_from(list(" \t\r\n=?\"',;<>@()\\:aZ0éÜ山\u2028\u0085\x00\x7f")), max_size=300
)


@settings(max_examples=300, deadline=None)
@given(subject=header_text, to_name=header_text, from_name=header_text, key=header_text.filter(bool),
       with_html=st.booleans())
def test_any_text_gives_exactly_the_expected_headers(subject, to_name, from_name, key, with_html):
    html = render_html(subject) if with_html else None
    draft = build_draft(
        key, Recipient(from_name, "sam@example.com"), [Recipient(to_name, "dana@acme.example")],
        subject, "body\n", domain="example.com", date=DATE, html=html,
    )
    msg = parse(draft.raw)
    assert_exact_headers(msg, with_to=True, multipart=with_html)
    assert msg["Subject"] == clean_header(subject)
    assert msg["X-Followup-Key"] == clean_header(key)
    (to,) = msg["To"].addresses
    assert (to.display_name, to.addr_spec) == (name(to_name), "dana@acme.example")
    (sender,) = msg["From"].addresses
    assert (sender.display_name, sender.addr_spec) == (name(from_name), "sam@example.com")
    assert all(len(line) <= 998 for line in draft.raw.split(b"\r\n"))
