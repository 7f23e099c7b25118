from datetime import UTC, datetime
from uuid import uuid4

from commands.codec import MsgspecTranscoder


def test_stored_state_decodes_to_what_was_encoded():
    transcoder = MsgspecTranscoder()
    state = {
        "timestamp": datetime(2026, 11, 23, 12, 0, 0, 123000, tzinfo=UTC),
        "id": uuid4(),
        "palette": ["#ffffff", "#000000"],
        "last_placed": {"ann": [1, None, 2]},
        "op": None,
        "nested": [uuid4(), {"inner": uuid4(), "n": 1}, "x"],
    }
    assert transcoder.decode(transcoder.encode(state)) == state
