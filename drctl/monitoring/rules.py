"""Prometheus recording and alerting rules rendered from the stack's monitoring settings.

Recording rules turn Triton's cumulative counters and latency summaries (port 8002) and the
DCGM exporter's gauges into per-model series: request rate, error ratio, mean queue time,
p50/p99 request latency, GPU utilisation and memory. Alerts compare them with the
thresholds in ``trt-dr:monitoring`` and carry a ``runbook`` label naming the runbook whose
``trigger`` lists the alert (checked by :mod:`drctl.monitoring.links`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from infra.config import MonitoringSettings

RATE_WINDOW = "5m"
TRITON_NAMESPACE = "triton"
TRITON_DEPLOYMENT = "triton"
BY_MODEL = "model, version"


@dataclass(frozen=True)
class Alert:
    """One alert: its name (a runbook trigger), the runbook answering it, and where it lives."""

    name: str
    runbook: str
    summary: str
    expr: str | None = None
    duration: str = "5m"
    severity: str = "page"
    kind: str = "prometheus"  # prometheus | cloudwatch | external (raised by a drctl job)


def recording_rules() -> list[dict[str, str]]:
    """Per-model series every alert and dashboard panel reads."""
    w = RATE_WINDOW
    ok = f"sum by ({BY_MODEL}) (rate(nv_inference_request_success[{w}]))"
    bad = f"sum by ({BY_MODEL}) (rate(nv_inference_request_failure[{w}]))"
    queue = f"sum by ({BY_MODEL}) (rate(nv_inference_queue_duration_us[{w}]))"
    quantile = 'max by ({by}) (nv_inference_request_summary_us{{quantile="{q}"}}) / 1000'
    return [
        {"record": "model:request_rate:rate5m", "expr": f"{ok} + {bad}"},
        {"record": "model:error_ratio:rate5m", "expr": f"{bad} / clamp_min({ok} + {bad}, 1e-9)"},
        {"record": "model:queue_ms:mean5m", "expr": f"{queue} / clamp_min({ok}, 1e-9) / 1000"},
        {"record": "model:latency_ms:p50", "expr": quantile.format(by=BY_MODEL, q="0.5")},
        {"record": "model:latency_ms:p99", "expr": quantile.format(by=BY_MODEL, q="0.99")},
        {
            "record": "gpu:utilization:ratio",
            "expr": "avg by (Hostname, gpu) (DCGM_FI_DEV_GPU_UTIL) / 100",
        },
        {
            "record": "gpu:memory_used:ratio",
            "expr": "sum by (Hostname, gpu) (DCGM_FI_DEV_FB_USED) / "
            "clamp_min(sum by (Hostname, gpu) (DCGM_FI_DEV_FB_USED + DCGM_FI_DEV_FB_FREE), 1)",
        },
    ]


def alerts(settings: MonitoringSettings, role: str) -> list[Alert]:
    """Every alert of a stack with ``role``; names are the runbooks' trigger names."""
    ns, dep = TRITON_NAMESPACE, TRITON_DEPLOYMENT
    found = [
        Alert(
            "ModelLatencyRegression",
            "model-regression",
            f"p99 latency above {settings.p99_latency_ms:g} ms",
            f"model:latency_ms:p99 > {settings.p99_latency_ms:g}",
        ),
        Alert(
            "ModelNotReady",
            "engine-corruption",
            f"error ratio above {settings.error_rate:g}: the model fails requests",
            f"model:error_ratio:rate5m > {settings.error_rate:g} "
            "and model:request_rate:rate5m > 0.1",
        ),
        Alert(
            "GpuNodeNotReady",
            "gpu-node-failure",
            "a GPU node is not Ready",
            'kube_node_status_condition{condition="Ready",status="true"} == 0 and on (node) '
            'kube_node_labels{label_trt_dr_io_gpu_sku!=""}',
            "2m",
        ),
        Alert(
            "GpuXidError",
            "gpu-node-failure",
            "a GPU reported an XID error",
            "max by (Hostname, gpu) (DCGM_FI_DEV_XID_ERRORS) > 0",
            "1m",
        ),
        Alert(
            "InsufficientInstanceCapacity",
            "dr-no-gpu-capacity",
            "Triton pods cannot be scheduled (no GPU node has room)",
            f'sum(kube_pod_status_unschedulable{{namespace="{ns}"}}) > 0',
            "10m",
        ),
        Alert(
            "ModelAccuracyDrop",
            "model-regression",
            f"top-1 agreement with the golden batch below {settings.quality_min_agreement:g}"
            if settings.quality_probe
            else "an accuracy regression, reported by hand (trt-dr:monitoring.qualityProbe off)",
            kind="cloudwatch" if settings.quality_probe else "external",
        ),
    ]
    if role == "dr":
        found.append(
            Alert(
                "DrGpuCapacityUnavailable",
                "dr-no-gpu-capacity",
                "the DR region runs fewer Triton replicas than it wants",
                f'kube_deployment_status_replicas_available{{namespace="{ns}",'
                f'deployment="{dep}"}} < kube_deployment_spec_replicas{{namespace="{ns}",'
                f'deployment="{dep}"}}',
                "15m",
            )
        )
    return found + cloudwatch_alerts(role)


def cloudwatch_alerts(role: str) -> list[Alert]:
    """Alerts on CloudWatch metrics (store verify, S3 replication, Route 53 health): alarms."""
    found = [
        Alert(
            "StoreVerifyFailed",
            "engine-corruption",
            "drctl store verify found a missing or corrupt object (or stopped reporting)",
            kind="cloudwatch",
        ),
        Alert(
            "S3ReplicationFailed",
            "replication-failure",
            "S3 failed to replicate objects to the peer bucket",
            kind="cloudwatch",
        ),
        Alert(
            "S3ReplicationLatencyHigh",
            "replication-failure",
            "objects missed the 15-minute replication threshold",
            kind="cloudwatch",
        ),
    ]
    if role == "primary":
        found += [
            Alert(
                "PrimaryRegionUnhealthy",
                "region-outage",
                "Route 53 considers the primary endpoint unhealthy",
                kind="cloudwatch",
            ),
            Alert(
                "PrimaryHealthCheckFailed",
                "region-outage",
                "some Route 53 checkers see the primary endpoint failing",
                kind="cloudwatch",
            ),
        ]
    return found


def rule_groups(settings: MonitoringSettings, role: str) -> list[dict[str, Any]]:
    """The ``groups`` of a PrometheusRule (or an AMP rule groups namespace)."""
    rules: list[dict[str, Any]] = [
        {
            "alert": a.name,
            "expr": a.expr,
            "for": a.duration,
            "labels": {"severity": a.severity, "runbook": a.runbook},
            "annotations": {"summary": a.summary, "runbook": f"runbooks/{a.runbook}.md"},
        }
        for a in alerts(settings, role)
        if a.kind == "prometheus"
    ]
    return [
        {"name": "trt-dr.recording", "interval": "30s", "rules": recording_rules()},
        {"name": "trt-dr.alerts", "rules": rules},
    ]
