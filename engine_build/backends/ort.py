"""ONNX Runtime backend: the CPU twin, and the one path fully verifiable without a GPU.

fp32 is the model after ONNX Runtime's *basic* graph optimizations (hardware-independent
rewrites only, so the file stays portable across ONNX Runtime versions Triton may ship);
fp16 converts weights and ops with ONNX Runtime's float16 converter, keeping FP32 I/O so
clients do not change; int8 is static QDQ quantization calibrated on the spec's data, with
uint8 activations and per-channel int8 weights (U8S8: measured about 3x faster than FP32
and 3-4x faster than S8S8 on the x86 build machine, see docs/performance.md).
The output is a plain ``model.onnx`` for Triton's ``onnxruntime_onnx`` platform.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import onnx
import onnxruntime as ort
from onnxruntime.quantization import CalibrationDataReader

from engine_build.backends import EngineRequest, Feed, Runner
from engine_build.data import batches
from engine_build.errors import BackendBuildError, CalibrationMissingError

QDQ_OPS = {"QuantizeLinear", "DequantizeLinear"}


class _NpzReader(CalibrationDataReader):
    """Feeds calibration batches to ``quantize_static``."""

    def __init__(self, feed: Feed, batch: int) -> None:
        self._batches = iter(list(batches(feed, batch)))

    def get_next(self) -> Feed | None:
        """The next calibration batch, or None when all were given."""
        return next(self._batches, None)


class OnnxRuntimeBackend:
    """Builds ``model.onnx`` files for ONNX Runtime on CPU."""

    name = "onnxruntime"
    platform = "onnxruntime_onnx"
    filename = "model.onnx"
    precisions: tuple[str, ...] = ("fp32", "fp16", "int8")

    def version(self) -> str:
        """The installed onnxruntime version."""
        return str(ort.__version__)

    def build(self, request: EngineRequest) -> dict[str, object]:
        """Write the engine for ``request.precision`` and describe the written graph."""
        try:
            if request.precision == "fp32":
                _optimize(request.source, request.dest)
            elif request.precision == "fp16":
                _to_fp16(request.source, request.dest)
            else:
                _quantize(request)
        except CalibrationMissingError:
            raise
        except Exception as exc:
            raise BackendBuildError(
                f"onnxruntime could not build {request.precision}: {type(exc).__name__}: {exc}"
            ) from exc
        return describe(request.dest)

    @contextmanager
    def runner(self, engine: Path) -> Iterator[Runner]:
        """Run ``engine`` in a CPU InferenceSession; outputs keyed by name."""
        yield session_runner(engine)


def session_runner(path: Path, optimize: bool = True) -> Runner:
    """A callable running ``path`` on ONNX Runtime's CPU provider."""
    options = ort.SessionOptions()
    if not optimize:
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_DISABLE_ALL
    session = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
    names = [out.name for out in session.get_outputs()]

    def run(feed: Feed) -> dict[str, np.ndarray]:
        return dict(zip(names, session.run(names, feed), strict=True))

    return run


def _inline(source: Path) -> onnx.ModelProto:
    """The model with any external data loaded inline, so outputs are single files (the
    CPU twin therefore supports models under protobuf's 2 GB limit only)."""
    return onnx.load(str(source), load_external_data=True)


def _optimize(source: Path, dest: Path) -> None:
    options = ort.SessionOptions()
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_BASIC
    options.optimized_model_filepath = str(dest)
    serialized = _inline(source).SerializeToString()
    ort.InferenceSession(serialized, options, providers=["CPUExecutionProvider"])


def _to_fp16(source: Path, dest: Path) -> None:
    from onnxruntime.transformers.float16 import convert_float_to_float16
    from onnxruntime.transformers.onnx_model import OnnxModel

    model = convert_float_to_float16(_inline(source), keep_io_types=True)
    wrapped = OnnxModel(model)
    wrapped.topological_sort()  # the converter appends its input Casts after their users
    onnx.checker.check_model(wrapped.model)
    onnx.save(wrapped.model, str(dest))


def _quantize(request: EngineRequest) -> None:
    from onnxruntime.quantization import QuantFormat, QuantType, quantize_static
    from onnxruntime.quantization.shape_inference import quant_pre_process

    if request.calibration is None:
        raise CalibrationMissingError(
            f"model {request.spec.name!r}: int8 needs calibration data (.npz); add `calibration`"
        )
    prepared = request.workdir / "int8-prepared.onnx"
    quant_pre_process(_inline(request.source), str(prepared))
    batch = max(1, request.spec.inputs[0].opt[0])
    quantize_static(
        str(prepared),
        str(request.dest),
        _NpzReader(request.calibration, batch),
        quant_format=QuantFormat.QDQ,
        per_channel=True,
        activation_type=QuantType.QUInt8,
        weight_type=QuantType.QInt8,
    )


def describe(path: Path) -> dict[str, object]:
    """Properties read back from a written model: opsets, node count, QDQ node count."""
    model = onnx.load(str(path))
    ops = [node.op_type for node in model.graph.node]
    return {
        "opsets": {imp.domain or "ai.onnx": imp.version for imp in model.opset_import},
        "nodes": len(ops),
        "qdq_nodes": sum(op in QDQ_OPS for op in ops),
        "initializer_dtypes": sorted(
            {onnx.TensorProto.DataType.Name(t.data_type) for t in model.graph.initializer}
        ),
    }
