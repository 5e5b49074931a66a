"""Templates: defaults, user overrides and safe filling-in."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from daemon.drafts.templates import (
    TEMPLATE_NAMES,
    Template,
    known_placeholders,
    load_template,
    render_html,
)
from daemon.errors import ConfigError

VALUES = {
    "interviewer_name": "Dana Reyes",
    "greeting_name": "Dana",
    "my_name": "Sam Lee",
    "position": "Data Engineer",
    "company": "Acme Corp",
    "interview_date": "Tuesday, 4 March 2025",
    "signature": "Sam Lee\n+1 555 0100",
    "phone": "+1 555 0199",
    "interview_title": "Interview: Data Engineer",
}

INJECTIONS = [
    "{0.__class__}",
    "{my_name.__init__}",
    "${HOME}",
    "{{7*7}}",
    "%(x)s",
    "{company}",
    "{interviewer_name!r}",
    "{position:>100}",
    "{__import__('os').system('id')}",
]


def _known_left(text: str) -> list[str]:
    return [n for n in re.findall(r"\{([a-z_]+)\}", text) if n in known_placeholders()]


def test_known_placeholders():
    assert known_placeholders() == {
        "interviewer_name", "greeting_name", "my_name", "position", "company",
        "interview_date", "signature", "phone", "interview_title",
    }


@pytest.mark.parametrize("name", TEMPLATE_NAMES)
def test_default_renders_every_placeholder(name):
    subject, body = load_template(name, None).render(VALUES)
    assert subject and body.strip()
    assert not _known_left(subject) and not _known_left(body)
    assert "{" not in subject + body and "}" not in subject + body
    assert "\n" not in subject


@pytest.mark.parametrize("name", TEMPLATE_NAMES)
def test_default_files_have_subject_blank_line_body(name):
    template = load_template(name, None)
    assert template.subject
    assert set(re.findall(r"\{([a-z_]+)\}", template.subject + template.body)) <= known_placeholders()


@pytest.mark.parametrize("name", ["thank_you", "handwritten_note"])
def test_topic_reminder_is_kept(name):
    _, body = load_template(name, None).render(VALUES)
    assert "[specific topic you discussed]" in body


def test_thank_you_structure():
    subject, body = load_template("thank_you", None).render(VALUES)
    assert subject == "Thank you for the interview on Tuesday, 4 March 2025"
    assert "Data Engineer" in body
    assert body.startswith("Dear Dana,")
    assert "Acme Corp" in body
    assert body.rstrip().endswith("Sam Lee\n+1 555 0100")


def test_call_script_phone_line_only_when_known():
    template = load_template("follow_up_call", None)
    _, with_phone = template.render(VALUES)
    assert "+1 555 0199" in with_phone
    assert "One call is enough" in with_phone
    _, without = template.render({**VALUES, "phone": ""})
    assert "Phone" not in without
    assert "One call is enough" in without


def test_status_check_mentions_company():
    subject, body = load_template("status_check", None).render(VALUES)
    assert "Data Engineer" in subject
    assert "joining Acme Corp" in body


def test_signature_falls_back_to_name():
    _, body = load_template("thank_you", None).render({**VALUES, "signature": ""})
    assert body.rstrip().endswith("Best regards,\nSam Lee")


def test_missing_values_are_empty():
    template = Template("t", "Hi {company}", "A {position} B {my_name}\nPhone: {phone}\nend\n")
    assert template.render({"my_name": "Sam"}) == ("Hi", "A  B Sam\nend\n")


@pytest.mark.parametrize("evil", INJECTIONS)
def test_values_are_never_rescanned(evil):
    template = Template("t", "{position} at {company}", "{interviewer_name} / {my_name}\n")
    values = {k: evil for k in VALUES}
    subject, body = template.render(values)
    assert subject == " ".join(f"{evil} at {evil}".split())
    assert body == f"{evil} / {evil}\n"


@pytest.mark.parametrize("evil", INJECTIONS[:5] + ["{foo}", "{Company}", "{ company }"])
def test_unknown_braces_in_template_stay_literal(evil):
    template = Template("t", "S " + evil, evil + " {company} {{company}}\n")
    subject, body = template.render({"company": "Acme"})
    assert subject == "S " + evil
    assert body == evil + " Acme {Acme}\n"


def test_override_replaces_default(tmp_path: Path):
    (tmp_path / "thank_you.txt").write_text("Subject: Thanks, {interviewer_name}\n\nCheers {company}\n",
                                            encoding="utf-8")
    template = load_template("thank_you", tmp_path)
    assert template.render(VALUES) == ("Thanks, Dana Reyes", "Cheers Acme Corp\n")
    # the other templates still come from the package
    default = load_template("status_check", tmp_path)
    assert default.subject == load_template("status_check", None).subject


def test_override_with_bom_and_crlf(tmp_path: Path):
    (tmp_path / "status_check.txt").write_bytes("\ufeffSubject: Hi\r\n\r\nBody {my_name}\r\n".encode("utf-8"))
    assert load_template("status_check", tmp_path).render(VALUES) == ("Hi", "Body Sam Lee\n")


@pytest.mark.parametrize(
    "content",
    [b"", b"Hello\n\nno subject line\n", b"Subject:\n\nempty subject\n", b"\nSubject: late\n\nbody\n"],
)
def test_override_without_subject_is_config_error(tmp_path: Path, content: bytes):
    path = tmp_path / "handwritten_note.txt"
    path.write_bytes(content)
    with pytest.raises(ConfigError) as info:
        load_template("handwritten_note", tmp_path)
    assert str(path) in str(info.value)


def test_override_not_utf8_is_config_error(tmp_path: Path):
    path = tmp_path / "thank_you.txt"
    path.write_bytes(b"Subject: caf\xe9\n\nbody\n")
    with pytest.raises(ConfigError) as info:
        load_template("thank_you", tmp_path)
    assert str(path) in str(info.value)


def test_override_unreadable_is_config_error(tmp_path: Path):
    path = tmp_path / "follow_up_call.txt"
    path.mkdir()  # a folder where the file should be
    with pytest.raises(ConfigError) as info:
        load_template("follow_up_call", tmp_path)
    assert str(path) in str(info.value)


def test_missing_templates_dir_is_config_error(tmp_path: Path):
    with pytest.raises(ConfigError):
        load_template("thank_you", tmp_path / "nope")


def test_unknown_template_name():
    with pytest.raises(ValueError):
        load_template("../settings", None)


def test_render_html_escapes_everything():
    out = render_html("<script>alert('x')</script> & \"q\"\nline two\r\nthree")
    assert "<script>" not in out
    assert "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt; &amp; &quot;q&quot;" in out
    assert out.count("<br>") == 2
    assert "\r" not in out
