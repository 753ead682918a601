"""Monthly estimate per resource: quantities from inputs, prices from the table, usage lines."""

from __future__ import annotations

import pytest

from drctl.review.cost import estimate, health_check_options
from drctl.review.errors import PriceNotFound
from drctl.review.prices import PriceTable
from drctl.review.usage import StackUsage, Usage
from infra.config import Settings
from infra.offline import Evaluation
from tests.drctl.review.conftest import mutated, table


def _by(cost_lines: list, resource: str, prefix: str = "") -> list:
    return [x for x in cost_lines if x.resource == resource and x.description.startswith(prefix)]


def test_gpu_node_group_is_desired_nodes_times_hourly_price(
    evaluations: dict[str, Evaluation], settings: dict[str, Settings], prices: PriceTable
) -> None:
    for stack, evaluation in evaluations.items():
        cfg = settings[stack]
        cost = estimate(evaluation, prices, StackUsage())
        (line,) = _by(cost.lines, f"{stack}-{cfg.region}-cluster-gpu")
        hourly = prices.lookup("ec2_instance", cfg.gpu.instance_type, cfg.region).usd
        desired = cfg.gpu_nodes[cfg.dr_tier].desired
        assert line.quantity == desired
        assert line.monthly_usd == pytest.approx(desired * hourly * 730)
        assert cost.total == pytest.approx(sum(x.monthly_usd for x in cost.lines), abs=0.01)


def test_fixed_items_counted_once_each(evaluations: dict[str, Evaluation]) -> None:
    prices = table(
        ("ec2_instance", "p5.48xlarge", "us-east-1", "hour", 10.0),
        ("ec2_instance", "m6i.large", "us-east-1", "hour", 1.0),
        ("eks_cluster", "standard", "*", "hour", 0.1),
        ("nat_gateway", "hour", "*", "hour", 0.5),
        ("public_ipv4", "hour", "*", "hour", 0.01),
        ("nlb", "hour", "*", "hour", 0.02),
        ("s3_storage", "standard", "*", "GB-month", 0.023),
        ("s3_replication", "inter_region_transfer", "*", "GB", 0.02),
        ("s3_replication", "rtc", "*", "GB", 0.015),
        ("route53_health_check", "aws_endpoint", "global", "month", 0.5),
        ("route53_health_check_option", "fast_interval", "global", "month", 1.0),
    )
    cost = estimate(evaluations["primary"], prices, StackUsage())
    kinds = [x.description for x in cost.lines]
    assert kinds.count("NAT gateway") == 3  # per-az NAT, 3 AZs
    assert kinds.count("EKS control plane") == 1
    assert kinds.count("network load balancer") == 1
    hc = [x.monthly_usd for x in cost.lines if x.type.endswith("HealthCheck")]
    assert sorted(hc) == [0.5, 1.0]
    expected = 730 * (2 * 10 + 2 * 1 + 0.1 + 3 * 0.5 + 3 * 0.01 + 0.02) + 0.5 + 1.0
    assert cost.total == pytest.approx(expected, abs=0.01)


def test_usage_lines_follow_the_usage_file(
    evaluations: dict[str, Evaluation], prices: PriceTable, usage: Usage
) -> None:
    cost = estimate(evaluations["primary"], prices, usage.of("primary"))
    use = usage.of("primary")
    storage = next(x for x in cost.lines if x.description.startswith("S3 Standard"))
    assert storage.monthly_usd == pytest.approx(use.s3_storage_gb * 0.023)
    rtc = next(x for x in cost.lines if x.description.startswith("Replication Time Control"))
    assert rtc.quantity == use.replicated_gb_per_month and rtc.unverified
    zone = next(x for x in cost.lines if x.description.startswith("hosted zone"))
    assert zone.quantity == 1
    assert not any(
        x.description.startswith("hosted zone")
        for x in estimate(evaluations["dr"], prices, usage.of("dr")).lines
    )


def test_unpriced_instance_type_is_an_error(
    evaluations: dict[str, Evaluation], prices: PriceTable
) -> None:
    dr = evaluations["dr"]
    resources = mutated(dr.resources, "dr-us-west-2-cluster-gpu", instanceTypes=["x9.huge"])
    changed = Evaluation(dr.stack, resources, dr.outputs, dr.providers)
    with pytest.raises(PriceNotFound, match=r"x9\.huge"):
        estimate(changed, prices, StackUsage())


def test_pilot_light_dr_pays_no_gpu_hours(
    evaluations: dict[str, Evaluation], prices: PriceTable
) -> None:
    dr = evaluations["dr"]
    resources = mutated(
        dr.resources,
        "dr-us-west-2-cluster-gpu",
        scalingConfig={"minSize": 0, "desiredSize": 0, "maxSize": 6},
    )
    cost = estimate(Evaluation(dr.stack, resources, dr.outputs, dr.providers), prices, StackUsage())
    (gpu,) = _by(cost.lines, "dr-us-west-2-cluster-gpu")
    assert gpu.monthly_usd == 0


@pytest.mark.parametrize(
    ("inputs", "options"),
    [
        ({"type": "HTTP", "requestInterval": 30}, []),
        ({"type": "HTTP", "requestInterval": 10}, ["fast_interval"]),
        (
            {"type": "HTTPS_STR_MATCH", "requestInterval": 30, "measureLatency": True},
            ["https", "string_match", "latency_measurement"],
        ),
    ],
)
def test_health_check_options(inputs: dict, options: list[str]) -> None:
    assert health_check_options(inputs) == options
