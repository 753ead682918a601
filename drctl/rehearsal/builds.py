"""Builds the rehearsal needs, made by the real engine_build (ONNX Runtime CPU twin).

Each region builds its own twin into its own bucket (as each region's build Job does); the
primary also gets a regressed model (its weights drowned in noise: a bad training run that the
accuracy gates cannot catch, since it is a different model) for the bad-version drill, and a
second good build (another precision ladder) for the replication-pause drill.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import onnx
import onnxruntime as ort
from onnx import numpy_helper

from drctl.store.buildtree import S3Build, parse_location
from engine_build.build import build
from engine_build.spec import ModelSpec, Target

if TYPE_CHECKING:
    from drctl.rehearsal.env import LocalEnvironment

BUILDER_IMAGE = "rehearsal-local-onnxruntime"
CANARY_BATCH = 8


@dataclass
class LocalBuilds:
    """Build locations and the data drills send."""

    released: dict[str, S3Build]
    regressed: S3Build
    benign: S3Build
    sample: np.ndarray
    canary: np.ndarray
    golden: np.ndarray


def absolute_spec(spec: ModelSpec, project_dir: Path) -> ModelSpec:
    """The spec with its files resolved against the project directory."""
    paths = {
        role: str(project_dir / value)
        for role in ("onnx", "calibration", "validation")
        if (value := getattr(spec, role))
    }
    return spec.model_copy(update=paths)


def regressed_model(source: Path, target: Path, seed: int = 7) -> Path:
    """A copy of the model whose float weights are drowned in noise."""
    model = onnx.load(str(source))
    rng = np.random.default_rng(seed)
    for tensor in model.graph.initializer:
        weights = numpy_helper.to_array(tensor)
        if weights.dtype == np.float32 and weights.size > 1:
            noise = rng.normal(0.0, 3.0 * float(weights.std() or 1.0), weights.shape)
            tensor.CopyFrom(
                numpy_helper.from_array((weights + noise).astype(np.float32), tensor.name)
            )
    target.parent.mkdir(parents=True, exist_ok=True)
    onnx.save(model, str(target))
    return target


def _build(spec: ModelSpec, bucket: str, region: str) -> S3Build:
    result = build(
        spec,
        Target(kind="cpu"),
        f"s3://{bucket}/{region}/engines",
        BUILDER_IMAGE,
        latency_iterations=3,
    )
    location = parse_location(result.build_dir)
    assert isinstance(location, S3Build)
    return location


def build_variant(env: LocalEnvironment, role: str, **update: Any) -> S3Build:
    """Another build of the stacks' model (spec fields in ``update``) into ``role``'s bucket."""
    spec = absolute_spec(env.settings["primary"].models[0], env.project_dir)
    declared = env.declared[role]
    return _build(spec.model_copy(update=update), declared.bucket, declared.region)


def build_all(env: LocalEnvironment) -> LocalBuilds:
    """Every build of the rehearsal, through engine_build into the emulated buckets."""
    spec = absolute_spec(env.settings["primary"].models[0], env.project_dir)
    released = {
        role: _build(spec, env.declared[role].bucket, env.declared[role].region)
        for role in env.declared
    }
    primary = env.declared["primary"]
    bad = regressed_model(Path(spec.onnx), env.workdir / "regressed" / "model.onnx")
    regressed = _build(spec.model_copy(update={"onnx": str(bad)}), primary.bucket, primary.region)
    benign = _build(
        spec.model_copy(update={"precisions": ["fp32"]}), primary.bucket, primary.region
    )
    shape = [1, *spec.inputs[0].opt[1:]]
    rng = np.random.default_rng(0)
    sample = rng.standard_normal(shape).astype(np.float32)
    canary = rng.standard_normal([CANARY_BATCH, *shape[1:]]).astype(np.float32)
    session = ort.InferenceSession(spec.onnx, providers=["CPUExecutionProvider"])
    golden = session.run(None, {spec.inputs[0].name: canary})[0].argmax(axis=1)
    return LocalBuilds(released, regressed, benign, sample, canary, golden)
