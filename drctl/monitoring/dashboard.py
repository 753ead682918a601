"""A Grafana dashboard showing both regions side by side, from the recorded series.

Each region has its own Prometheus (or AMP workspace), so the dashboard has two datasource
variables, ``primary`` and ``dr``; every signal is a row with the primary on the left and
the DR region on the right, thresholds drawn from the stack's monitoring settings.
"""

from __future__ import annotations

from typing import Any

from infra.config import MonitoringSettings

UID = "trt-dr-regions"
WIDTH = 12
HEIGHT = 8


def signals(settings: MonitoringSettings) -> list[tuple[str, str, str, list[float]]]:
    """(title, expression, unit, threshold steps) of every row."""
    return [
        ("p99 latency", "model:latency_ms:p99", "ms", [settings.p99_latency_ms]),
        ("p50 latency", "model:latency_ms:p50", "ms", []),
        ("request rate", "model:request_rate:rate5m", "reqps", []),
        ("error ratio", "model:error_ratio:rate5m", "percentunit", [settings.error_rate]),
        ("queue time", "model:queue_ms:mean5m", "ms", []),
        (
            "GPU utilisation",
            "gpu:utilization:ratio",
            "percentunit",
            [settings.gpu_util_low, settings.gpu_util_high],
        ),
        ("GPU memory used", "gpu:memory_used:ratio", "percentunit", [0.9]),
    ]


def _panel(
    pid: int, title: str, expr: str, unit: str, steps: list[float], role: str, y: int
) -> dict[str, Any]:
    colours = ["blue", "green", "red"] if len(steps) == 2 else ["green", "red"]
    return {
        "id": pid,
        "type": "timeseries",
        "title": f"{role}: {title}",
        "datasource": {"type": "prometheus", "uid": f"${{{role}}}"},
        "gridPos": {"x": 0 if role == "primary" else WIDTH, "y": y, "w": WIDTH, "h": HEIGHT},
        "fieldConfig": {
            "defaults": {
                "unit": unit,
                "thresholds": {
                    "mode": "absolute",
                    "steps": [{"color": colours[0], "value": None}]
                    + [{"color": colours[i + 1], "value": v} for i, v in enumerate(steps)],
                },
            },
            "overrides": [],
        },
        "targets": [{"refId": "A", "expr": expr, "legendFormat": "{{model}} v{{version}}"}],
    }


def dashboard(settings: MonitoringSettings) -> dict[str, Any]:
    """The dashboard model (import it in Grafana, or let a sidecar pick up the ConfigMap)."""
    panels: list[dict[str, Any]] = []
    for row, (title, expr, unit, steps) in enumerate(signals(settings)):
        for role in ("primary", "dr"):
            panels.append(_panel(len(panels) + 1, title, expr, unit, steps, role, row * HEIGHT))
    variables = [
        {"name": role, "label": f"{role} region", "type": "datasource", "query": "prometheus"}
        for role in ("primary", "dr")
    ]
    return {
        "uid": UID,
        "title": "trt-dr: both regions",
        "schemaVersion": 39,
        "time": {"from": "now-6h", "to": "now"},
        "refresh": "30s",
        "templating": {"list": variables},
        "panels": panels,
    }
