"""CloudWatch alarms for what Prometheus cannot see: Route 53 health, S3 replication, store.

Each alarm is named after its alert (the runbook trigger) and its description names the
runbook. Route 53 publishes health-check metrics only in us-east-1, so those alarms must be
created with a us-east-1 provider; S3 replication metrics live in the source bucket's region
(they exist because the replication rule enables RTC metrics, see infra/model_store.py).
StoreVerifyFailed reads the metric the in-cluster verify CronJob publishes in the stack's
region (:mod:`drctl.store.verify_metric`, docs/monitoring-jobs.md); missing data breaches,
so a verify job that stopped running raises it too. ModelAccuracyDrop (one alarm per model,
only with ``qualityProbe``) reads the quality probe's top-1 agreement the same way.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from drctl.monitoring.quality import METRIC as QUALITY_METRIC
from drctl.monitoring.quality import NAMESPACE as QUALITY_NAMESPACE
from drctl.monitoring.rules import Alert, alerts, cloudwatch_alerts
from drctl.store.verify_metric import DIMENSION, METRIC, NAMESPACE
from infra.config import MonitoringSettings

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
    treat_missing: str = "notBreaching"
    suffix: str = ""  # one alarm per model: appended to the alarm's name

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
        "notBreaching",
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
        "breaching",
    )


def store_verify_spec(alert: Alert, region: str, every_minutes: int) -> AlarmSpec:
    """Failed models > 0 in a period of two verify runs; no datapoint at all also breaches.

    Two runs per period: one late or slow run does not raise the alarm, two missed ones do.
    """
    return AlarmSpec(
        alert.name,
        alert.runbook,
        NAMESPACE,
        METRIC,
        {DIMENSION: region},
        "Maximum",
        "GreaterThanThreshold",
        0,
        1,
        2 * every_minutes * 60,
        False,
        "breaching",
    )


def alarm_specs(
    role: str,
    health_check_id: Any,
    source_bucket: Any,
    dest_bucket: Any,
    peer_region: str,
    region: str = "",
    verify_every_minutes: int = 15,
) -> list[AlarmSpec]:
    """Every CloudWatch alarm of a stack with ``role`` (values may be Pulumi outputs).

    StoreVerifyFailed is included when ``region`` (the stack's, where the verify metric
    lands) is given.
    """
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
    if region:
        specs.append(store_verify_spec(by_name["StoreVerifyFailed"], region, verify_every_minutes))
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


def quality_specs(
    settings: MonitoringSettings, role: str, region: str, models: Sequence[str]
) -> list[AlarmSpec]:
    """ModelAccuracyDrop per model: the worst pod's agreement below the minimum, or no data.

    Missing data breaches for the reason StoreVerifyFailed's does (a probe that stopped, or a
    golden batch never uploaded, must be noticed); the period spans two probe runs.
    """
    if not settings.quality_probe:
        return []
    alert = next(a for a in alerts(settings, role) if a.name == "ModelAccuracyDrop")
    return [
        AlarmSpec(
            alert.name,
            alert.runbook,
            QUALITY_NAMESPACE,
            QUALITY_METRIC,
            {"Region": region, "Model": model},
            "Minimum",
            "LessThanThreshold",
            settings.quality_min_agreement,
            1,
            2 * settings.quality_every_minutes * 60,
            False,
            "breaching",
            model,
        )
        for model in models
    ]
