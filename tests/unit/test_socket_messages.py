"""What clients send on the live sockets is decoded strictly, as request bodies are: a number
sent as a string, or 0 / 1 for a boolean, is not the message it looks like."""

from __future__ import annotations

import msgspec
import pytest

from api.canvas.live import decode_inbound as decode_canvas_message
from api.desk.frames import decode_inbound as decode_desk_message

OP = {"type": "op", "client_id": "c1", "client_seq": 1, "sticker": "s1", "stamp": [1, 0, "c1"],
      "fields": {"x": 10}}


@pytest.mark.parametrize("message", [
    {"type": "place", "x": "1", "y": 0, "colour": 1},
    {"type": "place", "x": 1, "y": 0, "colour": "1"},
])
def test_a_canvas_message_with_a_number_as_a_string_is_refused(message):
    with pytest.raises(msgspec.ValidationError):
        decode_canvas_message(msgspec.json.encode(message))


@pytest.mark.parametrize("message", [
    {**OP, "create": 1},
    {**OP, "fields": {"deleted": 0}},
    {**OP, "client_seq": "1"},
    {"type": "hello", "client_id": "c1", "last_seq": "0"},
])
def test_a_desk_message_with_a_number_as_a_string_or_a_number_as_a_boolean_is_refused(message):
    with pytest.raises(msgspec.ValidationError):
        decode_desk_message(msgspec.json.encode(message))


def test_the_same_messages_with_their_own_types_are_taken():
    assert decode_canvas_message(b'{"type": "place", "x": 1, "y": 0, "colour": 1}')
    assert decode_desk_message(msgspec.json.encode({**OP, "create": True}))
