"""The store-verify metric: the emitter on moto CloudWatch, and the CronJob's command end to end."""

from __future__ import annotations

import shutil
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
from typer.testing import CliRunner

from drctl.ops_entry import app
from drctl.store.publish import publish
from drctl.store.replicator import replicate_all
from drctl.store.s3ops import RegionStore
from drctl.store.verify_metric import (
    DIMENSION,
    METRIC,
    NAMESPACE,
    VerifyOutcome,
    put_verify_metric,
)
from tests.drctl.store.conftest import PRIMARY_REGION, outputs_files, trees

runner = CliRunner()
ENGINE = f"{PRIMARY_REGION}/repository/resnet/1/model.onnx"


def datapoints(region: str) -> list[float]:
    """Maxima of every minute in the last hour, oldest first."""
    cloudwatch = boto3.client("cloudwatch", region_name=region)
    now = datetime.now(UTC)
    found = cloudwatch.get_metric_statistics(
        Namespace=NAMESPACE,
        MetricName=METRIC,
        Dimensions=[{"Name": DIMENSION, "Value": region}],
        StartTime=now - timedelta(hours=1),
        EndTime=now + timedelta(minutes=1),
        Period=60,
        Statistics=["Maximum", "SampleCount"],
    )["Datapoints"]
    return [p["Maximum"] for p in sorted(found, key=lambda p: p["Timestamp"])]


def test_emitter_puts_failed_models_with_the_region_dimension(
    regions: tuple[RegionStore, RegionStore],
) -> None:
    outcome = VerifyOutcome("us-east-1", ("resnet", "bert"), ("bert",))
    cloudwatch = boto3.client("cloudwatch", region_name="us-east-1")
    sent = put_verify_metric(cloudwatch, outcome)
    assert sent["Value"] == 1.0 and not outcome.ok
    listed = cloudwatch.list_metrics(Namespace=NAMESPACE)["Metrics"]
    assert [(m["MetricName"], m["Dimensions"]) for m in listed] == [
        (METRIC, [{"Name": DIMENSION, "Value": "us-east-1"}])
    ]
    assert datapoints("us-east-1") == [1.0]
    west = boto3.client("cloudwatch", region_name="us-west-2")
    assert west.list_metrics(Namespace=NAMESPACE)["Metrics"] == []


def corrupt(store: RegionStore) -> None:
    """Same size, same metadata, wrong bytes: only hashing notices."""
    head = store.s3.head_object(Bucket=store.bucket, Key=ENGINE)
    body = b"\0" * head["ContentLength"]
    store.s3.put_object(Bucket=store.bucket, Key=ENGINE, Body=body, Metadata=head["Metadata"])


def flat(text: str) -> str:
    """Console output without the line wrapping."""
    return " ".join(text.split())


def verify(folder: Path, *extra: str) -> Any:
    """The CronJob's command with its environment: one stack's outputs in a directory."""
    args = ["store-verify", "--model", "resnet", "--region", "primary", *extra]
    env = {"TRT_DR_OUTPUTS": str(folder), "AWS_REGION": PRIMARY_REGION}
    return runner.invoke(app, args, env=env)


def test_store_verify_publishes_zero_then_one_and_nothing_when_it_cannot_run(
    regions: tuple[RegionStore, RegionStore], build: Path, tmp_path: Path
) -> None:
    publish(trees(regions)[0], build)
    replicate_all(list(regions))
    folder = tmp_path / "outputs"
    folder.mkdir()
    shutil.copy(outputs_files(tmp_path)[0], folder / "primary.json")  # as in the cluster

    clean = verify(folder)
    assert clean.exit_code == 0, clean.output
    assert datapoints(PRIMARY_REGION) == [0.0]

    corrupt(regions[0])
    broken = verify(folder)
    assert broken.exit_code == 1, broken.output
    assert '"corrupt"' in broken.output
    assert max(datapoints(PRIMARY_REGION)) == 1.0

    before = len(datapoints(PRIMARY_REGION))
    missing = verify(tmp_path / "nowhere")
    assert missing.exit_code == 2 and "no metric published" in flat(missing.output)
    assert len(datapoints(PRIMARY_REGION)) == before

    class Denied:
        """CloudWatch refusing the namespace, as IAM would outside the role's condition."""

        def put_metric_data(self, **_: Any) -> None:
            error = {"Error": {"Code": "AccessDenied", "Message": "not authorized"}}
            raise ClientError(error, "PutMetricData")

    with pytest.MonkeyPatch.context() as patch:
        real = boto3.client
        patch.setattr(
            boto3, "client", lambda name, **k: Denied() if name == "cloudwatch" else real(name, **k)
        )
        denied = verify(folder, "--namespace", "Other/Space")
    assert denied.exit_code == 2 and "PutMetricData condition" in flat(denied.output)


def test_store_verify_needs_a_model(tmp_path: Path) -> None:
    result = runner.invoke(app, ["store-verify", "--region", "primary", "--aws-region", "x"])
    assert result.exit_code == 2 and "--model" in result.output
