"""The configuration snippets in the README are valid configuration."""

import json
import re
import tomllib
from pathlib import Path

import pytest

from daemon.app import config

README = Path(__file__).resolve().parents[2] / "README.md"
BLOCKS = re.findall(r"```toml\n(.*?)```", README.read_text(), re.S)


@pytest.mark.parametrize("block", BLOCKS, ids=[f"block{i}" for i in range(len(BLOCKS))])
def test_readme_config_snippet_is_valid(block, tmp_path):
    data = tomllib.loads(block)
    data.setdefault("me", {"email": "me@example.org"})
    data.setdefault("state", {"path": str(tmp_path / "s.db")})
    if "calendars" not in data:
        (tmp_path / "cal").mkdir()
        data["calendars"] = [{"name": "local", "type": "local", "path": str(tmp_path / "cal")}]
    config.from_dict(data, source=tmp_path / "config.toml", base_dir=tmp_path)


def test_there_are_snippets():
    assert len(BLOCKS) >= 5


def connector_keys() -> str:
    """The README's reference of every connector's keys, made from the
    ``Option`` declarations (the one place they are written)."""
    from daemon import registry

    lines = ["| `type` | key | |", "| --- | --- | --- |"]
    for kind, table in (("calendars", registry.CALENDAR_TYPES), ("mailboxes", registry.MAILBOX_TYPES)):
        find = registry.calendar_class if kind == "calendars" else registry.mailbox_class
        for type_name in table:
            for key, option in find(type_name).options.items():
                need = "required" if option.required else (
                    f"default `{json.dumps(option.default)}`" if option.default not in (None, [], "")
                    else "optional")
                lines.append(f"| `[[{kind}]]` `{type_name}` | `{key}` | {need}: {option.help} |")
    return "\n".join(lines) + "\n"


def test_the_readme_lists_every_connector_key_as_declared():
    expected = connector_keys()
    assert expected in README.read_text(), "README's key reference is out of date; it should read:\n" + expected
