"""Every data file the code reads ships in the wheel: the package-data
patterns in pyproject.toml cover each non-Python file under daemon/ and
connectors/ (an install that is not editable has nothing else)."""

from __future__ import annotations

import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_package_data_covers_every_data_file():
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    patterns = config["tool"]["setuptools"]["package-data"]
    missing = []
    for package in ("daemon", "connectors"):
        base = ROOT / package
        covered = {p for pattern in patterns.get(package, []) for p in base.glob(pattern)}
        for path in base.rglob("*"):
            if (path.is_file() and path.suffix not in (".py", ".pyc") and "__pycache__" not in path.parts
                    and path not in covered):
                missing.append(str(path.relative_to(ROOT)))
    assert not missing, f"not in [tool.setuptools.package-data]: {missing}"
