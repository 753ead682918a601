"""Reading an ONNX model: its content digest and the inputs/outputs of its graph.

The build key and the Triton config both come from the graph itself, never from what a
spec claims, so a spec that contradicts the model is caught before anything is built.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path

import onnx
from onnx import external_data_helper

from engine_build.errors import InvalidOnnxError, ShapeMismatchError
from engine_build.spec import ModelSpec

ELEM_TO_NUMPY: dict[int, str] = {
    onnx.TensorProto.FLOAT: "float32",
    onnx.TensorProto.FLOAT16: "float16",
    onnx.TensorProto.INT64: "int64",
    onnx.TensorProto.INT32: "int32",
    onnx.TensorProto.INT8: "int8",
    onnx.TensorProto.UINT8: "uint8",
    onnx.TensorProto.BOOL: "bool",
    onnx.TensorProto.DOUBLE: "float64",
}


@dataclass(frozen=True)
class TensorInfo:
    """One graph input or output: name, numpy dtype and dims (None where dynamic)."""

    name: str
    dtype: str
    dims: tuple[int | None, ...]


def sha256_file(path: Path) -> str:
    """Hex sha256 of a file, read in chunks so multi-GB models do not fill memory."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def load_model(path: Path) -> onnx.ModelProto:
    """Load and check an ONNX model (external data included); InvalidOnnxError otherwise."""
    try:
        model = onnx.load(str(path))
        onnx.checker.check_model(str(path))
    except FileNotFoundError as exc:
        raise InvalidOnnxError(f"ONNX file {path} does not exist") from exc
    except Exception as exc:
        raise InvalidOnnxError(
            f"{path} is not a valid ONNX model ({type(exc).__name__}: {exc}); "
            "re-export it and check it with onnx.checker"
        ) from exc
    return model


def external_locations(path: Path) -> list[str]:
    """Relative locations of the external-data files an ONNX model refers to, sorted."""
    try:
        model = onnx.load(str(path), load_external_data=False)
    except Exception as exc:
        raise InvalidOnnxError(f"{path} is not a readable ONNX model: {exc}") from exc
    found = set()
    for tensor in external_data_helper._get_all_tensors(model):
        if external_data_helper.uses_external_data(tensor):
            info = external_data_helper.ExternalDataInfo(tensor)
            found.add(info.location)
    return sorted(found)


def onnx_digest(path: Path) -> str:
    """Content digest of a model: the file's sha256, or with external data a digest over
    the model file and every external file (by location), so weights count too."""
    locations = external_locations(path)
    if not locations:
        return sha256_file(path)
    parts = {"model": sha256_file(path)}
    for location in locations:
        data = path.parent / location
        if not data.is_file():
            raise InvalidOnnxError(f"{path} refers to external data {location!r}, not found")
        parts[location] = sha256_file(data)
    return hashlib.sha256(json.dumps(parts, sort_keys=True).encode()).hexdigest()


def _info(value: onnx.ValueInfoProto) -> TensorInfo:
    tensor = value.type.tensor_type
    dims = tuple(d.dim_value if d.HasField("dim_value") else None for d in tensor.shape.dim)
    return TensorInfo(value.name, ELEM_TO_NUMPY.get(tensor.elem_type, "unknown"), dims)


def graph_inputs(model: onnx.ModelProto) -> list[TensorInfo]:
    """Real inputs of the graph (initializers listed as inputs by old exporters excluded)."""
    weights = {init.name for init in model.graph.initializer}
    return [_info(v) for v in model.graph.input if v.name not in weights]


def graph_outputs(model: onnx.ModelProto) -> list[TensorInfo]:
    """Outputs of the graph in declaration order."""
    return [_info(v) for v in model.graph.output]


def check_spec_against_graph(spec: ModelSpec, model: onnx.ModelProto) -> None:
    """Raise ShapeMismatchError if the spec's inputs contradict the graph's inputs."""
    graph = {info.name: info for info in graph_inputs(model)}
    declared = {inp.name for inp in spec.inputs}
    if declared != set(graph):
        raise ShapeMismatchError(
            f"model {spec.name!r}: spec inputs {sorted(declared)} differ from the ONNX graph "
            f"inputs {sorted(graph)}; list exactly the graph's inputs"
        )
    for inp in spec.inputs:
        info = graph[inp.name]
        if info.dtype != inp.dtype:
            raise ShapeMismatchError(
                f"input {inp.name!r}: spec dtype {inp.dtype} but the graph has {info.dtype}"
            )
        if len(info.dims) != len(inp.max):
            raise ShapeMismatchError(
                f"input {inp.name!r}: spec rank {len(inp.max)} but the graph has rank "
                f"{len(info.dims)} (dims {list(info.dims)})"
            )
        if spec.max_batch and info.dims and info.dims[0] is not None:
            raise ShapeMismatchError(
                f"input {inp.name!r}: the graph fixes the batch axis to {info.dims[0]} but "
                f"max_batch is {spec.max_batch}; export a dynamic batch axis or set max_batch: 0"
            )
        for axis, fixed in enumerate(info.dims):
            shapes = (inp.min[axis], inp.opt[axis], inp.max[axis])
            if fixed is not None and any(s != fixed for s in shapes):
                raise ShapeMismatchError(
                    f"input {inp.name!r} axis {axis}: the graph fixes it to {fixed} but the "
                    f"spec asks min/opt/max {list(shapes)}"
                )
        if spec.max_batch and inp.max[0] > spec.max_batch:
            raise ShapeMismatchError(
                f"input {inp.name!r}: max batch {inp.max[0]} exceeds max_batch {spec.max_batch}"
            )
