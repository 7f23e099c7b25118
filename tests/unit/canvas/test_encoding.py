import gzip
import zlib

import numpy as np
import pytest

from api.canvas.encoding import choose_encoding, compress, palette_png


@pytest.mark.parametrize(
    "header,chosen",
    [
        (None, "identity"),
        ("gzip, deflate", "gzip"),
        ("gzip, br", "br"),
        ("br, zstd, gzip", "zstd"),
        ("zstd;q=0, gzip", "gzip"),
        ("*", "zstd"),
        ("identity", "identity"),
    ],
)
def test_the_best_accepted_encoding_is_chosen(header, chosen):
    assert choose_encoding(header) == chosen


def test_gzip_bodies_decompress_to_the_board():
    data = bytes(range(256)) * 100
    assert gzip.decompress(compress(data, "gzip")) == data


def test_a_palette_png_carries_the_board_rows():
    pixels = np.array([0, 1, 2, 1, 0, 2], dtype=np.uint8)
    png = palette_png(pixels, 3, 2, ["#ffffff", "#000000", "#ff0000"])
    assert png.startswith(b"\x89PNG\r\n\x1a\n")
    idat = png.index(b"IDAT")
    length = int.from_bytes(png[idat - 4 : idat], "big")
    rows = zlib.decompress(png[idat + 4 : idat + 4 + length])
    assert rows == bytes([0, 0, 1, 2, 0, 1, 0, 2])
    assert b"PLTE" + bytes.fromhex("ffffff000000ff0000") in png
