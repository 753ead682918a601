"""One build: spec + target in, an accepted, content-addressed build directory out.

``build()`` is the public entry point (the CLI and the in-cluster Job call it). Layout of
the result, ``<out>/<model>/<target.label>/<key>/``::

    manifest.json                     written last; lists every other file
    triton/<model>/config.pbtxt       no version directory named inside
    triton/<model>/1/model.onnx|plan  the engine that passed its gate

Everything is assembled in a temporary directory and published in one step, so a failed
or interrupted build leaves nothing behind, and re-running a finished build is a no-op.
"""

from __future__ import annotations

import shutil
import tempfile
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path

import numpy as np
import onnx

from engine_build import triton
from engine_build.backends import Backend, EngineRequest, backend_for, check_ladder
from engine_build.data import Feed, load_npz, sample_count
from engine_build.errors import BackendUnavailableError, BackendVersionMismatchError
from engine_build.graph import (
    check_spec_against_graph,
    external_locations,
    graph_inputs,
    graph_outputs,
    load_model,
    onnx_digest,
    sha256_file,
)
from engine_build.key import build_key
from engine_build.ladder import LadderOutcome, Reference, Report, reference_outputs, walk
from engine_build.latency import measure
from engine_build.manifest import MANIFEST_NAME, FileEntry, Latency, Manifest
from engine_build.spec import ModelSpec, Target
from engine_build.store import accepted, fetch, join, publish

SYNTHETIC_SAMPLES = 32
SYNTHETIC_SEED = 20240601


@dataclass(frozen=True)
class BuildResult:
    """Where the build lives, its manifest, and whether an accepted one already existed."""

    key: str
    build_dir: str
    manifest: Manifest
    skipped: bool


@dataclass(frozen=True)
class Sources:
    """Local copies of the spec's files and their content digests."""

    onnx: Path
    onnx_sha256: str
    calibration: Path | None
    validation: Path | None
    data_sha256: dict[str, str]


def builder_version() -> str:
    """Version of this package (the trt-dr distribution) that ran the build."""
    try:
        return metadata.version("trt-dr")
    except metadata.PackageNotFoundError:
        return "0.0.0+unknown"


def fetch_sources(spec: ModelSpec, workdir: Path) -> Sources:
    """Local paths for the ONNX (with its external data) and the .npz files, plus digests."""
    workdir.mkdir(parents=True, exist_ok=True)
    model = fetch(spec.onnx, workdir)
    if spec.onnx.startswith("s3://"):
        base = spec.onnx.rsplit("/", 1)[0]
        for location in external_locations(model):
            fetch(f"{base}/{location}", model.parent, name=location)
    found = {}
    for role in ("calibration", "validation"):
        uri = getattr(spec, role)
        if uri:
            found[role] = fetch(uri, workdir / role)
    return Sources(
        onnx=model,
        onnx_sha256=onnx_digest(model),
        calibration=found.get("calibration"),
        validation=found.get("validation"),
        data_sha256={role: sha256_file(path) for role, path in found.items()},
    )


def resolve_version(backend: Backend, explicit: str | None) -> str:
    """The backend version for the key: the explicit one (checked against the installed
    runtime when there is one), else the installed runtime's."""
    if explicit is None:
        return backend.version()
    try:
        installed = backend.version()
    except BackendUnavailableError:
        return explicit
    if installed != explicit:
        raise BackendVersionMismatchError(
            f"backend version {explicit!r} was given but {backend.name} {installed} is "
            "installed; the key would not describe the engine. Drop the option or fix it"
        )
    return explicit


def synthetic_feed(spec: ModelSpec) -> Feed:
    """Seeded random inputs at the opt shape, used only when the spec has no validation."""
    rng = np.random.default_rng(SYNTHETIC_SEED)
    feed = {}
    for inp in spec.inputs:
        shape = [SYNTHETIC_SAMPLES, *inp.opt[1:]]
        if inp.dtype.startswith("float"):
            feed[inp.name] = rng.standard_normal(shape).astype(inp.dtype)
        else:
            feed[inp.name] = rng.integers(0, 2, size=shape).astype(inp.dtype)
    return feed


def latency_feed(feed: Feed, spec: ModelSpec) -> Feed:
    """One batch at the opt batch size, tiled from the validation samples if needed."""
    size = max(1, spec.inputs[0].opt[0])
    reps = -(-size // sample_count(feed))
    return {name: np.concatenate([a] * reps)[:size] for name, a in feed.items()}


@dataclass(frozen=True)
class Job:
    """One build in progress: what is built, with what, and where it is staged."""

    spec: ModelSpec
    target: Target
    backend: Backend
    sources: Sources
    model: onnx.ModelProto
    work: Path
    key: str
    version: str
    builder_image: str


def _prepare(
    spec: ModelSpec, target: Target, backend: Backend, work: Path, explicit: str | None, image: str
) -> tuple[Job, Feed | None]:
    sources = fetch_sources(spec, work / "src")
    model = load_model(sources.onnx)
    check_spec_against_graph(spec, model)
    calibration = None
    if sources.calibration is not None:
        calibration = load_npz(sources.calibration, spec, "calibration")
    version = resolve_version(backend, explicit)
    key = build_key(
        spec,
        target,
        onnx_sha256=sources.onnx_sha256,
        backend_version=version,
        builder_image=image,
        data_sha256=sources.data_sha256,
    )
    return Job(spec, target, backend, sources, model, work, key, version, image), calibration


def _ladder(job: Job, calibration: Feed | None, validation: Feed, say: Report) -> LadderOutcome:
    names = [info.name for info in graph_outputs(job.model)]
    batch = max(1, job.spec.inputs[0].opt[0])
    say("reference outputs (onnxruntime fp32)")
    reference = Reference(
        validation, names, reference_outputs(job.sources.onnx, validation, batch, names)
    )
    base = EngineRequest(
        source=job.sources.onnx,
        spec=job.spec,
        target=job.target,
        precision=job.spec.precisions[0],
        calibration=calibration,
        dest=job.work,
        workdir=job.work / "engines",
    )
    return walk(job.backend, base, reference, say)


def _validation(job: Job) -> tuple[Feed, str]:
    if job.sources.validation is None:
        return synthetic_feed(job.spec), "synthetic"
    return load_npz(job.sources.validation, job.spec, "validation"), "spec"


def _triton_config(job: Job) -> str:
    config = triton.model_config(
        job.spec.name,
        job.backend.platform,
        graph_inputs(job.model),
        graph_outputs(job.model),
        job.spec.max_batch,
        gpu=job.target.kind != "cpu",
        preferred_batch=job.spec.inputs[0].opt[0] if job.spec.max_batch else None,
    )
    return triton.render(config)


def _stage(
    job: Job, outcome: LadderOutcome, latency: Latency, seconds: float, origin: str
) -> Manifest:
    stage = job.work / "stage"
    model_dir = stage / "triton" / job.spec.name
    (model_dir / "1").mkdir(parents=True)
    shutil.copy2(outcome.engine, model_dir / "1" / job.backend.filename)
    (model_dir / "config.pbtxt").write_text(_triton_config(job))
    for extra in sorted(outcome.engine.parent.iterdir()):
        if extra.name.endswith(".cache"):
            shutil.copy2(extra, stage / extra.name)
    files = [
        FileEntry(
            path=p.relative_to(stage).as_posix(), sha256=sha256_file(p), size=p.stat().st_size
        )
        for p in sorted(stage.rglob("*"))
        if p.is_file()
    ]
    manifest = Manifest(
        key=job.key,
        model=job.spec.name,
        spec=job.spec.model_dump(mode="json"),
        target=job.target.model_dump(mode="json"),
        backend=job.backend.name,
        backend_version=job.version,
        builder_image=job.builder_image,
        builder_version=builder_version(),
        precision=outcome.precision,
        ladder=outcome.trail,
        files=files,
        onnx_sha256=job.sources.onnx_sha256,
        build_seconds=round(seconds, 3),
        latency=latency,
        created_at=datetime.now(UTC).isoformat(timespec="seconds"),
        engine=outcome.properties,
        validation_data=origin,
    )
    (stage / MANIFEST_NAME).write_text(manifest.model_dump_json(indent=2))
    return manifest


def build(
    spec: ModelSpec,
    target: Target,
    out: str,
    builder_image: str,
    *,
    backend_version: str | None = None,
    timing_cache: Path | None = None,
    latency_iterations: int = 50,
    force: bool = False,
    report: Report | None = None,
) -> BuildResult:
    """Build ``spec`` for ``target`` into the store ``out`` (a directory or s3://bucket/prefix).

    Skips (``skipped=True``) when ``<out>/<model>/<label>/<key>/`` already holds an accepted
    manifest, unless ``force``. Raises a BadInputError subclass for wrong input and
    GateFailedError when no precision passes; in both cases nothing is written to ``out``.
    """
    say = report or (lambda _message: None)
    backend = backend_for(target, timing_cache)
    check_ladder(backend, spec)
    with tempfile.TemporaryDirectory(prefix="engine-build-") as tmp:
        say("checking inputs")
        job, calibration = _prepare(
            spec, target, backend, Path(tmp), backend_version, builder_image
        )
        build_dir = join(out, f"{spec.name}/{target.label}/{job.key}")
        existing = None if force else accepted(build_dir)
        if existing is not None:
            say("already built")
            return BuildResult(job.key, build_dir, existing, skipped=True)
        started = time.perf_counter()
        validation, origin = _validation(job)
        outcome = _ladder(job, calibration, validation, say)
        say(f"measuring {outcome.precision} latency")
        with backend.runner(outcome.engine) as run:
            latency = measure(run, latency_feed(validation, spec), latency_iterations)
        manifest = _stage(job, outcome, latency, time.perf_counter() - started, origin)
        say("publishing")
        publish(job.work / "stage", build_dir)
        return BuildResult(job.key, build_dir, manifest, skipped=False)
