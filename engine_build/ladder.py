"""Walking the precision ladder: build each precision, gate it, stop at the first pass."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from engine_build.backends import Backend, EngineRequest, Feed, Runner
from engine_build.backends.ort import session_runner
from engine_build.data import batches
from engine_build.errors import BackendBuildError, GateFailedError
from engine_build.gates import evaluate, metrics, thresholds
from engine_build.manifest import LadderStep

Report = Callable[[str], None]


@dataclass(frozen=True)
class LadderOutcome:
    """The precision that passed, its engine file and properties, and the whole trail."""

    precision: str
    engine: Path
    properties: dict[str, object]
    trail: list[LadderStep]


def run_all(run: Runner, feed: Feed, batch: int, names: list[str]) -> list[np.ndarray]:
    """Outputs for every sample of ``feed`` in batches, concatenated per output name."""
    parts: dict[str, list[np.ndarray]] = {name: [] for name in names}
    for chunk in batches(feed, batch):
        result = run(chunk)
        for name in names:
            parts[name].append(np.asarray(result[name]))
    return [np.concatenate(parts[name]) for name in names]


def reference_outputs(source: Path, feed: Feed, batch: int, names: list[str]) -> list[np.ndarray]:
    """ONNX Runtime FP32 outputs of the unmodified source model: the gates' reference."""
    return run_all(session_runner(source, optimize=False), feed, batch, names)


@dataclass(frozen=True)
class Reference:
    """The validation feed, its output names and the FP32 reference outputs for it."""

    feed: Feed
    names: list[str]
    outputs: list[np.ndarray]


def _try(
    backend: Backend, request: EngineRequest, reference: Reference
) -> tuple[LadderStep, dict[str, object]]:
    spec = request.spec
    limits = thresholds(spec.gate(request.precision), spec.classifier)
    try:
        properties = backend.build(request)
    except BackendBuildError as exc:
        step = LadderStep(precision=request.precision, passed=False, thresholds=limits)
        return step.model_copy(update={"error": str(exc)}), {}
    batch = max(1, spec.inputs[0].opt[0])
    with backend.runner(request.dest) as run:
        outputs = run_all(run, reference.feed, batch, reference.names)
    measured = metrics(reference.outputs, outputs, spec.classifier)
    return evaluate(request.precision, measured, limits), properties


def walk(
    backend: Backend,
    base: EngineRequest,
    reference: Reference,
    report: Report,
) -> LadderOutcome:
    """Try each precision of the spec's ladder in order; GateFailedError if none passes."""
    trail: list[LadderStep] = []
    for precision in base.spec.precisions:
        report(f"building {precision}")
        folder = base.workdir / precision
        folder.mkdir(parents=True, exist_ok=True)
        request = replace(base, precision=precision, dest=folder / backend.filename)
        step, properties = _try(backend, request, reference)
        trail.append(step)
        report(f"gated {precision}: {'pass' if step.passed else 'fail'}")
        if step.passed:
            return LadderOutcome(precision, request.dest, properties, trail)
    summary = "; ".join(f"{s.precision}: {s.error}" for s in trail)
    raise GateFailedError(
        f"model {base.spec.name!r}: no precision passed its gate ({summary})", trail
    )
