"""Quality probe pieces: golden batch files, agreement, per-pod probing, the metric on moto.

The probe against a real Triton is in test_quality_e2e.py (slow).
"""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import boto3
import numpy as np
import pytest
from moto import mock_aws
from tritonclient.utils import InferenceServerException
from typer.testing import CliRunner

from drctl.monitoring.quality import (
    LABELS,
    METRIC,
    NAMESPACE,
    Golden,
    GoldenInvalid,
    QualityResult,
    agreement,
    golden_bytes,
    parse_golden,
    probe,
    put_quality_metric,
)
from drctl.ops_entry import app

cli = CliRunner()
EXPECTED = np.array([0, 1, 2, 1, 0], dtype=np.int64)
INPUTS = {"input": np.arange(5 * 4, dtype=np.float32).reshape(5, 4)}


def one_hot(classes: np.ndarray, width: int = 3) -> np.ndarray:
    return np.eye(width, dtype=np.float32)[classes]


def npz(**arrays: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    np.savez(buffer, **arrays)
    return buffer.getvalue()


def test_golden_round_trip() -> None:
    golden = parse_golden(golden_bytes(INPUTS, EXPECTED), "g")
    assert golden.samples == 5 and list(golden.inputs) == ["input"]
    assert golden.expected.tolist() == EXPECTED.tolist()


@pytest.mark.parametrize(
    "raw,message",
    [
        (b"not a zip", "not a readable .npz"),
        (npz(input=INPUTS["input"]), LABELS),
        (npz(input=INPUTS["input"], expected_top1=np.zeros((5, 1), np.int64)), "1-D integer"),
        (npz(input=INPUTS["input"], expected_top1=np.zeros(5, np.float32)), "1-D integer"),
        (npz(input=INPUTS["input"], expected_top1=np.zeros(4, np.int64)), "4 samples each"),
        (npz(expected_top1=EXPECTED), "samples each"),
    ],
)
def test_bad_golden_files_say_how_to_write_one(raw: bytes, message: str) -> None:
    with pytest.raises(GoldenInvalid, match=message) as caught:
        parse_golden(raw, "s3://b/k")
    assert "golden_bytes" in str(caught.value)


def test_agreement_counts_top1_matches_on_any_trailing_shape() -> None:
    assert agreement(EXPECTED, one_hot(EXPECTED)) == 1.0
    wrong = EXPECTED.copy()
    wrong[0] = 2
    assert agreement(EXPECTED, one_hot(wrong)[:, :, None]) == pytest.approx(0.8)
    with pytest.raises(ValueError, match="4 answers for 5"):
        agreement(EXPECTED, one_hot(EXPECTED)[:4])


class FakeTriton:
    """tritonclient.http's client surface the probe uses: metadata and infer by output name."""

    def __init__(self, answers: np.ndarray | None) -> None:
        self.answers, self.requests = answers, []

    def get_model_metadata(self, model: str) -> dict[str, Any]:
        return {"name": model, "outputs": [{"name": "logits"}, {"name": "extra"}]}

    def infer(self, model: str, inputs: list[Any], outputs: list[Any]) -> Any:
        if self.answers is None:
            raise InferenceServerException("model not ready")
        rows = inputs[0].shape()[0]
        start = sum(self.requests)
        self.requests.append(rows)
        names = [o.name() for o in outputs]
        answers = self.answers[start : start + rows]
        return type("Result", (), {"as_numpy": lambda _, n: answers if n in names else None})()


def test_probe_reports_each_answering_pod_in_batches() -> None:
    golden = Golden(INPUTS, EXPECTED)
    wrong = EXPECTED.copy()
    wrong[:2] = 2
    pods = {
        "http://a": FakeTriton(one_hot(EXPECTED)),
        "http://b": FakeTriton(one_hot(wrong)),
        "http://c": FakeTriton(None),
    }
    found = probe(pods, "m", golden, None, 2)
    assert found == {"http://a": 1.0, "http://b": pytest.approx(0.6)}
    assert pods["http://a"].requests == [2, 2, 1]
    assert QualityResult("us-east-1", "m", found).worst == pytest.approx(0.6)


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch) -> Any:
    for name in ("AWS_PROFILE", "AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_S3"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    with mock_aws():
        yield


def test_metric_is_the_worst_pod_per_region_and_model(aws: None) -> None:
    cloudwatch = boto3.client("cloudwatch", region_name="us-west-2")
    result = QualityResult("us-west-2", "m", {"http://a": 1.0, "http://b": 0.5})
    assert put_quality_metric(cloudwatch, result)["Value"] == 0.5
    listed = cloudwatch.list_metrics(Namespace=NAMESPACE)["Metrics"]
    assert [(m["MetricName"], m["Dimensions"]) for m in listed] == [
        (METRIC, [{"Name": "Region", "Value": "us-west-2"}, {"Name": "Model", "Value": "m"}])
    ]


def test_probe_command_needs_a_golden_batch_and_a_target(aws: None, tmp_path: Path) -> None:
    s3 = boto3.client("s3", region_name="us-east-1")
    s3.create_bucket(Bucket="models-use1")
    outputs = {
        "region": "us-east-1",
        "role": "primary",
        "peerRegion": "us-west-2",
        "bucketName": "models-use1",
        "bucketArn": "arn:aws:s3:::models-use1",
        "peerBucketName": "models-usw2",
        "kmsKeyArn": "arn:aws:kms:us-east-1:1:key/k",
        "clusterName": "c",
        "healthCheckId": "hc",
        "serviceHostname": "infer.example.com",
    }
    (tmp_path / "primary.json").write_text(json.dumps(outputs))
    args = ["quality-probe", "--model", "m", "--region", "primary", "--aws-region", "us-east-1"]
    env = {"TRT_DR_OUTPUTS": str(tmp_path)}
    missing = cli.invoke(app, args, env=env)
    assert missing.exit_code == 2 and "us-east-1/quality/m.npz" in missing.output
    s3.put_object(Bucket="models-use1", Key="us-east-1/quality/m.npz", Body=npz(a=EXPECTED))
    invalid = cli.invoke(app, args, env=env)
    assert invalid.exit_code == 2 and "expected_top1" in invalid.output
    good = golden_bytes(INPUTS, EXPECTED)
    s3.put_object(Bucket="models-use1", Key="us-east-1/quality/m.npz", Body=good)
    nowhere = cli.invoke(app, args, env=env)
    assert nowhere.exit_code == 2 and "--endpoint" in nowhere.output
