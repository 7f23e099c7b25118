"""Process-wide tuning that every Tessera process applies once it has started."""

from __future__ import annotations

import gc
import sys

SWITCH_INTERVAL_S = 0.001
"""How long a thread keeps the interpreter lock while another waits for it."""


def tune_process() -> None:
    """Every tuning below: what each Tessera process (and a benchmark that runs the service's
    parts in its own) applies once it has started."""
    tune_gc()
    tune_switching()


def tune_switching() -> None:
    """Hand the interpreter lock over sooner. The writers' threads take it whenever the event
    loop lets go of it (every poll), and by default the loop then waits up to 5 ms to get it
    back; so does a writer's saver when PostgreSQL answers while the writer decides the next
    batch. At 1 ms the live sockets' p99 and the placements/s both measured better
    (scripts/load_canvas.py), and so did the writer alone (scripts/bench_canvas.py)."""
    sys.setswitchinterval(SWITCH_INTERVAL_S)


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
