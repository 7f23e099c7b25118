"""The blob store: immutable files by key, in a folder (on a shared filesystem when several
nodes serve them). A blob appears whole: it is written aside and moved into place."""

from __future__ import annotations

import os
import re
from pathlib import Path

from infra.files import private_folder

_KEY = re.compile(r"^[a-z0-9][a-z0-9._-]{0,127}$")


class BlobStore:
    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def path(self, key: str) -> Path:
        if not _KEY.match(key):
            raise ValueError(f"not a blob key: {key!r}")
        return self.folder / key

    def scratch(self, key: str) -> Path:
        """Where to write a blob before `keep` moves it into place."""
        private_folder(self.folder)
        return self.folder / f".{key}.{os.getpid()}.part"

    def keep(self, key: str, written: Path) -> Path:
        target = self.path(key)
        os.replace(written, target)
        return target

    def find(self, key: str) -> Path | None:
        target = self.path(key)
        return target if target.exists() else None
