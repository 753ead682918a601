"""Turn an ONNX Triton model directory into a python-backend one that runs onnxruntime.

The ``nvidia-pytriton`` wheel ships Triton with the python backend only (no onnxruntime
backend), so the local regions serve the ONNX Runtime twin through ``served_model.py``.
Inputs, outputs, batching and version policy stay as engine_build wrote them; only the
backend changes, instances run on CPU, and the model answers with the serving region.
Writes are atomic: each version and the config are built beside their target and renamed.
"""

from __future__ import annotations

import shutil
import uuid
from pathlib import Path
from typing import Any

from google.protobuf import text_format

from drctl.rehearsal.errors import ModelDirError

SERVED_MODEL = Path(__file__).with_name("served_model.py")
ONNX_PLATFORM = "onnxruntime_onnx"
REGION_OUTPUT = "SERVED_BY_REGION"


def pb() -> Any:
    """Triton's ``model_config_pb2`` as shipped in tritonclient."""
    from tritonclient.grpc import model_config_pb2

    return model_config_pb2


def read_config(model_dir: Path) -> Any:
    """Parse ``<model_dir>/config.pbtxt`` into a ModelConfig message."""
    path = Path(model_dir) / "config.pbtxt"
    if not path.is_file():
        raise ModelDirError(f"{path} does not exist: point at a Triton model directory")
    try:
        return text_format.Parse(path.read_text(), pb().ModelConfig())
    except text_format.ParseError as exc:
        raise ModelDirError(f"{path} is not a valid Triton model config: {exc}") from exc


def python_config(
    onnx_config: Any, name: str, region: str | None, region_output: str | None
) -> Any:
    """The python-backend twin of an ONNX ModelConfig (same I/O, batching, versions)."""
    if onnx_config.platform != ONNX_PLATFORM and onnx_config.backend != "onnxruntime":
        raise ModelDirError(
            f"model {onnx_config.name!r} is {onnx_config.platform or onnx_config.backend!r}, "
            f"not {ONNX_PLATFORM!r}: convert the ONNX Runtime twin, not a TensorRT plan"
        )
    if not onnx_config.input or not onnx_config.output:
        raise ModelDirError(
            f"model {onnx_config.name!r} config lists no inputs or outputs: write them out "
            "(engine_build does) so the python backend knows what to serve"
        )
    config = pb().ModelConfig()
    config.CopyFrom(onnx_config)
    config.name = name
    config.platform = ""
    config.backend = "python"
    for field in ("optimization", "default_model_filename", "cc_model_filenames"):
        config.ClearField(field)
    del config.instance_group[:]
    group = config.instance_group.add()
    group.count = 1
    group.kind = group.KIND_CPU
    if region:
        config.parameters["region"].string_value = region
    if region_output:
        _add_region_output(config, region_output)
    return config


def _add_region_output(config: Any, name: str) -> None:
    if any(out.name == name for out in config.output):
        raise ModelDirError(f"region output {name!r} clashes with an output of the model")
    out = config.output.add()
    out.name = name
    out.data_type = pb().DataType.Value("TYPE_STRING")
    out.dims.append(1)
    config.parameters["region_output"].string_value = name


def onnx_versions(model_dir: Path, filename: str = "model.onnx") -> list[int]:
    """Numeric version directories that hold the ONNX file, ascending."""
    found = [
        int(d.name)
        for d in Path(model_dir).iterdir()
        if d.is_dir() and d.name.isdigit() and (d / filename).is_file()
    ]
    if not found:
        raise ModelDirError(f"{model_dir} has no <version>/{filename}: nothing to serve")
    return sorted(found)


def convert_version(src_model_dir: Path, version: int, dst_model_dir: Path) -> Path:
    """Publish ``<dst>/<version>/{model.onnx,model.py}`` atomically; re-running is a no-op."""
    onnx_file = read_config(src_model_dir).default_model_filename or "model.onnx"
    source = Path(src_model_dir) / str(version) / onnx_file
    if not source.is_file():
        raise ModelDirError(f"{source} does not exist")
    target = Path(dst_model_dir) / str(version)
    if target.is_dir():
        return target
    tmp = Path(dst_model_dir) / f".{version}.tmp-{uuid.uuid4().hex[:8]}"
    tmp.mkdir(parents=True)
    shutil.copy2(source, tmp / "model.onnx")
    shutil.copy2(SERVED_MODEL, tmp / "model.py")
    tmp.rename(target)
    return target


def write_config(config: Any, dst_model_dir: Path) -> Path:
    """Write config.pbtxt via temp file + rename so a polling Triton never reads half a file."""
    dst_model_dir.mkdir(parents=True, exist_ok=True)
    path = dst_model_dir / "config.pbtxt"
    tmp = dst_model_dir / f".config.pbtxt.tmp-{uuid.uuid4().hex[:8]}"
    tmp.write_text(text_format.MessageToString(config))
    tmp.replace(path)
    return path


def convert_model(
    src_model_dir: Path,
    dst_repository: Path,
    *,
    name: str | None = None,
    region: str | None = None,
    region_output: str | None = REGION_OUTPUT,
) -> Path:
    """Convert every ONNX version of a model into ``<dst_repository>/<name>``; returns that dir.

    ``region`` pins the region label in the config (default: the server's TRT_DR_REGION);
    ``region_output`` (default ``SERVED_BY_REGION``; None to leave the I/O untouched) adds a
    BYTES output of that name, shape ``[1]`` per item, carrying the label.
    """
    src = Path(src_model_dir)
    onnx_config = read_config(src)
    model_name = name or onnx_config.name or src.name
    config = python_config(onnx_config, model_name, region, region_output)
    dst = Path(dst_repository) / model_name
    versions = onnx_versions(src, onnx_config.default_model_filename or "model.onnx")
    for version in versions:
        convert_version(src, version, dst)
    write_config(config, dst)
    return dst
