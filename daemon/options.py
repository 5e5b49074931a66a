"""Checks of single connector options, used where the option is declared
(``Option(check=...)``). Each returns why a value is wrong, in words that
follow the key ("must be ..."), or None when it is right. The same check
runs when the config is loaded (``followup check`` lists every problem with
its key) and when a connector is built from a dict, so an option can never
pass one and fail the other.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any

Check = Callable[[Any], "str | None"]


def text(what: str = "") -> Check:
    """A string with something in it."""
    def check(value: Any) -> str | None:
        if isinstance(value, str) and value.strip():
            return None
        return f"must not be empty{f' ({what})' if what else ''}"
    return check


def whole_number(low: int, high: int | None = None) -> Check:
    """An integer from ``low`` (to ``high``); true/false are not numbers."""
    def check(value: Any) -> str | None:
        if (isinstance(value, int) and not isinstance(value, bool) and value >= low
                and (high is None or value <= high)):
            return None
        return (f"must be a whole number from {low} to {high}" if high is not None
                else f"must be a whole number, at least {low}") + f", got {show(value)}"
    return check


def one_or_more(what: str) -> Check:
    """A non-empty string, or a non-empty list of them."""
    def check(value: Any) -> str | None:
        values = [value] if isinstance(value, str) else value
        if isinstance(values, list) and values and all(isinstance(v, str) and v.strip() for v in values):
            return None
        return f"must be {what} or a list of them, none empty"
    return check


def pattern(regex: str, what: str) -> Check:
    """A string matching ``regex`` in full."""
    compiled = re.compile(regex)
    def check(value: Any) -> str | None:
        if isinstance(value, str) and compiled.fullmatch(value):
            return None
        return f"must be {what}, not {show(value)}"
    return check


def web_address(bare_host: bool = False, secrets_hint: str = "") -> Check:
    """An http(s) address with a host and no password in it; with
    ``bare_host`` a plain domain name is accepted too."""
    def check(value: Any) -> str | None:
        if not isinstance(value, str) or not value.strip():
            return "must not be empty"
        value = value.strip()
        if "://" not in value:
            if bare_host and "/" not in value:
                return None
            return f"must start with https://, got {show(value)}"
        from urllib.parse import urlsplit  # here: loading the config needs it only for this

        parts = urlsplit(value)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            return f"must start with https:// (or http://), got {show(value)}"
        if parts.password is not None:
            return f"must not contain the password{'; ' + secrets_hint if secrets_hint else ''}"
        return None
    return check


def problems(table: dict[str, Any], config: dict[str, Any]) -> list[tuple[str, str]]:
    """(key, why) for every option in ``config`` whose check fails."""
    found = []
    for key, option in table.items():
        value = config.get(key)
        if value is None and option.required:
            found.append((key, "is required" + (f" ({option.help})" if option.help else "")))
        elif option.check is not None and value is not None:
            why = option.check(value)
            if why:
                found.append((key, why))
    return found


def show(value: Any) -> str:
    """A value as it would look in TOML, for messages."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        shown = json.dumps(value, ensure_ascii=False)
        return shown if len(shown) <= 60 else shown[:56] + '..."'
    if isinstance(value, dict):
        return "a table"
    if isinstance(value, list):
        inner = ", ".join(show(v) for v in value[:4])
        return f"[{inner}{', ...' if len(value) > 4 else ''}]"
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return str(value)
