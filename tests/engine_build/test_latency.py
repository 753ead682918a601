from __future__ import annotations

import numpy as np

from engine_build.latency import WARMUP, measure


def test_measure_runs_warmup_then_timed_iterations() -> None:
    calls: list[int] = []

    def run(feed: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        calls.append(1)
        return feed

    latency = measure(run, {"x": np.zeros((3, 4), np.float32)}, iterations=20)
    assert len(calls) == WARMUP + 20
    assert latency.batch == 3
    assert 0 <= latency.p50_ms <= latency.p99_ms
