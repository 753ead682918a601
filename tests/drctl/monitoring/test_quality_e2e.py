"""The quality probe end to end in the local rehearsal: real Triton, real store, moto CloudWatch.

The golden batch is the rehearsal's fixed batch with the reference model's top-1 classes.
The released version agrees on every sample; the regressed build the bad-version drill
publishes (a model that answers differently) makes the probe exit 1 and publish the drop.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import boto3
import pytest
from typer.testing import CliRunner

from drctl.monitoring.quality import METRIC, NAMESPACE, golden_bytes, golden_key
from drctl.ops_entry import app
from drctl.rehearsal.env import LocalEnvironment
from drctl.store.publish import publish
from infra.offline import PROJECT_DIR

pytestmark = pytest.mark.slow
runner = CliRunner()


@pytest.fixture(scope="module")
def env(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalEnvironment]:
    work = tmp_path_factory.mktemp("quality")
    with LocalEnvironment.from_stack_files(work, PROJECT_DIR) as environment:
        yield environment


def probe(env: LocalEnvironment, folder: Path, *extra: str) -> tuple[int, dict[str, object]]:
    endpoint = f"http://{env.servers['primary'].endpoint}"
    args = ["quality-probe", "--model", env.model, "--region", "primary", *extra]
    args += ["--aws-region", env.primary, "--endpoint", endpoint, "--batch-size", "3"]
    result = runner.invoke(app, args, env={"TRT_DR_OUTPUTS": str(folder)})
    lines = [line for line in result.stdout.splitlines() if line.startswith("{")]
    return result.exit_code, json.loads(lines[-1]) if lines else {"output": result.output}


def published(region: str, model: str) -> list[float]:
    now = datetime.now(UTC)
    points = boto3.client("cloudwatch", region_name=region).get_metric_statistics(
        Namespace=NAMESPACE,
        MetricName=METRIC,
        Dimensions=[{"Name": "Region", "Value": region}, {"Name": "Model", "Value": model}],
        StartTime=now - timedelta(hours=1),
        EndTime=now + timedelta(minutes=1),
        Period=60,
        Statistics=["Minimum"],
    )["Datapoints"]
    return [p["Minimum"] for p in points]


def test_probe_passes_the_release_and_catches_the_regressed_version(
    env: LocalEnvironment, tmp_path: Path
) -> None:
    own = env.trees["primary"][0]
    body = golden_bytes({"input": env.builds.canary}, env.builds.golden)
    own.s3.put_object(Bucket=own.bucket, Key=own.key(golden_key(env.model)), Body=body)
    folder = tmp_path / "outputs"
    folder.mkdir()
    (folder / "primary.json").write_text(json.dumps(env.outputs()["primary"]))

    code, good = probe(env, folder)  # the first output Triton reports: the logits
    assert code == 0, good
    assert list(good["agreement"].values()) == [1.0]  # type: ignore[union-attr]
    assert published(env.primary, env.model) == [1.0]

    publish(own, env.bad_build)
    env.reload_primary()
    code, bad = probe(env, folder, "--output", "logits")
    worst = min(bad["agreement"].values())  # type: ignore[union-attr]
    assert code == 1 and worst < 0.99, bad
    assert min(published(env.primary, env.model)) == worst
