"""The whole canary loop in the local rehearsal, with real servers and real metrics.

A latency-regressed build goes on trial with ``drctl store publish --canary``; a canary-track
Triton (``--model-config-name=canary``, a ``triton-canary`` pod) serves it from the same S3
tree while the stable Triton keeps the release. Traffic hits both; ``drctl rollout watch
--from-release`` reads canary and baseline from the store, compares the two servers'
``/metrics`` and aborts the trial by itself: canary pointer gone, release untouched, the
canary pod reloaded and serving the release again, the decision recorded with its evidence.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from drctl.cli import app
from drctl.rehearsal.builds import absolute_spec, build_variant
from drctl.rehearsal.env import LocalEnvironment
from drctl.serving import ready_versions
from drctl.store.canary import read_canary
from drctl.store.publish import publish
from drctl.store.verify import read_release
from infra.offline import PROJECT_DIR
from tests.drctl.monitoring.test_rollout_e2e import Traffic, slow_model

pytestmark = pytest.mark.slow


@pytest.fixture
def env(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalEnvironment]:
    work = tmp_path_factory.mktemp("canary-rollout")
    with LocalEnvironment.from_stack_files(work, PROJECT_DIR) as environment:
        yield environment


def outputs_args(env: LocalEnvironment, tmp_path: Path, endpoint: str) -> list[str]:
    """Stack outputs whose primary inferenceEndpoint is the pod the NLB hands the load to."""
    args = []
    for role, values in env.outputs().items():
        if role == "primary":
            values = {**values, "inferenceEndpoint": f"http://{endpoint}"}
        (tmp_path / f"{role}.json").write_text(json.dumps(values))
        args += ["--outputs", str(tmp_path / f"{role}.json")]
    return args


def test_regressed_canary_on_the_canary_pods_is_aborted_by_itself(
    env: LocalEnvironment, tmp_path: Path
) -> None:
    own, stable = env.trees["primary"][0], env.servers["primary"]
    canary = env.start_canary("primary")
    source = Path(absolute_spec(env.settings["primary"].models[0], PROJECT_DIR).onnx)
    slow = slow_model(source, tmp_path / "slow" / "model.onnx")
    trial = publish(own, build_variant(env, "primary", onnx=str(slow)), canary=True)
    assert trial.state == "canary"
    canary.reload()
    assert ready_versions(f"http://{canary.endpoint}", env.model) == [trial.version]
    assert ready_versions(f"http://{stable.endpoint}", env.model) == [1]
    record = tmp_path / "decision.json"
    args = ["rollout", "watch", "--from-release", "--model", env.model, "--region", "primary"]
    args += ["--canary-metrics", canary.process.metrics_url]  # type: ignore[union-attr]
    args += ["--baseline-metrics", stable.process.metrics_url]  # type: ignore[union-attr]
    args += ["--window-seconds", "1.5", "--max-windows", "8", "--min-requests", "5"]
    args += ["--windows", "2", "--record", str(record)]
    with Traffic(env, [stable, canary]):
        result = CliRunner().invoke(app, [*args, *outputs_args(env, tmp_path, canary.endpoint)])
    assert result.exit_code == 1, result.output
    decision = json.loads(record.read_text())
    assert decision["action"] == "rollback" and "latency" in decision["reason"]
    assert [w["verdict"] for w in decision["windows"]][-2:] == ["bad", "bad"]
    assert read_canary(own, env.model)[0] is None
    release, _ = read_release(own, env.model)
    assert release is not None and release.version == 1
    assert ready_versions(f"http://{canary.endpoint}", env.model) == [1]
    assert ready_versions(f"http://{stable.endpoint}", env.model) == [1]
