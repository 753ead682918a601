"""Route 53: a health check on Triton's readiness path and this region's failover record."""

from __future__ import annotations

import pytest

from infra.offline import NLB_ZONE_IDS, Evaluation, evaluate

from .conftest import config_with


def test_health_check_probes_triton_readiness(stack: Evaluation) -> None:
    check = stack.one("aws:route53/healthCheck:HealthCheck").inputs
    assert check["type"] == "HTTP"
    assert check["resourcePath"] == "/v2/health/ready"
    assert check["port"] == 8000
    assert check["requestInterval"] == 10
    assert check["failureThreshold"] == 3
    assert len(set(check["regions"])) >= 3
    assert check["fqdn"].endswith(f".elb.{stack.outputs['region']}.amazonaws.com")
    assert check.get("invertHealthcheck") is False


@pytest.mark.parametrize("name,kind", [("primary", "PRIMARY"), ("dr", "SECONDARY")])
def test_failover_record_aliases_the_load_balancer(name: str, kind: str) -> None:
    evaluation = evaluate(name)
    record = evaluation.one("aws:route53/record:Record").inputs
    region = evaluation.outputs["region"]
    assert record["failoverRoutingPolicies"] == [{"type": kind}]
    assert record["name"] == "infer.example.com"
    assert record["type"] == "A"
    assert record["setIdentifier"] == f"{name}-{region}"
    assert record["healthCheckId"] == evaluation.outputs["healthCheckId"]
    (alias,) = record["aliases"]
    assert alias["evaluateTargetHealth"] is True
    assert alias["zoneId"] == NLB_ZONE_IDS[region]
    assert alias["name"] == evaluation.outputs["inferenceEndpoint"][7:-5]
    assert "ttl" not in record


def test_cname_mode_carries_the_configured_ttl() -> None:
    config = config_with("dr", dns__recordType="cname", dns__ttl=30)
    record = evaluate("dr", config=config).one("aws:route53/record:Record").inputs
    assert record["type"] == "CNAME"
    assert record["ttl"] == 30
    assert "aliases" not in record


def test_slow_interval_and_custom_threshold_pass_through() -> None:
    config = config_with("primary", healthCheck__interval=30, healthCheck__failureThreshold=5)
    check = evaluate("primary", config=config).one("aws:route53/healthCheck:HealthCheck").inputs
    assert (check["requestInterval"], check["failureThreshold"]) == (30, 5)
