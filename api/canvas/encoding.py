"""Bodies for browsers: HTTP compression by `Accept-Encoding`, and palette PNGs."""

from __future__ import annotations

import gzip
import struct
import zlib

import brotli
import numpy as np
import zstandard

PREFERENCE = ("zstd", "br", "gzip")


def choose_encoding(accept_encoding: str | None) -> str:
    """The best encoding the client accepts (q=0 excludes one), or "identity"."""
    if not accept_encoding:
        return "identity"
    accepted: dict[str, float] = {}
    for part in accept_encoding.split(","):
        name, _, params = part.strip().partition(";")
        quality = 1.0
        params = params.strip()
        if params.startswith("q="):
            try:
                quality = float(params[2:])
            except ValueError:
                quality = 0.0
        accepted[name.strip().lower()] = quality
    wildcard = accepted.get("*", 0.0)
    for encoding in PREFERENCE:
        if accepted.get(encoding, wildcard) > 0:
            return encoding
    return "identity"


def compress(data: bytes, encoding: str) -> bytes:
    match encoding:
        case "zstd":
            return zstandard.ZstdCompressor(level=3).compress(data)
        case "br":
            return brotli.compress(data, quality=5)
        case "gzip":
            return gzip.compress(data, compresslevel=6, mtime=0)
        case "identity":
            return data
    raise ValueError(f"unknown encoding {encoding}")


def _png_chunk(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))


def palette_png(pixels: np.ndarray, width: int, height: int, palette: list[str]) -> bytes:
    """An 8-bit indexed PNG of a board (each scanline with filter type 0)."""
    rows = np.zeros((height, width + 1), dtype=np.uint8)
    rows[:, 1:] = pixels.reshape(height, width)
    plte = b"".join(bytes.fromhex(colour[1:]) for colour in palette)
    header = struct.pack(">IIBBBBB", width, height, 8, 3, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + _png_chunk(b"IHDR", header)
        + _png_chunk(b"PLTE", plte)
        + _png_chunk(b"IDAT", zlib.compress(rows.tobytes(), 6))
        + _png_chunk(b"IEND", b"")
    )
