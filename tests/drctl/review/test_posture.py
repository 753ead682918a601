"""Posture: RTO budget arithmetic per tier, RPO from RTC, DR capacity, findings."""

from __future__ import annotations

import copy
from pathlib import Path

import pytest

from drctl.review.errors import ReviewError
from drctl.review.posture import build_posture, capacity, load_policy_config, rpo_minutes
from drctl.review.rules import DEFAULT_WARMUP, RuleContext, rto_budget
from infra.config import Settings
from infra.offline import Evaluation


def test_rto_budget_is_detection_plus_ttl_plus_warmup(settings: dict[str, Settings]) -> None:
    dr = settings["dr"]
    budget = rto_budget(dr, RuleContext(client_cache_seconds=7))
    hc = dr.health_check
    assert budget.detection == hc.interval * hc.failure_threshold
    assert budget.ttl == dr.effective_ttl == 60
    assert budget.total == budget.detection + 60 + 7
    assert budget.ok == (budget.total <= dr.rto_objective_seconds)
    pilot = rto_budget(dr.model_copy(update={"dr_tier": "pilot-light"}), RuleContext())
    warm = DEFAULT_WARMUP["pilot-light"]
    assert pilot.total == budget.detection + 60 + warm.node_seconds + warm.pod_seconds
    assert not pilot.ok  # 810 s against the 300 s objective of the example stacks


def test_posture_of_the_example_stacks(
    evaluations: dict[str, Evaluation], settings: dict[str, Settings]
) -> None:
    posture = build_posture(evaluations, settings, load_policy_config())
    assert posture.tier == "warm-standby" and posture.ok
    assert posture.rpo_minutes == {"primary": 15, "dr": 15}
    cap = posture.capacity
    assert cap is not None
    assert (cap.primary_gpus, cap.dr_desired_gpus, cap.dr_max_gpus) == (16, 1, 6)
    assert cap.max_ratio == pytest.approx(6 / 16, abs=0.001)
    assert posture.as_dict()["capacity"]["ok"] is True


def test_capacity_below_fraction(settings: dict[str, Settings]) -> None:
    cap = capacity(settings["primary"], settings["dr"], fraction=0.5)
    assert not cap.ok and cap.desired_ratio == pytest.approx(1 / 16, abs=0.001)


def test_no_rtc_means_no_rpo_bound(evaluations: dict[str, Evaluation]) -> None:
    dr = copy.deepcopy(evaluations["dr"])
    for res in dr.of_type("aws:s3/bucketReplicationConfig:BucketReplicationConfig"):
        res.inputs["rules"][0]["destination"].pop("replicationTime")
    assert rpo_minutes(dr) is None


def test_findings_make_posture_not_ok(
    evaluations: dict[str, Evaluation], settings: dict[str, Settings]
) -> None:
    dr = copy.deepcopy(evaluations["dr"])
    for res in dr.of_type("aws:route53/record:Record"):
        res.inputs.pop("healthCheckId")
    posture = build_posture({"dr": dr}, settings, {})
    assert not posture.ok
    assert [v.policy for v in posture.findings["dr"]] == ["failover-records-health-checked"]


def test_bad_policy_config(tmp_path: Path) -> None:
    assert load_policy_config(tmp_path / "missing.json") == {}
    (tmp_path / "c.json").write_text("{")
    with pytest.raises(ReviewError, match="not JSON"):
        load_policy_config(tmp_path / "c.json")
