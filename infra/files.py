"""Files only their owner may read: the data folder (0700) and the secrets in it (0600), made so
from the start rather than narrowed once written."""

from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path


def private_folder(path: Path) -> Path:
    """`path`, made with any missing parent as folders only their owner may enter (0700);
    folders that exist keep their modes."""
    missing = []
    folder = path
    while not folder.exists():
        missing.append(folder)
        folder = folder.parent
    for folder in reversed(missing):
        with contextlib.suppress(FileExistsError):  # another process made it meanwhile
            folder.mkdir(mode=0o700)
    return path


def create_private_file(path: Path, data: bytes) -> bool:
    """Write `path`, readable by its owner only (0600) from the start, unless it exists. It
    appears whole: a process that finds it reads all of it. False when it existed (the other's
    stays)."""
    descriptor, written = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")  # 0600
    try:
        with os.fdopen(descriptor, "wb") as file:
            file.write(data)
            file.flush()
            os.fsync(file.fileno())
        try:
            os.link(written, path)
        except FileExistsError:
            return False
        return True
    finally:
        os.unlink(written)
