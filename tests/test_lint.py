"""The linter configured in pyproject.toml ([tool.ruff]) passes on the
whole tree: unused imports, undefined names, style errors."""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from pathlib import Path

from tests.servers.common import require_or_skip

ROOT = Path(__file__).resolve().parents[1]


def test_the_tree_passes_ruff():
    if importlib.util.find_spec("ruff") is None:
        require_or_skip("ruff", "pip install -e '.[test]'")
    done = subprocess.run([sys.executable, "-m", "ruff", "check", "--no-cache", str(ROOT)],
                          capture_output=True, text=True, cwd=ROOT, timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr
