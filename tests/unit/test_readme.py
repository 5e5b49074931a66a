"""The configuration snippets in the README are valid configuration."""

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
