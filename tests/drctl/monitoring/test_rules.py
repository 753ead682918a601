"""Rules rendered from config: structure and PromQL checked, thresholds from the settings."""

from __future__ import annotations

import re

import pytest
import yaml

from drctl.monitoring.promql import check_expr, check_groups
from drctl.monitoring.rules import alerts, recording_rules, rule_groups
from infra.config import MonitoringSettings


@pytest.mark.parametrize("role", ["primary", "dr"])
def test_rendered_groups_are_valid(role: str) -> None:
    groups = rule_groups(MonitoringSettings(), role)
    assert check_groups(yaml.safe_load(yaml.safe_dump(groups))) == []
    names = [r["alert"] for r in groups[1]["rules"]]
    assert "ModelLatencyRegression" in names
    assert ("DrGpuCapacityUnavailable" in names) == (role == "dr")


def test_thresholds_come_from_settings() -> None:
    settings = MonitoringSettings(p99_latency_ms=42, error_rate=0.02)
    by_name = {a.name: a for a in alerts(settings, "primary")}
    assert by_name["ModelLatencyRegression"].expr == "model:latency_ms:p99 > 42"
    assert "model:error_ratio:rate5m > 0.02" in str(by_name["ModelNotReady"].expr)


def test_every_alert_names_its_runbook_in_labels_and_annotations() -> None:
    for rule in rule_groups(MonitoringSettings(), "dr")[1]["rules"]:
        assert rule["annotations"]["runbook"] == f"runbooks/{rule['labels']['runbook']}.md"


def test_recording_rules_cover_the_issue_signals() -> None:
    records = {r["record"] for r in recording_rules()}
    assert {
        "model:latency_ms:p50",
        "model:latency_ms:p99",
        "model:request_rate:rate5m",
        "model:error_ratio:rate5m",
        "model:queue_ms:mean5m",
        "gpu:utilization:ratio",
        "gpu:memory_used:ratio",
    } <= records


@pytest.mark.parametrize(
    ("expr", "problem"),
    [
        ("sum(rate(nv_inference_count[5m])", "unbalanced"),
        ("sum(rate(nv_inference_count[5x]))", "bad range duration"),
        ("sum(rate(nv_inferense_count[5m]))", "unknown metric"),
        ('max(nv_inference_count{model="a)"}) > 1)', "unbalanced"),
        ("", "empty"),
    ],
)
def test_check_expr_catches_typos(expr: str, problem: str) -> None:
    found = check_expr(expr)
    assert found and problem in found[0]


def test_check_expr_accepts_strings_with_brackets_and_recorded_names() -> None:
    assert check_expr('sum by (model) (nv_inference_count{model="a)("})') == []
    assert check_expr("my:series > 1", recorded=["my:series"]) == []


def test_check_groups_catches_structure_errors() -> None:
    groups = [
        {"name": "g", "rules": [{"record": "x", "alert": "Y", "expr": "1"}]},
        {"name": "g", "rules": [{"alert": "lower", "expr": "1", "for": "5 min"}]},
    ]
    problems = check_groups(groups)
    assert any("unique" in p for p in problems)
    assert any("exactly one of record/alert" in p for p in problems)
    assert any("bad alert name" in p for p in problems)
    assert any("bad for duration" in p for p in problems)
    assert any("no runbook label" in p for p in problems)


def test_triton_series_and_quantiles_exist_in_recorded_scrapes() -> None:
    """Recorded from the local Triton 2.51; the second run had summary_latencies=true."""
    from pathlib import Path

    from prometheus_client.parser import text_string_to_metric_families

    data = Path(__file__).parent / "data"
    seen: set[tuple[str, str]] = set()
    for name in ("triton-2.51-metrics.txt", "triton-2.51-summary-metrics.txt"):
        for family in text_string_to_metric_families((data / name).read_text()):
            seen |= {
                (s.name.removesuffix("_total"), s.labels.get("quantile", ""))
                for s in family.samples
            }
    names = {name for name, _ in seen}
    for rule in recording_rules():
        for metric in re.findall(r"\bnv_[a-z_]+", rule["expr"]):
            assert metric in names, metric
        for quantile in re.findall(r'quantile="([0-9.]+)"', rule["expr"]):
            assert ("nv_inference_request_summary_us", quantile) in seen
