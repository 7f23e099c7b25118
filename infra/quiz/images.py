"""Images as uploaded: checked by their content with Pillow (PNG, JPEG, WebP or GIF; at most
`max_bytes` and `max_side` pixels a side, refused before decoding when the header says more, so a
small file claiming huge dimensions never gets decoded), re-encoded without their metadata, and
stored content-addressed (sha-256 of the re-encoded bytes) in a `BlobStore`."""

from __future__ import annotations

import hashlib
import io
import os
import tempfile
import threading
from collections import OrderedDict
from pathlib import Path
from typing import NamedTuple, Protocol

from PIL import Image, ImageOps, UnidentifiedImageError

from domain.quiz.errors import ImageTooLarge, InvalidImage

FORMATS = {"PNG": "image/png", "JPEG": "image/jpeg", "WEBP": "image/webp", "GIF": "image/gif"}
MAX_FRAMES = 200
MAX_TOTAL_PIXELS = 64 * 1024 * 1024
"""An animation's frames × width × height, decoded: a bomb of many frames is one too."""


class CheckedImage(NamedTuple):
    sha: str
    content_type: str
    width: int
    height: int
    data: bytes


def check_image(data: bytes, *, max_bytes: int, max_side: int) -> CheckedImage:
    """The image re-encoded without metadata, or `InvalidImage` / `ImageTooLarge`."""
    if len(data) > max_bytes:
        raise ImageTooLarge(f"an image has at most {max_bytes} bytes")
    try:
        with Image.open(io.BytesIO(data)) as image:  # reads the header only
            kind = image.format or ""
            if kind not in FORMATS:
                raise InvalidImage("send a PNG, JPEG, WebP or GIF image")
            width, height = image.size
            if width > max_side or height > max_side or width < 1 or height < 1:
                raise ImageTooLarge(f"an image has at most {max_side}×{max_side} pixels")
            frames = getattr(image, "n_frames", 1)
            if frames > MAX_FRAMES or frames * width * height > MAX_TOTAL_PIXELS:
                raise ImageTooLarge("too many frames for an image of that size")
            out = _reencode(image, kind, frames)
    except (InvalidImage, ImageTooLarge):
        raise
    except Image.DecompressionBombError:
        raise ImageTooLarge(f"an image has at most {max_side}×{max_side} pixels") from None
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, EOFError):
        raise InvalidImage("that is not an image Pillow can read (PNG, JPEG, WebP, GIF)") from None
    return CheckedImage(hashlib.sha256(out).hexdigest(), FORMATS[kind], width, height, out)


def _reencode(image: Image.Image, kind: str, frames: int) -> bytes:
    out = io.BytesIO()
    if kind == "GIF":
        image.load()
        image.save(out, "GIF", save_all=frames > 1)
        return out.getvalue()
    image.load()
    upright = ImageOps.exif_transpose(image) or image  # turned as meant, then EXIF dropped
    if kind == "JPEG":
        if upright.mode not in ("RGB", "L"):
            upright = upright.convert("RGB")
        upright.save(out, "JPEG", quality=90)
    elif kind == "WEBP":
        upright.save(out, "WEBP", quality=90)
    else:
        upright.save(out, "PNG")
    return out.getvalue()


class BlobStore(Protocol):
    """Where image bytes live, by their sha-256 (the filesystem by default)."""

    def put(self, sha: str, data: bytes) -> None: ...

    def get(self, sha: str) -> bytes | None: ...

    def delete(self, sha: str) -> None: ...


class FileBlobStore:
    """`<root>/ab/cd/<sha>`; writes go to a temporary file renamed into place, so a reader
    never sees half an image."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def _path(self, sha: str) -> Path:
        if len(sha) != 64 or any(c not in "0123456789abcdef" for c in sha):
            raise ValueError("not a sha-256")
        return self.root / sha[:2] / sha[2:4] / sha

    def put(self, sha: str, data: bytes) -> None:
        path = self._path(sha)
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".upload-")
        try:
            with os.fdopen(fd, "wb") as file:
                file.write(data)
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise

    def get(self, sha: str) -> bytes | None:
        try:
            return self._path(sha).read_bytes()
        except FileNotFoundError:
            return None

    def delete(self, sha: str) -> None:
        self._path(sha).unlink(missing_ok=True)


class CachedBlobs:
    """A blob store with the most recently read images kept in memory, up to `max_bytes`:
    a task's image is fetched by every player at once."""

    def __init__(self, store: BlobStore, *, max_bytes: int = 64 * 1024 * 1024) -> None:
        self.store = store
        self._max = max_bytes
        self._kept: OrderedDict[str, bytes] = OrderedDict()
        self._size = 0
        self._lock = threading.Lock()

    def cached(self, sha: str) -> bytes | None:
        with self._lock:
            data = self._kept.get(sha)
            if data is not None:
                self._kept.move_to_end(sha)
            return data

    def get(self, sha: str) -> bytes | None:
        data = self.cached(sha)
        if data is not None:
            return data
        data = self.store.get(sha)
        if data is not None and len(data) <= self._max // 4:
            with self._lock:
                if sha not in self._kept:
                    self._kept[sha] = data
                    self._size += len(data)
                    while self._size > self._max:
                        _, dropped = self._kept.popitem(last=False)
                        self._size -= len(dropped)
        return data

    def put(self, sha: str, data: bytes) -> None:
        self.store.put(sha, data)

    def delete(self, sha: str) -> None:
        with self._lock:
            dropped = self._kept.pop(sha, None)
            if dropped is not None:
                self._size -= len(dropped)
        self.store.delete(sha)
