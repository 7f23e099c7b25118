"""How a writer thread gathers commands into one batch (one decision pass, one save)."""

from __future__ import annotations

import queue
import time
from typing import Any


def gather(
    items: queue.SimpleQueue[Any], first: Any, *, linger_s: float, max_batch: int, stop: object
) -> list[Any]:
    """`first`, then whatever else arrived within `linger_s` of it, up to `max_batch`.

    The thread sleeps once and then drains the queue: it wakes once a batch, not once a command
    (each wake-up takes the interpreter lock from the event loop, which mattered more than the
    few milliseconds of the linger itself). A `stop` met while draining is put back, so the
    caller sees it next.
    """
    batch = [first]
    if linger_s > 0 and items.qsize() < max_batch:
        time.sleep(linger_s)
    while len(batch) < max_batch:
        try:
            item = items.get_nowait()
        except queue.Empty:
            break
        if item is stop:
            items.put(stop)
            break
        batch.append(item)
    return batch
