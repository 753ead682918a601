"""TensorRT backend: serialized engines (``model.plan``) built with the TensorRT Python API.

Runs only where ``import tensorrt`` works (the TensorRT/Triton container on a GPU node);
tensorrt and polygraphy are imported inside functions so this module imports anywhere.
It is deliberately small: tests drive it through a double that follows the real API, and
a ``gpu``-marked test runs the real build wherever TensorRT is installed.

INT8: an ONNX with explicit Q/DQ nodes (e.g. from NVIDIA ModelOpt) is preferred and built
as is; otherwise implicit calibration runs through Polygraphy's ``Calibrator`` with a cache
next to the engine (implicit calibrators are deprecated since TensorRT 10.1).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import onnx

from engine_build.backends import EngineRequest, Feed, Runner
from engine_build.data import batches
from engine_build.errors import (
    BackendBuildError,
    BackendUnavailableError,
    CalibrationMissingError,
)

CALIBRATION_CACHE = "int8-calibration.cache"


def _tensorrt() -> Any:
    try:
        import tensorrt
    except ImportError as exc:
        raise BackendUnavailableError(
            "the tensorrt backend needs `import tensorrt` (run inside the TensorRT/Triton "
            "container on a GPU node); on a laptop build the cpu target instead"
        ) from exc
    return tensorrt


def has_qdq(source: Path) -> bool:
    """True when the ONNX graph already carries explicit QuantizeLinear/DequantizeLinear."""
    model = onnx.load(str(source), load_external_data=False)
    return any(node.op_type in ("QuantizeLinear", "DequantizeLinear") for node in model.graph.node)


class TensorRTBackend:
    """Builds ``model.plan`` for one GPU architecture or for ``ampere+``."""

    name = "tensorrt"
    platform = "tensorrt_plan"
    filename = "model.plan"
    precisions: tuple[str, ...] = ("fp32", "fp16", "int8")

    def __init__(self, timing_cache: Path | None = None) -> None:
        self.timing_cache = timing_cache

    def version(self) -> str:
        """The installed TensorRT version, e.g. ``10.5.0.18``."""
        return str(_tensorrt().__version__)

    def build(self, request: EngineRequest) -> dict[str, object]:
        """Parse, configure, build and serialize one engine; read its properties back."""
        trt = _tensorrt()
        logger = trt.Logger(trt.Logger.WARNING)
        builder = trt.Builder(logger)
        network = builder.create_network(0)
        parser = trt.OnnxParser(network, logger)
        if not parser.parse_from_file(str(request.source)):
            errors = [str(parser.get_error(i)) for i in range(parser.num_errors)]
            raise BackendBuildError(f"TensorRT could not parse the ONNX model: {errors}")
        config = builder.create_builder_config()
        profile = builder.create_optimization_profile()
        for inp in request.spec.inputs:
            profile.set_shape(inp.name, inp.min, inp.opt, inp.max)
        config.add_optimization_profile(profile)
        self._precision(trt, config, profile, request)
        if request.target.kind == "portable":
            config.hardware_compatibility_level = trt.HardwareCompatibilityLevel.AMPERE_PLUS
        cache = config.create_timing_cache(self._cache_bytes())
        config.set_timing_cache(cache, False)
        plan = builder.build_serialized_network(network, config)
        if plan is None:
            raise BackendBuildError(f"TensorRT failed to build the {request.precision} engine")
        request.dest.write_bytes(bytes(plan))
        self._save_cache(config)
        return read_properties(trt, logger, request.dest.read_bytes())

    def _precision(self, trt: Any, config: Any, profile: Any, request: EngineRequest) -> None:
        if request.precision in ("fp16", "int8"):
            config.set_flag(trt.BuilderFlag.FP16)
        if request.precision != "int8":
            return
        config.set_flag(trt.BuilderFlag.INT8)
        if has_qdq(request.source):
            return
        if request.calibration is None:
            raise CalibrationMissingError("int8 without Q/DQ nodes needs calibration data")
        cache = request.dest.parent / CALIBRATION_CACHE
        config.int8_calibrator = implicit_calibrator(request.calibration, request.spec, cache)
        config.set_calibration_profile(profile)

    def _cache_bytes(self) -> bytes:
        if self.timing_cache is not None and self.timing_cache.is_file():
            return self.timing_cache.read_bytes()
        return b""

    def _save_cache(self, config: Any) -> None:
        if self.timing_cache is None:
            return
        data = bytes(config.get_timing_cache().serialize())
        partial = self.timing_cache.with_name(self.timing_cache.name + ".partial")
        partial.write_bytes(data)
        partial.replace(self.timing_cache)

    @contextmanager
    def runner(self, engine: Path) -> Iterator[Runner]:
        """Run the engine through Polygraphy's TrtRunner (it owns the CUDA buffers)."""
        from polygraphy.backend.trt import EngineFromBytes, TrtRunner

        with TrtRunner(EngineFromBytes(engine.read_bytes())) as runner:

            def run(feed: Feed) -> dict[str, Any]:
                return {name: value.copy() for name, value in runner.infer(feed).items()}

            yield run


def implicit_calibrator(calibration: Feed, spec: Any, cache: Path) -> Any:
    """Polygraphy's Calibrator over the calibration batches, caching scales at ``cache``."""
    from polygraphy.backend.trt import Calibrator

    batch = max(1, spec.inputs[0].opt[0])
    return Calibrator(list(batches(calibration, batch)), cache=str(cache))


def enum_name(value: Any) -> str:
    """``AMPERE_PLUS`` for TensorRT's pybind11 enum members (their ``name``)."""
    return str(getattr(value, "name", value))


def read_properties(trt: Any, logger: Any, plan: bytes) -> dict[str, object]:
    """Deserialize the plan and report what TensorRT says it is (not what we asked)."""
    engine = trt.Runtime(logger).deserialize_cuda_engine(plan)
    if engine is None:
        raise BackendBuildError("the serialized engine could not be deserialized")
    tensors = []
    for index in range(engine.num_io_tensors):
        name = engine.get_tensor_name(index)
        tensors.append(
            {
                "name": name,
                "mode": enum_name(engine.get_tensor_mode(name)),
                "dtype": enum_name(engine.get_tensor_dtype(name)),
                "shape": [int(d) for d in engine.get_tensor_shape(name)],
            }
        )
    return {
        "hardware_compatibility_level": enum_name(engine.hardware_compatibility_level),
        "num_optimization_profiles": int(engine.num_optimization_profiles),
        "io_tensors": tensors,
    }
