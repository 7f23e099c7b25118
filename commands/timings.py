"""Durations counted into a histogram's buckets by one thread's hot path, with no lock and no
metric object: `infra.metrics` turns them into Prometheus histograms when it is scraped. Here,
in the lowest layer that uses it: the writers time their commits with it, the HTTP layer its
answers."""

from __future__ import annotations

import bisect
import math

BUCKETS_S: tuple[float, ...] = (
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, math.inf
)
"""The buckets' upper bounds, in seconds; the last takes everything longer."""


class Timings:
    __slots__ = ("counts", "total_s")

    def __init__(self) -> None:
        self.counts = [0] * len(BUCKETS_S)
        """Durations by bucket: index i counts those within `BUCKETS_S[i]` and above the one
        before (not cumulative, unlike Prometheus's `le` series)."""
        self.total_s = 0.0

    def add(self, seconds: float) -> None:
        self.counts[bisect.bisect_left(BUCKETS_S, seconds)] += 1
        self.total_s += seconds
