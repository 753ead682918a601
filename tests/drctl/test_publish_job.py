"""The `pulumi up` path without Kubernetes: engine_build writes to S3, the publish step releases.

Real engine_build (CPU twin of the shipped example model) and the real model store, against
moto's S3; the same commands the build and publish Jobs run.
"""

from __future__ import annotations

import json
from collections.abc import Iterator

import boto3
import pytest
from moto import mock_aws

from drctl.publish_job import engines_prefix, main
from engine_build.build import build
from engine_build.spec import ModelSpec, Target
from infra.offline import PROJECT_DIR

BUCKET = "trt-dr-models-123456789012-us-east-1"
REGION = "us-east-1"


@pytest.fixture
def s3() -> Iterator[object]:
    with mock_aws():
        client = boto3.client("s3", region_name=REGION)
        client.create_bucket(Bucket=BUCKET)
        client.put_bucket_versioning(Bucket=BUCKET, VersioningConfiguration={"Status": "Enabled"})
        yield client


def spec() -> ModelSpec:
    return ModelSpec(
        name="classifier",
        onnx=str(PROJECT_DIR / "models/classifier.onnx"),
        inputs=[
            {
                "name": "input",
                "min": [1, 3, 224, 224],
                "opt": [2, 3, 224, 224],
                "max": [4, 3, 224, 224],
            }
        ],
        max_batch=4,
        precisions=["fp32"],
        classifier=True,
    )


def test_build_then_publish_then_rerun(s3: object, capsys: pytest.CaptureFixture[str]) -> None:
    result = build(
        spec(), Target(kind="cpu"), f"s3://{BUCKET}/{REGION}/engines", "local", latency_iterations=3
    )
    assert result.build_dir.endswith(engines_prefix(REGION, "classifier", "cpu", result.key))
    args = ["--bucket", BUCKET, "--root", REGION, "--model", "classifier", "--target", "cpu"]
    assert main([*args, "--key", result.key]) == 0
    first = json.loads(capsys.readouterr().out)
    assert first == {"model": "classifier", "version": 1, "state": "released"}
    release = json.loads(
        s3.get_object(Bucket=BUCKET, Key=f"{REGION}/releases/classifier.json")["Body"].read()  # type: ignore[attr-defined]
    )
    assert (release["version"], release["build_key"]) == (1, result.key)
    listed = s3.list_objects_v2(Bucket=BUCKET, Prefix=f"{REGION}/repository/classifier/")  # type: ignore[attr-defined]
    keys = {o["Key"] for o in listed["Contents"]}
    assert f"{REGION}/repository/classifier/config.pbtxt" in keys
    assert f"{REGION}/repository/classifier/1/model.onnx" in keys
    assert main([*args, "--key", result.key]) == 0
    assert json.loads(capsys.readouterr().out)["state"] == "already-released"


def test_a_missing_build_exits_2_with_a_message(
    s3: object, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(
        [
            "--bucket",
            BUCKET,
            "--root",
            REGION,
            "--model",
            "classifier",
            "--target",
            "sm90",
            "--key",
            "0" * 64,
        ]
    )
    assert code == 2
    assert "error:" in capsys.readouterr().err
