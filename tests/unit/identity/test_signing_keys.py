"""Development signing keys, generated into the data folder: readable by their owner only."""

from __future__ import annotations

import stat
from pathlib import Path

from infra.identity.tokens import SigningKeys


def mode(path: Path) -> str:
    return oct(stat.S_IMODE(path.stat().st_mode))


def test_generated_keys_and_the_data_folder_made_for_them_are_the_owners_only(tmp_path: Path):
    path = tmp_path / "data" / "jwt-keys.json"
    SigningKeys.load_or_create(path)
    assert (mode(path.parent), mode(path)) == ("0o700", "0o600")


def test_generated_keys_are_kept_and_read_back(tmp_path: Path):
    path = tmp_path / "data" / "jwt-keys.json"
    assert SigningKeys.load_or_create(path) == SigningKeys.load_or_create(path)
    assert [p.name for p in path.parent.iterdir()] == ["jwt-keys.json"]
