"""The live sockets' hand-written frame encoder writes what the `websockets` library would."""

from __future__ import annotations

import pytest
from websockets.frames import Frame, Opcode

from infra.live.socket import binary_frame, text_frame


@pytest.mark.parametrize("size", [0, 1, 125, 126, 65535, 65536, 300_000])
def test_a_frame_of_any_length_is_encoded_as_the_library_encodes_it(size: int):
    payload = bytes(range(256)) * (size // 256) + bytes(size % 256)
    assert binary_frame(payload) == Frame(Opcode.BINARY, payload).serialize(mask=False)
    text = b"x" * size
    assert text_frame(text) == Frame(Opcode.TEXT, text).serialize(mask=False)
