"""A test double of the ``tensorrt`` Python module (TensorRT 10 API surface we use).

Signatures and behaviour follow the real API: the parser reads the ONNX graph's inputs,
``build_serialized_network`` returns None when an input has no optimization-profile shape
(as TensorRT does), the plan deserializes into an engine reporting what the config asked
for, and timing caches serialize and load. The "plan" is JSON, not GPU code; ``run_plan``
executes it with ONNX Runtime on the source model so the build pipeline can gate it.
"""

from __future__ import annotations

import enum
import json
import types
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, ClassVar

import onnx

__version__ = "10.5.0.18"
PLAN_MAGIC = b"FAKETRT1"


class Logger:
    """tensorrt.Logger(min_severity)."""

    VERBOSE, INFO, WARNING, ERROR, INTERNAL_ERROR = range(5)

    def __init__(self, min_severity: int = WARNING) -> None:
        self.min_severity = min_severity


class BuilderFlag(enum.IntEnum):
    FP16 = 0
    INT8 = 2


class HardwareCompatibilityLevel(enum.IntEnum):
    NONE = 0
    AMPERE_PLUS = 1


class TensorIOMode(enum.IntEnum):
    NONE = 0
    INPUT = 1
    OUTPUT = 2


class DataType(enum.IntEnum):
    FLOAT = 0
    HALF = 1
    INT8 = 2


class ParserError:
    def __init__(self, desc: str) -> None:
        self._desc = desc

    def desc(self) -> str:
        return self._desc

    def __str__(self) -> str:
        return self._desc


class INetworkDefinition:
    def __init__(self, flags: int) -> None:
        self.flags = flags
        self.inputs: dict[str, list[int]] = {}
        self.outputs: dict[str, list[int]] = {}
        self.source: str | None = None


class OnnxParser:
    """tensorrt.OnnxParser(network, logger)."""

    def __init__(self, network: INetworkDefinition, logger: Logger) -> None:
        self.network = network
        self.errors: list[ParserError] = []

    def parse_from_file(self, model: str) -> bool:
        try:
            proto = onnx.load(model)
            onnx.checker.check_model(proto)
        except Exception as exc:
            self.errors.append(ParserError(f"ModelImporter: {exc}"))
            return False
        weights = {i.name for i in proto.graph.initializer}

        def dims(v: onnx.ValueInfoProto) -> list[int]:
            shape = v.type.tensor_type.shape.dim
            return [d.dim_value if d.HasField("dim_value") else -1 for d in shape]

        self.network.inputs = {v.name: dims(v) for v in proto.graph.input if v.name not in weights}
        self.network.outputs = {v.name: dims(v) for v in proto.graph.output}
        self.network.source = model
        return True

    @property
    def num_errors(self) -> int:
        return len(self.errors)

    def get_error(self, index: int) -> ParserError:
        return self.errors[index]


class IOptimizationProfile:
    def __init__(self) -> None:
        self.shapes: dict[str, tuple[list[int], list[int], list[int]]] = {}

    def set_shape(self, input: str, min: Any, opt: Any, max: Any) -> None:
        self.shapes[input] = (list(min), list(opt), list(max))


class ITimingCache:
    def __init__(self, entries: int) -> None:
        self.entries = entries

    def serialize(self) -> bytes:
        return json.dumps({"entries": self.entries}).encode()


class IBuilderConfig:
    def __init__(self) -> None:
        self.flags: set[BuilderFlag] = set()
        self.profiles: list[IOptimizationProfile] = []
        self.int8_calibrator: Any = None
        self.calibration_profile: IOptimizationProfile | None = None
        self.hardware_compatibility_level = HardwareCompatibilityLevel.NONE
        self.timing_cache: ITimingCache | None = None
        self.loaded_cache_bytes: bytes | None = None

    def set_flag(self, flag: BuilderFlag) -> None:
        self.flags.add(BuilderFlag(flag))

    def get_flag(self, flag: BuilderFlag) -> bool:
        return flag in self.flags

    def add_optimization_profile(self, profile: IOptimizationProfile) -> int:
        self.profiles.append(profile)
        return len(self.profiles) - 1

    def set_calibration_profile(self, profile: IOptimizationProfile) -> bool:
        self.calibration_profile = profile
        return True

    def create_timing_cache(self, serialized_timing_cache: bytes) -> ITimingCache:
        self.loaded_cache_bytes = bytes(serialized_timing_cache)
        if not serialized_timing_cache:
            return ITimingCache(0)
        return ITimingCache(int(json.loads(bytes(serialized_timing_cache))["entries"]))

    def set_timing_cache(self, cache: ITimingCache, ignore_mismatch: bool) -> bool:
        self.timing_cache = cache
        return True

    def get_timing_cache(self) -> ITimingCache:
        assert self.timing_cache is not None
        return self.timing_cache


class Builder:
    """tensorrt.Builder(logger); records every config it built with."""

    built: ClassVar[list[IBuilderConfig]] = []

    def __init__(self, logger: Logger) -> None:
        self.logger = logger

    def create_network(self, flags: int = 0) -> INetworkDefinition:
        return INetworkDefinition(flags)

    def create_builder_config(self) -> IBuilderConfig:
        return IBuilderConfig()

    def create_optimization_profile(self) -> IOptimizationProfile:
        return IOptimizationProfile()

    def build_serialized_network(
        self, network: INetworkDefinition, config: IBuilderConfig
    ) -> bytes | None:
        Builder.built.append(config)
        if not config.profiles:
            return None
        profile = config.profiles[0]
        for name, dims in network.inputs.items():
            if name not in profile.shapes or len(profile.shapes[name][0]) != len(dims):
                return None  # TensorRT: "Network has dynamic inputs, but no profile"
        if config.timing_cache is not None:
            config.timing_cache.entries += len(network.inputs) + len(network.outputs)
        plan = {
            "source": network.source,
            "flags": sorted(f.name for f in config.flags),
            "hw": config.hardware_compatibility_level.name,
            "inputs": network.inputs,
            "outputs": network.outputs,
            "profiles": len(config.profiles),
        }
        return PLAN_MAGIC + json.dumps(plan).encode()


class ICudaEngine:
    def __init__(self, plan: dict[str, Any]) -> None:
        self.plan = plan
        self._io = [(n, TensorIOMode.INPUT, d) for n, d in plan["inputs"].items()]
        self._io += [(n, TensorIOMode.OUTPUT, d) for n, d in plan["outputs"].items()]
        self.hardware_compatibility_level = HardwareCompatibilityLevel[plan["hw"]]
        self.num_optimization_profiles = plan["profiles"]

    @property
    def num_io_tensors(self) -> int:
        return len(self._io)

    def get_tensor_name(self, index: int) -> str:
        return self._io[index][0]

    def get_tensor_mode(self, name: str) -> TensorIOMode:
        return next(mode for n, mode, _ in self._io if n == name)

    def get_tensor_dtype(self, name: str) -> DataType:
        return DataType.FLOAT

    def get_tensor_shape(self, name: str) -> list[int]:
        return next(dims for n, _, dims in self._io if n == name)


class Runtime:
    def __init__(self, logger: Logger) -> None:
        self.logger = logger

    def deserialize_cuda_engine(self, serialized_engine: bytes) -> ICudaEngine | None:
        if not bytes(serialized_engine).startswith(PLAN_MAGIC):
            return None
        return ICudaEngine(json.loads(bytes(serialized_engine)[len(PLAN_MAGIC) :]))


@contextmanager
def run_plan(_backend: object, engine: Path) -> Iterator[Any]:
    """Stand-in for the Polygraphy runner: execute the plan's source ONNX on ONNX Runtime."""
    from engine_build.backends.ort import session_runner

    plan = json.loads(engine.read_bytes()[len(PLAN_MAGIC) :])
    yield session_runner(Path(plan["source"]))


def as_module() -> types.ModuleType:
    """This double as a fresh module object to place in ``sys.modules['tensorrt']``."""
    import tests.engine_build.backends.fake_tensorrt as me

    Builder.built = []
    return me
