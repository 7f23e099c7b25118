"""Process-wide tuning that every Tessera process applies once it has started."""

from __future__ import annotations

import gc


def tune_gc() -> None:
    """Keep the cyclic garbage collector from pausing the event loop.

    Its full passes paused the loop for tens of milliseconds under load, and were the p99 of
    placements. What the service allocates per request is freed by reference counting, so move
    the start-up heap out of the collector's sight and let it run less often. But not too
    seldom either: some garbage is cyclic (nats-py's fetch leaves a timed-out wait behind every
    time), and a young generation of 100,000 objects took 50–200 ms to collect; at 20,000 the
    live sockets' placement -> delta p99 came down by a third (scripts/load_canvas.py).
    """
    gc.collect()
    gc.freeze()
    gc.set_threshold(20_000, 50, 1000)
