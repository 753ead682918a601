"""The rollout decision against recorded window series: regressed, healthy, flapping, missing."""

from __future__ import annotations

import pytest

from drctl.monitoring.decision import Policy, Window, decide, judge

POLICY = Policy(error_rate=0.001, latency_ms=100.0, latency_ratio=1.2, min_requests=100, windows=3)
BASE = Window(requests=1000, failures=0, latency_ms=10.0)
GOOD = Window(requests=1000, failures=0, latency_ms=10.5)
SLOW = Window(requests=1000, failures=0, latency_ms=15.0)
FAILING = Window(requests=1000, failures=50, latency_ms=10.0)
THIN = Window(requests=10, failures=0, latency_ms=10.0)


def test_healthy_canary_is_promoted_after_n_good_windows() -> None:
    assert decide([GOOD] * 2, [BASE] * 2, POLICY).action == "wait"
    decision = decide([GOOD] * 3, [BASE] * 3, POLICY)
    assert decision.action == "promote"
    assert [j.verdict for j in decision.evidence] == ["good"] * 3


@pytest.mark.parametrize("bad", [SLOW, FAILING, Window(1000, 0, 150.0)])
def test_regressed_canary_is_rolled_back(bad: Window) -> None:
    decision = decide([bad] * 3, [BASE] * 3, POLICY)
    assert decision.action == "rollback"
    assert decision.evidence[-1].verdict == "bad"


def test_flapping_canary_waits_then_rolls_back_at_the_end() -> None:
    series = [GOOD, SLOW, GOOD, SLOW, GOOD, SLOW]
    assert decide(series, [BASE] * 6, POLICY).action == "wait"
    final = decide(series, [BASE] * 6, POLICY, final=True)
    assert final.action == "rollback" and "without 3 good windows" in final.reason


@pytest.mark.parametrize(
    ("canary", "baseline"),
    [
        ([None] * 5, [BASE] * 5),
        ([THIN] * 5, [BASE] * 5),
        ([GOOD] * 5, [None] * 5),
        ([GOOD, GOOD, None, GOOD, GOOD], [BASE] * 5),
    ],
)
def test_missing_data_never_promotes(
    canary: list[Window | None], baseline: list[Window | None]
) -> None:
    assert decide(canary, baseline, POLICY).action == "wait"
    assert decide(canary, baseline, POLICY, final=True).action == "rollback"


def test_failing_canary_is_bad_even_without_baseline() -> None:
    assert judge(FAILING, None, POLICY).verdict == "bad"


def test_errors_no_worse_than_baseline_are_not_blamed_on_the_canary() -> None:
    assert judge(FAILING, FAILING, POLICY).verdict == "good"


def test_recovery_after_bad_windows_needs_n_good_in_a_row() -> None:
    series = [SLOW, SLOW, GOOD, GOOD, GOOD]
    assert decide(series, [BASE] * 5, POLICY).action == "promote"
    assert decide(series[:4], [BASE] * 4, POLICY).action == "wait"


def test_series_must_align() -> None:
    with pytest.raises(ValueError, match="one entry per window"):
        decide([GOOD], [], POLICY)
