"""A rollout end to end in the local rehearsal: real Tritons, real /metrics, real store.

A latency-regressed version (same answers, extra compute: a regression no accuracy gate
sees) is published and loaded in the primary; the controller compares it with the DR
region, still on version 1, and rolls it back by itself: release pointer back, Triton
reloads. A healthy version is promoted and left in place.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import onnx
import pytest
from onnx import helper, numpy_helper
from typer.testing import CliRunner

from drctl.cli import app
from drctl.drill.triton_call import call, make_client
from drctl.monitoring.decision import Policy
from drctl.monitoring.rollout import Subject, run_rollout
from drctl.monitoring.source import TritonMetrics
from drctl.rehearsal.builds import absolute_spec
from drctl.rehearsal.env import LocalEnvironment
from drctl.rehearsal.region_server import RegionServer
from drctl.store.buildtree import S3Build, parse_location
from drctl.store.publish import publish
from drctl.store.rollback import rollback
from drctl.store.verify import read_release
from engine_build.build import build
from engine_build.spec import Target
from infra.offline import PROJECT_DIR

pytestmark = pytest.mark.slow
POLICY = Policy(error_rate=0.01, latency_ms=10_000.0, latency_ratio=1.5, min_requests=5, windows=2)


def slow_model(source: Path, target: Path, depth: int = 20) -> Path:
    """The same model plus a chain of MatMul/Tanh whose result is multiplied by zero."""
    model = onnx.load(str(source))
    graph = model.graph
    out = graph.output[0].name
    for node in graph.node:
        node.output[:] = ["fast_logits" if o == out else o for o in node.output]
    graph.initializer.extend(
        [
            numpy_helper.from_array(np.eye(224, dtype=np.float32) * 0.5, "slow_w"),
            numpy_helper.from_array(np.zeros((), np.float32), "slow_zero"),
        ]
    )
    previous = graph.input[0].name
    for i in range(depth):
        graph.node.extend(
            [
                helper.make_node("MatMul", [previous, "slow_w"], [f"slow_m{i}"]),
                helper.make_node("Tanh", [f"slow_m{i}"], [f"slow_t{i}"]),
            ]
        )
        previous = f"slow_t{i}"
    graph.node.extend(
        [
            helper.make_node("ReduceMean", [previous], ["slow_r"], keepdims=0),
            helper.make_node("Mul", ["slow_r", "slow_zero"], ["slow_z"]),
            helper.make_node("Add", ["fast_logits", "slow_z"], [out]),
        ]
    )
    target.parent.mkdir(parents=True, exist_ok=True)
    onnx.save(model, str(target))
    return target


@pytest.fixture(scope="module")
def env(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalEnvironment]:
    work = tmp_path_factory.mktemp("rollout")
    with LocalEnvironment.from_stack_files(work, PROJECT_DIR) as environment:
        yield environment


def build_variant(env: LocalEnvironment, onnx_path: Path | None) -> S3Build:
    spec = absolute_spec(env.settings["primary"].models[0], env.project_dir)
    update: dict[str, object] = {"precisions": ["fp32"]}
    if onnx_path is not None:
        update["onnx"] = str(onnx_path)
    declared = env.declared["primary"]
    result = build(
        spec.model_copy(update=update),
        Target(kind="cpu"),
        f"s3://{declared.bucket}/{declared.region}/engines",
        "rehearsal-local-onnxruntime",
        latency_iterations=1,
    )
    location = parse_location(result.build_dir)
    assert isinstance(location, S3Build)
    return location


class Traffic:
    """One client thread per server (default: each region's) sending the fixed request."""

    def __init__(self, env: LocalEnvironment, servers: list[RegionServer] | None = None) -> None:
        self.stop = threading.Event()
        self.env = env
        self.threads = [
            threading.Thread(target=self._run, args=(s.endpoint,), daemon=True)
            for s in (servers if servers is not None else list(env.servers.values()))
        ]

    def _run(self, endpoint: str) -> None:
        client = make_client(endpoint, 10.0)
        try:
            while not self.stop.is_set():
                call(client, self.env.model, self.env.inputs())
        finally:
            client.close()

    def __enter__(self) -> Traffic:
        for thread in self.threads:
            thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop.set()
        for thread in self.threads:
            thread.join(timeout=15)


def subjects(env: LocalEnvironment, canary: int) -> tuple[Subject, Subject]:
    urls = {role: s.process.metrics_url for role, s in env.servers.items() if s.process}
    return (
        Subject(TritonMetrics(urls["primary"]), env.model, str(canary)),
        Subject(TritonMetrics(urls["dr"]), env.model, "1"),
    )


def roll_back(env: LocalEnvironment, to: int) -> str:
    def load(_endpoint: str, _model: str) -> None:
        env.servers["primary"].reload()

    result = rollback(
        [env.trees["primary"][0]],
        env.model,
        to,
        endpoints=[env.servers["primary"].endpoint],
        loader=load,
        who="drctl rollout",
    )
    return f"primary: {result.before} -> {result.version}"


def served_versions(env: LocalEnvironment) -> list[str]:
    client = make_client(env.servers["primary"].endpoint, 10.0)
    try:
        return list(client.get_model_metadata(env.model)["versions"])
    finally:
        client.close()


def test_regressed_canary_is_rolled_back_by_itself(env: LocalEnvironment, tmp_path: Path) -> None:
    own = env.trees["primary"][0]
    slow = slow_model(
        Path(absolute_spec(env.settings["primary"].models[0], PROJECT_DIR).onnx),
        tmp_path / "slow" / "model.onnx",
    )
    version = publish(own, build_variant(env, slow)).version
    env.reload_primary()
    assert served_versions(env) == [str(version)]
    canary, baseline = subjects(env, version)
    record = tmp_path / "decision.json"
    with Traffic(env):
        result = run_rollout(canary, baseline, POLICY, 1.5, 8, lambda: roll_back(env, 1), record)
    assert result.action == "rollback", result
    assert [w["verdict"] for w in result.windows][-2:] == ["bad", "bad"]
    assert "latency" in result.reason
    release, _ = read_release(own, env.model)
    assert release is not None and release.version == 1
    assert served_versions(env) == ["1"]
    again = run_rollout(canary, baseline, POLICY, 1.5, 8, lambda: "acted twice", record)
    assert again.acted == result.acted


def test_healthy_canary_is_promoted_and_stays(env: LocalEnvironment) -> None:
    own = env.trees["primary"][0]
    version = publish(own, build_variant(env, None)).version
    env.reload_primary()
    canary, baseline = subjects(env, version)
    policy = Policy(
        error_rate=0.01, latency_ms=10_000.0, latency_ratio=3.0, min_requests=5, windows=2
    )
    with Traffic(env):
        result = run_rollout(canary, baseline, policy, 1.5, 8, lambda: roll_back(env, 1))
    assert result.action == "promote", result
    release, _ = read_release(own, env.model)
    assert release is not None and release.version == version
    assert served_versions(env) == [str(version)]


def test_pipeline_step_rolls_back_through_the_cli(env: LocalEnvironment, tmp_path: Path) -> None:
    own = env.trees["primary"][0]
    source = Path(absolute_spec(env.settings["primary"].models[0], PROJECT_DIR).onnx)
    version = publish(own, build_variant(env, slow_model(source, tmp_path / "m.onnx"))).version
    env.reload_primary()
    files = []
    for role, values in env.outputs().items():
        (tmp_path / f"{role}.json").write_text(json.dumps(values))
        files += ["--outputs", str(tmp_path / f"{role}.json")]
    urls = {role: s.process.metrics_url for role, s in env.servers.items() if s.process}
    args = [
        "rollout",
        "watch",
        "--model",
        env.model,
        "--canary-version",
        str(version),
        "--baseline-version",
        "1",
        "--canary-metrics",
        urls["primary"],
        "--baseline-metrics",
        urls["dr"],
        "--window-seconds",
        "1.5",
        "--max-windows",
        "8",
        "--min-requests",
        "5",
        "--windows",
        "2",
        "--region",
        "primary",
        "--no-load",
        *files,
    ]
    with Traffic(env):
        result = CliRunner().invoke(app, args)
    assert result.exit_code == 1, result.output
    assert json.loads(result.stdout.strip().splitlines()[-1])["action"] == "rollback"
    release, _ = read_release(own, env.model)
    assert release is not None and release.version == 1
    env.reload_primary()
    assert served_versions(env) == ["1"]
