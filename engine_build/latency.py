"""Latency of an engine on its target runtime, measured, never assumed."""

from __future__ import annotations

import time

import numpy as np

from engine_build.backends import Feed, Runner
from engine_build.manifest import Latency

WARMUP = 5


def measure(run: Runner, feed: Feed, iterations: int) -> Latency:
    """p50/p99 wall time of ``run(feed)`` over ``iterations`` calls after a short warm-up."""
    for _ in range(WARMUP):
        run(feed)
    samples = []
    for _ in range(max(1, iterations)):
        start = time.perf_counter()
        run(feed)
        samples.append((time.perf_counter() - start) * 1000.0)
    batch = int(next(iter(feed.values())).shape[0])
    return Latency(
        p50_ms=float(np.percentile(samples, 50)),
        p99_ms=float(np.percentile(samples, 99)),
        batch=batch,
    )
