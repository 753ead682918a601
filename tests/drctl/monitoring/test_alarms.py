"""CloudWatch alarm specs: the right metrics, dimensions and regions per role."""

from __future__ import annotations

from drctl.monitoring.alarms import alarm_specs


def test_primary_alarms_cover_health_checks_and_replication() -> None:
    specs = {s.alert: s for s in alarm_specs("primary", "hc-1", "src", "dst", "us-west-2")}
    assert set(specs) == {
        "S3ReplicationFailed",
        "S3ReplicationLatencyHigh",
        "PrimaryRegionUnhealthy",
        "PrimaryHealthCheckFailed",
    }
    failed = specs["S3ReplicationFailed"]
    assert (failed.namespace, failed.metric) == ("AWS/S3", "OperationFailedReplication")
    assert failed.dimensions == {
        "SourceBucket": "src",
        "DestinationBucket": "dst",
        "RuleId": "to-us-west-2",
    }
    assert specs["S3ReplicationLatencyHigh"].metric == "OperationMissedThreshold"
    health = specs["PrimaryRegionUnhealthy"]
    assert health.global_metric and health.dimensions == {"HealthCheckId": "hc-1"}
    assert "runbooks/region-outage.md" in health.description


def test_dr_has_no_primary_health_alarms() -> None:
    alerts = {s.alert for s in alarm_specs("dr", "hc", "s", "d", "us-east-1")}
    assert alerts == {"S3ReplicationFailed", "S3ReplicationLatencyHigh"}
