"""CloudWatch alarms for what Prometheus cannot see: Route 53 health and S3 replication.

Each alarm is named after its alert (the runbook trigger) and its description names the
runbook. Route 53 publishes health-check metrics only in us-east-1, so those alarms must be
created with a us-east-1 provider; S3 replication metrics live in the source bucket's region
(they exist because the replication rule enables RTC metrics, see infra/model_store.py).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from drctl.monitoring.rules import Alert, cloudwatch_alerts

ROUTE53_METRICS_REGION = "us-east-1"


@dataclass(frozen=True)
class AlarmSpec:
    """The arguments of one ``aws.cloudwatch.MetricAlarm`` plus the region it must live in."""

    alert: str
    runbook: str
    namespace: str
    metric: str
    dimensions: dict[str, Any]
    statistic: str
    comparison: str
    threshold: float
    periods: int
    period_s: int
    global_metric: bool

    @property
    def description(self) -> str:
        """Alarm text that names the runbook answering it."""
        return f"{self.alert}: see runbooks/{self.runbook}.md (drctl runbook run {self.runbook})"


def _s3(alert: Alert, metric: str, dims: dict[str, Any]) -> AlarmSpec:
    return AlarmSpec(
        alert.name,
        alert.runbook,
        "AWS/S3",
        metric,
        dims,
        "Maximum",
        "GreaterThanThreshold",
        0,
        1,
        300,
        False,
    )


def _route53(alert: Alert, metric: str, threshold: float, check_id: Any) -> AlarmSpec:
    return AlarmSpec(
        alert.name,
        alert.runbook,
        "AWS/Route53",
        metric,
        {"HealthCheckId": check_id},
        "Minimum",
        "LessThanThreshold",
        threshold,
        3,
        60,
        True,
    )


def alarm_specs(
    role: str, health_check_id: Any, source_bucket: Any, dest_bucket: Any, peer_region: str
) -> list[AlarmSpec]:
    """Every CloudWatch alarm of a stack with ``role`` (values may be Pulumi outputs)."""
    dims = {
        "SourceBucket": source_bucket,
        "DestinationBucket": dest_bucket,
        "RuleId": f"to-{peer_region}",
    }
    by_name = {a.name: a for a in cloudwatch_alerts(role)}
    specs = [
        _s3(by_name["S3ReplicationFailed"], "OperationFailedReplication", dims),
        _s3(by_name["S3ReplicationLatencyHigh"], "OperationMissedThreshold", dims),
    ]
    if role == "primary":
        specs += [
            _route53(by_name["PrimaryRegionUnhealthy"], "HealthCheckStatus", 1, health_check_id),
            _route53(
                by_name["PrimaryHealthCheckFailed"],
                "HealthCheckPercentageHealthy",
                100,
                health_check_id,
            ),
        ]
    return specs
