"""Follow-up texts: loading the default or user templates and filling them in.

A template file is UTF-8 text: the first line is ``Subject: ...``, then a
blank line, then the body. For the two emails the subject is the email's
subject; for the call script and the handwritten note it is the title of the
calendar event.

Filling in is deliberately dumb: only ``{name}`` with a name from
:func:`known_placeholders` is replaced, by plain string replacement, in one
pass. Values are never scanned again, so text that comes from a calendar
event (``{company}``, ``{0.__class__}``, ``${HOME}``, ``%(x)s`` ...) stays
exactly as written. Anything else in braces stays literal too.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from daemon.errors import ConfigError
from daemon.kinds import Kind

TEMPLATE_NAMES = tuple(kind.template for kind in Kind)

PLACEHOLDERS = (
    "interviewer_name",  # the caller falls back to e.g. "Hiring team"
    "greeting_name",  # how to address them: first names (or full, by config)
    "my_name",
    "position",
    "company",
    "interview_date",  # a human date
    "signature",  # falls back to my_name when empty
    "phone",  # may be empty
    "interview_title",
)

_PLACEHOLDER = re.compile(r"\{([a-z_]+)\}")
_SUBJECT = re.compile(r"subject:", re.IGNORECASE)


def known_placeholders() -> frozenset[str]:
    """Return the names that may appear as ``{name}`` in a template."""
    return frozenset(PLACEHOLDERS)


@dataclass(frozen=True)
class Template:
    """A parsed template: the subject line and the body, both unfilled."""

    name: str
    subject: str
    body: str
    source: str = ""  # the file it was read from, for messages

    def render(self, values: dict[str, str]) -> tuple[str, str]:
        """Fill in the placeholders and return ``(subject, body)``.

        Known placeholders missing from ``values`` count as empty, and an
        empty ``signature`` falls back to ``my_name``. A body line whose
        placeholders all came out empty (``Phone: {phone}`` without a phone
        number) is left out. The subject's whitespace is collapsed to single
        spaces.
        """
        filled = {name: str(values.get(name) or "") for name in PLACEHOLDERS}
        if not filled["signature"].strip():
            filled["signature"] = filled["my_name"]
        subject = " ".join(_fill(self.subject, filled).split())
        lines = []
        for line in self.body.split("\n"):
            names = [m.group(1) for m in _PLACEHOLDER.finditer(line)]
            used = [n for n in names if n in filled]
            if used and len(used) == len(names) and not any(filled[n].strip() for n in used):
                continue
            lines.append(_fill(line, filled))
        return subject, "\n".join(lines)


def _fill(text: str, filled: dict[str, str]) -> str:
    """Replace each known ``{name}`` in one pass; leave everything else."""

    def replace(match: re.Match[str]) -> str:
        return filled.get(match.group(1), match.group(0))

    return _PLACEHOLDER.sub(replace, text)


def parse_template(name: str, text: str, source: str) -> Template:
    """Split a template file's text into subject and body.

    Raises ``ConfigError`` naming ``source`` when the first line is not a
    non-empty ``Subject:`` line.
    """
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    first, _, rest = text.partition("\n")
    if not _SUBJECT.match(first):
        raise ConfigError(f"{source}: the first line must be 'Subject: ...'")
    subject = first[len("subject:"):].strip()
    if not subject:
        raise ConfigError(f"{source}: the Subject line is empty")
    body = rest.lstrip("\n").rstrip() + "\n"
    return Template(name=name, subject=subject, body=body, source=source)


#: languages with default templates of their own (English is the top folder)
LANGUAGES = ("en", "de", "fr", "es", "nl", "it", "pt")


def load_template(name: str, templates_dir: Path | None, language: str = "en") -> Template:
    """Load template ``name`` (one of ``TEMPLATE_NAMES``) for ``language``.

    Looked for in this order: the user's ``templates_dir/<language>/<name>.txt``,
    the user's ``templates_dir/<name>.txt`` (their own text, for every
    language), the default for the language, the English default. A user
    file that cannot be read or has no Subject line raises ``ConfigError``
    naming the file.
    """
    name = name.removesuffix(".txt")
    if name not in TEMPLATE_NAMES:
        raise ValueError(f"unknown template {name!r}; expected one of {', '.join(TEMPLATE_NAMES)}")
    filename = f"{name}.txt"
    folder = "" if language == "en" or language not in LANGUAGES else f"{language}/"
    if templates_dir is not None:
        templates_dir = Path(templates_dir)
        if not templates_dir.is_dir():
            raise ConfigError(f"{templates_dir}: templates folder not found")
        for path in (templates_dir / language / filename, templates_dir / filename):
            if path.exists() or path.is_symlink():
                try:
                    text = path.read_text(encoding="utf-8-sig")
                except (OSError, UnicodeDecodeError) as e:
                    raise ConfigError(f"{path}: cannot read template: {e}") from None
                return parse_template(name, text, str(path))
    default = resources.files("daemon") / "templates" / f"{folder}{filename}"
    return parse_template(name, default.read_text(encoding="utf-8"), f"default {folder}{filename}")


def render_html(body: str) -> str:
    """Return ``body`` as an HTML fragment: every character escaped and
    each line break turned into ``<br>``."""
    return "<br>\n".join(html.escape(line, quote=True) for line in body.splitlines()) + "\n"
