"""`GET /api/canvas/{id}/history?since=&until=`: what happened between two versions, from the
event store, in the delta format; the replay page applies it to the snapshot at `since`."""

from __future__ import annotations

import numpy as np
import pytest

from projections.canvas.bitmap import RESET, decode_delta
from tests.integration.canvas.test_history import RAW, a_history, boards_from, settled
from tests.integration.helpers import stored_events


def applied(board: list[int], entries: np.ndarray) -> list[int]:
    """Entries applied one by one, in order (independent of `bitmap.apply_entries`)."""
    board = list(board)
    for entry in entries.tolist():
        if entry == RESET:
            board = [0] * len(board)
        else:
            board[entry >> 5] = entry & 31
    return board


async def test_a_history_page_applied_to_a_board_gives_the_board_at_its_end(history):
    node, client = history
    canvas_id = await a_history(node, seed=3)
    rows = await stored_events(node.settings, canvas_id)
    expected = boards_from(rows)
    last = rows[-1]["originator_version"]
    await settled(node, canvas_id, last)
    for since, until in [(1, last), (1, 5), (10, 25), (19, 21), (last - 3, last), (7, 7)]:
        page = await client.get(f"/api/canvas/{canvas_id}/history",
                                params={"since": since, "until": until})
        assert page.status_code == 200, page.text
        first, to, entries = decode_delta(page.content)
        assert (first, to) == (since, until)
        start = await client.get(f"/api/canvas/{canvas_id}/snapshot/{since}", headers=RAW)
        assert applied(list(start.content), entries) == expected[until], (since, until)
    whole = decode_delta((await client.get(
        f"/api/canvas/{canvas_id}/history", params={"since": 1, "until": last})).content)[2]
    assert int((whole == RESET).sum()) == 1  # the clear


@pytest.mark.parametrize(("params", "status", "code"), [
    ({"since": "-1", "until": "3"}, 422, "invalid_version"),
    ({"since": "a", "until": "3"}, 422, "invalid_version"),
    ({"since": "1", "until": "2.5"}, 422, "invalid_version"),
    ({"since": "5", "until": "3"}, 422, "invalid_replay"),
    ({"since": "0", "until": "100001"}, 422, "invalid_replay"),
    ({"since": "1", "until": "999"}, 404, "version_not_found"),
])
async def test_a_bad_history_page_is_refused(history, params, status, code):
    node, client = history
    canvas_id = await a_history(node, seed=4, count=12)
    answer = await client.get(f"/api/canvas/{canvas_id}/history", params=params)
    assert (answer.status_code, answer.json()["error"]) == (status, code), params


async def test_the_history_of_an_unknown_canvas_is_404(history):
    _, client = history
    answer = await client.get("/api/canvas/00000000-0000-0000-0000-000000000000/history",
                              params={"since": 0, "until": 1})
    assert (answer.status_code, answer.json()["error"]) == (404, "canvas_not_found")
