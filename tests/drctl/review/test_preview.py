"""`pulumi preview --json` files: ops normalized, before/after states, robust to gaps, plan."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from drctl.cli import app
from drctl.plan import plan_preview
from drctl.review.cost import estimate
from drctl.review.diff import diff_costs
from drctl.review.errors import PreviewFileError
from drctl.review.preview import load_preview, urn_parts
from drctl.review.prices import PriceTable
from drctl.review.usage import StackUsage
from tests.drctl.review.conftest import FIXTURES

PREVIEW = FIXTURES / "preview-dr.json"


def test_ops_are_normalized_per_resource() -> None:
    preview = load_preview(PREVIEW)
    assert preview.stack == "dr"
    ops = {s.name: s.op for s in preview.steps}
    assert ops["dr-us-west-2-failover-health"] == "replace"
    assert ops["dr-us-west-2-network-nat-2"] == "delete"
    assert ops["dr-us-west-2-endpoint-svc"] == "create"
    assert preview.counts()["replace"] == 1


def test_before_and_after_states() -> None:
    preview = load_preview(PREVIEW)
    after = {r.name: r for r in preview.after.resources}
    before = {r.name: r for r in preview.before.resources}
    assert "dr-us-west-2-network-nat-2" in before and "dr-us-west-2-network-nat-2" not in after
    assert "dr-us-west-2-endpoint-svc" in after and "dr-us-west-2-endpoint-svc" not in before
    assert after["dr-us-west-2-cluster-gpu"].inputs["scalingConfig"]["desiredSize"] == 2
    assert before["dr-us-west-2-cluster-gpu"].inputs["scalingConfig"]["desiredSize"] == 1
    # a `same` step without new inputs keeps its old state
    assert after["dr-us-west-2-store-bucket"].inputs["bucket"].endswith("us-west-2")
    assert preview.after.region_of(after["dr-us-west-2-cluster-gpu"]) == "us-west-2"


def test_cost_diff_from_one_preview(prices: PriceTable) -> None:
    preview = load_preview(PREVIEW)
    base = {"dr": estimate(preview.before, prices, StackUsage())}
    head = {"dr": estimate(preview.after, prices, StackUsage())}
    delta = {r.resource: r.delta for r in diff_costs(base, head).stacks[0].changed}
    gpu = prices.lookup("ec2_instance", "g6e.xlarge", "us-west-2").usd
    nat = prices.lookup("nat_gateway", "hour", "us-west-2").usd
    assert delta["dr-us-west-2-cluster-gpu"] == pytest.approx(round(gpu * 730, 2))
    assert delta["dr-us-west-2-network-nat-2"] == pytest.approx(-round(nat * 730, 2))
    fast = prices.lookup("route53_health_check_option", "fast_interval", "global").usd
    assert delta["dr-us-west-2-failover-health"] == pytest.approx(fast)


def test_urn_parts_and_garbage() -> None:
    urn = "urn:pulumi:dr::trt-dr::trt-dr:infra:Cluster$aws:eks/cluster:Cluster::dr-eks"
    assert urn_parts(urn) == ("dr", "aws:eks/cluster:Cluster", "dr-eks")
    assert urn_parts("not-a-urn") == ("", "", "not-a-urn")


@pytest.mark.parametrize(
    ("text", "match"), [("{", "not JSON"), ("{}", "no `steps`"), ('{"steps": []}', "no `steps`")]
)
def test_bad_preview_files(tmp_path: Path, text: str, match: str) -> None:
    path = tmp_path / "p.json"
    path.write_text(text)
    with pytest.raises(PreviewFileError, match=match):
        load_preview(path)


def test_steps_with_missing_fields_are_tolerated(tmp_path: Path) -> None:
    path = tmp_path / "p.json"
    steps = [
        {"op": "create", "urn": "urn:pulumi:dr::trt-dr::aws:s3/bucket:Bucket::b"},
        {"op": "create"},
        {"urn": "urn:pulumi:dr::trt-dr::aws:kms/key:Key::k", "newState": {}},
    ]
    path.write_text(json.dumps({"steps": steps}))
    preview = load_preview(path)
    assert {s.name for s in preview.steps} == {"b", "k"}
    assert preview.after.resources == []


def test_plan_from_preview_lists_changes() -> None:
    plan = plan_preview(PREVIEW)
    assert plan.region == "us-west-2"
    assert plan.changes["delete"] == 1 and plan.ops["dr-us-west-2-network-nat-2"] == "delete"
    assert ("aws:eks/nodeGroup:NodeGroup", "dr-us-west-2-cluster-gpu") in plan.components[
        "dr-us-west-2-cluster"
    ]
    assert plan.as_dict()["changes"]["update"] == 1


def test_cli_plan_with_preview() -> None:
    result = CliRunner().invoke(app, ["plan", "-s", "dr", "--preview", f"dr={PREVIEW}"])
    assert result.exit_code == 0, result.output
    assert "delete" in result.output and "dr-us-west-2-network-nat-2" in result.output
    bad = CliRunner().invoke(app, ["plan", "--preview", "nofile"])
    assert bad.exit_code == 2
    missing = CliRunner().invoke(app, ["plan", "-s", "dr", "--preview", "dr=/nonexistent.json"])
    assert missing.exit_code == 2 and "does not exist" in missing.output
