"""StoreVerifyFailed: an alarm on the verify job's metric that also fires when it goes quiet."""

from __future__ import annotations

from drctl.monitoring.alarms import alarm_specs
from drctl.monitoring.links import all_alerts
from drctl.store.verify_metric import METRIC, NAMESPACE


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
