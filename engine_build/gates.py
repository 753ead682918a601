"""Accuracy gates: a candidate's outputs against the ONNX Runtime FP32 reference.

Metrics are computed over the whole validation set, all outputs concatenated:
``rel_l2`` = ||candidate - reference|| / ||reference||, ``max_abs`` = largest absolute
difference, ``top1_agreement`` = share of samples whose argmax over the first output's
last axis agrees (classifiers only).
"""

from __future__ import annotations

import numpy as np

from engine_build.manifest import LadderStep
from engine_build.spec import GateSpec

# threshold name -> (metric it bounds, True when it is an upper bound)
BOUNDS: dict[str, tuple[str, bool]] = {
    "max_rel_l2": ("rel_l2", True),
    "max_abs": ("max_abs", True),
    "min_top1_agreement": ("top1_agreement", False),
}


def metrics(
    reference: list[np.ndarray], candidate: list[np.ndarray], classifier: bool
) -> dict[str, float]:
    """Measured distance between candidate and reference outputs (same order and shapes)."""
    ref = np.concatenate([r.astype(np.float64).ravel() for r in reference])
    cand = np.concatenate([c.astype(np.float64).ravel() for c in candidate])
    diff = cand - ref
    norm = float(np.linalg.norm(ref))
    result = {
        "rel_l2": float(np.linalg.norm(diff)) / norm if norm > 0 else float(np.linalg.norm(diff)),
        "max_abs": float(np.max(np.abs(diff))) if diff.size else 0.0,
    }
    if not np.all(np.isfinite(cand)):
        result["rel_l2"] = float("inf")
        result["max_abs"] = float("inf")
    if classifier:
        ref_top = np.argmax(reference[0].reshape(reference[0].shape[0], -1), axis=1)
        cand_top = np.argmax(candidate[0].reshape(candidate[0].shape[0], -1), axis=1)
        result["top1_agreement"] = float(np.mean(ref_top == cand_top))
    return result


def thresholds(gate: GateSpec, classifier: bool) -> dict[str, float]:
    """The gate's thresholds keyed like ``metrics`` (max_* are upper, min_* lower bounds)."""
    found = {"max_rel_l2": gate.max_rel_l2}
    if gate.max_abs is not None:
        found["max_abs"] = gate.max_abs
    if classifier and gate.min_top1_agreement is not None:
        found["min_top1_agreement"] = gate.min_top1_agreement
    return found


def evaluate(precision: str, measured: dict[str, float], limits: dict[str, float]) -> LadderStep:
    """One ladder step: passed only when every threshold holds."""
    failures = []
    for name, limit in limits.items():
        metric, upper = BOUNDS[name]
        value = measured[metric]
        ok = value <= limit if upper else value >= limit
        if not ok:
            failures.append(f"{metric} {value:.6g} vs {name} {limit:.6g}")
    return LadderStep(
        precision=precision,
        passed=not failures,
        metrics=measured,
        thresholds=limits,
        error="; ".join(failures) or None,
    )
