"""The Monitoring component under mocks: alarms always, operator or AMP objects when chosen."""

from __future__ import annotations

import json

import pytest
import yaml

from drctl.monitoring.promql import check_groups
from infra.offline import Evaluation, Registered, evaluate

from .conftest import config_with
from .k8s_schema import validate

ALARM = "aws:cloudwatch/metricAlarm:MetricAlarm"
CR_TYPES = ("PodMonitor", "PrometheusRule")


def alarms(evaluation: Evaluation) -> dict[str, Registered]:
    return {a.inputs["name"].split("-", 1)[1]: a for a in evaluation.of_type(ALARM)}


def daemonsets(evaluation: Evaluation) -> list[str]:
    return [
        d.inputs["metadata"]["name"] for d in evaluation.of_type("kubernetes:apps/v1:DaemonSet")
    ]


def test_primary_alarms_watch_replication_and_health(primary: Evaluation) -> None:
    found = alarms(primary)
    assert set(found) == {
        "StoreVerifyFailed",
        "S3ReplicationFailed",
        "S3ReplicationLatencyHigh",
        "PrimaryRegionUnhealthy",
        "PrimaryHealthCheckFailed",
    }
    failed = found["S3ReplicationFailed"].inputs
    assert failed["dimensions"]["SourceBucket"] == primary.outputs["bucketName"]
    assert failed["dimensions"]["DestinationBucket"] == primary.outputs["peerBucketName"]
    assert failed["dimensions"]["RuleId"] == "to-us-west-2"
    health = found["PrimaryRegionUnhealthy"].inputs
    assert health["dimensions"]["HealthCheckId"] == primary.outputs["healthCheckId"]
    assert "runbooks/region-outage.md" in health["alarmDescription"]
    topic = primary.outputs["alertTopicArn"]
    assert topic.startswith("arn:aws:sns:us-east-1:")
    assert all(a.inputs["alarmActions"] == [topic] for a in found.values())


def test_dr_alarms_only_replication(dr: Evaluation) -> None:
    assert set(alarms(dr)) == {
        "StoreVerifyFailed",
        "S3ReplicationFailed",
        "S3ReplicationLatencyHigh",
    }
    assert alarms(dr)["S3ReplicationFailed"].inputs["dimensions"]["RuleId"] == "to-us-east-1"


def test_default_backend_adds_no_custom_resources(stack: Evaluation) -> None:
    assert not [r for r in stack.resources if r.type.split(":")[-1] in CR_TYPES]
    assert "dcgm-exporter" not in daemonsets(stack)


@pytest.fixture(scope="module", params=["primary", "dr"])
def operator(request: pytest.FixtureRequest) -> Evaluation:
    config = config_with(request.param, monitoring={"backend": "prometheus-operator"})
    return evaluate(request.param, config)


def test_operator_backend_renders_valid_objects(operator: Evaluation) -> None:
    crs = [r for r in operator.resources if r.type.split(":")[-1] in CR_TYPES]
    assert sorted(r.inputs["kind"] for r in crs) == ["PodMonitor", "PodMonitor", "PrometheusRule"]
    for cr in crs:
        assert cr.inputs["apiVersion"] == "monitoring.coreos.com/v1"
        assert cr.inputs["metadata"]["labels"]["release"] == "kube-prometheus-stack"
    rule = next(r for r in crs if r.inputs["kind"] == "PrometheusRule")
    assert check_groups(rule.inputs["spec"]["groups"]) == []
    triton = next(r for r in crs if r.inputs["metadata"]["name"] == "trt-dr-triton")
    assert triton.inputs["spec"]["podMetricsEndpoints"][0]["port"] == "metrics"
    builtin = [
        r
        for r in operator.resources
        if r.type.startswith("kubernetes:") and r.type.split(":")[-1] not in CR_TYPES
    ]
    for resource in builtin:
        validate(resource.inputs)
    board = next(
        c
        for c in operator.of_type("kubernetes:core/v1:ConfigMap")
        if c.inputs["metadata"]["name"] == "trt-dr-dashboard"
    )
    assert json.loads(board.inputs["data"]["trt-dr.json"])["uid"] == "trt-dr-regions"
    assert "dcgm-exporter" in daemonsets(operator)


def test_amp_backend_creates_workspace_rules_and_scraper() -> None:
    evaluation = evaluate("primary", config_with("primary", monitoring={"backend": "amp"}))
    namespace = evaluation.one("aws:amp/ruleGroupNamespace:RuleGroupNamespace")
    assert check_groups(yaml.safe_load(namespace.inputs["data"])["groups"]) == []
    scraper = evaluation.one("aws:amp/scraper:Scraper")
    assert scraper.inputs["source"]["eks"]["clusterArn"].startswith("arn:aws:eks:us-east-1:")
    assert "prometheus_io_scrape" in scraper.inputs["scrapeConfiguration"]
    assert evaluation.one("aws:eks/accessEntry:AccessEntry").inputs["userName"] == (
        "aps-collector-user"
    )
    for resource in evaluation.of_type("kubernetes:rbac.authorization.k8s.io/v1:ClusterRole"):
        validate(resource.inputs)


def test_bad_monitoring_config_names_the_key() -> None:
    from infra.config import ConfigError

    bad = config_with("primary", monitoring={"gpuUtilLow": 0.9, "gpuUtilHigh": 0.8})
    with pytest.raises(ConfigError, match=r"trt-dr:monitoring.*gpuUtilLow must be below"):
        evaluate("primary", bad)
    with pytest.raises(ConfigError, match=r"trt-dr:monitoring\.backend"):
        evaluate("primary", config_with("primary", monitoring={"backend": "datadog"}))
