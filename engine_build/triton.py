"""Triton model configuration, rendered and parsed with Triton's own protobuf.

The config never names a version directory: the model store copies ``triton/<model>/``
into the serving repository under a new version number. ``with_cc_plans`` turns a config
into one that serves several GPU plans, picked by compute capability.
"""

from __future__ import annotations

from typing import Any

from google.protobuf import text_format

from engine_build.graph import TensorInfo

NUMPY_TO_TRITON = {
    "float32": "TYPE_FP32",
    "float16": "TYPE_FP16",
    "float64": "TYPE_FP64",
    "int64": "TYPE_INT64",
    "int32": "TYPE_INT32",
    "int8": "TYPE_INT8",
    "uint8": "TYPE_UINT8",
    "bool": "TYPE_BOOL",
}
QUEUE_DELAY_US = 100


def pb() -> Any:
    """Triton's ``model_config_pb2`` as shipped in tritonclient."""
    from tritonclient.grpc import model_config_pb2

    return model_config_pb2


def _tensor(message: Any, info: TensorInfo, batched: bool) -> None:
    dims = info.dims[1:] if batched else info.dims
    message.name = info.name
    message.data_type = pb().DataType.Value(NUMPY_TO_TRITON[info.dtype])
    message.dims.extend([-1 if d is None else d for d in dims])


def model_config(
    name: str,
    platform: str,
    inputs: list[TensorInfo],
    outputs: list[TensorInfo],
    max_batch: int,
    gpu: bool,
    preferred_batch: int | None = None,
) -> Any:
    """A ModelConfig for one model: I/O from the graph, batching, one instance, latest."""
    config = pb().ModelConfig(name=name, platform=platform, max_batch_size=max_batch)
    for info in inputs:
        _tensor(config.input.add(), info, max_batch > 0)
    for info in outputs:
        _tensor(config.output.add(), info, max_batch > 0)
    if max_batch > 0:
        config.dynamic_batching.max_queue_delay_microseconds = QUEUE_DELAY_US
        if preferred_batch:
            config.dynamic_batching.preferred_batch_size.append(preferred_batch)
    group = config.instance_group.add()
    group.count = 1
    group.kind = group.KIND_GPU if gpu else group.KIND_CPU
    config.version_policy.latest.num_versions = 1
    return config


def render(config: Any) -> str:
    """config.pbtxt text for a ModelConfig."""
    return text_format.MessageToString(config)


def parse(text: str) -> Any:
    """Parse config.pbtxt text back into a ModelConfig (raises on unknown fields)."""
    return text_format.Parse(text, pb().ModelConfig())


def with_cc_plans(text: str, plans: dict[str, str], default: str | None = None) -> str:
    """The same config serving one plan per compute capability (``{"8.9": "model_sm89.plan"}``);
    ``default`` (e.g. an ``ampere+`` plan) is used on any other GPU."""
    config = parse(text)
    config.cc_model_filenames.clear()
    config.cc_model_filenames.update(plans)
    if default:
        config.default_model_filename = default
    return render(config)
