"""StoreVerifyFailed and ModelAccuracyDrop: alarms on the jobs' metrics, also when they go quiet."""

from __future__ import annotations

from drctl.monitoring.alarms import alarm_specs, quality_specs
from drctl.monitoring.links import all_alerts
from drctl.monitoring.rules import alerts
from drctl.store.verify_metric import METRIC, NAMESPACE
from infra.config import MonitoringSettings


def test_verify_alarm_spans_two_runs_and_breaches_on_missing_data() -> None:
    specs = {s.alert: s for s in alarm_specs("dr", "hc", "s", "d", "us-east-1", "us-west-2", 10)}
    verify = specs["StoreVerifyFailed"]
    assert (verify.namespace, verify.metric) == (NAMESPACE, METRIC)
    assert verify.dimensions == {"Region": "us-west-2"}
    assert (verify.statistic, verify.comparison, verify.threshold) == (
        "Maximum",
        "GreaterThanThreshold",
        0,
    )
    assert (verify.periods, verify.period_s) == (1, 1200)
    assert verify.treat_missing == "breaching" and not verify.global_metric
    assert "runbooks/engine-corruption.md" in verify.description


def test_missing_data_policy_per_source() -> None:
    specs = {s.alert: s for s in alarm_specs("primary", "hc", "s", "d", "us-west-2", "us-east-1")}
    assert specs["S3ReplicationFailed"].treat_missing == "notBreaching"  # no traffic, no data
    assert specs["PrimaryRegionUnhealthy"].treat_missing == "breaching"
    assert specs["StoreVerifyFailed"].period_s == 1800  # default: every 15 minutes


def test_verify_alert_is_a_cloudwatch_alert_linked_to_its_runbook() -> None:
    alert = next(a for a in all_alerts() if a.name == "StoreVerifyFailed")
    assert (alert.kind, alert.runbook) == ("cloudwatch", "engine-corruption")


def test_accuracy_alarm_per_model_only_with_the_probe() -> None:
    off = MonitoringSettings()
    assert quality_specs(off, "primary", "us-east-1", ["a", "b"]) == []
    assert next(a for a in alerts(off, "primary") if a.name == "ModelAccuracyDrop").kind == (
        "external"
    )
    on = MonitoringSettings(quality_probe=True, quality_min_agreement=0.95)
    specs = quality_specs(on, "primary", "us-east-1", ["a", "b"])
    assert [(s.suffix, s.dimensions["Model"]) for s in specs] == [("a", "a"), ("b", "b")]
    assert {(s.comparison, s.threshold, s.treat_missing, s.runbook) for s in specs} == {
        ("LessThanThreshold", 0.95, "breaching", "model-regression")
    }
    alert = next(a for a in alerts(on, "primary") if a.name == "ModelAccuracyDrop")
    assert alert.kind == "cloudwatch" and "0.95" in alert.summary
