from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import onnx
import pytest
from moto import mock_aws
from onnx import external_data_helper

from engine_build import store
from engine_build.build import build
from engine_build.errors import SourceNotFoundError, StoreAccessError, VerificationError
from engine_build.graph import onnx_digest
from engine_build.spec import parse_target
from engine_build.store import accepted, fetch, publish, s3_location
from engine_build.verify import inspect, verify
from tests.engine_build.conftest import SpecFactory
from tests.engine_build.models import mlp

BUCKET = "models-primary"


@pytest.fixture
def s3(monkeypatch: pytest.MonkeyPatch) -> Iterator[object]:
    """A moto S3 with one bucket, and fake credentials so nothing reaches AWS."""
    for name, value in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
    }.items():
        monkeypatch.setenv(name, value)
    with mock_aws():
        client = boto3.client("s3")
        client.create_bucket(Bucket=BUCKET)
        yield client


def upload_inputs(client: object, workspace: Path) -> None:
    for name in ("mlp.onnx", "val.npz", "cal.npz"):
        client.upload_file(str(workspace / name), BUCKET, f"src/{name}")  # type: ignore[attr-defined]


def test_s3_location_parsing() -> None:
    assert s3_location("s3://b/p/q/") == s3_location("s3://b/p/q")
    assert s3_location("s3://b") is not None and s3_location("s3://b").prefix == ""  # type: ignore[union-attr]
    assert s3_location("/tmp/out") is None


def test_build_from_and_to_s3(s3: object, make_spec: SpecFactory, workspace: Path) -> None:
    upload_inputs(s3, workspace)
    spec = make_spec(
        onnx=f"s3://{BUCKET}/src/mlp.onnx",
        validation=f"s3://{BUCKET}/src/val.npz",
        calibration=f"s3://{BUCKET}/src/cal.npz",
        precisions=["fp16"],
    )
    out = f"s3://{BUCKET}/builds"
    result = build(spec, parse_target("cpu"), out, "img:1", latency_iterations=3)
    assert result.build_dir == f"{out}/mlp/cpu/{result.key}"
    listed = s3.list_objects_v2(Bucket=BUCKET, Prefix="builds/")  # type: ignore[attr-defined]
    keys = sorted(item["Key"] for item in listed["Contents"])
    prefix = f"builds/mlp/cpu/{result.key}/"
    assert keys == [
        prefix + p for p in ("manifest.json", "triton/mlp/1/model.onnx", "triton/mlp/config.pbtxt")
    ]
    assert verify(result.build_dir).key == result.key
    assert inspect(result.build_dir).precision == "fp16"
    again = build(spec, parse_target("cpu"), out, "img:1")
    assert again.skipped


def test_corrupted_s3_object_fails_verification(
    s3: object, make_spec: SpecFactory, workspace: Path
) -> None:
    result = build(
        make_spec(), parse_target("cpu"), f"s3://{BUCKET}/b", "img", latency_iterations=3
    )
    key = f"b/mlp/cpu/{result.key}/triton/mlp/1/model.onnx"
    s3.put_object(Bucket=BUCKET, Key=key, Body=b"tampered")  # type: ignore[attr-defined]
    with pytest.raises(VerificationError) as failure:
        verify(result.build_dir)
    assert failure.value.problems == [
        "triton/mlp/1/model.onnx: size 8 != "
        f"{result.manifest.file('triton/mlp/1/model.onnx').size} in manifest"
    ]


def test_manifest_goes_last_so_a_partial_upload_is_not_accepted(
    s3: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    stage = tmp_path / "stage"
    (stage / "triton").mkdir(parents=True)
    (stage / "triton" / "f").write_text("x")
    (stage / "manifest.json").write_text("{}")
    order: list[str] = []

    class Recording:
        def upload_file(self, path: str, bucket: str, key: str) -> None:
            order.append(key)
            s3.upload_file(path, bucket, key)

    monkeypatch.setattr(store, "s3_client", Recording)
    publish(stage, f"s3://{BUCKET}/x")
    assert order == ["x/triton/f", "x/manifest.json"]


def test_missing_s3_input_is_bad_input(s3: object, tmp_path: Path) -> None:
    with pytest.raises(SourceNotFoundError, match="cannot download"):
        fetch(f"s3://{BUCKET}/nope.onnx", tmp_path)


def test_local_publish_replaces_a_leftover_without_manifest(tmp_path: Path) -> None:
    stage = tmp_path / "stage"
    stage.mkdir()
    (stage / "a").write_text("new")
    dest = tmp_path / "out" / "k"
    dest.mkdir(parents=True)
    (dest / "stale").write_text("old")
    publish(stage, str(dest))
    assert sorted(p.name for p in dest.iterdir()) == ["a"]
    assert accepted(str(dest)) is None
    assert [p.name for p in dest.parent.iterdir()] == ["k"]


def test_missing_bucket_is_a_clear_store_error(
    s3: Any, make_spec: SpecFactory, workspace: Path
) -> None:
    with pytest.raises(StoreAccessError, match="cannot read s3://no-such-bucket") as failure:
        build(make_spec(), parse_target("cpu"), "s3://no-such-bucket/b", "img")
    assert failure.value.exit_code == 2


def test_invalid_manifest_in_the_store_is_rebuilt(make_spec: SpecFactory, workspace: Path) -> None:
    first = build(
        make_spec(), parse_target("cpu"), str(workspace / "o"), "img", latency_iterations=2
    )
    (Path(first.build_dir) / "manifest.json").write_text("{broken")
    again = build(
        make_spec(), parse_target("cpu"), str(workspace / "o"), "img", latency_iterations=2
    )
    assert not again.skipped and verify(again.build_dir).key == first.key


def test_s3_model_with_external_data(s3: Any, make_spec: SpecFactory, workspace: Path) -> None:
    model = mlp()
    external_data_helper.convert_model_to_external_data(
        model, all_tensors_to_one_file=True, location="weights/mlp.bin", size_threshold=0
    )
    (workspace / "weights").mkdir()
    onnx.save(model, str(workspace / "ext.onnx"))
    s3.upload_file(str(workspace / "ext.onnx"), BUCKET, "src/ext.onnx")
    s3.upload_file(str(workspace / "weights" / "mlp.bin"), BUCKET, "src/weights/mlp.bin")
    spec = make_spec(onnx=f"s3://{BUCKET}/src/ext.onnx")
    result = build(spec, parse_target("cpu"), str(workspace / "out"), "img", latency_iterations=2)
    assert result.manifest.onnx_sha256 == onnx_digest(workspace / "ext.onnx")
