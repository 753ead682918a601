from __future__ import annotations

import math

import numpy as np

from engine_build.gates import evaluate, metrics, thresholds
from engine_build.spec import DEFAULT_GATES, GateSpec


def test_identical_outputs_measure_zero() -> None:
    ref = [np.arange(12, dtype=np.float32).reshape(3, 4)]
    measured = metrics(ref, [ref[0].copy()], classifier=True)
    assert measured == {"rel_l2": 0.0, "max_abs": 0.0, "top1_agreement": 1.0}


def test_metrics_match_their_definitions() -> None:
    ref = [np.array([[3.0, 4.0]], np.float32)]
    cand = [np.array([[3.0, 4.5]], np.float32)]
    measured = metrics(ref, cand, classifier=False)
    assert math.isclose(measured["rel_l2"], 0.5 / 5.0, rel_tol=1e-6)
    assert math.isclose(measured["max_abs"], 0.5, rel_tol=1e-6)
    assert "top1_agreement" not in measured


def test_non_finite_candidate_fails_every_bound() -> None:
    ref = [np.ones((2, 3), np.float32)]
    cand = [np.array([[1, np.nan, 1], [1, 1, 1]], np.float32)]
    step = evaluate("fp16", metrics(ref, cand, False), {"max_rel_l2": 1.0})
    assert not step.passed


def test_a_five_point_top1_drop_fails_the_int8_gate(rng: np.random.Generator) -> None:
    ref = rng.standard_normal((200, 10)).astype(np.float32)
    cand = ref.copy()
    for row in range(10):  # 10 of 200 samples = a 5-point top-1 drop
        cand[row, np.argmax(ref[row])] -= 100.0
    measured = metrics([ref], [cand], classifier=True)
    assert measured["top1_agreement"] == 0.95
    limits = {"min_top1_agreement": DEFAULT_GATES["int8"].min_top1_agreement or 0.0}
    step = evaluate("int8", measured, limits)
    assert not step.passed
    assert step.error is not None and "top1_agreement 0.95" in step.error


def test_step_passes_when_every_bound_holds() -> None:
    limits = thresholds(GateSpec(max_rel_l2=0.1, max_abs=1.0, min_top1_agreement=0.9), True)
    step = evaluate("fp16", {"rel_l2": 0.05, "max_abs": 0.5, "top1_agreement": 0.95}, limits)
    assert step.passed
    assert step.thresholds == {"max_rel_l2": 0.1, "max_abs": 1.0, "min_top1_agreement": 0.9}


def test_top1_threshold_ignored_for_non_classifiers() -> None:
    assert thresholds(GateSpec(max_rel_l2=0.1, min_top1_agreement=0.9), False) == {
        "max_rel_l2": 0.1
    }
