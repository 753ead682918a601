"""Every fault through the drill engine in the real local environment.

One environment per module (moto server, four engine_build builds, two real tritonservers,
the Route 53 and replication stand-ins), drilled fault by fault; each report's numbers are
checked against the request logs they come from.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from drctl.drill import faults
from drctl.drill.engine import DrillResult, Fault, Timeline, run_drill
from drctl.drill.metrics import compute
from drctl.drill.report import write_report
from drctl.drill.triton_call import make_client
from drctl.rehearsal import triton as triton_module
from drctl.rehearsal.env import LocalEnvironment
from infra.offline import PROJECT_DIR

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def env(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalEnvironment]:
    work = tmp_path_factory.mktemp("rehearsal")
    with LocalEnvironment.from_stack_files(work, PROJECT_DIR) as environment:
        yield environment
    pids = [s.process.pid for s in environment.servers.values() if s.process]
    assert not triton_module._RUNNING
    for pid in pids:
        assert pid is None or not _alive(pid)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def drill(env: LocalEnvironment, fault: Fault) -> DrillResult:
    result = run_drill(env, fault, budget_s=60)
    result.metrics = compute(result, env.primary, env.dr)
    return result


def _window(result: DrillResult) -> tuple[float, float]:
    return result.timeline.at("fault") or 0.0, result.timeline.at("recovering") or float("inf")


def test_region_outage_fails_over_and_back(env: LocalEnvironment, tmp_path: Path) -> None:
    result = drill(env, Fault.REGION_OUTAGE)
    m = result.metrics
    assert result.aborted is None and m["verdict"] == "pass", m
    t0, end = _window(result)
    plain = result.observation.plain.requests
    assert m["failed_requests"]["dns_client"] == sum(
        1 for r in plain if t0 <= r.t < end and not r.ok
    )
    switched = t0 + m["t_all_clients_on_dr"]
    assert all(r.ok and r.region == env.dr for r in plain if switched <= r.t < end)
    assert m["t_detect"] <= m["t_all_clients_on_dr"]
    assert m["failed_requests"]["failover_client"] <= m["failed_requests"]["dns_client"]
    assert m["t_failback_on_primary"] is not None
    assert env.standin.resolve(env.hostname).values == (env.declared["primary"].nlb_name,)
    paths = write_report(result, tmp_path)
    assert all(p.stat().st_size > 0 for p in paths.values())


def test_engine_corruption_is_restored_from_the_replica(env: LocalEnvironment) -> None:
    result = drill(env, Fault.ENGINE_CORRUPTION)
    assert result.metrics["verdict"] == "pass", result.metrics
    detected = next(m for m in result.timeline.marks if m.name == "detected")
    assert "corrupt" in detected.detail
    assert env.steady_state() == []


def test_bad_version_is_rolled_back(env: LocalEnvironment) -> None:
    result = drill(env, Fault.BAD_VERSION)
    assert result.metrics["verdict"] == "pass", result.metrics
    assert "canary agreement" in next(
        m.detail for m in result.timeline.marks if m.name == "detected"
    )
    baseline = env.baseline["primary"]
    assert faults.released_version(env.trees["primary"][0], env.model) == baseline
    client = make_client(env.servers["primary"].endpoint, 5.0)
    assert client.is_model_ready(env.model, str(baseline))  # Triton serves it from S3


def test_gpu_node_loss_recovers_on_the_primary(env: LocalEnvironment) -> None:
    result = drill(env, Fault.GPU_NODE_LOSS)
    assert result.metrics["verdict"] == "pass", result.metrics
    assert result.timeline.at("replacement-ready") is not None


def test_replication_pause_measures_the_backlog(env: LocalEnvironment) -> None:
    result = drill(env, Fault.REPLICATION_PAUSE)
    assert result.metrics["verdict"] == "pass", result.metrics
    detail = next(m.detail for m in result.timeline.marks if m.name == "detected")
    assert not detail.startswith("backlog 0 ")
    assert env.steady_state() == []


class BrokenMitigation(LocalEnvironment):
    """The real environment whose mitigation step fails mid-outage."""

    def mitigate(self, fault: Fault, timeline: Timeline, deadline: float) -> Any:
        raise RuntimeError("operator tooling failed")


def test_an_aborted_outage_drill_restores_the_primary(env: LocalEnvironment) -> None:
    env.__class__ = BrokenMitigation
    try:
        result = run_drill(env, Fault.REGION_OUTAGE, budget_s=60)
    finally:
        env.__class__ = LocalEnvironment
    assert result.aborted == "RuntimeError: operator tooling failed"
    assert env.servers["primary"].running()
    assert env.standin.resolve(env.hostname).values == (env.declared["primary"].nlb_name,)
    assert env.steady_state() == []
