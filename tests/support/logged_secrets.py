"""The secrets a test run hands to the code it tests, so that the run can check that none of them
reached a log line (issue 22): `tests/conftest.py` keeps every captured log, stdout and stderr
section and every `*.log` file the run's processes wrote, and fails the run on a match."""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path

_SECRETS: set[str] = set()


def secret(value: str) -> str:
    """Register `value` as a secret of this run; returns it, for `KEY = secret("…")`."""
    if len(value) >= 8:  # shorter strings would match by chance
        _SECRETS.add(value)
    return value


def registered() -> list[str]:
    """Every secret registered so far (an xdist worker hands them to the controller, which
    checks the whole run's logs)."""
    return sorted(_SECRETS)


def signing_keys_under(root: Path) -> None:
    """Register the identity signing keys the run's nodes generated (`jwt-keys.json`)."""
    for path in root.rglob("jwt-keys.json"):
        try:
            keys = json.loads(path.read_text())["keys"]
        except (OSError, ValueError, KeyError):
            continue
        for pair in keys.split(","):
            secret(pair.partition(":")[2])


def leaks(texts: Iterable[tuple[str, str]]) -> list[str]:
    """Where a registered secret appears, as `where: <first 4 characters>…` (never the secret)."""
    found: dict[str, None] = {}  # in order, once each (a report repeats earlier sections)
    for where, text in texts:
        for value in _SECRETS:
            if value in text:
                found[f"{where}: {value[:4]}…"] = None
    return list(found)
