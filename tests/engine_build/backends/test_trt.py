from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from onnxruntime.quantization import QuantFormat, quantize_static

from engine_build.backends import EngineRequest
from engine_build.backends import trt as trt_backend
from engine_build.backends.trt import TensorRTBackend
from engine_build.build import build
from engine_build.errors import BackendBuildError, BackendUnavailableError
from engine_build.spec import ModelSpec, Target, parse_target
from engine_build.triton import parse
from tests.engine_build.backends import fake_tensorrt
from tests.engine_build.conftest import SpecFactory
from tests.engine_build.models import features


@pytest.fixture
def fake_trt(monkeypatch: pytest.MonkeyPatch) -> object:
    module = fake_tensorrt.as_module()
    monkeypatch.setitem(sys.modules, "tensorrt", module)
    monkeypatch.setattr(TensorRTBackend, "runner", fake_tensorrt.run_plan)
    return module


def request(
    spec: ModelSpec, target: Target, precision: str, tmp: Path, **kw: object
) -> EngineRequest:
    fields: dict = {
        "source": Path(spec.onnx),
        "spec": spec,
        "target": target,
        "precision": precision,
        "calibration": None,
        "dest": tmp / "model.plan",
        "workdir": tmp,
    }
    fields.update(kw)
    return EngineRequest(**fields)


def test_module_imports_without_tensorrt(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "tensorrt", None)
    with pytest.raises(BackendUnavailableError, match="import tensorrt"):
        TensorRTBackend().version()


def test_portable_fp16_engine(fake_trt: object, make_spec: SpecFactory, tmp_path: Path) -> None:
    props = TensorRTBackend().build(request(make_spec(), parse_target("ampere+"), "fp16", tmp_path))
    config = fake_tensorrt.Builder.built[-1]
    assert config.flags == {fake_tensorrt.BuilderFlag.FP16}
    assert config.profiles[0].shapes == {"x": ([1, 16], [4, 16], [8, 16])}
    assert props["hardware_compatibility_level"] == "AMPERE_PLUS"
    assert props["io_tensors"] == [
        {"name": "x", "mode": "INPUT", "dtype": "FLOAT", "shape": [-1, 16]},
        {"name": "logits", "mode": "OUTPUT", "dtype": "FLOAT", "shape": [-1, 10]},
    ]


def test_gpu_fp32_engine_has_no_compatibility_level(
    fake_trt: object, make_spec: SpecFactory, tmp_path: Path
) -> None:
    props = TensorRTBackend().build(
        request(make_spec(), parse_target("gpu:L40S:8.9"), "fp32", tmp_path)
    )
    assert fake_tensorrt.Builder.built[-1].flags == set()
    assert props["hardware_compatibility_level"] == "NONE"


def test_int8_from_explicit_qdq_needs_no_calibrator(
    fake_trt: object, make_spec: SpecFactory, workspace: Path, tmp_path: Path
) -> None:
    from engine_build.backends.ort import _NpzReader

    qdq = tmp_path / "qdq.onnx"
    reader = _NpzReader({"x": features(16)}, 4)
    quantize_static(str(workspace / "mlp.onnx"), str(qdq), reader, quant_format=QuantFormat.QDQ)
    spec = make_spec(onnx=str(qdq))
    TensorRTBackend().build(request(spec, parse_target("gpu:H100:9.0"), "int8", tmp_path))
    config = fake_tensorrt.Builder.built[-1]
    assert config.flags == {fake_tensorrt.BuilderFlag.FP16, fake_tensorrt.BuilderFlag.INT8}
    assert config.int8_calibrator is None


def test_int8_without_qdq_calibrates_implicitly(
    fake_trt: object, make_spec: SpecFactory, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    seen: dict[str, object] = {}

    def calibrator(calibration: dict, spec: ModelSpec, cache: Path) -> str:
        seen.update(samples=calibration["x"].shape[0], cache=cache)
        return "calibrator"

    monkeypatch.setattr(trt_backend, "implicit_calibrator", calibrator)
    req = request(make_spec(), parse_target("gpu:H100:9.0"), "int8", tmp_path,
                  calibration={"x": features(8)})  # fmt: skip
    TensorRTBackend().build(req)
    config = fake_tensorrt.Builder.built[-1]
    assert config.int8_calibrator == "calibrator"
    assert config.calibration_profile is config.profiles[0]
    assert seen == {"samples": 8, "cache": tmp_path / trt_backend.CALIBRATION_CACHE}


def test_timing_cache_is_reused_and_grows(
    fake_trt: object, make_spec: SpecFactory, tmp_path: Path
) -> None:
    cache = tmp_path / "timing.cache"
    backend = TensorRTBackend(timing_cache=cache)
    backend.build(request(make_spec(), parse_target("gpu:H100:9.0"), "fp16", tmp_path))
    first = json.loads(cache.read_bytes())["entries"]
    backend.build(request(make_spec(), parse_target("gpu:H100:9.0"), "fp32", tmp_path))
    assert (
        fake_tensorrt.Builder.built[-1].loaded_cache_bytes
        == json.dumps({"entries": first}).encode()
    )
    assert json.loads(cache.read_bytes())["entries"] == 2 * first


def test_parser_errors_are_reported(
    fake_trt: object, make_spec: SpecFactory, tmp_path: Path
) -> None:
    (tmp_path / "bad.onnx").write_bytes(b"junk")
    req = request(
        make_spec(), parse_target("ampere+"), "fp32", tmp_path, source=tmp_path / "bad.onnx"
    )
    with pytest.raises(BackendBuildError, match="could not parse"):
        TensorRTBackend().build(req)


def test_failed_engine_build_is_reported(
    fake_trt: object, make_spec: SpecFactory, tmp_path: Path
) -> None:
    spec = make_spec(inputs=[{"name": "y", "min": [1, 16], "opt": [4, 16], "max": [8, 16]}])
    with pytest.raises(BackendBuildError, match="failed to build the fp16 engine"):
        TensorRTBackend().build(request(spec, parse_target("ampere+"), "fp16", tmp_path))


def test_full_gpu_build_through_the_double(
    fake_trt: object, make_spec: SpecFactory, workspace: Path
) -> None:
    spec = make_spec(precisions=["fp16", "fp32"])
    result = build(spec, parse_target("gpu:H100:9.0"), str(workspace / "out"), "trt:24.10",
                   latency_iterations=3)  # fmt: skip
    manifest = result.manifest
    assert (manifest.backend, manifest.backend_version) == ("tensorrt", "10.5.0.18")
    assert Path(result.build_dir).parent == workspace / "out" / "mlp" / "sm90"
    config = parse((Path(result.build_dir) / "triton/mlp/config.pbtxt").read_text())
    assert config.platform == "tensorrt_plan"
    assert config.instance_group[0].kind == config.instance_group[0].KIND_GPU
    assert (Path(result.build_dir) / "triton/mlp/1/model.plan").read_bytes().startswith(b"FAKETRT1")


def test_key_and_skip_need_no_tensorrt(
    fake_trt: object, make_spec: SpecFactory, workspace: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = parse_target("gpu:H100:9.0")
    first = build(make_spec(), target, str(workspace / "out"), "trt:24.10", latency_iterations=3)
    monkeypatch.setitem(sys.modules, "tensorrt", None)
    again = build(
        make_spec(), target, str(workspace / "out"), "trt:24.10", backend_version="10.5.0.18"
    )
    assert again.skipped and again.key == first.key
    with pytest.raises(BackendUnavailableError):
        build(make_spec(), target, str(workspace / "out"), "trt:24.11", backend_version="10.6.0.26")


def _local_compute_capability() -> str | None:
    if shutil.which("nvidia-smi") is None:
        return None
    query = ["nvidia-smi", "--query-gpu=compute_cap", "--format=csv,noheader"]
    found = subprocess.run(query, capture_output=True, text=True, check=False)
    return found.stdout.strip().splitlines()[0] if found.returncode == 0 and found.stdout else None


@pytest.mark.gpu
def test_real_tensorrt_build(make_spec: SpecFactory, workspace: Path) -> None:
    """Runs only where TensorRT, Polygraphy and a GPU exist (e.g. in the build container)."""
    pytest.importorskip("tensorrt")
    pytest.importorskip("polygraphy")
    capability = _local_compute_capability()
    if capability is None:
        pytest.skip("no NVIDIA GPU visible")
    target = parse_target(f"gpu:local:{capability}")
    spec = make_spec(precisions=["fp16", "fp32"])
    result = build(spec, target, str(workspace / "out"), "local", latency_iterations=20)
    assert result.manifest.backend == "tensorrt"
    assert result.manifest.ladder[-1].passed
    assert (Path(result.build_dir) / "triton/mlp/1/model.plan").stat().st_size > 0
    assert result.manifest.engine["hardware_compatibility_level"] == "NONE"
