"""The canvas's live deltas as the fan-out sends them: how often, and merged when they queue."""

from __future__ import annotations

from projections.canvas.bitmap import HEADER, RELOAD

LIVE_DELTA_INTERVAL_S = 0.05
LIVE_DELTA_BUSY_SHARE = 0.2
"""The canvases' live deltas: at most 20 broadcasts a second, fewer as the audience grows (about
14 ms to send to 2,000 sockets on the development machine: one every 70 ms)."""

MAX_MERGED_BYTES = 256 * 1024
"""Deltas are not merged beyond this (big fills are large already)."""

_RELOAD_ENTRY = RELOAD.to_bytes(4, "little")


def coalesce(deltas: list[bytes], limit: int = MAX_MERGED_BYTES) -> list[bytes]:
    """Consecutive deltas, `(a, b]` then `(b, c]`, merged into one `(a, c]` (their entries in
    order). A reload notice stays on its own; so does a delta that does not follow on."""
    merged: list[bytes] = []
    run: list[bytes] = []
    size = 0

    def close_run() -> None:
        if len(run) == 1:
            merged.append(run[0])
        elif run:
            first, _ = HEADER.unpack_from(run[0])
            _, last = HEADER.unpack_from(run[-1])
            entries = b"".join(memoryview(delta)[HEADER.size :] for delta in run)
            merged.append(HEADER.pack(first, last) + entries)
        run.clear()

    for delta in deltas:
        joins = (
            run
            and HEADER.unpack_from(delta)[0] == HEADER.unpack_from(run[-1])[1]
            and size + len(delta) - HEADER.size <= limit
            and not _is_reload(delta)
            and not _is_reload(run[-1])
        )
        if not joins:
            close_run()
            size = HEADER.size
        run.append(delta)
        size += len(delta) - HEADER.size
    close_run()
    return merged


def _is_reload(delta: bytes) -> bool:
    return len(delta) == HEADER.size + 4 and delta[HEADER.size :] == _RELOAD_ENTRY
