from __future__ import annotations

from pathlib import Path

import onnx
import pytest
from onnx import external_data_helper

from engine_build.build import build
from engine_build.errors import (
    BackendVersionMismatchError,
    DataShapeError,
    GateFailedError,
    InvalidOnnxError,
    ShapeMismatchError,
    SourceNotFoundError,
    UnknownPrecisionError,
)
from engine_build.manifest import Manifest
from engine_build.spec import ModelSpec, parse_target
from engine_build.verify import verify_local
from tests.engine_build.conftest import SpecFactory
from tests.engine_build.models import features, mlp, save_npz

CPU = parse_target("cpu")
IMAGE = "builder:test"


def outlier_spec(make_spec: SpecFactory, workspace: Path, **changes: object) -> ModelSpec:
    fields: dict[str, object] = {
        "onnx": str(workspace / "outlier.onnx"),
        "precisions": ["int8", "fp16", "fp32"],
        "calibration": str(workspace / "cal_outlier.npz"),
        "validation": str(workspace / "val_outlier.npz"),
    }
    return make_spec(**{**fields, **changes})


def test_int8_that_breaks_the_model_falls_back_to_fp16(
    make_spec: SpecFactory, workspace: Path
) -> None:
    result = build(outlier_spec(make_spec, workspace), CPU, str(workspace / "out"), IMAGE)
    manifest = result.manifest
    assert manifest.precision == "fp16"
    int8, fp16 = manifest.ladder
    assert (int8.precision, int8.passed, fp16.passed) == ("int8", False, True)
    assert int8.metrics["top1_agreement"] < 0.5
    assert int8.thresholds["min_top1_agreement"] == 0.97
    assert manifest.engine["initializer_dtypes"] == ["FLOAT16"]


def test_int8_passes_a_gate_it_meets(make_spec: SpecFactory, workspace: Path) -> None:
    spec = make_spec(
        precisions=["int8", "fp32"],
        calibration=str(workspace / "cal.npz"),
        gates={"int8": {"maxRelL2": 0.2, "minTop1Agreement": 0.9}},
    )
    manifest = build(spec, CPU, str(workspace / "out"), IMAGE).manifest
    assert manifest.precision == "int8"
    assert [s.passed for s in manifest.ladder] == [True]
    assert int(str(manifest.engine["qdq_nodes"])) > 0
    assert manifest.ladder[0].metrics["top1_agreement"] >= 0.9


def test_build_writes_an_accepted_verifiable_directory(
    make_spec: SpecFactory, workspace: Path
) -> None:
    result = build(make_spec(), CPU, str(workspace / "out"), IMAGE, latency_iterations=5)
    build_dir = workspace / "out" / "mlp" / "cpu" / result.key
    assert Path(result.build_dir) == build_dir
    on_disk = Manifest.model_validate_json((build_dir / "manifest.json").read_text())
    assert on_disk.status == "accepted"
    assert sorted(f.path for f in on_disk.files) == [
        "triton/mlp/1/model.onnx",
        "triton/mlp/config.pbtxt",
    ]
    assert verify_local(build_dir).key == result.key
    assert on_disk.latency is not None and on_disk.latency.batch == 4
    assert on_disk.latency.p99_ms >= on_disk.latency.p50_ms > 0
    assert on_disk.backend == "onnxruntime" and on_disk.validation_data == "spec"
    assert [p.name for p in (workspace / "out" / "mlp" / "cpu").iterdir()] == [result.key]


def test_rebuild_with_the_same_key_is_skipped(make_spec: SpecFactory, workspace: Path) -> None:
    first = build(make_spec(), CPU, str(workspace / "out"), IMAGE, latency_iterations=3)
    again = build(make_spec(), CPU, str(workspace / "out"), IMAGE, latency_iterations=3)
    assert (again.skipped, again.key) == (True, first.key)
    assert again.manifest.created_at == first.manifest.created_at
    forced = build(
        make_spec(), CPU, str(workspace / "out"), IMAGE, force=True, latency_iterations=3
    )
    assert not forced.skipped


def test_new_builder_image_is_a_new_build(make_spec: SpecFactory, workspace: Path) -> None:
    first = build(make_spec(), CPU, str(workspace / "out"), IMAGE, latency_iterations=3)
    second = build(make_spec(), CPU, str(workspace / "out"), "builder:other", latency_iterations=3)
    assert not second.skipped and second.key != first.key


def test_no_validation_data_uses_seeded_synthetic_inputs(
    make_spec: SpecFactory, workspace: Path
) -> None:
    manifest = build(make_spec(validation=None), CPU, str(workspace / "o"), IMAGE).manifest
    assert manifest.validation_data == "synthetic"
    assert manifest.ladder[0].passed


def test_no_precision_passing_fails_and_leaves_nothing(
    make_spec: SpecFactory, workspace: Path
) -> None:
    spec = outlier_spec(make_spec, workspace, precisions=["int8"])
    with pytest.raises(GateFailedError) as failure:
        build(spec, CPU, str(workspace / "out"), IMAGE)
    assert failure.value.exit_code == 1
    assert [s.precision for s in failure.value.ladder] == ["int8"]  # type: ignore[attr-defined]
    assert "top1_agreement" in str(failure.value)
    assert not (workspace / "out").exists()


def test_wrong_explicit_backend_version_is_rejected(
    make_spec: SpecFactory, workspace: Path
) -> None:
    with pytest.raises(BackendVersionMismatchError):
        build(make_spec(), CPU, str(workspace / "out"), IMAGE, backend_version="0.0.1")


def test_bad_inputs_fail_before_anything_is_written(
    make_spec: SpecFactory, workspace: Path
) -> None:
    (workspace / "bad.onnx").write_bytes(b"\x08garbage")
    save_npz(workspace / "wrong.npz", x=features(10, width=8))
    cases = [
        (make_spec(onnx=str(workspace / "bad.onnx")), InvalidOnnxError),
        (make_spec(onnx=str(workspace / "absent.onnx")), SourceNotFoundError),
        (
            make_spec(inputs=[{"name": "x", "min": [1, 8], "opt": [1, 8], "max": [1, 8]}]),
            ShapeMismatchError,
        ),
        (make_spec(validation=str(workspace / "wrong.npz")), DataShapeError),
        (
            make_spec(precisions=["int8"], calibration=str(workspace / "wrong.npz")),
            DataShapeError,
        ),
    ]
    for spec, error in cases:
        with pytest.raises(error) as failure:
            build(spec, CPU, str(workspace / "out"), IMAGE)
        assert failure.value.exit_code == 2
    assert not (workspace / "out").exists()


def test_precision_the_backend_lacks_is_rejected(make_spec: SpecFactory, workspace: Path) -> None:
    from engine_build.backends.ort import OnnxRuntimeBackend

    backend = OnnxRuntimeBackend()
    backend.precisions = ("fp32",)
    from engine_build.backends import check_ladder

    with pytest.raises(UnknownPrecisionError, match="cannot build"):
        check_ladder(backend, make_spec(precisions=["fp16"]))


@pytest.mark.parametrize("precision", ["fp32", "fp16", "int8"])
def test_model_with_external_data_builds_a_single_file_engine(
    make_spec: SpecFactory, workspace: Path, precision: str
) -> None:
    model = mlp()
    external_data_helper.convert_model_to_external_data(
        model, all_tensors_to_one_file=True, location="weights.bin", size_threshold=0
    )
    onnx.save(model, str(workspace / "ext.onnx"))
    spec = make_spec(
        onnx=str(workspace / "ext.onnx"),
        precisions=[precision],
        calibration=str(workspace / "cal.npz"),
        gates={"int8": {"maxRelL2": 0.5}},
    )
    result = build(spec, CPU, str(workspace / "out"), IMAGE, latency_iterations=2)
    assert [f.path for f in result.manifest.files] == [
        "triton/mlp/1/model.onnx",
        "triton/mlp/config.pbtxt",
    ]
    engine = Path(result.build_dir) / "triton" / "mlp" / "1" / "model.onnx"
    onnx.checker.check_model(str(engine))
