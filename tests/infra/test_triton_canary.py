"""Triton's canary track, latency summaries and the headless Service, through the offline
evaluator of the real program (and ``canary_replicas`` on validated settings)."""

from __future__ import annotations

from pathlib import Path

import pytest

from infra.config import Settings, parse_settings
from infra.offline import Evaluation, Registered, evaluate, stack_config
from infra.triton import canary_replicas

from .conftest import project_copy

DEPLOYMENT = "kubernetes:apps/v1:Deployment"
NLB_SELECTOR = {"app.kubernetes.io/name": "triton", "app.kubernetes.io/part-of": "trt-dr"}
TRACK = "trt-dr.io/track"


def deployments(evaluation: Evaluation) -> dict[str, Registered]:
    return {d.inputs["metadata"]["name"]: d for d in evaluation.of_type(DEPLOYMENT)}


def args_of(deployment: Registered) -> list[str]:
    return deployment.inputs["spec"]["template"]["spec"]["containers"][0]["args"]


def matches(selector: dict[str, str], labels: dict[str, str]) -> bool:
    return all(labels.get(k) == v for k, v in selector.items())


def settings(stack: str, **changes: object) -> Settings:
    config = stack_config(stack).items()
    raw = {k.split(":", 1)[1]: v for k, v in config if k.startswith("trt-dr:")}
    base = parse_settings(raw, stack, "trt-dr")
    return base.model_copy(update=changes)


def test_both_tracks_feed_the_nlb_with_disjoint_selectors(stack: Evaluation) -> None:
    found = deployments(stack)
    assert sorted(found) == ["triton", "triton-canary"]
    pods = {n: d.inputs["spec"]["template"]["metadata"]["labels"] for n, d in found.items()}
    selectors = {n: d.inputs["spec"]["selector"]["matchLabels"] for n, d in found.items()}
    assert pods["triton"][TRACK] == "stable" and pods["triton-canary"][TRACK] == "canary"
    for name in found:
        assert matches(NLB_SELECTOR, pods[name])  # the NLB Service sends both traffic
        assert matches(selectors[name], pods[name])
    assert not matches(selectors["triton"], pods["triton-canary"])
    assert not matches(selectors["triton-canary"], pods["triton"])


def test_only_the_canary_reads_the_canary_config_and_both_export_summaries(
    stack: Evaluation,
) -> None:
    found = deployments(stack)
    stable, canary = args_of(found["triton"]), args_of(found["triton-canary"])
    assert "--model-config-name=canary" in canary
    assert not any(a.startswith("--model-config-name") for a in stable)
    for args in (stable, canary):
        assert "--metrics-config=summary_latencies=true" in args
    assert [a for a in canary if a != "--model-config-name=canary"] == stable


def test_primary_carves_one_canary_out_of_three(primary: Evaluation) -> None:
    found = deployments(primary)
    assert found["triton-canary"].inputs["spec"]["replicas"] == 1
    assert "replicas" not in found["triton"].inputs["spec"]  # the HPA owns it
    hpa = primary.one("kubernetes:autoscaling/v2:HorizontalPodAutoscaler").inputs["spec"]
    assert hpa["scaleTargetRef"]["name"] == "triton"
    assert hpa["minReplicas"] + 1 == 3  # the GPU count the config check allows is unchanged
    assert hpa["maxReplicas"] == 9
    pdb = primary.one("kubernetes:policy/v1:PodDisruptionBudget").inputs["spec"]
    assert pdb["selector"]["matchLabels"][TRACK] == "stable"


def test_a_region_without_traffic_runs_no_canary(dr: Evaluation) -> None:
    found = deployments(dr)
    assert found["triton-canary"].inputs["spec"]["replicas"] == 0
    hpa = dr.one("kubernetes:autoscaling/v2:HorizontalPodAutoscaler").inputs["spec"]
    assert hpa["minReplicas"] == 1


def test_pilot_light_runs_neither_track(tmp_path: Path) -> None:
    evaluation = evaluate("dr", project_dir=project_copy(tmp_path, drTier="pilot-light"))
    found = deployments(evaluation)
    assert {n: d.inputs["spec"]["replicas"] for n, d in found.items()} == {
        "triton": 0,
        "triton-canary": 0,
    }


@pytest.mark.parametrize(
    "share,replicas,expected",
    [(0.1, 3, 1), (0.1, 10, 1), (0.2, 10, 2), (0.25, 10, 3), (0.5, 5, 3), (0.9, 3, 2)],
)
def test_canary_share_rounds_half_up_within_one_and_all_but_one(
    share: float, replicas: int, expected: int
) -> None:
    base = settings("primary")
    tuned = base.model_copy(
        update={
            "monitoring": base.monitoring.model_copy(update={"canary_share": share}),
            "triton": base.triton.model_copy(
                update={"replicas": {**base.triton.replicas, "warm-standby": replicas}}
            ),
        }
    )
    assert canary_replicas(tuned) == expected


def test_active_active_dr_gets_a_canary() -> None:
    assert canary_replicas(settings("dr", dr_tier="active-active")) == 1
    assert canary_replicas(settings("dr", dr_tier="warm-standby")) == 0


def test_headless_service_lists_every_triton_pod(stack: Evaluation) -> None:
    (headless,) = [
        s.inputs
        for s in stack.of_type("kubernetes:core/v1:Service")
        if s.inputs["metadata"]["name"] == "triton-pods"
    ]
    spec = headless["spec"]
    assert spec["clusterIP"] == "None"
    assert spec.get("type", "ClusterIP") == "ClusterIP"
    assert spec["publishNotReadyAddresses"] is True
    assert spec["selector"] == NLB_SELECTOR  # stable and canary pods alike
    assert [p["port"] for p in spec["ports"]] == [8000]
    assert "annotations" not in headless["metadata"]  # no load balancer for it
