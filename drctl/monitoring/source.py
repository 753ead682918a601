"""Where the rollout reads metrics: Triton's own ``/metrics`` or the Prometheus HTTP API.

Both give a :class:`Snapshot` of cumulative counters per model version; a window is the
difference of two snapshots, so the decision code is the same whichever source feeds it.
A counter that went backwards (server restart, model reload) makes the window missing.
"""

from __future__ import annotations

import json
import urllib.parse
import urllib.request
from dataclasses import dataclass
from typing import Protocol

from prometheus_client.parser import text_string_to_metric_families

from drctl.monitoring.decision import Window
from drctl.monitoring.errors import MetricsUnavailable

TIMEOUT_S = 5.0
COUNTERS = {
    "nv_inference_request_success": "success",
    "nv_inference_request_failure": "failure",
    "nv_inference_request_duration_us": "duration_us",
    "nv_inference_queue_duration_us": "queue_us",
}


@dataclass(frozen=True)
class Counters:
    """Cumulative Triton counters of one model version (failures summed over reasons)."""

    success: float = 0.0
    failure: float = 0.0
    duration_us: float = 0.0
    queue_us: float = 0.0


Snapshot = dict[tuple[str, str], Counters]


class MetricsSource(Protocol):
    """Anything that returns the current counters of every model version it sees."""

    def snapshot(self) -> Snapshot:
        """Counters keyed by (model, version)."""
        ...


def parse_triton_metrics(text: str) -> Snapshot:
    """Counters per (model, version) from Prometheus text exposition."""
    sums: dict[tuple[str, str], dict[str, float]] = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            field = COUNTERS.get(sample.name.removesuffix("_total"))
            if field is None or "model" not in sample.labels:
                continue
            key = (sample.labels["model"], sample.labels.get("version", ""))
            fields = sums.setdefault(key, {})
            fields[field] = fields.get(field, 0.0) + float(sample.value)
    return {key: Counters(**fields) for key, fields in sums.items()}


def _get(url: str) -> str:
    try:
        with urllib.request.urlopen(url, timeout=TIMEOUT_S) as response:
            return str(response.read().decode())
    except OSError as exc:
        raise MetricsUnavailable(f"cannot read {url}: {exc}; is the server up?") from exc


@dataclass(frozen=True)
class TritonMetrics:
    """Triton's metrics endpoint (``http://host:8002/metrics``), scraped directly."""

    url: str

    def snapshot(self) -> Snapshot:
        """Current counters from one scrape."""
        return parse_triton_metrics(_get(self.url))


@dataclass(frozen=True)
class PrometheusApi:
    """A Prometheus server's HTTP API: counters summed over pods, by model and version."""

    base_url: str
    selector: str = ""

    def snapshot(self) -> Snapshot:
        """Current counters from one instant query per counter."""
        out: dict[tuple[str, str], dict[str, float]] = {}
        for metric, field in COUNTERS.items():
            query = f"sum by (model, version) ({metric}{{{self.selector}}})"
            url = f"{self.base_url.rstrip('/')}/api/v1/query?" + urllib.parse.urlencode(
                {"query": query}
            )
            try:
                body = json.loads(_get(url))
                results = body["data"]["result"]
            except (ValueError, KeyError) as exc:
                raise MetricsUnavailable(f"{url} did not answer a Prometheus query") from exc
            for item in results:
                key = (item["metric"].get("model", ""), item["metric"].get("version", ""))
                out.setdefault(key, {})[field] = float(item["value"][1])
        return {key: Counters(**fields) for key, fields in out.items()}


def window(before: Counters | None, after: Counters | None) -> Window | None:
    """The window between two snapshots of one version; None when data is missing or reset."""
    if before is None or after is None:
        return None
    ok = after.success - before.success
    bad = after.failure - before.failure
    spent = after.duration_us - before.duration_us
    if ok < 0 or bad < 0 or spent < 0:
        return None
    latency = spent / ok / 1000.0 if ok > 0 else None
    return Window(requests=int(ok + bad), failures=int(bad), latency_ms=latency)
